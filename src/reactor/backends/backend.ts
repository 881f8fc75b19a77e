import type { Clock } from '../../timers';

/** Options for a listening socket. */
export interface ListenOptions {
  /** The address to bind, given explicitly: `'::'` is dual stack unless `ipv6Only`. */
  host: string;
  /** 0 lets the system choose; `info(fd).localPort` tells which. */
  port: number;
  /** Connections waiting to be accepted beyond which new ones are dropped. */
  backlog: number;
  /** For `'::'`: accept IPv6 only (no IPv4-mapped addresses). */
  ipv6Only: boolean;
  /** SO_REUSEPORT, where the platform and Node support it. */
  reusePort: boolean;
}

/** Options for an outgoing connection. */
export interface ConnectOptions {
  host: string;
  port: number;
}

/** What a backend knows of one handle, for `reactor.info`. */
export interface HandleInfo {
  kind: 'listener' | 'stream';
  localAddress: string | undefined;
  localPort: number | undefined;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  family: 'IPv4' | 'IPv6' | undefined;
  bytesRead: number;
  bytesWritten: number;
  /** The operating system's descriptor, where the backend knows it. */
  osFd: number | undefined;
}

/**
 * Where a backend reports news. The reactor implements it.
 */
export interface BackendSink {
  /**
   * Something new happened on `fd`: the {@link Readiness} bits in `edges`
   * rose (data or a connection arrived, room to write came back, the peer
   * closed, an error occurred). Called synchronously from the backend's I/O
   * callbacks; never for a handle after `close(fd)` returned.
   *
   * Returns `true` if this will end a waiting poll (the reactor will dispatch
   * and then either resolve it, calling `cancelSleep`, or wait again, calling
   * `sleep`). A backend that moves time itself holds it still meanwhile.
   */
  ready(fd: number, edges: number): boolean;
}

/**
 * The contract between the reactor and an I/O backend: one interface,
 * proved by one suite (`test/contract`) that runs against every backend.
 *
 * The reactor owns descriptor numbers and registrations; a backend owns the
 * handles behind them, keyed by the reactor's fd, and knows nothing of
 * interest lists or triggers. It reports readiness in two ways: `readiness(fd)`
 * is the current level state (asked whenever the reactor gathers events), and
 * `sink.ready(fd, edges)` announces each new arrival (what edge-triggered
 * registrations wait for, and what wakes a waiting poll).
 *
 * Errors: operations throw `ReactorError` with the system code (`ECONNRESET`,
 * `EPIPE`, ...). The reactor has checked that `fd` is open and of the right
 * kind before it calls.
 */
export interface Backend {
  /** A short name for reports: `'libuv'`, `'simulated'`. */
  readonly name: string;
  /** The clock the backend's time runs on, if it has its own (the simulator's); the reactor then uses it. */
  readonly clock?: Clock;

  /** Called once, by the reactor that owns this backend, before anything else. */
  attach(sink: BackendSink, clock: Clock): void;

  /** Opens a listening socket as `fd`; rejects with a `ReactorError` carrying the system code. */
  openListener(fd: number, options: ListenOptions): Promise<void>;
  /**
   * Starts connecting `fd`; returns at once. Success is reported as
   * `WRITABLE`, failure as `ERROR` (with `read`/`write` then throwing the code).
   */
  openConnection(fd: number, options: ConnectOptions): void;
  /** How many connections wait on listener `listenFd`. */
  pendingConnections(listenFd: number): number;
  /**
   * Hands the oldest waiting connection of `listenFd` over as `fd`. Only
   * called when one is waiting. May throw (`EMFILE`): the connection then
   * stays waiting.
   */
  accept(listenFd: number, fd: number): void;

  /**
   * Up to `maxBytes` bytes: `null` if none are buffered (EAGAIN), a
   * zero-length buffer at end of stream. Throws a pending error once the
   * data before it has been read.
   */
  read(fd: number, maxBytes: number): Buffer | null;
  /** Accepts up to `data.length` bytes and returns how many: 0 means it would block. */
  write(fd: number, data: Uint8Array): number;
  /** Half-closes the sending side after what was written (FIN). */
  shutdown(fd: number): void;
  /**
   * Releases `fd` now: no more sink calls for it. Data already written is
   * still sent, as close(2) does. An fd the backend does not hold (never
   * opened, or closed already) is ignored. The reactor never closes a
   * listener while its `openListener` is still pending: it waits for that to
   * settle first.
   */
  close(fd: number): void;

  /** Socket options (TCP_NODELAY, SO_KEEPALIVE); a backend without sockets may ignore them. */
  configure(fd: number, options: { noDelay?: boolean; keepAlive?: boolean; keepAliveInitialDelayMs?: number }): void;

  /** Which directions the reactor wants reported; a backend may stop reading while READABLE is off. */
  setInterest(fd: number, interest: number): void;
  /** The current {@link Readiness} bits of `fd`. */
  readiness(fd: number): number;
  info(fd: number): HandleInfo;

  /**
   * A poll is waiting: call `onDeadline` once the clock reaches `deadlineMs`
   * (absolute, on the reactor's clock; never before; `Infinity`: no deadline,
   * the poll waits for readiness alone), unless `cancelSleep` comes first. At
   * most one sleep is pending; a new one replaces it. A real backend arms a
   * host timer; a simulated one moves its clock forward.
   */
  sleep(deadlineMs: number, onDeadline: () => void): void;
  cancelSleep(): void;

  /** Closes every handle; resolves once all are released, so the process holds nothing of the backend's. */
  dispose(): Promise<void>;
}
