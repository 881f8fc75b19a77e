import type { Events, Reactor } from '../../src';

/** An event as it was handed out, copied (Event objects are reused by the next poll). */
export interface Seen {
  fd: number;
  flags: number;
  token: unknown;
}

export const R = 1; // READABLE
export const W = 2; // WRITABLE
export const RC = 4; // READ_CLOSED
export const WC = 8; // WRITE_CLOSED
export const E = 16; // ERROR

/** One poll; the events it handed out, copied. */
export async function pollOnce<T>(reactor: Reactor<T>, events: Events<T>, timeoutMs: number | null = 0): Promise<Seen[]> {
  await reactor.poll(events, timeoutMs);
  return [...events].map((e) => ({ fd: e.fd, flags: e.flags, token: e.token }));
}

/** How long a test waits to be sure that nothing more is coming. */
export const QUIET_MS = 50;

/** Polls until an event matches; returns that event. Fails after `limitMs` of real time. */
export async function pollUntil<T>(
  reactor: Reactor<T>,
  events: Events<T>,
  match: (seen: Seen) => boolean,
  limitMs = 5_000,
): Promise<Seen> {
  const giveUpAt = performance.now() + limitMs;
  while (performance.now() < giveUpAt) {
    const found = (await pollOnce(reactor, events, 20)).find(match);
    if (found !== undefined) return found;
  }
  throw new Error(`no matching event within ${limitMs} ms`);
}

/**
 * The events for `fd` over QUIET_MS of polling: what a test expects to be
 * empty when nothing new should be reported.
 */
export async function quietEventsFor<T>(reactor: Reactor<T>, events: Events<T>, fd: number): Promise<Seen[]> {
  const seen: Seen[] = [];
  const until = performance.now() + QUIET_MS;
  for (let left = QUIET_MS; left > 0; left = until - performance.now()) {
    seen.push(...(await pollOnce(reactor, events, left)).filter((e) => e.fd === fd));
  }
  return seen;
}
