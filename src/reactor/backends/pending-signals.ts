/** One signal that arrived since the last read, and how many times (`reactor.readSignals`). */
export interface SignalArrival {
  signal: NodeJS.Signals;
  count: number;
}

/**
 * The signals a signal descriptor watches, and those that arrived and wait
 * to be read: per signal a count (Linux collapses a standard signal that
 * arrives again while pending; counting here says how often it came), in
 * the order each first arrived. Shared by every backend.
 * Internal to the backends.
 */
export class PendingSignals {
  readonly signals: readonly NodeJS.Signals[];
  readonly #counts = new Map<NodeJS.Signals, number>();

  constructor(signals: readonly NodeJS.Signals[]) {
    this.signals = signals;
  }

  get pending(): boolean {
    return this.#counts.size > 0;
  }

  /** `signal` arrived: counted, and `true`, if watched (each arrival is an edge, as each is on signalfd); else `false`. */
  add(signal: NodeJS.Signals): boolean {
    if (!this.signals.includes(signal)) return false;
    const count = this.#counts.get(signal) ?? 0;
    this.#counts.set(signal, count + 1);
    return true;
  }

  /** What arrived since the last take, first arrival first; `null` if nothing did (EAGAIN). */
  take(): SignalArrival[] | null {
    if (this.#counts.size === 0) return null;
    const arrivals = Array.from(this.#counts, ([signal, count]) => ({ signal, count }));
    this.#counts.clear();
    return arrivals;
  }

  clear(): void {
    this.#counts.clear();
  }
}
