/**
 * Baseline: hello world as plain Node writes it, on `node:http`, with the same
 * response the HTTP example sends (status line, Date, Content-Type,
 * Content-Length, 14-byte body; node:http adds its keep-alive headers).
 * Run: npx ts-node bench/servers/node-http.ts --port 0
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

const portArg = process.argv.indexOf('--port');
const port = portArg >= 0 ? Number(process.argv[portArg + 1]) : 0;
const body = Buffer.from('Hello, world!\n');
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 5_000;
server.listen(port, '127.0.0.1', 4096, () => {
  console.log(`node:http server listening on 127.0.0.1:${(server.address() as AddressInfo).port}`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
