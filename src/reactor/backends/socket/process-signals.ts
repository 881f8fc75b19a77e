import { ReactorError } from '../../reactor-error';
import { Readiness } from '../../readiness';
import { PendingSignals, type SignalArrival } from '../pending-signals';

interface Watch {
  readonly pending: PendingSignals;
  readonly listener: (signal: NodeJS.Signals) => void;
}

/**
 * The signal descriptors of a backend on real sockets: each one listens
 * for its signals on `process` (libuv's signal handles underneath, which
 * turn a signal into an event of the loop, as signalfd turns one into a
 * readable descriptor). As with signalfd, whose signals are blocked, a
 * watched signal no longer has its default action (SIGINT and SIGTERM do
 * not end the process) while the descriptor is open; closing it removes
 * the listener, and the default comes back once no listener is left.
 * Internal to the backends.
 */
export class ProcessSignals {
  readonly #watches = new Map<number, Watch>();
  readonly #notify: (fd: number, edges: number) => void;

  constructor(notify: (fd: number, edges: number) => void) {
    this.#notify = notify;
  }

  has(fd: number): boolean {
    return this.#watches.has(fd);
  }

  open(fd: number, signals: readonly NodeJS.Signals[]): void {
    const pending = new PendingSignals(signals);
    const listener = (signal: NodeJS.Signals) => {
      if (pending.add(signal)) this.#notify(fd, Readiness.READABLE);
    };
    this.#watches.set(fd, { pending, listener });
    for (const signal of signals) process.on(signal, listener);
  }

  read(fd: number): SignalArrival[] | null {
    const watch = this.#watches.get(fd);
    if (watch === undefined) throw new ReactorError('EBADF', `fd ${fd} has no signal watch in this backend`, { fd });
    return watch.pending.take();
  }

  readiness(fd: number): number {
    return this.#watches.get(fd)?.pending.pending === true ? Readiness.READABLE : 0;
  }

  close(fd: number): void {
    const watch = this.#watches.get(fd);
    if (watch === undefined) return;
    this.#watches.delete(fd);
    for (const signal of watch.pending.signals) process.off(signal, watch.listener);
    watch.pending.clear();
  }

  dispose(): void {
    for (const fd of [...this.#watches.keys()]) this.close(fd);
  }
}
