/**
 * What a registration waits for: a union of bit flags, never empty.
 *
 * @example
 * ```ts
 * import { Interest, Reactor } from 'tsreactor';
 *
 * declare const reactor: Reactor;
 * declare const fd: number;
 * reactor.register(fd, Interest.READABLE | Interest.WRITABLE);
 * ```
 */
export const Interest = {
  /** Data to read, a connection to accept, end of stream, or an error. */
  READABLE: 1,
  /** Room to write, a connection established, or an error. */
  WRITABLE: 2,
} as const;

/** An interest mask: `Interest.READABLE`, `Interest.WRITABLE`, or both. */
export type InterestMask = number;

/** Every bit an interest may hold. */
export const INTEREST_MASK = Interest.READABLE | Interest.WRITABLE;

/** `true` for a non-empty union of known interest bits. */
export function isInterest(value: unknown): value is InterestMask {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && (value & ~INTEREST_MASK) === 0;
}
