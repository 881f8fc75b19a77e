/**
 * HTTP/1.1 hello world: the HTTP example (examples/http-server.ts, on the
 * EventLoop) against node:http and against a minimal server written directly
 * on node:net (bench/servers/), each in its own process, under the same load:
 * wrk with one thread and 50 keep-alive connections, plain and with 10
 * requests pipelined (wrk is installed with apt-get where missing, or an
 * undici client stands in, and the report says so).
 *
 * Per server and load: requests per second, latency percentiles, the
 * server's CPU seconds and requests per CPU second. Three rounds, the order
 * of the servers rotating from round to round; each figure is the median of
 * its rounds.
 *
 * The HTTP example runs on both backends on real sockets: LibuvBackend
 * (through node:net) and RawHandleBackend (on libuv's TCP handles).
 *
 * Targets: the HTTP example at least 1.6x node:http's requests per second;
 * on raw handles, at least 1.0x the minimal node:net server.
 * Run: npm run bench -- http
 */
import { RawHandleBackend } from '../src';
import { chooseLoadGenerator, httpLoad, type HttpLoadResult } from './lib/http-load';
import { cpuSeconds, startServer } from './lib/processes';
import { median, printTable, type Row } from './lib/report';

const ROUNDS = 3;
const CONNECTIONS = 50;
const DURATION_MS = 4_000;
const WARMUP_MS = 1_000;

/** The raw-handle backend joins where this Node has its bindings. */
const RAW = RawHandleBackend.available();
const SERVERS = {
  'HTTP example (EventLoop)': { script: 'examples/http-server.ts', args: ['--host', '127.0.0.1', '--port', '0'] },
  'HTTP example on raw handles': { script: 'examples/http-server.ts', args: ['--host', '127.0.0.1', '--port', '0', '--backend', 'raw'] },
  'node:http': { script: 'bench/servers/node-http.ts', args: ['--port', '0'] },
  'minimal node:net': { script: 'bench/servers/minimal-net-http.ts', args: ['--port', '0'] },
} as const;
type ServerName = keyof typeof SERVERS;
const LOADS = { 'keep-alive': 1, 'pipelined x10': 10 } as const;
type LoadName = keyof typeof LOADS;

interface Sample extends HttpLoadResult {
  cpuSeconds?: number;
}

async function main(): Promise<void> {
  const generator = chooseLoadGenerator((line) => console.log(line));
  const samples = new Map<string, Sample[]>();
  const names = (Object.keys(SERVERS) as ServerName[]).filter((n) => RAW || n !== 'HTTP example on raw handles');
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order, so no server always runs first (on a cooler machine) or last.
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) {
      const { script, args } = SERVERS[name];
      const server = await startServer(script, [...args]);
      try {
        for (const [load, pipeline] of Object.entries(LOADS) as [LoadName, number][]) {
          await httpLoad(generator, { port: server.port, connections: CONNECTIONS, durationMs: WARMUP_MS, pipeline });
          const before = cpuSeconds(server.pid);
          const result: Sample = await httpLoad(generator, { port: server.port, connections: CONNECTIONS, durationMs: DURATION_MS, pipeline });
          const after = cpuSeconds(server.pid);
          if (before !== undefined && after !== undefined) result.cpuSeconds = after - before;
          const key = `${name}|${load}`;
          samples.set(key, [...(samples.get(key) ?? []), result]);
          console.log(
            `round ${round + 1}/${ROUNDS}: ${name.padEnd(24)} ${load.padEnd(13)} ` +
              `${Math.round(result.requestsPerSecond).toLocaleString('en-US').padStart(9)} req/s, ` +
              `p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms` +
              (result.cpuSeconds === undefined ? '' : `, server CPU ${result.cpuSeconds.toFixed(2)} s`) +
              (result.errors === undefined ? '' : ` (errors: ${result.errors})`),
          );
        }
      } finally {
        await server.stop();
      }
    }
  }

  const figure = (name: ServerName, load: LoadName, pick: (s: Sample) => number | undefined) => {
    const values = (samples.get(`${name}|${load}`) ?? []).map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
    return values.length === 0 ? NaN : median(values);
  };
  const rps = (s: Sample) => s.requestsPerSecond;
  const perCpu = (s: Sample) => (s.cpuSeconds === undefined || s.cpuSeconds <= 0 ? undefined : s.requests / s.cpuSeconds);
  const ours: ServerName = 'HTTP example (EventLoop)';
  const rows: Row[] = [];
  for (const load of Object.keys(LOADS) as LoadName[]) {
    const label = `HTTP ${load}, ${CONNECTIONS} connections: HTTP example`;
    rows.push(
      { name: `${label}, req/s`, value: figure(ours, load, rps), unit: 'req/s', baselineName: 'node:http', baselineValue: figure('node:http', load, rps), better: 'higher', target: 1.6 },
      { name: `${label}, req/s`, value: figure(ours, load, rps), unit: 'req/s', baselineName: 'minimal node:net', baselineValue: figure('minimal node:net', load, rps), better: 'higher' },
      { name: `${label}, req per CPU second`, value: figure(ours, load, perCpu), unit: 'req/CPU-s', baselineName: 'node:http', baselineValue: figure('node:http', load, perCpu), better: 'higher' },
      // wrk does not always record the 99th percentile under pipelining: then the row says n/a.
      { name: `${label}, req per CPU second`, value: figure(ours, load, perCpu), unit: 'req/CPU-s', baselineName: 'minimal node:net', baselineValue: figure('minimal node:net', load, perCpu), better: 'higher' },
      { name: `${label}, p99 latency`, value: figure(ours, load, (s) => s.latencyMs.p99), unit: 'ms', baselineName: 'node:http', baselineValue: figure('node:http', load, (s) => s.latencyMs.p99), better: 'lower' },
    );
  }
  if (RAW) {
    const raw: ServerName = 'HTTP example on raw handles';
    for (const load of Object.keys(LOADS) as LoadName[]) {
      const label = `HTTP ${load}, ${CONNECTIONS} connections: HTTP example on raw handles`;
      rows.push(
        { name: `${label}, req/s`, value: figure(raw, load, rps), unit: 'req/s', baselineName: 'minimal node:net', baselineValue: figure('minimal node:net', load, rps), better: 'higher', target: 1 },
        { name: `${label}, req/s`, value: figure(raw, load, rps), unit: 'req/s', baselineName: 'node:http', baselineValue: figure('node:http', load, rps), better: 'higher', target: 1.6 },
        { name: `${label}, req/s`, value: figure(raw, load, rps), unit: 'req/s', baselineName: 'same on LibuvBackend', baselineValue: figure(ours, load, rps), better: 'higher' },
        { name: `${label}, req per CPU second`, value: figure(raw, load, perCpu), unit: 'req/CPU-s', baselineName: 'minimal node:net', baselineValue: figure('minimal node:net', load, perCpu), better: 'higher' },
      );
    }
  }
  printTable(`HTTP hello world (Node ${process.version}, load by ${generator}, median of ${ROUNDS} rotating rounds, ${DURATION_MS / 1000} s each)`, rows);
}

void main();
