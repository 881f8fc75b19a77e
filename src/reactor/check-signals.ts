import { constants } from 'node:os';
import { describe } from './options-object';

/** Signals no process can catch: a signal descriptor cannot watch them. */
const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);

/**
 * Checks `reactor.signal`'s list: a non-empty array of signal names this
 * platform knows (`os.constants.signals`), none of them SIGKILL or SIGSTOP
 * (which cannot be caught); a RangeError naming `'signals'` otherwise.
 * Returns them without repeats, in the order given.
 */
export function checkSignals(signals: unknown): NodeJS.Signals[] {
  if (!Array.isArray(signals) || signals.length === 0) {
    throw new RangeError(`'signals' must be a non-empty array of signal names such as 'SIGTERM', got ${describe(signals)}`);
  }
  for (const signal of signals) {
    if (typeof signal !== 'string' || !Object.hasOwn(constants.signals, signal)) {
      throw new RangeError(`'signals' must hold signal names this platform knows (such as 'SIGTERM'), got ${describe(signal)}`);
    }
    if (UNCATCHABLE.has(signal)) throw new RangeError(`'signals' cannot hold ${signal}: no process can catch it`);
  }
  return [...new Set(signals as NodeJS.Signals[])];
}
