import cluster, { type Worker } from 'node:cluster';
import { Channels } from '../diagnostics';
import type { ShutdownReport } from './graceful-shutdown';
import type { Logger } from './logger';
import { isWorkerMessage, WORKER_SHARING_ENV, WORKER_SLOT_ENV } from './worker-messages';
import type { WorkerSharing } from './worker-process';

/** One worker's part of a {@link WorkersReport}: the last process that held its slot. */
export interface WorkerSummary {
  id: number;
  pid: number | undefined;
  /** How many times this slot was started again after its worker died. */
  restarts: number;
  /** Its shutdown report, if it closed gracefully and sent one. */
  report: ShutdownReport | undefined;
  /** Connections its loop accepted (as of that report; 0 without one). */
  accepts: number;
  exitCode: number | null;
  signal: string | null;
}

/** What `runWorkers` reports in the primary once every worker is gone: their reports added up, and each. */
export interface WorkersReport extends ShutdownReport {
  workers: WorkerSummary[];
  /** Restarts over all slots. */
  restarts: number;
  /** Connections accepted, added up over the workers' reports. */
  accepts: number;
  /** Workers still running past the shutdown deadline, killed (SIGKILL) by the primary. */
  killed: number;
  /** Slots given up (their worker kept dying at start). When all are, the primary resolves without a signal. */
  gaveUp: number;
}

/** What the primary needs from `runWorkers`' options. */
export interface WorkerPrimaryOptions {
  workers: number;
  sharing: WorkerSharing;
  timeoutMs: number;
  signals: readonly NodeJS.Signals[];
  /** Quick deaths in a row (each before serving, or within `QUICK_DEATH_MS` of it) after which a slot is given up. */
  maxRestarts: number;
  logger: Logger;
}

/**
 * A worker that dies before it serves, or sooner than this after it began to
 * serve, counts toward giving its slot up. Counted from its ready message, not
 * from the fork: how long a start takes (loading, compiling, binding) depends
 * on the machine's load, and a start that failed is a failed start however slow.
 */
const QUICK_DEATH_MS = 2_000;
/** Past the workers' own deadline, how long the primary waits before it kills what is left. */
const KILL_GRACE_MS = 2_000;
const MAX_RESTART_DELAY_MS = 5_000;

interface Slot {
  id: number;
  worker: Worker | undefined;
  pid: number | undefined;
  /** When its worker said it serves (`Date.now()`); undefined until then. */
  servingSince: number | undefined;
  restarts: number;
  quickDeaths: number;
  report: ShutdownReport | undefined;
  accepts: number;
  exitCode: number | null;
  signal: string | null;
  restartTimer: NodeJS.Timeout | undefined;
  givenUp: boolean;
}

/**
 * The primary of `runWorkers`: forks one worker per slot, starts again a
 * worker that dies (at once after a long life; after a growing delay, 100
 * ms doubling to 5 s, when it keeps dying before it serves or within 2 s
 * of serving, and not
 * at all after `maxRestarts` such deaths in a row), and on the first
 * SIGINT/SIGTERM asks every worker to close gracefully and collects their
 * reports into one; a second signal forces them; past the deadline (and
 * two seconds of grace) it kills what is left, by PID.
 */
export function runPrimary(options: WorkerPrimaryOptions): Promise<WorkersReport> {
  const { logger } = options;
  const slots: Slot[] = [];
  let shuttingDown = false;
  let killTimer: NodeJS.Timeout | undefined;
  let killed = 0;
  let signalsSeen = 0;
  let start = 0;
  /** Under reusePort, what the first worker to serve bound: every other should bind the same. */
  let firstListening: string | undefined;
  let finish: (report: WorkersReport) => void = () => {};
  const done = new Promise<WorkersReport>((resolve) => (finish = resolve));

  const live = () => slots.filter((slot) => slot.worker !== undefined);

  const fork = (slot: Slot) => {
    slot.restartTimer = undefined;
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot.id), [WORKER_SHARING_ENV]: options.sharing });
    slot.worker = worker;
    slot.pid = worker.process.pid;
    slot.servingSince = undefined;
    slot.report = undefined;
    slot.accepts = 0;
    worker.on('message', (message: unknown) => {
      if (!isWorkerMessage(message)) return;
      if (message.kind === 'ready') {
        slot.servingSince = Date.now();
        logger.info(`worker ${slot.id} (pid ${slot.pid}) serving`, { listening: message.listening });
        const listening = JSON.stringify(message.listening);
        firstListening ??= listening;
        if (options.sharing === 'reusePort' && listening !== firstListening) {
          logger.warn(
            `worker ${slot.id} listens elsewhere than the first worker (${listening}, not ${firstListening}): with reusePort, give a port (port 0 gives each worker its own)`,
          );
        }
        if (Channels.workersReady.hasSubscribers)
          Channels.workersReady.publish({ id: slot.id, pid: slot.pid, listening: message.listening });
      } else if (message.kind === 'report') {
        slot.report = message.report;
        slot.accepts = message.accepts;
        if (Channels.workersReport.hasSubscribers) Channels.workersReport.publish({ id: slot.id, pid: slot.pid, report: message.report });
      }
    });
    worker.on('exit', (code: number | null, signal: string | null) => exited(slot, worker, code, signal));
  };

  const exited = (slot: Slot, worker: Worker, code: number | null, signal: string | null) => {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.exitCode = code;
    slot.signal = signal;
    let restart: number | undefined;
    if (!shuttingDown) {
      const quick = slot.servingSince === undefined || Date.now() - slot.servingSince < QUICK_DEATH_MS;
      slot.quickDeaths = quick ? slot.quickDeaths + 1 : 0;
      if (slot.quickDeaths > options.maxRestarts) {
        slot.givenUp = true;
        logger.error(`worker ${slot.id} keeps dying at start (${slot.quickDeaths} times in a row): not starting it again`);
      } else {
        restart = slot.quickDeaths === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** (slot.quickDeaths - 1));
        slot.restarts++;
        slot.restartTimer = setTimeout(() => fork(slot), restart);
      }
    }
    logger[shuttingDown ? 'info' : 'warn'](`worker ${slot.id} (pid ${slot.pid}) exited`, { code, signal, restartInMs: restart });
    if (Channels.workersExit.hasSubscribers) Channels.workersExit.publish({ id: slot.id, pid: slot.pid, code, signal, restart });
    if (shuttingDown ? live().length === 0 : slots.every((s) => s.givenUp)) end();
  };

  const shutdown = (force: boolean) => {
    if (!shuttingDown) {
      shuttingDown = true;
      start = Date.now();
      for (const slot of slots) {
        if (slot.restartTimer !== undefined) clearTimeout(slot.restartTimer);
        slot.restartTimer = undefined;
      }
      killTimer = setTimeout(() => {
        for (const slot of live()) {
          killed++;
          slot.worker?.process.kill('SIGKILL');
        }
      }, options.timeoutMs + KILL_GRACE_MS);
      if (live().length === 0) {
        end();
        return;
      }
    }
    for (const slot of live()) {
      const worker = slot.worker as Worker;
      if (worker.isConnected()) worker.send({ tsreactor: 'workers', kind: force ? 'force' : 'shutdown', timeoutMs: options.timeoutMs });
    }
  };

  const onSignal = (signal: NodeJS.Signals) => {
    signalsSeen++;
    logger.info(`${signal}: ${signalsSeen > 1 ? 'forcing the workers' : 'closing the workers gracefully (again to force)'}`);
    shutdown(signalsSeen > 1);
  };

  const end = () => {
    if (killTimer !== undefined) clearTimeout(killTimer);
    for (const signal of options.signals) process.off(signal, onSignal);
    const reports = slots.map((slot) => slot.report).filter((r) => r !== undefined);
    finish({
      graceful: reports.reduce((sum, r) => sum + r.graceful, 0),
      forced: reports.reduce((sum, r) => sum + r.forced, 0),
      other: reports.reduce((sum, r) => sum + r.other, 0),
      durationMs: start === 0 ? 0 : Date.now() - start,
      restarts: slots.reduce((sum, s) => sum + s.restarts, 0),
      accepts: slots.reduce((sum, s) => sum + s.accepts, 0),
      killed,
      gaveUp: slots.filter((s) => s.givenUp).length,
      workers: slots.map(({ id, pid, restarts, report, accepts, exitCode, signal }) => ({
        id,
        pid,
        restarts,
        report,
        accepts,
        exitCode,
        signal,
      })),
    });
  };

  for (const signal of options.signals) process.on(signal, onSignal);
  for (let id = 1; id <= options.workers; id++) {
    const slot: Slot = {
      id,
      worker: undefined,
      pid: undefined,
      servingSince: undefined,
      restarts: 0,
      quickDeaths: 0,
      report: undefined,
      accepts: 0,
      exitCode: null,
      signal: null,
      restartTimer: undefined,
      givenUp: false,
    };
    slots.push(slot);
    fork(slot);
  }
  return done;
}
