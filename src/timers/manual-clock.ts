import type { Clock } from './clock';

/**
 * A clock that moves only when told to: the time source for deterministic
 * tests and for the simulated network.
 *
 * It never goes backwards: `advance` takes a non-negative step and `set`
 * refuses a time before the current one. Both throw a `RangeError` naming
 * the argument on bad input and leave the time unchanged.
 *
 * @example
 * ```ts
 * import { ManualClock, TimerWheel } from 'tsreactor';
 *
 * const clock = new ManualClock();
 * const wheel = new TimerWheel({ clock });
 * wheel.schedule(100, () => console.log('fired at', clock.now()));
 * clock.advance(99);
 * wheel.advance(); // nothing: 1 ms early
 * clock.advance(1);
 * wheel.advance(); // prints "fired at 100"
 * ```
 */
export class ManualClock implements Clock {
  #nowMs: number;

  /** @param startMs the initial time, a finite number (default 0). */
  constructor(startMs = 0) {
    if (typeof startMs !== 'number' || !Number.isFinite(startMs)) {
      throw new RangeError(`'startMs' must be a finite number, got ${String(startMs)}`);
    }
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
  }

  /** Moves the clock forward by `ms` (finite, >= 0) and returns the new time. */
  advance(ms: number): number {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`'ms' must be a finite number >= 0, got ${String(ms)}`);
    }
    this.#nowMs += ms;
    return this.#nowMs;
  }

  /**
   * Sets the clock to `ms`, which must be finite and not before the current
   * time (the clock is monotonic). Returns the new time.
   */
  set(ms: number): number {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) {
      throw new RangeError(`'ms' must be a finite number, got ${String(ms)}`);
    }
    if (ms < this.#nowMs) {
      throw new RangeError(`'ms' must not be before the current time ${this.#nowMs} (the clock never goes backwards), got ${ms}`);
    }
    this.#nowMs = ms;
    return this.#nowMs;
  }
}
