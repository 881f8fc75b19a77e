/**
 * Baseline: the echo server as plain Node writes it, `socket.pipe(socket)`
 * (which handles backpressure). Run: npx ts-node bench/servers/plain-echo.ts --port 0
 */
import * as net from 'node:net';

const portArg = process.argv.indexOf('--port');
const port = portArg >= 0 ? Number(process.argv[portArg + 1]) : 0;
const server = net.createServer((socket) => {
  socket.on('error', () => socket.destroy());
  socket.pipe(socket);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`echo server listening on 127.0.0.1:${(server.address() as net.AddressInfo).port}`);
});
const stop = () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
