import type { Backend, BackendSink, HandleInfo, LingeringHandle } from '../../src';
import { emptyInfo } from '../../src/reactor/backends/handle-info';

/**
 * A backend with no I/O at all: a test sets each fd's readiness by hand and
 * announces arrivals with `arrive`. For unit tests of the reactor's own logic
 * (ready list, triggers, generations) without network timing.
 */
export class StubBackend implements Backend {
  readonly name = 'stub';
  readonly readinessOf = new Map<number, number>();
  #sink: BackendSink | undefined;
  #sleep: NodeJS.Timeout | undefined;

  attach(sink: BackendSink): void {
    this.#sink = sink;
  }

  /** Sets `fd`'s readiness to `bits` and reports them as new arrivals. */
  arrive(fd: number, bits: number): void {
    this.readinessOf.set(fd, (this.readinessOf.get(fd) ?? 0) | bits);
    this.#sink?.ready(fd, bits);
  }

  openListener(): Promise<void> {
    return Promise.resolve();
  }
  openConnection(fd: number): void {
    this.readinessOf.set(fd, 0);
  }
  timeOutConnect(): boolean {
    return false;
  }
  pendingConnections(): number {
    return 0;
  }
  accept(): void {}
  read(): Buffer | null {
    return null;
  }
  write(): number {
    return 0;
  }
  shutdown(): void {}
  close(fd: number): void {
    this.readinessOf.delete(fd);
  }
  abort(fd: number): void {
    this.readinessOf.delete(fd);
  }
  lingering(): LingeringHandle[] {
    return [];
  }
  setInterest(): void {}
  configure(): void {}
  readiness(fd: number): number {
    return this.readinessOf.get(fd) ?? 0;
  }
  info(): HandleInfo {
    return emptyInfo('stream');
  }
  sleep(deadlineMs: number, onDeadline: () => void): void {
    this.cancelSleep();
    if (deadlineMs !== Infinity) this.#sleep = setTimeout(onDeadline, 1);
  }
  cancelSleep(): void {
    if (this.#sleep !== undefined) clearTimeout(this.#sleep);
    this.#sleep = undefined;
  }
  dispose(): Promise<void> {
    this.cancelSleep();
    return Promise.resolve();
  }
}
