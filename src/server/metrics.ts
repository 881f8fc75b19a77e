import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { ReactorStats } from '../reactor';

/** A histogram as plain numbers, in milliseconds. */
export interface HistogramSummary {
  count: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** What {@link Metrics.snapshot} returns: plain data, ready for JSON. */
export interface MetricsSnapshot {
  polls: number;
  events: number;
  timersFired: number;
  accepts: number;
  drops: number;
  connectionsOpen: number;
  connectionsClosed: number;
  bytesRead: number;
  bytesWritten: number;
  callbackErrors: number;
  slowCallbacks: number;
  idleTimeouts: number;
  pressureEvents: number;
  callbackDuration: HistogramSummary;
  dispatchDuration: HistogramSummary;
}

function summarize(histogram: RecordableHistogram): HistogramSummary {
  const count = histogram.count;
  const ms = (ns: number) => (count === 0 ? 0 : ns / 1e6);
  return {
    count,
    minMs: ms(histogram.min),
    meanMs: ms(histogram.mean),
    p50Ms: ms(histogram.percentile(50)),
    p99Ms: ms(histogram.percentile(99)),
    maxMs: ms(histogram.max),
  };
}

/**
 * The event loop's counters and duration histograms. Counters are plain
 * fields (incremented in place); durations go into `perf_hooks` histograms
 * in nanoseconds. `snapshot()` gives them as one plain object, with the
 * reactor's own counts (polls, events, timers fired).
 *
 * @example
 * ```ts
 * import { EventLoop } from 'tsreactor';
 *
 * const loop = new EventLoop();
 * setInterval(() => console.log(JSON.stringify(loop.metrics.snapshot())), 10_000).unref();
 * ```
 */
export class Metrics {
  accepts = 0;
  /** Connections the loop itself refused or failed to accept (see `drops`). */
  loopDrops = 0;
  connectionsClosed = 0;
  bytesRead = 0;
  bytesWritten = 0;
  callbackErrors = 0;
  slowCallbacks = 0;
  idleTimeouts = 0;
  pressureEvents = 0;
  /** How long each callback into the application took (ns). */
  readonly callbackDuration: RecordableHistogram = createHistogram();
  /** How long handling one poll's batch took (ns). */
  readonly dispatchDuration: RecordableHistogram = createHistogram();

  readonly #reactor: ReactorStats;
  readonly #open: () => number;
  readonly #backendDrops: () => number;

  constructor(reactorStats: ReactorStats, openConnections: () => number, backendDrops: () => number = () => 0) {
    this.#reactor = reactorStats;
    this.#open = openConnections;
    this.#backendDrops = backendDrops;
  }

  /**
   * Connections lost before they were served, as far as the process can
   * see: refused by the loop (`maxConnections`), failed to accept
   * (`EMFILE` from the descriptor table), and lost in the backend (past
   * a listener's backlog, or to `EMFILE` where libuv reports it; see
   * `DescriptorInfo.droppedConnections` for what nobody can see).
   */
  get drops(): number {
    return this.loopDrops + this.#backendDrops();
  }

  snapshot(): MetricsSnapshot {
    return {
      polls: this.#reactor.polls,
      events: this.#reactor.events,
      timersFired: this.#reactor.timersFired,
      accepts: this.accepts,
      drops: this.drops,
      connectionsOpen: this.#open(),
      connectionsClosed: this.connectionsClosed,
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten,
      callbackErrors: this.callbackErrors,
      slowCallbacks: this.slowCallbacks,
      idleTimeouts: this.idleTimeouts,
      pressureEvents: this.pressureEvents,
      callbackDuration: summarize(this.callbackDuration),
      dispatchDuration: summarize(this.dispatchDuration),
    };
  }
}
