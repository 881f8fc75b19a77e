/**
 * The demo `npm start` runs: the HTTP/1.1 example server and the echo server
 * on one event loop, on '::' (IPv4 and IPv6), with a live status line on a
 * terminal and a graceful stop on Ctrl-C.
 *
 * Run: npm start [-- --http-port 8080 --echo-port 7007 --host ::]
 *      npm start -- --http-socket /tmp/tsreactor.sock   (HTTP on a Unix socket, as behind nginx)
 *      npm start -- --workers 2     (one event loop per worker process: runWorkers)
 *      npm start -- --help
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EventLoop, ReactorError, runWorkers, type WorkerContext, type WorkerSharing } from '../src';
import { addressOf, startHttpServer } from './http-server';

const HELP = `tsreactor demo: an HTTP/1.1 server and an echo server on one event loop.

Usage: npm start -- [options]

  --host <address>     where to listen (default ::, every address, IPv4 and IPv6;
                       0.0.0.0 is used where the machine has no IPv6)
  --http-port <port>   the HTTP server's port (default 8080; 0: any free port)
  --echo-port <port>   the echo server's port (default 7007; 0: any free port)
  --http-socket <path> serve HTTP on this Unix domain socket instead of --http-port
                       (as behind nginx: proxy_pass http://unix:<path>); a stale
                       socket file left by a crash is removed, a live one never
  --workers <n>        run n worker processes, one event loop each, sharing the ports
                       (default: one process); /stats says which worker answered
  --sharing <how>      with --workers: cluster (default: the primary hands out
                       connections) or reusePort (Node 22.12+: the kernel does)
  --no-status          no live status line (it is shown only on a terminal anyway)
  --help               this text

Try:
  curl -i http://localhost:8080/            hello
  curl http://localhost:8080/stats          the event loop's metrics, as JSON
  curl --data-binary @README.md http://localhost:8080/echo
  nc localhost 7007                         an echo server: type, and it comes back

Ctrl-C stops it gracefully (a second Ctrl-C forces).`;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = process.argv.at(i + 1);
  if (value === undefined || value.startsWith('--')) throw new RangeError(`--${name} needs a value`);
  return value;
}

function port(name: string, fallback: number): number {
  const value = Number(option(name, String(fallback)));
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new RangeError(`--${name} must be a port number from 0 to 65535`);
  }
  return value;
}

/** Where the servers listen, from the flags. */
interface Where {
  host: string;
  httpPort: number;
  /** --http-socket: HTTP on this Unix socket instead of httpPort. */
  httpSocket: string | undefined;
  echoPort: number;
}

/** How to reach the HTTP server at `server`, for the "try:" hint. */
function curl(server: { port: number; path?: string }, path: string): string {
  return server.path === undefined
    ? `curl http://localhost:${server.port}${path}`
    : `curl --unix-socket ${server.path} http://localhost${path}`;
}

/** Both servers on `loop` (under --workers, each worker's own loop, listening as `worker.listen` says). */
async function serve(loop: EventLoop, { host, httpPort, httpSocket, echoPort }: Where, worker?: WorkerContext) {
  const http = await startHttpServer({ loop, host, port: httpPort, path: httpSocket, listen: worker?.listen, worker: worker?.id });
  const [echo] = await loop.listen([{ host, port: echoPort, ...worker?.listen }], {
    onData(conn, chunk) {
      conn.send(chunk);
    },
  });
  return { http, echo };
}

/** --workers N: the primary forks N workers, each serving both servers on its loop, and says where once all serve. */
async function runOnWorkers(workers: number, where: Where): Promise<void> {
  const sharing = option('sharing', 'cluster') as WorkerSharing;
  let ready = 0;
  diagnosticsChannel.subscribe('tsreactor:workers:ready', (message) => {
    const { listening } = message as { listening: { host: string; port: number; path?: string }[] };
    if (++ready !== workers) return;
    const [http, echo] = listening;
    console.log(
      `tsreactor demo (Node ${process.version}, pid ${process.pid}) on ${workers} workers (${sharing}), ctrl-c or SIGTERM to stop`,
    );
    console.log(`  http: listening on ${addressOf(http)}   try: ${curl(http, '/stats')}   (which worker answered)`);
    console.log(`  echo: listening on ${addressOf(echo)}   try: nc localhost ${echo.port}`);
  });
  const result = await runWorkers({
    workers,
    sharing,
    timeoutMs: 3_000,
    async start(worker) {
      const loop = new EventLoop({ idleTimeoutMs: 30_000 });
      await serve(loop, where, worker);
      return loop;
    },
  });
  if (result.role === 'primary') {
    const { accepts, restarts, graceful, forced } = result.report;
    console.log(
      `stopped: ${accepts} connections accepted by ${workers} workers (${restarts} restarts); ${graceful} closed gracefully, ${forced} forced`,
    );
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(HELP);
    return;
  }
  const where: Where = {
    host: option('host', '::'),
    httpPort: port('http-port', 8080),
    httpSocket: option('http-socket', '') || undefined,
    echoPort: port('echo-port', 7007),
  };
  const workers = option('workers', '');
  if (workers !== '') {
    const count = Number(workers);
    if (!Number.isInteger(count) || count < 1 || count > 1024) throw new RangeError('--workers must be a whole number from 1 to 1024');
    await runOnWorkers(count, where);
    return;
  }

  const loop = new EventLoop({ idleTimeoutMs: 30_000 });
  const { http, echo } = await serve(loop, where);
  const stopSignals = loop.handleSignals({ timeoutMs: 3_000 }); // before announcing: a signal may follow at once
  console.log(`tsreactor demo (Node ${process.version}, pid ${process.pid}), ctrl-c or SIGTERM to stop`);
  console.log(`  http: listening on ${addressOf(http.servers[0])}   try: ${curl(http.servers[0], '/')}   (/stats: metrics as JSON)`);
  console.log(`  echo: listening on ${addressOf(echo)}   try: nc localhost ${echo.port}`);

  // The live status line: only on a terminal, once a second.
  let status: NodeJS.Timeout | undefined;
  if (process.stdout.isTTY && !process.argv.includes('--no-status')) {
    const delay = monitorEventLoopDelay({ resolution: 20 });
    delay.enable();
    let lastRequests = 0;
    status = setInterval(() => {
      const requests = http.requests;
      const line =
        `  connections ${String(loop.registry.size).padStart(5)}` +
        ` | requests/s ${String(requests - lastRequests).padStart(7)}` +
        ` | event-loop delay p50 ${(delay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`;
      lastRequests = requests;
      delay.reset();
      process.stdout.write(`\r${line}   `);
    }, 1_000);
    status.unref();
  }

  await loop.run();
  if (status !== undefined) {
    clearInterval(status);
    process.stdout.write('\n');
  }
  stopSignals();
  console.log(`stopped: ${http.requests} requests served, ${loop.metrics.accepts} connections accepted`);
}

main().catch((err: unknown) => {
  if (err instanceof ReactorError || err instanceof RangeError) {
    console.error(err.message);
  } else {
    console.error(err);
  }
  process.exitCode = 1;
});
