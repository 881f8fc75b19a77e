import { Channels } from '../diagnostics';
import type { Reactor } from '../reactor';
import type { CloseReason, Connection } from './connection';
import type { ConnectionRegistry } from './connection-registry';
import type { Logger } from './logger';

/** What a graceful close did. */
export interface ShutdownReport {
  /** Connections that closed cleanly (both sides ended) before the deadline. */
  graceful: number;
  /** Connections destroyed at the deadline. */
  forced: number;
  /** Connections that ended otherwise meanwhile: errors, idle or linger timeouts, failing callbacks. */
  other: number;
  durationMs: number;
}

/** What the shutdown needs of its event loop. */
export interface ShutdownLoop {
  readonly reactor: Reactor;
  readonly registry: ConnectionRegistry;
  readonly logger: Logger;
  /** Stop accepting: every server socket is removed. */
  stopAccepting(): void;
  /** Hands what already arrived on `connections` to `onData` (a request received is not an idle connection). */
  handOverInput(connections: readonly Connection[]): void;
  /** Tells one connection to finish: `onShutdown` if it has one, else `end()`. */
  askToFinish(connection: Connection): void;
  /** Destroys every connection now. */
  forceAll(): void;
  /** Runs the loop until `done` settles or the loop stops; `finished()` says whether it is over. */
  serveUntil(done: Promise<void>, finished: () => boolean): Promise<void>;
  /** Stops the loop, closes the reactor and waits for the run to end. */
  stopAndClose(): Promise<void>;
}

/**
 * An event loop's graceful close: stop accepting; hand over the input that
 * already arrived; ask every connection to finish (`onShutdown`, or `end()`);
 * serve them meanwhile; at `timeoutMs`, reset what is left; then close the
 * reactor. It counts how each connection ended (`ended`, called by the loop
 * for every connection that closes meanwhile) into the report. A close that
 * failed (the reactor could not be disposed of) may run again: its counts
 * carry on from the first attempt.
 */
export class GracefulShutdown {
  readonly #loop: ShutdownLoop;
  #counts = { graceful: 0, forced: 0, other: 0 };
  #drained: (() => void) | undefined;
  #started = false;

  constructor(loop: ShutdownLoop) {
    this.#loop = loop;
  }

  /** Has a close begun? From then on, every connection that ends is counted (`ended`). */
  get started(): boolean {
    return this.#started;
  }

  /** A connection ended while closing: count it; the last one ends the wait. */
  ended(reason: CloseReason): void {
    if (reason === 'shutdown-forced') this.#counts.forced++;
    else if (reason === 'closed') this.#counts.graceful++;
    else this.#counts.other++;
    if (this.#loop.registry.size === 0) this.#drained?.();
  }

  async run(timeoutMs: number): Promise<ShutdownReport> {
    const loop = this.#loop;
    const start = loop.reactor.clock.now();
    this.#started = true;
    if (Channels.shutdownStart.hasSubscribers) Channels.shutdownStart.publish({ connections: loop.registry.size, timeoutMs });
    loop.logger.info('closing', { connections: loop.registry.size, timeoutMs });
    let drained = false;
    const allEnded = new Promise<void>((resolve) => {
      this.#drained = () => {
        drained = true;
        resolve();
      };
    });
    loop.stopAccepting();
    const connections = [...loop.registry.values()];
    loop.handOverInput(connections);
    for (const connection of connections) if (connection.state === 'open') loop.askToFinish(connection);
    if (loop.registry.size === 0) this.#drained?.();
    const deadline = loop.reactor.timers.schedule(timeoutMs, () => loop.forceAll());
    await loop.serveUntil(allEnded, () => drained);
    loop.reactor.timers.cancel(deadline);
    await loop.stopAndClose();
    const report: ShutdownReport = { ...this.#counts, durationMs: loop.reactor.clock.now() - start };
    if (Channels.shutdownEnd.hasSubscribers) Channels.shutdownEnd.publish(report);
    return report;
  }
}
