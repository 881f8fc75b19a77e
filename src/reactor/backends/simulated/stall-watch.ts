import { ReactorError } from '../../reactor-error';

/** Node's own (real time), taken before a simulation's virtual time can replace them. */
const { setTimeout: realSetTimeout, clearTimeout: realClearTimeout } = globalThis;

/** Something a test (or a program) waits on: a peer's `waitFor`, a `sim.waitUntil`. */
export interface Waiting {
  /** What it waits for, one line each; empty once it waits for nothing. */
  waits(): string[];
  /** The simulation stalled: every wait rejects with `error`. */
  failWaits(error: Error): void;
}

/** What the watch needs to know of the simulation it watches. */
export interface Watched {
  /** Counts everything that happens in the simulation: a stall is a stretch without any. */
  activity(): number;
  /** Nothing is due and nothing can come: no event queued, no step pending, the reactor not dispatching, no poll deadline. */
  idle(): boolean;
  /** A reactor poll waits with no timeout (the only thing that can still end it is I/O, and none can come). */
  pollWaitsForever(): boolean;
  /** The simulated time, for the message. */
  nowMs(): number;
  /** The last lines of the trace, for the message. */
  traceTail(): string;
  /** Rejects the waiting poll with `error`. */
  failPoll(error: Error): void;
}

/** The watches whose poll waits with no timeout: checked when the process would exit. */
const watchingExit = new Set<StallWatch>();
const onBeforeExit = (): void => {
  for (const watch of watchingExit) watch.processWouldExit();
};

/**
 * A stalled simulation is an error, never a hang. While a test waits (on a
 * peer, or `sim.waitUntil`), the watch looks, every `timeoutMs` of real
 * time, whether anything happened meanwhile (`activity()` moved); if nothing
 * did and nothing can (`idle()`), the waits reject with `ERR_SIM_STALLED`,
 * naming who waits for what, the simulated time and the tail of the trace.
 * Its timer is unref'd: it never keeps a process alive by itself.
 *
 * A poll with no timeout is judged differently, because the program's own
 * code may still act on the simulation (a test stepping turns, a real timer
 * of its own): it is stalled only when nothing else in the process can
 * happen either, which is when Node is about to exit (`beforeExit`). It
 * then rejects, so a plain script whose simulation has nothing left to do
 * fails with the message instead of exiting silently. (Under a test runner,
 * whose own handles keep the process alive, await a peer or `waitUntil`.)
 */
export class StallWatch {
  readonly #watched: Watched;
  readonly #timeoutMs: number;
  readonly #waiting = new Set<Waiting>();
  #timer: NodeJS.Timeout | undefined;
  #disposed = false;
  /** Once disposed: what a wait started afterwards rejects with at once. */
  #closedError: Error | undefined;

  constructor(watched: Watched, timeoutMs: number) {
    this.#watched = watched;
    this.#timeoutMs = timeoutMs;
  }

  /** `waiting` waits for something: watch until it waits no more. */
  waiting(waiting: Waiting): void {
    if (this.#closedError !== undefined) {
      waiting.failWaits(this.#closedError); // the simulation has ended: nothing can come
      return;
    }
    this.#waiting.add(waiting);
    this.#watchExit();
    this.#arm();
  }

  /** Does anything wait on the simulation (a peer's wait, `waitUntil`)? */
  watching(): boolean {
    this.#prune();
    return this.#waiting.size > 0;
  }

  /** A poll waits with no timeout: watch for the moment nothing else can happen. */
  pollSleeps(): void {
    this.#watchExit();
  }

  #watchExit(): void {
    if (this.#disposed || this.#timeoutMs === Infinity || watchingExit.has(this)) return;
    if (watchingExit.size === 0) process.on('beforeExit', onBeforeExit);
    watchingExit.add(this);
  }

  /**
   * Node's loop is empty: on an idle simulation, nothing can end a wait
   * (a plain script would exit with it pending) or a poll with no timeout.
   */
  processWouldExit(): void {
    if (!this.#watched.idle()) return;
    this.#prune();
    if (this.#waiting.size > 0) {
      this.#failAll(this.#stalled([...this.#waitLines(), '(and nothing else in the process can happen)']));
      return;
    }
    if (!this.#watched.pollWaitsForever()) return;
    this.#watched.failPoll(this.#stalled(['a reactor poll waits with no timeout, and nothing else in the process can happen']));
  }

  /** The simulation ended: what still waits can never be satisfied, and rejects with `error`. */
  dispose(error: Error): void {
    if (watchingExit.delete(this) && watchingExit.size === 0) process.off('beforeExit', onBeforeExit);
    this.#disposed = true;
    this.#closedError = error;
    if (this.#timer !== undefined) realClearTimeout(this.#timer);
    this.#timer = undefined;
    this.#failAll(error);
  }

  #arm(): void {
    if (this.#disposed || this.#timer !== undefined || this.#timeoutMs === Infinity) return;
    const seen = this.#watched.activity();
    // Within setTimeout's range: a longer delay would fire at once.
    this.#timer = realSetTimeout(
      () => {
        this.#timer = undefined;
        this.#check(seen);
      },
      Math.min(this.#timeoutMs, 2 ** 31 - 1),
    );
    this.#timer.unref();
  }

  #check(seen: number): void {
    this.#prune();
    if (this.#disposed || this.#waiting.size === 0) return;
    if (this.#watched.activity() !== seen || !this.#watched.idle()) {
      this.#arm();
      return;
    }
    const reactor = this.#watched.pollWaitsForever() ? '(and a reactor poll waits with no timeout)' : '(and no reactor is polling)';
    this.#failAll(this.#stalled([...this.#waitLines(), reactor]));
  }

  /** Forgets the waiters that wait for nothing any more. */
  #prune(): void {
    for (const waiting of this.#waiting) if (waiting.waits().length === 0) this.#waiting.delete(waiting);
  }

  /** What every waiter waits for, one line each. */
  #waitLines(): string[] {
    return [...this.#waiting].flatMap((waiting) => waiting.waits());
  }

  /** Every waiter's waits reject with `error`; the watch forgets them. */
  #failAll(error: Error): void {
    const failed = [...this.#waiting];
    this.#waiting.clear();
    for (const waiting of failed) waiting.failWaits(error);
  }

  #stalled(waits: string[]): ReactorError {
    return new ReactorError(
      'ERR_SIM_STALLED',
      `the simulation stalled at ${this.#watched.nowMs()} ms of simulated time: nothing is due and nothing can happen, but\n` +
        `  ${waits.join('\n  ')}\nLast events:\n  ${this.#watched.traceTail()}`,
    );
  }
}
