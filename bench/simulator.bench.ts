/**
 * The simulator's speed: 10,000 simulated connections, each exchanging 10
 * request/response pairs (128 B) with the edge-triggered echo example, all
 * on one SimulatedBackend. Four variants of the same workload in each round:
 * - plain (no trace, same-time events in scheduling order);
 * - exploring (`explore: true`: same-time events in a seeded order);
 * - traced, payloads hashed (`trace: { payloads: 'hash' }`);
 * - on loopback sockets: the same server on LibuvBackend, the same clients
 *   as `net.Socket`s in the same process (at most 4,000 connections open at
 *   once: both ends of 10,000 would pass this machine's 20,000 descriptors).
 * Reports wall time against simulated time, each variant against plain,
 * and plain against loopback, as medians of three paired rounds.
 * Run: npm run bench -- simulator
 */
import { connect, type Socket } from 'node:net';
import { Reactor, SimulatedBackend, type SimulatedBackendOptions, type SimulatedPeer } from '../src';
import { startEchoServer } from '../examples/echo-server';
import { median, pairedRow, printTable, type Row } from './lib/report';

const CONNECTIONS = 10_000;
const EXCHANGES = 10;
const SIZE = 128;
const LOOPBACK_CONCURRENCY = 4_000;
const ROUNDS = 3;

interface Run {
  wallMs: number;
  simulatedMs: number;
  events: number;
}

async function simulatedClient(peer: SimulatedPeer, request: Buffer): Promise<void> {
  await peer.connected;
  for (let i = 1; i <= EXCHANGES; i++) {
    peer.write(request);
    await peer.waitFor(i * SIZE);
  }
  peer.close();
}

async function simulated(options: SimulatedBackendOptions): Promise<Run> {
  const sim = new SimulatedBackend({ seed: 1, latencyMs: 1, bandwidth: 125_000, ...options }); // 1 Gbit/s links
  const reactor = new Reactor<never>({ backend: sim });
  const server = await startEchoServer({ reactor, port: 7000, backlog: 65_535 }); // all connect at once
  const request = Buffer.alloc(SIZE, 0x72);
  const start = performance.now();
  const clients: Promise<void>[] = [];
  for (let i = 0; i < CONNECTIONS; i++) clients.push(simulatedClient(sim.connect(server.port), request));
  await Promise.all(clients);
  const wallMs = performance.now() - start;
  const run = { wallMs, simulatedMs: sim.clock.now(), events: sim.stats.events };
  await server.stop();
  return run;
}

/** One loopback client: connect, ten exchanges, close. */
function loopbackClient(port: number, request: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    let received = 0;
    let exchanges = 0;
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received < (exchanges + 1) * SIZE) return;
      exchanges++;
      if (exchanges < EXCHANGES) socket.write(request);
      else socket.end();
    });
    socket.on('close', () => (exchanges === EXCHANGES ? resolve() : reject(new Error('a loopback client closed early'))));
    socket.on('error', reject);
  });
}

async function loopback(): Promise<Run> {
  const server = await startEchoServer({ port: 0, backlog: 65_535 });
  const request = Buffer.alloc(SIZE, 0x72);
  let next = 0;
  const worker = async () => {
    while (next < CONNECTIONS) {
      next++;
      await loopbackClient(server.port, request);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: LOOPBACK_CONCURRENCY }, worker));
  const wallMs = performance.now() - start;
  await server.stop();
  return { wallMs, simulatedMs: NaN, events: NaN };
}

async function main(): Promise<void> {
  const plain: Run[] = [];
  const exploring: Run[] = [];
  const traced: Run[] = [];
  const sockets: Run[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    plain.push(await simulated({}));
    exploring.push(await simulated({ explore: true }));
    traced.push(await simulated({ trace: { payloads: 'hash' } }));
    sockets.push(await loopback());
    const [p, e, t, l] = [plain, exploring, traced, sockets].map((runs) => (runs.at(-1) as Run).wallMs.toFixed(0));
    console.log(`round ${round}: wall ms plain ${p}, exploring ${e}, traced ${t}, loopback ${l}`);
  }
  const wall = (runs: Run[]) => runs.map((r) => r.wallMs);
  const workload = `${CONNECTIONS.toLocaleString('en-US')} connections x ${EXCHANGES} exchanges`;
  const rows: Row[] = [
    pairedRow(
      { name: `wall time: ${workload}, simulated`, unit: 'ms', better: 'lower', baselineName: 'the same on loopback sockets' },
      wall(plain),
      wall(sockets),
    ),
    { name: 'simulated time for the same', value: median(plain.map((r) => r.simulatedMs)), unit: 'ms', better: 'lower' },
    { name: 'simulated ms per wall ms (plain)', value: median(plain.map((r) => r.simulatedMs / r.wallMs)), unit: 'x', better: 'higher' },
    pairedRow(
      { name: 'wall time, exploring (explore: true)', unit: 'ms', better: 'lower', baselineName: 'plain' },
      wall(exploring),
      wall(plain),
    ),
    { name: 'simulated time, exploring', value: median(exploring.map((r) => r.simulatedMs)), unit: 'ms', better: 'lower' },
    pairedRow(
      { name: "wall time, traced (payloads: 'hash')", unit: 'ms', better: 'lower', baselineName: 'plain' },
      wall(traced),
      wall(plain),
    ),
    {
      name: 'network events per wall second (plain)',
      value: median(plain.map((r) => r.events / (r.wallMs / 1000))),
      unit: 'events/s',
      better: 'higher',
    },
    {
      name: 'messages (requests + responses) per wall second (plain)',
      value: median(plain.map((r) => (CONNECTIONS * EXCHANGES * 2) / (r.wallMs / 1000))),
      unit: 'msg/s',
      better: 'higher',
    },
  ];
  printTable(`Simulator (Node ${process.version}, median of ${ROUNDS} paired rounds)`, rows);
}

void main();
