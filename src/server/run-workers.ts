import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { ReactorError } from '../reactor';
import { nodeSupportsReusePort } from '../reactor/backends/libuv-backend';
import { describe, optionsObject } from '../reactor/options-object';
import type { EventLoop } from './event-loop';
import type { ShutdownReport } from './graceful-shutdown';
import { type Logger, silentLogger } from './logger';
import { WORKER_SHARING_ENV, WORKER_SLOT_ENV } from './worker-messages';
import { runPrimary, type WorkersReport } from './worker-primary';
import { serveAsWorker, type WorkerContext, type WorkerSharing } from './worker-process';

/** Options of {@link runWorkers}. */
export interface RunWorkersOptions {
  /** How many worker processes, one event loop each. Default: `os.availableParallelism()`. */
  workers?: number;
  /**
   * How the workers share their listening ports:
   * - `'cluster'` (default, every supported Node): the primary holds each
   *   listening socket and hands connections to the workers in turn
   *   (`node:cluster`'s round-robin); LibuvBackend only.
   * - `'reusePort'` (Node 22.12+): each worker binds its own socket with
   *   SO_REUSEPORT and the kernel spreads connections over them; any
   *   backend that has `reusePort`. Give a port: with port 0, each worker
   *   would get a port of its own.
   */
  sharing?: WorkerSharing;
  /**
   * Runs in each worker: make an EventLoop, listen (spreading
   * `worker.listen` into every config) and return it; `runWorkers` runs
   * it. The primary never calls it.
   */
  start: (worker: WorkerContext) => EventLoop | Promise<EventLoop>;
  /** Each worker's graceful-close deadline. Default 5000 ms. */
  timeoutMs?: number;
  /** Signals that close everything gracefully (a second one forces). Default `['SIGINT', 'SIGTERM']`. */
  signals?: NodeJS.Signals[];
  /** A slot whose worker dies before it serves (or within 2 s of serving) this many times in a row is given up. Default 5. */
  maxRestarts?: number;
  /** Default: silent. */
  logger?: Logger;
}

/** What {@link runWorkers} resolves with: in the primary, everything added up; in a worker, its own report. */
export type RunWorkersResult = { role: 'primary'; report: WorkersReport } | { role: 'worker'; id: number; report: ShutdownReport };

/**
 * One event loop per core: runs `start`'s server in `workers` processes
 * (`node:cluster`) that share the listening ports, and keeps them running.
 * Call it at the top of your program: the same file runs as the primary
 * (which forks the workers and watches them) and as each worker (which
 * calls `start`). It resolves when everything has closed.
 *
 * - A worker that dies is started again in its slot (its connections end
 *   with it; the other workers go on serving). One that keeps dying within
 *   2 s of starting is started after a growing delay, and given up after
 *   `maxRestarts` such deaths in a row.
 * - SIGINT or SIGTERM to the primary (or Ctrl-C, which reaches every
 *   process) closes every worker gracefully (`EventLoop.close`, with
 *   `timeoutMs`), and the primary resolves with one report: the workers'
 *   reports added up, and each. A second signal forces. A worker still
 *   running two seconds past the deadline is killed.
 * - `/stats`-style answers come from the worker that served them:
 *   `worker.id` says which.
 *
 * Not a process manager: nothing here outlives the primary (a worker whose
 * primary is gone closes gracefully), and nothing restarts the primary.
 *
 * @example
 * ```ts
 * import { EventLoop, runWorkers } from 'tsreactor';
 *
 * const result = await runWorkers({
 *   workers: 2,
 *   async start(worker) {
 *     const loop = new EventLoop();
 *     await loop.listen([{ host: '::', port: 8080, ...worker.listen }], {
 *       onData(conn, chunk) {
 *         conn.send(chunk);
 *       },
 *     });
 *     return loop;
 *   },
 * });
 * if (result.role === 'primary') console.log('all closed', result.report);
 * ```
 */
export async function runWorkers(options: RunWorkersOptions): Promise<RunWorkersResult> {
  const {
    workers = availableParallelism(),
    sharing = 'cluster',
    start,
    timeoutMs = 5_000,
    signals = ['SIGINT', 'SIGTERM'],
    maxRestarts = 5,
    logger = silentLogger,
  } = optionsObject(options, 'options');
  if (!Number.isInteger(workers) || workers < 1 || workers > 1024) {
    throw new RangeError(`'workers' must be an integer from 1 to 1024, got ${describe(workers)}`);
  }
  const sharingValue: unknown = sharing;
  if (sharingValue !== 'cluster' && sharingValue !== 'reusePort') {
    throw new RangeError(`'sharing' must be 'cluster' or 'reusePort', got ${describe(sharing)}`);
  }
  if (typeof start !== 'function') throw new TypeError(`'start' must be a function, got ${describe(start)}`);
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))
    throw new RangeError(`'timeoutMs' must be a number >= 0, got ${describe(timeoutMs)}`);
  if (!Number.isInteger(maxRestarts) || maxRestarts < 0) {
    throw new RangeError(`'maxRestarts' must be an integer >= 0, got ${describe(maxRestarts)}`);
  }
  if (!Array.isArray(signals)) throw new TypeError(`'signals' must be an array of signal names`);
  if (sharing === 'reusePort' && !nodeSupportsReusePort()) {
    throw new ReactorError('ENOTSUP', `sharing 'reusePort' needs Node 22.12, 23.1 or newer; this is ${process.version}: use 'cluster'`);
  }

  if (cluster.isPrimary) {
    const report = await runPrimary({ workers, sharing, timeoutMs, signals, maxRestarts, logger });
    return { role: 'primary', report };
  }
  const id = Number(process.env[WORKER_SLOT_ENV]);
  const workerSharing = process.env[WORKER_SHARING_ENV] === 'reusePort' ? 'reusePort' : 'cluster';
  if (!Number.isInteger(id) || id < 1) {
    throw new ReactorError('EINVAL', `this cluster worker was not started by runWorkers (no ${WORKER_SLOT_ENV} in its environment)`);
  }
  const context: WorkerContext = {
    id,
    pid: process.pid,
    sharing: workerSharing,
    listen: workerSharing === 'cluster' ? { exclusive: false } : { reusePort: true },
  };
  const report = await serveAsWorker(context, { start, timeoutMs, signals, logger });
  return { role: 'worker', id, report };
}
