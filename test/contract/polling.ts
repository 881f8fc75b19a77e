import { type Events, type Reactor, ReactorError } from '../../src';

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

/**
 * Polls until an event matches; returns that event. Fails after `limitMs` on
 * the reactor's clock (real time on real sockets, simulated time otherwise).
 */
export async function pollUntil<T>(reactor: Reactor<T>, events: Events<T>, match: (seen: Seen) => boolean, limitMs = 5_000): Promise<Seen> {
  const giveUpAt = reactor.clock.now() + limitMs;
  while (reactor.clock.now() < giveUpAt) {
    const found = (await pollOnce(reactor, events, 20)).find(match);
    if (found !== undefined) return found;
  }
  throw new Error(`no matching event within ${limitMs} ms`);
}

/**
 * The events for `fd` over QUIET_MS of polling (on the reactor's clock), or
 * 100 polls if other descriptors keep it busy (in simulated time, handling
 * events takes no time, so a level-triggered fd that stays ready stops the
 * clock): what a test expects to be empty when nothing new should come.
 */
export async function quietEventsFor<T>(reactor: Reactor<T>, events: Events<T>, fd: number): Promise<Seen[]> {
  const seen: Seen[] = [];
  const until = reactor.clock.now() + QUIET_MS;
  for (let left = QUIET_MS, polls = 0; left > 0 && polls < 100; left = until - reactor.clock.now(), polls++) {
    seen.push(...(await pollOnce(reactor, events, left)).filter((e) => e.fd === fd));
  }
  return seen;
}

/** Reads everything buffered on `fd` now (until null or end of stream), as text. */
export function drainText<T>(reactor: Reactor<T>, fd: number): string {
  let text = '';
  for (let chunk = reactor.read(fd); chunk !== null && chunk.length > 0; chunk = reactor.read(fd)) text += chunk.toString();
  return text;
}

/** Polls until `fd` has had `bytes` readable in total, reading them; the text read. */
export async function readTextExactly<T>(reactor: Reactor<T>, events: Events<T>, fd: number, bytes: number): Promise<string> {
  let text = '';
  while (text.length < bytes) {
    await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & R) !== 0);
    text += drainText(reactor, fd);
  }
  return text;
}

/** The code of the `ReactorError` that `fn` throws (any other error fails the test), or undefined if it throws none. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ReactorError);
    return (err as ReactorError).code;
  }
  return undefined;
}
