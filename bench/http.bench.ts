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
 * its rounds, each ratio the median of the rounds' own ratios (`pairedRow`).
 *
 * The HTTP example runs on both backends on real sockets: LibuvBackend
 * (through node:net) and RawHandleBackend (on libuv's TCP handles).
 *
 * The ceiling: nginx with one worker (bench/lib/nginx.ts: fetched where it
 * is missing, or skipped with a message), and every HTTP figure's ratio to
 * it beside.
 *
 * Targets: the HTTP example at least 1.6x node:http's requests per second;
 * on raw handles, at least 1.0x the minimal node:net server. Against nginx
 * (issue 20): with keep-alive, at least 0.85x on LibuvBackend and 0.95x on
 * raw handles; pipelined, at least 1.0x on raw handles.
 * Run: npm run bench -- http
 */
import { RawHandleBackend } from '../src';
import { chooseLoadGenerator, httpLoad, type HttpLoadResult } from './lib/http-load';
import { findNginx, startNginx } from './lib/nginx';
import { cpuSeconds, startServer } from './lib/processes';
import { pairedRow, printTable, type Row } from './lib/report';

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
const NGINX = 'nginx (1 worker)';
type ServerName = keyof typeof SERVERS | typeof NGINX;
const LOADS = { 'keep-alive': 1, 'pipelined x10': 10 } as const;
type LoadName = keyof typeof LOADS;

interface Sample extends HttpLoadResult {
  cpuSeconds?: number;
}

async function main(): Promise<void> {
  const generator = chooseLoadGenerator((line) => console.log(line));
  const samples = new Map<string, Sample[]>();
  const nginx = findNginx((line) => console.log(line));
  const names = (Object.keys(SERVERS) as ServerName[]).filter((n) => RAW || n !== 'HTTP example on raw handles');
  if (nginx !== undefined) names.push(NGINX);
  const start = (name: ServerName) => {
    if (name === NGINX) return startNginx(nginx as string);
    const { script, args } = SERVERS[name];
    return startServer(script, [...args]);
  };
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order, so no server always runs first (on a cooler machine) or last.
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) {
      const server = await start(name);
      try {
        for (const [load, pipeline] of Object.entries(LOADS) as [LoadName, number][]) {
          await httpLoad(generator, { port: server.port, connections: CONNECTIONS, durationMs: WARMUP_MS, pipeline });
          const before = cpuSeconds(server.pid);
          const result: Sample = await httpLoad(generator, {
            port: server.port,
            connections: CONNECTIONS,
            durationMs: DURATION_MS,
            pipeline,
          });
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

  /** One figure of each round, in round order (NaN where a round did not measure it). */
  const rounds = (name: ServerName, load: LoadName, pick: (s: Sample) => number | undefined) =>
    (samples.get(`${name}|${load}`) ?? []).map((s) => pick(s) ?? NaN);
  const rps = (s: Sample) => s.requestsPerSecond;
  const perCpu = (s: Sample) => (s.cpuSeconds === undefined || s.cpuSeconds <= 0 ? undefined : s.requests / s.cpuSeconds);
  const p99 = (s: Sample) => s.latencyMs.p99;
  const against = (subject: ServerName, baseline: ServerName, baselineName: string, load: LoadName, label: string, target?: number) => {
    const name = `HTTP ${load}, ${CONNECTIONS} connections: ${label}`;
    return {
      rps: pairedRow(
        { name: `${name}, req/s`, unit: 'req/s', baselineName, better: 'higher', target },
        rounds(subject, load, rps),
        rounds(baseline, load, rps),
      ),
      perCpu: pairedRow(
        { name: `${name}, req per CPU second`, unit: 'req/CPU-s', baselineName, better: 'higher' },
        rounds(subject, load, perCpu),
        rounds(baseline, load, perCpu),
      ),
      // wrk does not always record the 99th percentile under pipelining: then the row says n/a.
      p99: pairedRow(
        { name: `${name}, p99 latency`, unit: 'ms', baselineName, better: 'lower' },
        rounds(subject, load, p99),
        rounds(baseline, load, p99),
      ),
    };
  };
  const ours: ServerName = 'HTTP example (EventLoop)';
  const raw: ServerName = 'HTTP example on raw handles';
  const rows: Row[] = [];
  for (const load of Object.keys(LOADS) as LoadName[]) {
    const http = against(ours, 'node:http', 'node:http', load, 'HTTP example', 1.6);
    const minimal = against(ours, 'minimal node:net', 'minimal node:net', load, 'HTTP example');
    rows.push(http.rps, minimal.rps, http.perCpu, minimal.perCpu, http.p99);
  }
  if (RAW) {
    for (const load of Object.keys(LOADS) as LoadName[]) {
      const label = 'HTTP example on raw handles';
      const minimal = against(raw, 'minimal node:net', 'minimal node:net', load, label, 1);
      rows.push(
        minimal.rps,
        against(raw, 'node:http', 'node:http', load, label, 1.6).rps,
        against(raw, ours, 'same on LibuvBackend', load, label).rps,
        minimal.perCpu,
      );
    }
  }
  if (nginx !== undefined) {
    // The ceiling: each server's ratio to nginx with one worker, keep-alive and pipelined.
    const ceiling: [ServerName, string, Partial<Record<LoadName, number>>][] = [[ours, 'HTTP example', { 'keep-alive': 0.85 }]];
    if (RAW) ceiling.push([raw, 'HTTP example on raw handles', { 'keep-alive': 0.95, 'pipelined x10': 1 }]);
    ceiling.push(['node:http', 'node:http', {}], ['minimal node:net', 'minimal node:net', {}]);
    for (const load of Object.keys(LOADS) as LoadName[]) {
      for (const [server, label, targets] of ceiling) {
        const vsNginx = against(server, NGINX, 'nginx, 1 worker', load, `${label} against nginx`, targets[load]);
        rows.push(vsNginx.rps, vsNginx.perCpu);
      }
    }
  }
  printTable(
    `HTTP hello world (Node ${process.version}, load by ${generator}, medians of ${ROUNDS} rotating rounds, ${DURATION_MS / 1000} s each; ratios: median of the rounds' ratios)`,
    rows,
  );
}

void main();
