import type { Clock } from '../../../timers';
import { DeadlineTimer } from '../../../timers/deadline-timer';
import { ReactorError } from '../../reactor-error';
import { Readiness } from '../../readiness';
import type { BackendSettings, BackendSink, Datagram, DatagramOptions, HandleInfo } from '../backend';
import { signalInfo } from '../handle-info';
import type { SignalArrival } from '../pending-signals';
import { DatagramSockets } from './datagram-sockets';
import { ProcessSignals } from './process-signals';
import type { LingerList } from './linger-list';
import { type SocketBackendSettings } from './socket-backend-options';
import { inboxTake } from './stream-inbox';
import { type StreamFields, streamReadiness } from './stream-readiness';

const EMPTY = Buffer.alloc(0);

/** What the core needs of a real backend's handle: the stream's state, a listener's queue, and the reading switch. */
export interface CoreHandle extends StreamFields {
  readonly fd: number;
  readonly kind: 'listener' | 'stream';
  /** The reactor closed the descriptor (the native handle may still linger). */
  closed: boolean;
  /** The native side is reading into the inbox (see `updateFlow`). */
  reading: boolean;
  /** Listener: connections accepted natively, waiting for `accept`. */
  pending: readonly unknown[];
  /** Listener: connections lost before `accept` (past the backlog, EMFILE). */
  dropped: number;
}

/**
 * The machinery both backends on real sockets share, whatever their native
 * handles (`net.Socket`s for {@link LibuvBackend}, libuv's TCP handles for
 * {@link RawHandleBackend}): the descriptor table and its lookup (EBADF),
 * the sink and `notify`, the poll's sleep on a Node timer, `read` from the
 * inbox (resuming the native reading once there is room), readiness, the
 * listener's pending and dropped counts, and `dispose`, which closes every
 * descriptor, cuts what lingers and waits until every native handle has
 * been released. A subclass holds only what is specific to its handles:
 * opening, accepting, writing, closing, and `updateFlow`, the switch of its
 * native reading.
 *
 * `H` is the subclass's handle type, `N` the native objects it releases
 * (tracked from `releasing` until `released`), `L` what its linger list holds.
 * Internal to the backends.
 */
export abstract class SocketBackendCore<H extends CoreHandle, N extends object, L> {
  abstract readonly name: string;
  protected readonly handles: (H | undefined)[] = [];
  protected readonly inboxLimit: number;
  protected readonly highWaterMark: number;
  protected readonly noDelay: boolean;
  /** News for the reactor of a descriptor that has no entry in `handles` (a datagram socket, a signal watch). */
  readonly #ready = (fd: number, edges: number): void => {
    (this.#sink as BackendSink).ready(fd, edges);
  };
  /** The datagram (UDP) sockets, on `node:dgram` for both backends; their fds have no entry in `handles`. */
  protected readonly datagrams = new DatagramSockets(this.#ready);
  /** The signal descriptors, on `process` signal listeners; no entry in `handles` either. */
  protected readonly signals = new ProcessSignals(this.#ready);
  /** Streams closed gracefully that still send what they held; cut at their deadline (the subclass makes it). */
  protected abstract readonly lingeringStreams: LingerList<L>;
  #sink: BackendSink | undefined;
  readonly #sleep = new DeadlineTimer();
  /** Native handles whose descriptor is gone, not yet released: `dispose` waits for them. */
  readonly #releasing = new Set<N>();
  #whenAllReleased: (() => void) | undefined;

  constructor(settings: SocketBackendSettings) {
    this.inboxLimit = settings.inboxLimit;
    this.highWaterMark = settings.highWaterMark;
    this.noDelay = settings.noDelay;
  }

  attach(sink: BackendSink, clock: Clock, settings: BackendSettings): void {
    if (this.#sink !== undefined) throw new Error(`a ${this.constructor.name} serves one reactor`);
    this.#sink = sink;
    this.#sleep.clock = clock;
    this.lingeringStreams.configure(clock, settings.lingerMs);
  }

  /** @internal New readiness on `handle`, for the reactor (nothing once its descriptor is closed). */
  notify(handle: H, edges: number): void {
    if (!handle.closed) (this.#sink as BackendSink).ready(handle.fd, edges);
  }

  /** @internal Starts or stops the native reading as the inbox's fill and the stream's state say. */
  abstract updateFlow(handle: H): void;

  /** Has the stream room to write now (the backend's own test of its write queue)? */
  protected abstract hasRoom(handle: H): boolean;

  /** Closes a descriptor (the Backend contract's `close`). */
  abstract close(fd: number): void;

  /** Cuts a stream that still lingered when the backend was disposed of. */
  protected abstract cutLingering(item: L): void;

  read(fd: number, maxBytes: number): Buffer | null {
    const handle = this.handle(fd);
    const chunk = inboxTake(handle, maxBytes);
    if (chunk !== undefined) {
      if (!handle.reading) this.updateFlow(handle); // room again: read on
      return chunk;
    }
    if (handle.error !== undefined) throw handle.error;
    return handle.ended ? EMPTY : null;
  }

  readiness(fd: number): number {
    const handle = this.handles[fd];
    if (handle === undefined) return this.datagrams.readiness(fd) | this.signals.readiness(fd);
    if (handle.kind === 'listener') {
      return (handle.pending.length > 0 ? Readiness.READABLE : 0) | (handle.error !== undefined ? Readiness.ERROR : 0);
    }
    return streamReadiness(handle, this.hasRoom(handle));
  }

  openDatagram(fd: number, options: DatagramOptions): Promise<void> {
    return this.datagrams.open(fd, options);
  }

  receive(fd: number, maxBytes: number): Datagram | null {
    return this.datagrams.receive(fd, maxBytes);
  }

  send(fd: number, data: Uint8Array, address: string, port: number): number {
    return this.datagrams.send(fd, data, address, port);
  }

  openSignals(fd: number, signals: readonly NodeJS.Signals[]): void {
    this.signals.open(fd, signals);
  }

  readSignals(fd: number): SignalArrival[] | null {
    return this.signals.read(fd);
  }

  /** Closes a descriptor that has no entry in `handles`: a datagram socket or a signal watch (any other fd: nothing). */
  protected closeUnhandled(fd: number): void {
    this.datagrams.close(fd);
    this.signals.close(fd);
  }

  /** `info` of a datagram socket or signal watch; undefined for an fd in `handles`. */
  protected unhandledInfo(fd: number): HandleInfo | undefined {
    if (this.datagrams.has(fd)) return this.datagrams.info(fd);
    return this.signals.has(fd) ? signalInfo() : undefined;
  }

  setInterest(): void {
    // Reading goes on up to the inbox limit whatever the interest: errors and end of stream are seen either way.
  }

  pendingConnections(listenFd: number): number {
    return this.handle(listenFd).pending.length;
  }

  /** Connections a listener dropped (past the backlog, or lost to EMFILE/ENFILE, or to `maxConnections`). */
  droppedConnections(listenFd: number): number {
    return this.handle(listenFd).dropped;
  }

  sleep(deadlineMs: number, onDeadline: () => void): void {
    this.#sleep.arm(deadlineMs, onDeadline);
  }

  cancelSleep(): void {
    this.#sleep.cancel();
  }

  async dispose(): Promise<void> {
    this.cancelSleep();
    for (let fd = 0; fd < this.handles.length; fd++) {
      if (this.handles[fd] !== undefined) this.close(fd);
    }
    for (const item of this.lingeringStreams.drain()) this.cutLingering(item); // whatever still lingers is cut now
    this.signals.dispose();
    await this.datagrams.dispose();
    if (this.#releasing.size === 0) return;
    await new Promise<void>((resolve) => {
      this.#whenAllReleased = resolve;
    });
  }

  /** The handle of `fd`, or EBADF. */
  protected handle(fd: number): H {
    const handle = this.handles[fd];
    if (handle === undefined) throw new ReactorError('EBADF', `fd ${fd} has no handle in this backend`, { fd });
    return handle;
  }

  /** `native` is being closed: `dispose` waits until `released(native)`. */
  protected releasing(native: N): void {
    this.#releasing.add(native);
  }

  protected released(native: N): void {
    this.#releasing.delete(native);
    if (this.#releasing.size === 0) this.#whenAllReleased?.();
  }
}
