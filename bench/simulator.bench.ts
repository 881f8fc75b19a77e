/**
 * The simulator's speed: 10,000 simulated connections, each exchanging 10
 * request/response pairs (128 B) with the edge-triggered echo example, all
 * on one SimulatedBackend. Reports wall time against simulated time, and
 * network events and messages per wall-clock second. Median of three runs.
 * Run: npm run bench -- simulator
 */
import { Reactor, SimulatedBackend, type SimulatedPeer } from '../src';
import { startEchoServer } from '../examples/echo-server';
import { median, printTable, type Row } from './lib/report';

const CONNECTIONS = 10_000;
const EXCHANGES = 10;
const SIZE = 128;

async function client(peer: SimulatedPeer, request: Buffer): Promise<void> {
  await peer.connected;
  for (let i = 1; i <= EXCHANGES; i++) {
    peer.write(request);
    await peer.waitFor(i * SIZE);
  }
  peer.close();
}

async function once(): Promise<{ wallMs: number; simulatedMs: number; events: number; messages: number }> {
  const sim = new SimulatedBackend({ seed: 1, latencyMs: 1, bandwidth: 125_000 }); // 1 Gbit/s links
  const reactor = new Reactor<never>({ backend: sim });
  const server = await startEchoServer({ reactor, port: 7000, backlog: 65_535 }); // all connect at once
  const request = Buffer.alloc(SIZE, 0x72);
  const start = performance.now();
  const clients: Promise<void>[] = [];
  for (let i = 0; i < CONNECTIONS; i++) clients.push(client(sim.connect(server.port), request));
  await Promise.all(clients);
  const wallMs = performance.now() - start;
  const result = { wallMs, simulatedMs: sim.clock.now(), events: sim.stats.events, messages: CONNECTIONS * EXCHANGES * 2 };
  await server.stop();
  return result;
}

async function main(): Promise<void> {
  const runs = [];
  for (let run = 1; run <= 3; run++) {
    const r = await once();
    console.log(
      `run ${run}: ${r.wallMs.toFixed(0)} ms wall for ${r.simulatedMs.toFixed(1)} ms simulated, ` +
        `${r.events.toLocaleString('en-US')} network events`,
    );
    runs.push(r);
  }
  const wall = median(runs.map((r) => r.wallMs));
  const simulated = median(runs.map((r) => r.simulatedMs));
  const rows: Row[] = [
    { name: `wall time: ${CONNECTIONS.toLocaleString('en-US')} connections x ${EXCHANGES} exchanges`, value: wall, unit: 'ms', better: 'lower' },
    { name: 'simulated time for the same', value: simulated, unit: 'ms', better: 'lower' },
    { name: 'network events per wall second', value: median(runs.map((r) => r.events / (r.wallMs / 1000))), unit: 'events/s', better: 'higher' },
    { name: 'messages (requests + responses) per wall second', value: median(runs.map((r) => r.messages / (r.wallMs / 1000))), unit: 'msg/s', better: 'higher' },
  ];
  printTable(`Simulator (Node ${process.version}, median of 3 runs)`, rows);
}

void main();
