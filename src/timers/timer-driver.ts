import type { TimerWheel } from './timer-wheel';

/** Options of {@link TimerDriver}. */
export interface TimerDriverOptions {
  /**
   * Start unref'd: the driver's host timer does not keep the process alive
   * (as `timeout.unref()`). Default `false`.
   */
  unref?: boolean;
}

/** setTimeout's longest delay; a longer one would fire after 1 ms. */
const MAX_HOST_DELAY_MS = 2 ** 31 - 1;

/**
 * Runs a {@link TimerWheel} on its own, for programs without a reactor (a
 * reactor drives its wheel from `poll`; do not attach both to one wheel).
 *
 * It keeps at most one host timer, armed for the wheel's next expiration and
 * nothing else: no periodic tick, and nothing at all while the wheel is empty.
 * Scheduling an earlier timer re-arms it (once per synchronous burst of
 * scheduling, through the wheel's waker). The host timer may fire a little
 * before the wheel's clock reaches the deadline (libuv's loop time is coarse);
 * the driver then fires nothing and re-arms for the remainder, so timers are
 * never early. When `advance` stops at its budget after a stall, the driver
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
  #timeout: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  /** The deadline the host timer is armed for (Infinity: none). */
  #armedFor = Infinity;
  #refed: boolean;
  #closed = false;
  #rearmQueued = false;

  constructor(wheel: TimerWheel, options: TimerDriverOptions = {}) {
    this.#wheel = wheel;
    this.#refed = options.unref !== true;
    this.#arm();
  }

  /** `true` until `close()`. */
  get running(): boolean {
    return !this.#closed;
  }

  /** Lets the process exit while only this driver's timer is pending. */
  unref(): this {
    this.#refed = false;
    this.#timeout?.unref();
    this.#immediate?.unref();
    return this;
  }

  /** Undoes `unref()`: a pending expiration keeps the process alive. */
  ref(): this {
    this.#refed = true;
    this.#timeout?.ref();
    this.#immediate?.ref();
    return this;
  }

  /**
   * Stops driving the wheel and releases the host timer. Idempotent; the
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
    this.#timeout = undefined;
    this.#immediate = undefined;
    this.#armedFor = Infinity;
    try {
      this.#wheel.advance();
    } finally {
      this.#arm();
    }
  };

  readonly #rearm = (): void => {
    this.#rearmQueued = false;
    this.#arm();
  };

  readonly #onEarlier = (): void => {
    if (this.#rearmQueued || this.#closed) return;
    this.#rearmQueued = true;
    queueMicrotask(this.#rearm);
  };

  #arm(): void {
    if (this.#closed) return;
    const next = this.#wheel.nextExpiration();
    if (next === undefined) {
      this.#disarm();
      this.#wheel.setWaker(Infinity, this.#onEarlier);
      return;
    }
    const delayMs = next - this.#wheel.clock.now();
    if (delayMs <= 0) {
      if (this.#immediate === undefined) {
        this.#disarm();
        this.#immediate = setImmediate(this.#run);
        if (!this.#refed) this.#immediate.unref();
      }
    } else if (next !== this.#armedFor) {
      this.#disarm();
      this.#timeout = setTimeout(this.#run, Math.min(Math.ceil(delayMs), MAX_HOST_DELAY_MS));
      if (!this.#refed) this.#timeout.unref();
      this.#armedFor = next;
    }
    this.#wheel.setWaker(next, this.#onEarlier);
  }

  #disarm(): void {
    if (this.#timeout !== undefined) clearTimeout(this.#timeout);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#timeout = undefined;
    this.#immediate = undefined;
    this.#armedFor = Infinity;
  }
}
