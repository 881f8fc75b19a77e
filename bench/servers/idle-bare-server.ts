/** The baseline of the idle-connections benchmark: bare net.Sockets with socket.setTimeout (30 s). */
import * as net from 'node:net';
import { answerMemoryProbes } from '../lib/memory-probe';

const sockets = new Set<net.Socket>();
const server = net.createServer((socket) => {
  sockets.add(socket);
  socket.setTimeout(30_000, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('close', () => sockets.delete(socket));
  socket.on('data', (chunk: Buffer) => socket.write(chunk));
});
answerMemoryProbes(() => sockets.size);
process.once('SIGTERM', () => process.exit(0));
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  console.log(`listening on 127.0.0.1:${(server.address() as net.AddressInfo).port}`);
});
