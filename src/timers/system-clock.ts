import type { Clock } from './clock';

/**
 * The host's monotonic clock: `performance.now()`, milliseconds since the
 * process started, with sub-millisecond precision. Unaffected by changes to
 * the wall clock, as `CLOCK_MONOTONIC` is.
 *
 * `performance` is read from the global object on each call (not captured at
 * load time), so test tools that replace it, such as Jest's fake timers, are
 * seen.
 *
 * @example
 * ```ts
 * import { SystemClock, TimerWheel } from 'tsreactor';
 *
 * const wheel = new TimerWheel({ clock: new SystemClock() }); // the default
 * console.log(wheel.clock.now() > 0); // true
 * ```
 */
export class SystemClock implements Clock {
  /** One shared instance; the clock has no state, so one is enough. */
  static readonly instance: SystemClock = new SystemClock();

  now(): number {
    return performance.now();
  }
}
