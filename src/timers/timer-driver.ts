import { DeadlineTimer } from './deadline-timer';
import { OncePerBurst } from './once-per-burst';
import type { TimerWheel } from './timer-wheel';

/** Options of {@link TimerDriver}. */
export interface TimerDriverOptions {
  /**
   * Start unref'd: the driver's Node timer does not keep the process alive
   * (as `timeout.unref()`). Default `false`.
   */
  unref?: boolean;
}

/**
 * Runs a {@link TimerWheel} on its own, for programs without a reactor (a
 * reactor drives its wheel from `poll`; do not attach both to one wheel).
 *
 * It keeps at most one Node timer, armed for the wheel's next expiration and
 * nothing else: no periodic tick, and nothing at all while the wheel is empty.
 * Scheduling an earlier timer re-arms it (once per synchronous burst of
 * scheduling, through the wheel's waker). A Node timer that fires a little
 * before the wheel's clock reaches the deadline (libuv's loop time is coarse)
 * is armed again for the remainder, so timers are never early. When `advance` stops at its budget after a stall, the driver
 * continues with `setImmediate`, letting I/O run between batches.
 *
 * An exception thrown by a timer callback propagates to the host (an uncaught
 * exception, as with `setTimeout`); the driver re-arms first.
 *
 * @example
 * ```ts
 * import { TimerDriver, TimerWheel } from 'tsreactor';
 *
 * const wheel = new TimerWheel();
 * const driver = new TimerDriver(wheel);
 * wheel.schedule(50, () => {
 *   console.log('fired after 50 ms');
 *   driver.close(); // nothing left armed: the process can exit
 * });
 * ```
 */
export class TimerDriver {
  readonly #wheel: TimerWheel;
  readonly #timer: DeadlineTimer;
  #immediate: NodeJS.Immediate | undefined;
  #refed: boolean;
  #closed = false;
  readonly #rearm = new OncePerBurst(() => this.#arm());

  constructor(wheel: TimerWheel, options: TimerDriverOptions = {}) {
    this.#wheel = wheel;
    this.#timer = new DeadlineTimer(wheel.clock);
    this.#refed = options.unref !== true;
    if (!this.#refed) this.#timer.unref();
    this.#arm();
  }

  /** `true` until `close()`. */
  get running(): boolean {
    return !this.#closed;
  }

  /** Lets the process exit while only this driver's timer is pending. */
  unref(): this {
    this.#refed = false;
    this.#timer.unref();
    this.#immediate?.unref();
    return this;
  }

  /** Undoes `unref()`: a pending expiration keeps the process alive. */
  ref(): this {
    this.#refed = true;
    this.#timer.ref();
    this.#immediate?.ref();
    return this;
  }

  /**
   * Stops driving the wheel and releases the Node timer. Idempotent; the
   * wheel keeps its timers. Called from a timer callback, it lets the rest of
   * the batch that `advance` is firing finish, then arms nothing more.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#disarm();
    this.#wheel.setWaker(-Infinity);
  }

  readonly #run = (): void => {
    this.#immediate = undefined;
    try {
      this.#wheel.advance();
    } finally {
      this.#arm();
    }
  };

  readonly #onEarlier = (): void => {
    if (!this.#closed) this.#rearm.request();
  };

  #arm(): void {
    if (this.#closed) return;
    const next = this.#wheel.nextExpiration();
    if (next === undefined) {
      this.#disarm();
      this.#wheel.setWaker(Infinity, this.#onEarlier);
      return;
    }
    if (next <= this.#wheel.clock.now()) {
      // Due now (a stall, or advance stopped at its budget): go on after the I/O of this turn.
      if (this.#immediate === undefined) {
        this.#disarm();
        this.#immediate = setImmediate(this.#run);
        if (!this.#refed) this.#immediate.unref();
      }
    } else {
      if (this.#immediate !== undefined) clearImmediate(this.#immediate);
      this.#immediate = undefined;
      this.#timer.arm(next, this.#run); // the same deadline again leaves the Node timer as it is
    }
    this.#wheel.setWaker(next, this.#onEarlier);
  }

  #disarm(): void {
    this.#timer.cancel();
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
  }
}
