import { constants } from 'node:os';
import { describe } from './options-object';

/**
 * Signals a signal descriptor refuses, and why:
 * - SIGKILL and SIGSTOP cannot be caught at all;
 * - SIGPIPE: Node ignores it (a write to a broken pipe fails with EPIPE
 *   instead), and once the last listener is gone libuv gives it its default
 *   action back, which ends the process at the next broken connection;
 * - SIGBUS, SIGFPE, SIGILL and SIGSEGV, raised by a fault, leave a process
 *   in which no JavaScript can safely run (Node's own warning).
 */
const REFUSED: Readonly<Partial<Record<string, string>>> = {
  SIGKILL: 'no process can catch it',
  SIGSTOP: 'no process can catch it',
  SIGPIPE: 'Node ignores it, and closing the watch would give it its default action (ending the process at a broken pipe)',
  SIGBUS: 'after a fault no JavaScript can safely run',
  SIGFPE: 'after a fault no JavaScript can safely run',
  SIGILL: 'after a fault no JavaScript can safely run',
  SIGSEGV: 'after a fault no JavaScript can safely run',
};

/** One name per signal number: the first `os.constants.signals` lists (SIGABRT for SIGIOT, SIGIO for SIGPOLL). */
const CANONICAL = new Map<number, NodeJS.Signals>();
for (const [name, number] of Object.entries(constants.signals)) {
  if (!CANONICAL.has(number)) CANONICAL.set(number, name as NodeJS.Signals);
}

/**
 * A signal's one name: an alias (SIGIOT, SIGPOLL) becomes the name its
 * number goes by, so a watch and an arrival meet whichever name each used.
 * A RangeError naming `what` for a name this platform does not know.
 */
export function canonicalSignal(signal: unknown, what = 'signal'): NodeJS.Signals {
  const number =
    typeof signal === 'string' && Object.hasOwn(constants.signals, signal) ? constants.signals[signal as NodeJS.Signals] : undefined;
  if (number === undefined) {
    throw new RangeError(`'${what}' must hold signal names this platform knows (such as 'SIGTERM'), got ${describe(signal)}`);
  }
  return CANONICAL.get(number) as NodeJS.Signals;
}

/**
 * Checks `reactor.signal`'s list: a non-empty array of signal names this
 * platform knows (`os.constants.signals`), none of those in `REFUSED`; a
 * RangeError naming `'signals'` otherwise. Returns each signal once, by its
 * canonical name, in the order given.
 */
export function checkSignals(signals: unknown): NodeJS.Signals[] {
  if (!Array.isArray(signals) || signals.length === 0) {
    throw new RangeError(`'signals' must be a non-empty array of signal names such as 'SIGTERM', got ${describe(signals)}`);
  }
  const watched = signals.map((signal) => canonicalSignal(signal, 'signals'));
  for (const signal of watched) {
    const why = REFUSED[signal];
    if (why !== undefined) throw new RangeError(`'signals' cannot hold ${signal}: ${why}`);
  }
  return [...new Set(watched)];
}
