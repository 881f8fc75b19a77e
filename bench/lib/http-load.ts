/**
 * HTTP load generation for the benchmarks: wrk where it is installed (or can
 * be: as root on Debian or Ubuntu, with apt-get), otherwise an undici-based
 * client of our own (bench/clients/http-load.ts), and the report says which.
 * Always loopback, always bounded in time.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runClient } from './processes';

export interface HttpLoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** Latency percentiles in ms (per request; with pipelining, per batch for wrk). */
  latencyMs: { p50: number; p90: number; p99: number };
  /** What went wrong, if anything did (wrk's socket errors and non-2xx responses). */
  errors?: string;
}

export interface HttpLoadOptions {
  port: number;
  connections: number;
  durationMs: number;
  /** Requests sent back to back on a connection before waiting (1: plain keep-alive). */
  pipeline: number;
}

export type LoadGenerator = 'wrk' | 'undici';

const root = join(__dirname, '..', '..');

function hasWrk(): boolean {
  return spawnSync('wrk', ['--version'], { encoding: 'utf8' }).error === undefined;
}

/**
 * wrk if it is there or can be installed, else 'undici'. Set
 * TSREACTOR_BENCH_LOADGEN=undici to use the fallback anyway.
 */
export function chooseLoadGenerator(log: (line: string) => void): LoadGenerator {
  if (process.env.TSREACTOR_BENCH_LOADGEN === 'undici') {
    log('load generator: the undici client (TSREACTOR_BENCH_LOADGEN=undici)');
    return 'undici';
  }
  if (hasWrk()) return 'wrk';
  const isRoot = process.getuid?.() === 0;
  const apt = spawnSync('apt-get', ['--version'], { encoding: 'utf8' }).error === undefined;
  if (isRoot && apt) {
    log('wrk is not installed: installing it with apt-get (apt-get update, apt-get install -y wrk) ...');
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', timeout: 180_000 });
    const install = spawnSync('apt-get', ['install', '-y', '-qq', 'wrk'], { stdio: 'ignore', timeout: 180_000 });
    if (update.status === 0 && install.status === 0 && hasWrk()) return 'wrk';
    log('installing wrk failed');
  }
  log(
    'wrk is not available (install it with your package manager, e.g. `sudo apt-get install wrk`); ' +
      'falling back to the undici-based client, which is slower than wrk: the figures are lower and the ratios flatter',
  );
  return 'undici';
}

/** Reads wrk's duration units (`us`, `ms`, `s`, `m`) as milliseconds. */
function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  if (m === null) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

/** Parses the output of `wrk --latency`. */
export function parseWrk(output: string): HttpLoadResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(output);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const percentile = (p: number) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(output);
    const ms = m === null ? NaN : toMs(m[1]);
    return ms > 0 ? ms : NaN; // wrk sometimes prints 0.00us for a percentile it did not record: unknown, not zero
  };
  if (total === null || rps === null) throw new Error(`could not read wrk's output:\n${output}`);
  const errors = [...output.matchAll(/Non-2xx or 3xx responses: \d+|Socket errors: .*/g)].map((m) => m[0]);
  return {
    requests: Number(total[1]),
    seconds: toMs(`${total[2]}${total[3]}`) / 1000,
    requestsPerSecond: Number(rps[1]),
    latencyMs: { p50: percentile(50), p90: percentile(90), p99: percentile(99) },
    ...(errors.length > 0 ? { errors: errors.join('; ') } : {}),
  };
}

/** Runs one load: `durationMs` of requests for `/`, from one wrk thread (or the undici client). */
export async function httpLoad(generator: LoadGenerator, options: HttpLoadOptions): Promise<HttpLoadResult> {
  const url = `http://127.0.0.1:${options.port}/`;
  if (generator === 'undici') {
    return runClient<HttpLoadResult>('bench/clients/http-load.ts', [
      '--port',
      String(options.port),
      '--connections',
      String(options.connections),
      '--pipeline',
      String(options.pipeline),
      '--duration-ms',
      String(options.durationMs),
    ]);
  }
  const args = ['-t1', `-c${options.connections}`, `-d${Math.max(1, Math.round(options.durationMs / 1000))}s`, '--latency'];
  if (options.pipeline > 1) args.push('-s', join(root, 'bench', 'clients', 'pipeline.lua'));
  args.push(url);
  if (options.pipeline > 1) args.push('--', String(options.pipeline));
  const result = spawnSync('wrk', args, { encoding: 'utf8', timeout: options.durationMs + 30_000 });
  if (result.status !== 0) throw new Error(`wrk failed (${String(result.status ?? result.signal)}): ${result.stderr}`);
  return parseWrk(result.stdout);
}
