/**
 * A source of monotonic time in milliseconds.
 *
 * Everything in tsreactor that needs the time takes a `Clock` (`{ clock }` in
 * its options) instead of reading a global, so tests can drive time by hand
 * with {@link ManualClock} and never sleep.
 *
 * Contract: `now()` never decreases. Its origin is arbitrary (only
 * differences matter) and it may have a fractional part.
 *
 * @example
 * ```ts
 * import { type Clock, SystemClock } from 'tsreactor';
 *
 * function elapsedSince(clock: Clock, startMs: number): number {
 *   return clock.now() - startMs;
 * }
 * const clock: Clock = new SystemClock();
 * const start = clock.now();
 * console.log(elapsedSince(clock, start) >= 0); // true
 * ```
 */
export interface Clock {
  /** The current time in milliseconds; never less than a previous answer. */
  now(): number;
}
