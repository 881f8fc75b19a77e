import { Channels } from '../diagnostics';
import type { Connection } from './connection';
import { heaviestFirst } from './heaviest-first';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

/**
 * An event loop's budget for bytes buffered across all its connections
 * (`maxBufferedBytes`), checked after every batch. Past it, reading pauses on
 * the connections holding the most (more of them as needed, for as long as
 * the total stays over): their peers are then held back by TCP, not buffered
 * here. A paused connection resumes once its own queue has drained, and all
 * resume once the total is back under half the budget. Going over and coming
 * back are reported (metrics `pressureEvents`, the `tsreactor:loop:pressure`
 * channel, the logger).
 *
 * Its cost does not grow with the connections while enough are paused: a
 * check then looks only at the paused ones. The others are walked (and the
 * heaviest taken from a heap, not a full sort) only when more must pause,
 * and each such walk pauses at least one.
 */
export class MemoryBudget {
  readonly #limit: number;
  readonly #connections: { values(): Iterable<Connection> };
  readonly #metrics: Metrics;
  readonly #logger: Logger;
  #buffered = 0;
  #over = false;
  #paused: Connection[] = [];

  constructor(limit: number, connections: { values(): Iterable<Connection> }, metrics: Metrics, logger: Logger) {
    this.#limit = limit;
    this.#connections = connections;
    this.#metrics = metrics;
    this.#logger = logger;
  }

  /** Bytes buffered across all connections now. */
  get buffered(): number {
    return this.#buffered;
  }

  /** A connection's queue grew (or shrank, negative). */
  changed(delta: number): void {
    this.#buffered += delta;
  }

  /** A paused connection is gone: no longer the budget's to resume. */
  forget(connection: Connection): void {
    this.#paused = this.#paused.filter((c) => c !== connection);
  }

  /** After a batch: pause the heaviest while over, resume as the queues drain. */
  check(): void {
    const limit = this.#limit;
    if (limit === Infinity) return;
    // Paused ones that have sent everything hold nothing any more: let them read.
    if (this.#paused.length > 0) {
      this.#paused = this.#paused.filter((c) => {
        if (c.buffered > 0) return true;
        c.setPressurePaused(false);
        return false;
      });
    }
    if (this.#buffered > limit) {
      // Enough paused already (the usual case once under pressure): nothing to look at. Otherwise the bytes
      // not yet paused are > 0, so the walk below pauses at least one connection: one walk per connection paused.
      let relieved = 0;
      for (const connection of this.#paused) relieved += connection.buffered;
      const target = this.#buffered - limit / 2;
      if (relieved < target) {
        const candidates: Connection[] = [];
        for (const connection of this.#connections.values())
          if (connection.buffered > 0 && !connection.pressurePaused) candidates.push(connection);
        for (const connection of heaviestFirst(candidates, (c) => c.buffered)) {
          connection.setPressurePaused(true);
          this.#paused.push(connection);
          relieved += connection.buffered;
          if (relieved >= target) break;
        }
      }
      if (!this.#over) {
        this.#over = true;
        this.#metrics.pressureEvents++;
        const paused = this.#paused.length;
        if (Channels.loopPressure.hasSubscribers) Channels.loopPressure.publish({ bufferedBytes: this.#buffered, limit, paused, on: true });
        this.#logger.warn('memory budget exceeded: reading paused on the connections holding the most', {
          bufferedBytes: this.#buffered,
          limit,
          paused,
        });
      }
    } else if (this.#over && this.#buffered <= limit / 2) {
      this.#over = false;
      for (const connection of this.#paused) connection.setPressurePaused(false);
      this.#paused = [];
      if (Channels.loopPressure.hasSubscribers)
        Channels.loopPressure.publish({ bufferedBytes: this.#buffered, limit, paused: 0, on: false });
      this.#logger.info('memory budget: back under half, reading resumed', { bufferedBytes: this.#buffered, limit });
    }
  }
}
