import type { Backend, BackendSettings, BackendSink, ConnectOptions, HandleInfo, LingeringHandle, ListenOptions } from '../../src';
import type { Clock } from '../../src';

/** Wraps a backend and fails on demand, for the rule that failures leave no half-made registration. */
export class FaultyBackend implements Backend {
  readonly name: string;
  readonly clock: Clock | undefined;
  /** The next setInterest call throws (once). */
  failNextSetInterest = false;
  /** The next dispose call rejects (once), having disposed of nothing. */
  failNextDispose = false;
  readonly #inner: Backend;

  constructor(inner: Backend) {
    this.#inner = inner;
    this.name = `faulty ${inner.name}`;
    this.clock = inner.clock;
  }

  setInterest(fd: number, interest: number): void {
    if (this.failNextSetInterest) {
      this.failNextSetInterest = false;
      throw new Error('injected setInterest failure');
    }
    this.#inner.setInterest(fd, interest);
  }

  attach(sink: BackendSink, clock: Clock, settings: BackendSettings): void {
    this.#inner.attach(sink, clock, settings);
  }
  openListener(fd: number, options: ListenOptions): Promise<void> {
    return this.#inner.openListener(fd, options);
  }
  openConnection(fd: number, options: ConnectOptions): void {
    this.#inner.openConnection(fd, options);
  }
  timeOutConnect(fd: number): boolean {
    return this.#inner.timeOutConnect(fd);
  }
  pendingConnections(listenFd: number): number {
    return this.#inner.pendingConnections(listenFd);
  }
  accept(listenFd: number, fd: number): void {
    this.#inner.accept(listenFd, fd);
  }
  read(fd: number, maxBytes: number): Buffer | null {
    return this.#inner.read(fd, maxBytes);
  }
  write(fd: number, data: Uint8Array): number {
    return this.#inner.write(fd, data);
  }
  shutdown(fd: number): void {
    this.#inner.shutdown(fd);
  }
  close(fd: number): void {
    this.#inner.close(fd);
  }
  abort(fd: number): void {
    this.#inner.abort(fd);
  }
  lingering(): LingeringHandle[] {
    return this.#inner.lingering();
  }
  configure(fd: number, options: { noDelay?: boolean; keepAlive?: boolean }): void {
    this.#inner.configure(fd, options);
  }
  readiness(fd: number): number {
    return this.#inner.readiness(fd);
  }
  info(fd: number): HandleInfo {
    return this.#inner.info(fd);
  }
  sleep(deadlineMs: number, onDeadline: () => void): void {
    this.#inner.sleep(deadlineMs, onDeadline);
  }
  cancelSleep(): void {
    this.#inner.cancelSleep();
  }
  dispose(): Promise<void> {
    if (this.failNextDispose) {
      this.failNextDispose = false;
      return Promise.reject(new Error('injected dispose failure'));
    }
    return this.#inner.dispose();
  }
}
