import cluster from 'node:cluster';
import { describe } from '../reactor/options-object';
import { EventLoop } from './event-loop';
import type { ShutdownReport } from './graceful-shutdown';
import type { Logger } from './logger';
import { isWorkerMessage, type WorkerMessage } from './worker-messages';

/** How the workers of `runWorkers` share their listening ports. */
export type WorkerSharing = 'cluster' | 'reusePort';

/** What a worker's `start` is told about itself. */
export interface WorkerContext {
  /** The worker's slot, 1 to `workers`: a restarted worker has the slot of the one it replaces. */
  readonly id: number;
  readonly pid: number;
  readonly sharing: WorkerSharing;
  /**
   * Spread it into each listen config (`{ host, port, ...worker.listen }`):
   * `{ exclusive: false }` to share the primary's socket (`'cluster'`), or
   * `{ reusePort: true }` for a socket of this worker's own (`'reusePort'`).
   */
  readonly listen: { readonly exclusive?: boolean; readonly reusePort?: boolean };
}

/** What a worker needs from `runWorkers`' options. */
export interface WorkerProcessOptions {
  start: (worker: WorkerContext) => EventLoop | Promise<EventLoop>;
  timeoutMs: number;
  signals: readonly NodeJS.Signals[];
  logger: Logger;
}

/**
 * One worker of `runWorkers`: starts its loop with `start`, tells the
 * primary it serves, and closes gracefully when the primary asks (or a
 * signal reaches it, or the primary is gone), then sends its report and
 * leaves the cluster. A second request forces (as a second Ctrl-C does):
 * the terminal sends SIGINT to the primary and the workers alike, so a
 * signal and the primary's message for the same Ctrl-C count as one.
 */
export async function serveAsWorker(context: WorkerContext, options: WorkerProcessOptions): Promise<ShutdownReport> {
  const { logger } = options;
  let closing: Promise<ShutdownReport> | undefined;
  let loop: EventLoop | undefined;
  let stopWanted: 'graceful' | 'force' | undefined;
  let signals = 0;

  const stop = (how: 'graceful' | 'force') => {
    if (stopWanted !== 'force') stopWanted = how;
    if (loop === undefined) return; // still starting: acted on once it has
    closing ??= loop.close({ timeoutMs: options.timeoutMs });
    if (how === 'force') void loop.destroy();
  };
  const onMessage = (message: unknown) => {
    if (!isWorkerMessage(message)) return;
    if (message.kind === 'shutdown') stop('graceful');
    else if (message.kind === 'force') stop('force');
  };
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    logger.info(`worker ${context.id}: ${signal}${signals > 1 ? ', forcing' : ', closing gracefully'}`);
    stop(signals > 1 ? 'force' : 'graceful');
  };
  const onDisconnect = () => stop('graceful'); // the primary is gone: nobody will ask

  process.on('message', onMessage);
  process.on('disconnect', onDisconnect);
  for (const signal of options.signals) process.on(signal, onSignal);
  try {
    const started: unknown = await options.start(context);
    if (!(started instanceof EventLoop))
      throw new TypeError(`'start' must return (or resolve with) an EventLoop, got ${describe(started)}`);
    loop = started;
    const running = loop.run();
    void send({
      tsreactor: 'workers',
      kind: 'ready',
      id: context.id,
      listening: loop.socketManager.serverSockets.map((s) => ({ host: s.host, port: s.port, path: s.path })),
    });
    if (stopWanted !== undefined) stop(stopWanted);
    await running;
    const report = await (closing ?? loop.close({ timeoutMs: options.timeoutMs })); // run() ended: by a close, or by a stop() of the program's
    await send({ tsreactor: 'workers', kind: 'report', id: context.id, report, accepts: loop.metrics.accepts }); // delivered before we leave the cluster
    return report;
  } finally {
    process.off('message', onMessage);
    process.off('disconnect', onDisconnect);
    for (const signal of options.signals) process.off(signal, onSignal);
    if (cluster.worker?.isConnected() === true) cluster.worker.disconnect(); // nothing of ours left: the process can exit
  }
}

/** Sends to the primary, if it is still there; resolves once the message is written. */
function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) resolve();
    else process.send(message, undefined, undefined, () => resolve());
  });
}
