/**
 * The UDP echo load client: --sockets sockets on 127.0.0.1, each keeping
 * --window datagrams of --size bytes in flight toward 127.0.0.1:<port> (a
 * new one for each answer), for a fixed time; then one JSON line with what
 * it measured. A datagram lost on the way (dropped by a full queue) shrinks
 * the window until a top-up every 20 ms without answers refills it: UDP
 * itself never resends.
 *
 * Bounded: --warmup-ms then --measure-ms of real time. Loopback only.
 */
import * as dgram from 'node:dgram';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const port = arg('port', 0);
const sockets = arg('sockets', 4);
const window = arg('window', 32);
const size = arg('size', 64);
const warmupMs = arg('warmup-ms', 500);
const measureMs = arg('measure-ms', 3000);

const payload = Buffer.alloc(size, 0x61);
let measuring = false;
let stopped = false;
let answers = 0;
let sent = 0;
let received = 0;

async function open(): Promise<{ socket: dgram.Socket; topUp: () => void }> {
  const socket = dgram.createSocket('udp4');
  let inFlight = 0;
  let answeredSinceTopUp = true;
  const send = () => {
    sent++;
    inFlight++;
    socket.send(payload, port, '127.0.0.1');
  };
  socket.on('message', () => {
    received++;
    inFlight--;
    answeredSinceTopUp = true;
    if (measuring) answers++;
    if (!stopped) send();
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const topUp = () => {
    if (!answeredSinceTopUp) inFlight = 0; // nothing came back for a while: what was in flight is lost
    answeredSinceTopUp = false;
    while (!stopped && inFlight < window) send();
  };
  return { socket, topUp };
}

async function main(): Promise<void> {
  const clients = await Promise.all(Array.from({ length: sockets }, open));
  const timer = setInterval(() => clients.forEach((c) => c.topUp()), 20);
  clients.forEach((c) => c.topUp());
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  measuring = true;
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, measureMs));
  measuring = false;
  const seconds = (performance.now() - start) / 1000;
  stopped = true;
  clearInterval(timer);
  await new Promise((resolve) => setTimeout(resolve, 200)); // the last answers land
  await Promise.all(clients.map((c) => new Promise<void>((resolve) => c.socket.close(() => resolve()))));
  console.log(JSON.stringify({ seconds, answers, sent, received, lost: sent - received }));
}

void main();
