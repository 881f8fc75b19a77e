/**
 * Past one core, two figures:
 *
 * 1. The HTTP example (examples/http-server.ts) on 1 worker process and on 2
 *    (`--workers N`, through runWorkers, sharing the port through
 *    node:cluster), under the same wrk load (one thread, 50 keep-alive
 *    connections): requests per second, and requests per CPU second of the
 *    whole server (the primary and its workers together). On a 2-core
 *    machine wrk itself needs most of a core, so two workers compete with it
 *    and with each other: requests per CPU second is the fair figure there,
 *    and requests per second shows what the machine had left. Three rounds,
 *    the order rotating; ratios are medians of the rounds' ratios.
 *
 * 2. A cross-thread wake: the round trip from a worker thread to the loop's
 *    thread and back (bench/lib/wake-round-trip.ts), by a Waker (its event in
 *    a reactor's poll) and by an EventLoop.channel, against a plain
 *    MessagePort ping-pong; median and p99, 20,000 round trips per route and
 *    round.
 *
 * Run: npm run bench -- multi-core
 */
import { chooseLoadGenerator, httpLoad, type HttpLoadResult } from './lib/http-load';
import { startServer, treeCpuSeconds } from './lib/processes';
import { pairedRow, printTable, type Row } from './lib/report';
import { type RoundTrips, type WakeRoute, wakeRoundTrips } from './lib/wake-round-trip';

const ROUNDS = 3;
const CONNECTIONS = 50;
const DURATION_MS = 4_000;
const WARMUP_MS = 1_000;
const WORKERS = [1, 2] as const;
const ROUND_TRIPS = 20_000;

interface Sample extends HttpLoadResult {
  cpuSeconds?: number;
}

async function httpRounds(): Promise<Row[]> {
  const generator = chooseLoadGenerator((line) => console.log(line));
  const samples = new Map<number, Sample[]>();
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? WORKERS : [...WORKERS].reverse();
    for (const workers of order) {
      const server = await startServer('examples/http-server.ts', ['--host', '127.0.0.1', '--port', '0', '--workers', String(workers)]);
      try {
        await httpLoad(generator, { port: server.port, connections: CONNECTIONS, durationMs: WARMUP_MS, pipeline: 1 });
        const before = treeCpuSeconds(server.pid);
        const result: Sample = await httpLoad(generator, {
          port: server.port,
          connections: CONNECTIONS,
          durationMs: DURATION_MS,
          pipeline: 1,
        });
        const after = treeCpuSeconds(server.pid);
        if (before !== undefined && after !== undefined) result.cpuSeconds = after - before;
        samples.set(workers, [...(samples.get(workers) ?? []), result]);
        console.log(
          `round ${round + 1}/${ROUNDS}: ${workers} worker${workers > 1 ? 's' : ' '} ` +
            `${Math.round(result.requestsPerSecond).toLocaleString('en-US').padStart(9)} req/s, ` +
            `p99 ${result.latencyMs.p99.toFixed(2)} ms` +
            (result.cpuSeconds === undefined ? '' : `, server CPU ${result.cpuSeconds.toFixed(2)} s`) +
            (result.errors === undefined ? '' : ` (errors: ${result.errors})`),
        );
      } finally {
        await server.stop();
      }
    }
  }
  const of = (workers: number, pick: (s: Sample) => number | undefined) => (samples.get(workers) ?? []).map((s) => pick(s) ?? NaN);
  const rps = (s: Sample) => s.requestsPerSecond;
  const perCpu = (s: Sample) => (s.cpuSeconds === undefined || s.cpuSeconds <= 0 ? undefined : s.requests / s.cpuSeconds);
  const name = `HTTP example keep-alive, ${CONNECTIONS} connections, 2 workers (load by ${generator}, which needs a core of its own)`;
  return [
    pairedRow({ name: `${name}, req/s`, unit: 'req/s', baselineName: '1 worker', better: 'higher' }, of(2, rps), of(1, rps)),
    pairedRow(
      { name: `${name}, req per CPU second`, unit: 'req/CPU-s', baselineName: '1 worker', better: 'higher' },
      of(2, perCpu),
      of(1, perCpu),
    ),
  ];
}

async function wakeRounds(): Promise<Row[]> {
  const routes: WakeRoute[] = ['waker', 'channel', 'port'];
  const results = new Map<WakeRoute, RoundTrips[]>();
  for (let round = 0; round < ROUNDS; round++) {
    const order = routes.map((_, i) => routes[(i + round) % routes.length]);
    for (const route of order) {
      const trips = await wakeRoundTrips(route, ROUND_TRIPS, 2_000);
      results.set(route, [...(results.get(route) ?? []), trips]);
      console.log(
        `round ${round + 1}/${ROUNDS}: ${route.padEnd(7)} median ${trips.medianUs.toFixed(1)} us, p99 ${trips.p99Us.toFixed(1)} us`,
      );
    }
  }
  const of = (route: WakeRoute, pick: (t: RoundTrips) => number) => (results.get(route) ?? []).map(pick);
  const rows: Row[] = [];
  for (const [route, label] of [
    ['waker', 'Waker (RemoteWaker.wake -> poll event)'],
    ['channel', 'EventLoop.channel (port -> handler in the loop)'],
  ] as const) {
    for (const [pick, which] of [
      [(t: RoundTrips) => t.medianUs, 'median'],
      [(t: RoundTrips) => t.p99Us, 'p99'],
    ] as const) {
      rows.push(
        pairedRow(
          { name: `cross-thread round trip by ${label}, ${which}`, unit: 'us', baselineName: 'MessagePort ping-pong', better: 'lower' },
          of(route, pick),
          of('port', pick),
        ),
      );
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const wake = await wakeRounds();
  printTable(
    `Cross-thread wake, worker thread -> loop thread -> worker (Node ${process.version}, ${ROUND_TRIPS.toLocaleString('en-US')} round trips x ${ROUNDS} rounds)`,
    wake,
  );
  const http = await httpRounds();
  printTable(
    `One loop per worker process (Node ${process.version}, medians of ${ROUNDS} rounds, ${DURATION_MS / 1000} s each; on 2 cores the load generator competes for a core)`,
    http,
  );
}

void main();
