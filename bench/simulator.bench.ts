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
 *
 * Then a world of hosts, in virtual time: 1,000 clients on one host, each
 * sending 10 requests through the proxy of examples/proxy-failover.ts (with
 * its once-a-second health check) to its two backends, three EventLoops on
 * three more hosts: wall time against simulated time, and events per wall
 * second.
 * Run: npm run bench -- simulator
 */
import { connect, type Socket } from 'node:net';
import { Reactor, SimulatedBackend, type SimulatedBackendOptions, type SimulatedPeer, SimulatedWorld } from '../src';
import { startEchoServer } from '../examples/echo-server';
import { PROXY_PORT, startBackend, startProxy } from '../examples/proxy-failover';
import { median, pairedRow, printTable, type Row } from './lib/report';

/** The real clock, taken before a world's virtual time replaces `performance.now` (wall time is what is measured). */
const wallNow = performance.now.bind(performance);

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
  const start = wallNow();
  const clients: Promise<void>[] = [];
  for (let i = 0; i < CONNECTIONS; i++) clients.push(simulatedClient(sim.connect(server.port), request));
  await Promise.all(clients);
  const wallMs = wallNow() - start;
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
  const start = wallNow();
  await Promise.all(Array.from({ length: LOOPBACK_CONCURRENCY }, worker));
  const wallMs = wallNow() - start;
  await server.stop();
  return { wallMs, simulatedMs: NaN, events: NaN };
}

const TOPOLOGY_CLIENTS = 1_000;
const TOPOLOGY_REQUESTS = 10;

/** One client of the topology: ten requests of 128 bytes (a line) through the proxy, one answer line each. */
async function topologyClient(peer: SimulatedPeer, id: number): Promise<void> {
  for (let i = 0; i < TOPOLOGY_REQUESTS; i++) {
    peer.write(`client ${id} request ${i} `.padEnd(SIZE - 1, '.') + '\n');
    await peer.readLine();
  }
  peer.close();
}

/** clients -> proxy -> two backends, four hosts of one world in virtual time. */
async function topology(): Promise<Run> {
  const world = new SimulatedWorld({ seed: 1, virtualTime: true, latencyMs: 1, bandwidth: 125_000 });
  const backendHosts = [
    world.host({ name: 'backend-a', addresses: ['10.0.0.2'] }),
    world.host({ name: 'backend-b', addresses: ['10.0.0.3'] }),
  ];
  const servers = await Promise.all(backendHosts.map((host) => startBackend(host, 65_535)));
  const backends = backendHosts.map((host) => ({ name: host.name, address: host.addresses[0], healthy: true }));
  const proxy = await startProxy(world.host({ name: 'proxy', addresses: ['10.0.0.1'] }), backends, () => {}, 65_535);
  const clients = world.host({ name: 'clients', addresses: ['10.0.0.9'] });
  const start = wallNow();
  const done: Promise<void>[] = [];
  for (let i = 0; i < TOPOLOGY_CLIENTS; i++) done.push(topologyClient(clients.connect(PROXY_PORT, { host: '10.0.0.1' }), i));
  await Promise.all(done);
  const wallMs = wallNow() - start;
  const run = { wallMs, simulatedMs: world.clock.now(), events: world.stats.events };
  proxy.stop();
  await proxy.loop.close();
  for (const server of servers) await server.close();
  await world.close();
  return run;
}

async function main(): Promise<void> {
  const plain: Run[] = [];
  const exploring: Run[] = [];
  const traced: Run[] = [];
  const sockets: Run[] = [];
  const worlds: Run[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    plain.push(await simulated({}));
    exploring.push(await simulated({ explore: true }));
    traced.push(await simulated({ trace: { payloads: 'hash' } }));
    sockets.push(await loopback());
    worlds.push(await topology());
    const [p, e, t, l, w] = [plain, exploring, traced, sockets, worlds].map((runs) => (runs.at(-1) as Run).wallMs.toFixed(0));
    console.log(`round ${round}: wall ms plain ${p}, exploring ${e}, traced ${t}, loopback ${l}, 4-host world ${w}`);
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
    {
      name: `4-host world (${TOPOLOGY_CLIENTS.toLocaleString('en-US')} clients -> proxy -> 2 backends, ${TOPOLOGY_REQUESTS} requests each): wall time`,
      value: median(wall(worlds)),
      unit: 'ms',
      better: 'lower',
    },
    { name: '4-host world: simulated time', value: median(worlds.map((r) => r.simulatedMs)), unit: 'ms', better: 'lower' },
    {
      name: '4-host world: simulated ms per wall ms',
      value: median(worlds.map((r) => r.simulatedMs / r.wallMs)),
      unit: 'x',
      better: 'higher',
    },
    {
      name: '4-host world: events per wall second',
      value: median(worlds.map((r) => r.events / (r.wallMs / 1000))),
      unit: 'events/s',
      better: 'higher',
    },
  ];
  printTable(`Simulator (Node ${process.version}, median of ${ROUNDS} paired rounds)`, rows);
}

void main();
