/**
 * The echo load client: opens N connections to 127.0.0.1:<port> and drives
 * them for a fixed time, then prints one JSON line with what it measured.
 *
 * --mode pingpong: each connection sends one message of --size bytes and
 *   waits for all of it to come back before sending the next.
 * --mode bulk: each connection streams --size-byte writes, keeping at most
 *   --window bytes in flight (sent, not yet echoed).
 *
 * Bounded: --warmup-ms then --measure-ms of real time, and at most
 * --max-messages per connection. Loopback only.
 */
import * as net from 'node:net';

function arg(name: string, fallback: number | string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : String(fallback);
}

const port = Number(arg('port', 0));
const connections = Number(arg('connections', 50));
const mode = arg('mode', 'pingpong');
const size = Number(arg('size', 128));
const windowBytes = Number(arg('window', 256 * 1024));
const warmupMs = Number(arg('warmup-ms', 500));
const measureMs = Number(arg('measure-ms', 3000));
const maxMessages = Number(arg('max-messages', 10_000_000));

const payload = Buffer.alloc(size, 0x61);
let measuring = false;
let stopped = false;
let echoedBytes = 0;
let messages = 0;
/** Including the warm-up: what the server handled while this client ran. */
let totalBytes = 0;
let totalMessages = 0;

function drive(socket: net.Socket): void {
  let inFlight = 0;
  let pending = 0; // bytes of the current ping-pong message still to come back
  let sent = 0;
  const send = () => {
    if (stopped || sent >= maxMessages) return;
    if (mode === 'pingpong') {
      pending = size;
      sent++;
      socket.write(payload);
      return;
    }
    while (inFlight + size <= windowBytes && sent < maxMessages) {
      inFlight += size;
      sent++;
      if (!socket.write(payload)) break;
    }
  };
  socket.on('drain', send);
  socket.on('data', (chunk: Buffer) => {
    if (measuring) echoedBytes += chunk.length;
    totalBytes += chunk.length;
    if (mode === 'pingpong') {
      pending -= chunk.length;
      if (pending <= 0) {
        if (measuring) messages++;
        totalMessages++;
        send();
      }
    } else {
      inFlight -= chunk.length;
      send();
    }
  });
  socket.on('error', () => {});
  socket.on('connect', send);
}

const sockets: net.Socket[] = [];
for (let i = 0; i < connections; i++) {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  sockets.push(socket);
  drive(socket);
}
setTimeout(() => {
  measuring = true;
  const start = performance.now();
  setTimeout(() => {
    const seconds = (performance.now() - start) / 1000;
    measuring = false;
    stopped = true;
    if (mode === 'bulk') {
      messages = Math.floor(echoedBytes / size);
      totalMessages = Math.floor(totalBytes / size);
    }
    console.log(JSON.stringify({ mode, connections, size, seconds, messages, bytes: echoedBytes, totalMessages, totalBytes }));
    for (const s of sockets) s.destroy();
  }, measureMs);
}, warmupMs);
