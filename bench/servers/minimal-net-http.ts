/**
 * Baseline: the least an HTTP/1.1 hello-world server can do on `node:net`.
 * It counts complete request heads (each ends with a blank line) and answers
 * each with one canned keep-alive response, all answers to one chunk in one
 * write. No parsing, no bodies, no limits: a floor for what the HTTP example
 * (a real parser with limits, on the reactor) costs on top of Node's sockets.
 * Run: npx ts-node bench/servers/minimal-net-http.ts --port 0
 */
import * as net from 'node:net';

const portArg = process.argv.indexOf('--port');
const port = portArg >= 0 ? Number(process.argv[portArg + 1]) : 0;
const HEAD_END = Buffer.from('\r\n\r\n');
const body = 'Hello, world!\n';
let date = '';
let response = Buffer.alloc(0);
/** The response, rebuilt when the Date header's second changes. */
function hello(): Buffer {
  const now = new Date().toUTCString();
  if (now !== date) {
    date = now;
    response = Buffer.from(`HTTP/1.1 200 OK\r\nDate: ${now}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  }
  return response;
}

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  let pending: Buffer | undefined;
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    const data = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    let count = 0;
    let from = 0;
    for (let end = data.indexOf(HEAD_END, from); end >= 0; end = data.indexOf(HEAD_END, from)) {
      count++;
      from = end + 4;
    }
    pending = from < data.length ? data.subarray(from) : undefined;
    if (count === 1) socket.write(hello());
    else if (count > 1) socket.write(Buffer.concat(Array.from({ length: count }, hello)));
  });
  socket.on('end', () => socket.end());
});
server.listen(port, '127.0.0.1', 4096, () => {
  console.log(`minimal http server listening on 127.0.0.1:${(server.address() as net.AddressInfo).port}`);
});
const stop = () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
