import type { SignalArrival } from '../reactor';

/**
 * One `loop.handleSignals` call: its signal descriptor, the token of its
 * registration, and what each arrival does. Internal to the EventLoop.
 */
export class SignalWatch {
  readonly fd: number;
  /** Called once per arrival, in order (a signal that came twice is two calls). */
  readonly onSignal: (signal: NodeJS.Signals) => void;
  /** `remove()` was called (its descriptor is closed, unless the reactor had closed it already). */
  removed = false;

  constructor(fd: number, onSignal: (signal: NodeJS.Signals) => void) {
    this.fd = fd;
    this.onSignal = onSignal;
  }

  /** Hands each arrival of `arrivals` to `onSignal`. */
  deliver(arrivals: readonly SignalArrival[]): void {
    for (const { signal, count } of arrivals) {
      for (let i = 0; i < count && !this.removed; i++) this.onSignal(signal);
    }
  }
}
