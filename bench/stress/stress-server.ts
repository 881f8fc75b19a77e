/**
 * The server the stress suite attacks, in its own process: the HTTP example
 * and an echo server on one EventLoop, on the backend named by `--backend`.
 * Prints `listening on 127.0.0.1:<http port> echo <echo port>`; answers
 * `report` on stdin with one JSON line (what it still holds); on SIGTERM
 * closes gracefully and prints `stopped <json>` with the same report.
 *
 * Run: npx ts-node bench/stress/stress-server.ts [--backend libuv|raw] [--headers-timeout-ms 2000]
 */
import { createInterface } from 'node:readline';
import { argument } from '../../examples/argument';
import { backendNamed } from '../../examples/backend-option';
import { startHttpServer } from '../../examples/http-server';
import { EventLoop, Reactor } from '../../src';

async function main(): Promise<void> {
  const reactor = new Reactor({ backend: backendNamed(argument('backend', 'libuv')), lingerMs: 2_000 });
  const loop = new EventLoop({ reactor, idleTimeoutMs: 10_000, maxBufferedBytes: 64 << 20 });
  const http = await startHttpServer({
    loop,
    host: '127.0.0.1',
    port: 0,
    headersTimeoutMs: Number(argument('headers-timeout-ms', '2000')),
  });
  const [echo] = await loop.listen([{ host: '127.0.0.1', port: 0, backlog: 4096 }], {
    onData(conn, chunk) {
      conn.send(chunk);
    },
  });
  const report = () => {
    const { descriptors, connections } = loop.report();
    const metrics = loop.metrics.snapshot();
    return {
      connections: connections.length,
      descriptors: descriptors.filter((d) => d.kind === 'stream').length,
      lingering: descriptors.filter((d) => d.state === 'lingering').length,
      // Queued in connections (what backpressure bounds) plus what the backend holds in inboxes and send queues.
      bufferedBytes: loop.bufferedBytes + descriptors.reduce((sum, d) => sum + d.readBuffered + d.writeBuffered, 0),
      requests: http.requests,
      accepts: metrics.accepts,
      drops: metrics.drops,
      callbackErrors: metrics.callbackErrors,
      heapUsed: process.memoryUsage().heapUsed,
    };
  };
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'report') console.log(JSON.stringify(report()));
  });
  const stopSignals = loop.handleSignals({ timeoutMs: 5_000 });
  console.log(`listening on 127.0.0.1:${http.port} echo ${echo.port}`);
  await loop.run();
  stopSignals();
  const { accepts, drops, callbackErrors } = loop.metrics;
  console.log(`stopped ${JSON.stringify({ requests: http.requests, accepts, drops, callbackErrors })}`);
  process.stdin.destroy();
}

void main();
