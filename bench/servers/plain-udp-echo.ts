/**
 * Baseline: the UDP echo server as plain Node writes it, on node:dgram.
 * Run: npx ts-node bench/servers/plain-udp-echo.ts --port 0
 */
import * as dgram from 'node:dgram';

const portArg = process.argv.indexOf('--port');
const port = portArg >= 0 ? Number(process.argv[portArg + 1]) : 0;
const socket = dgram.createSocket('udp4');
socket.on('message', (data, from) => socket.send(data, from.port, from.address));
socket.bind(port, '127.0.0.1', () => {
  console.log(`udp echo server listening on 127.0.0.1:${socket.address().port}`);
});
const stop = () => socket.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
