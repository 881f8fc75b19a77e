/**
 * Before and after, for one change to the HTTP path: the HTTP example of
 * another checkout (the version before the change) against this one's, in
 * paired rounds under the same wrk load, each round running both, in
 * alternating order. What it reports is the server's CPU time per request
 * (from /proc), whose rounds agree far better than requests per second
 * (which follow the machine's drift, up to 20% here), and the median of
 * the rounds' own ratios, as `npm run bench` does.
 *
 * Not one of the `npm run bench` set (it needs a second checkout).
 *
 * Run (a checkout of the commit before, with its node_modules):
 *   git worktree add /tmp/before HEAD~1 && ln -s "$PWD/node_modules" /tmp/before/node_modules
 *   npx ts-node bench/compare-http.ts --before /tmp/before [--rounds 6] [--backend raw|libuv] [--pipeline 1]
 */
import { argument } from '../examples/argument';
import { chooseLoadGenerator, httpLoad, type LoadGenerator } from './lib/http-load';
import { cpuSeconds, startServer } from './lib/processes';
import { median } from './lib/report';

const CONNECTIONS = 50;
const WARMUP_MS = 1_500;
const DURATION_MS = 3_000;

interface Sample {
  requestsPerSecond: number;
  cpuUsPerRequest: number;
}

async function measure(generator: LoadGenerator, root: string | undefined, backend: string, pipeline: number): Promise<Sample> {
  const server = await startServer('examples/http-server.ts', ['--host', '127.0.0.1', '--port', '0', '--backend', backend], { root });
  try {
    await httpLoad(generator, { port: server.port, connections: CONNECTIONS, durationMs: WARMUP_MS, pipeline });
    const before = cpuSeconds(server.pid);
    const result = await httpLoad(generator, { port: server.port, connections: CONNECTIONS, durationMs: DURATION_MS, pipeline });
    const after = cpuSeconds(server.pid);
    if (before === undefined || after === undefined) throw new Error('no CPU time for the server: this needs /proc');
    return { requestsPerSecond: result.requestsPerSecond, cpuUsPerRequest: ((after - before) * 1e6) / result.requests };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const beforeRoot = argument('before', '');
  if (beforeRoot === '') throw new RangeError("'--before' must name the checkout to compare with");
  const rounds = Number(argument('rounds', '6'));
  const backend = argument('backend', 'raw');
  const pipeline = Number(argument('pipeline', '1'));
  const generator = chooseLoadGenerator((line) => console.log(line));
  const cpuRatios: number[] = [];
  const rateRatios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first, so neither always runs on a warmer (or cooler) machine.
    const runBefore = () => measure(generator, beforeRoot, backend, pipeline);
    const runAfter = () => measure(generator, undefined, backend, pipeline);
    let baseline: Sample;
    let after: Sample;
    if (round % 2 === 0) {
      baseline = await runBefore();
      after = await runAfter();
    } else {
      after = await runAfter();
      baseline = await runBefore();
    }
    cpuRatios.push(baseline.cpuUsPerRequest / after.cpuUsPerRequest);
    rateRatios.push(after.requestsPerSecond / baseline.requestsPerSecond);
    console.log(
      `round ${round + 1}/${rounds}: before ${baseline.requestsPerSecond.toFixed(0)} req/s, ${baseline.cpuUsPerRequest.toFixed(2)} µs CPU/request; ` +
        `after ${after.requestsPerSecond.toFixed(0)} req/s, ${after.cpuUsPerRequest.toFixed(2)} µs CPU/request`,
    );
  }
  console.log(
    `median of ${rounds} paired rounds (${backend}, pipeline ${pipeline}): CPU per request ${median(cpuRatios).toFixed(3)}x less after, ` +
      `requests per second ${median(rateRatios).toFixed(3)}x`,
  );
}

void main();
