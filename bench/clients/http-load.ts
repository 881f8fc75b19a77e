/**
 * The fallback HTTP load client, for machines without wrk: an undici Pool of
 * --connections keep-alive connections, each with up to --pipeline requests
 * in flight, asking for `/` as fast as answers come, for --duration-ms (after
 * a 500 ms warm-up). Prints one JSON line: requests, seconds, requests per
 * second and latency percentiles. Loopback only; stops by itself.
 * --socket PATH dials a Unix domain socket instead of 127.0.0.1:--port
 * (wrk cannot).
 */
import { createHistogram } from 'node:perf_hooks';
import { Pool } from 'undici';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const port = arg('port', 0);
const connections = arg('connections', 50);
const pipeline = arg('pipeline', 1);
const durationMs = arg('duration-ms', 5_000);
const warmupMs = 500;
const socketIndex = process.argv.indexOf('--socket');
const socketPath = socketIndex >= 0 ? process.argv[socketIndex + 1] : undefined;

async function main(): Promise<void> {
  const pool =
    socketPath === undefined
      ? new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: pipeline })
      : new Pool('http://localhost', { connections, pipelining: pipeline, connect: { socketPath } });
  const latency = createHistogram();
  let measuring = false;
  let stopped = false;
  let requests = 0;

  const worker = async () => {
    while (!stopped) {
      const start = process.hrtime.bigint();
      const response = await pool.request({ path: '/', method: 'GET' });
      await response.body.dump();
      if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
      if (measuring) {
        requests++;
        latency.record(Number(process.hrtime.bigint() - start) || 1);
      }
    }
  };
  const workers = Array.from({ length: connections * pipeline }, worker);
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  measuring = true;
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  measuring = false;
  const seconds = (performance.now() - start) / 1000;
  stopped = true;
  await Promise.all(workers);
  await pool.close();
  const ms = (p: number) => latency.percentile(p) / 1e6;
  console.log(
    JSON.stringify({ requests, seconds, requestsPerSecond: requests / seconds, latencyMs: { p50: ms(50), p90: ms(90), p99: ms(99) } }),
  );
}

void main();
