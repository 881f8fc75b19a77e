import type { Clock } from '../../timers';
import type { SignalArrival } from './pending-signals';

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
  /** In a `node:cluster` worker, `false`: share the primary's socket (Node's `exclusive`); elsewhere no effect. */
  exclusive: boolean;
  /**
   * A Unix domain stream socket at this file system path instead of TCP
   * (`host`, `port`, `ipv6Only` and `reusePort` are then ignored). The
   * backend makes the socket file, and removes it when the listener closes.
   * A file already at the path fails with `EADDRINUSE` (see {@link socketPathInUse}).
   */
  path?: string;
  /** With `path`: a socket file there that nothing listens on (left by a server that died) is removed and the bind tried again. */
  removeStale?: boolean;
}

/** Options for an outgoing connection. */
export interface ConnectOptions {
  host: string;
  port: number;
  /** A Unix domain stream socket's path instead of TCP (`host` and `port` are then ignored). */
  path?: string;
}

/** Options for a datagram (UDP) socket: socket(AF_INET or AF_INET6, SOCK_DGRAM) and bind. */
export interface DatagramOptions {
  /** The address to bind, an IP address of the socket's family (`'0.0.0.0'`, `'::'`: every address). */
  host: string;
  /** 0 lets the system choose; `info(fd).localPort` tells which. */
  port: number;
  type: 'udp4' | 'udp6';
  /** For `'udp6'` on `'::'`: IPv6 only (no IPv4-mapped senders). */
  ipv6Only: boolean;
  /** SO_REUSEADDR: several sockets may bind the same address and port. */
  reuseAddr: boolean;
  /** The receive queue's bound in datagrams: one past it (or past `receiveQueueBytes`) is dropped and counted. */
  receiveQueueDatagrams: number;
  /** The receive queue's bound in bytes (of payload). */
  receiveQueueBytes: number;
  /** Bytes handed over for sending and not yet sent past which `send` would block (returns 0, `writable` off). */
  sendQueueBytes: number;
}

/** One datagram received, with where it came from (`recvfrom(2)`'s buffer and address). */
export interface Datagram {
  data: Buffer;
  /** The sender's IP address. */
  address: string;
  /** The sender's port. */
  port: number;
}

/** What a descriptor is: a listening socket, a connected stream (TCP or Unix), a datagram (UDP) socket, or a signal watch. */
export type DescriptorKind = 'listener' | 'stream' | 'datagram' | 'signal';

/** What a backend knows of one handle, for `reactor.info`. */
export interface HandleInfo {
  kind: DescriptorKind;
  localAddress: string | undefined;
  localPort: number | undefined;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** `'unix'` for a Unix domain socket (its addresses and ports are then undefined, and `path` says where). */
  family: 'IPv4' | 'IPv6' | 'unix' | undefined;
  /** A Unix domain socket's path: the listener's, for it, its accepted streams and the streams connected to it. */
  path: string | undefined;
  bytesRead: number;
  bytesWritten: number;
  /** Bytes received and held for `read`, not read yet (the backend's inbox: memory this process holds). */
  readBuffered: number;
  /** Bytes `write` accepted that the backend still holds, not yet handed to the kernel (memory this process holds). */
  writeBuffered: number;
  /** The operating system's descriptor, where the backend knows it. */
  osFd: number | undefined;
  /**
   * A listener's connections lost before `accept` could take them, as far
   * as this process can see (0 for a stream): past the backlog, refused by
   * `maxConnections`, or lost to `EMFILE`/`ENFILE` where libuv reports it.
   * Not counted, because nothing in the process hears of them: the
   * connections libuv itself accepts and closes at once with its reserve
   * descriptor when the process is out of descriptors (its "EMFILE trick";
   * those clients see a connection closed or reset at once).
   */
  droppedConnections: number;
  /**
   * A datagram socket's datagrams lost in this process (0 for the other
   * kinds): received while its queue was full, or accepted by `sendTo` and
   * then failed by the system. What the kernel itself drops before the
   * process reads (past `SO_RCVBUF`) no process sees per socket: `nstat`
   * counts it as `UdpRcvbufErrors`.
   */
  droppedDatagrams: number;
}

/** What the reactor tells its backend once, at `attach`. */
export interface BackendSettings {
  /**
   * How long a descriptor closed gracefully (`close(fd)`) may go on sending
   * what it still holds before it is aborted (RST): the bound on close(2)'s
   * background send. `Infinity`: no bound.
   */
  lingerMs: number;
}

/**
 * A stream closed gracefully that is still sending what it held (contract
 * rule 28): it no longer has a descriptor, but it holds memory and a socket
 * until its writes are done or `lingerMs` has passed. A close with nothing
 * left to send does not linger.
 */
export interface LingeringHandle {
  /** The descriptor it had (the number may already serve another socket). */
  fd: number;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** Bytes still waiting to be handed to the kernel. */
  queuedBytes: number;
  /** When it was closed, on the reactor's clock (ms). */
  closedAtMs: number;
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

  /**
   * The backend can never end the waiting poll (a simulation with nothing
   * left to happen: see `SimulatedBackend`, "Stalls"): that poll rejects
   * with `error`. Ignored when no poll waits.
   */
  fail(error: Error): void;
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
  attach(sink: BackendSink, clock: Clock, settings: BackendSettings): void;

  /** Opens a listening socket as `fd`; rejects with a `ReactorError` carrying the system code. */
  openListener(fd: number, options: ListenOptions): Promise<void>;
  /**
   * Starts connecting `fd`; returns at once. Success is reported as
   * `WRITABLE`, failure as `ERROR` (with `read`/`write` then throwing the code).
   */
  openConnection(fd: number, options: ConnectOptions): void;
  /**
   * Gives up a connect of `fd` that is still in progress (the reactor's
   * connect timeout): its socket is closed and the stream fails with
   * `ETIMEDOUT` (syscall `connect`), reported as `ERROR` like any failed
   * connect. `false`, and nothing done, if it is no longer connecting
   * (connected, or failed already).
   */
  timeOutConnect(fd: number): boolean;
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
   * Releases `fd` now, as close(2) does (contract rules 26 and 28): no more
   * sink calls for it. With received data still unread, the connection is
   * reset (the peer sees RST). Otherwise what was written is still sent,
   * then FIN, for at most `lingerMs`; then it is aborted. Data that arrives
   * meanwhile resets the connection and is not read on. An fd the backend
   * does not hold (never opened, or closed already) is ignored. The reactor
   * never closes a listener while its `openListener` is still pending: it
   * waits for that to settle first.
   */
  close(fd: number): void;
  /**
   * Releases `fd` now with a reset, as close(2) after `SO_LINGER` {on, 0}
   * (contract rule 27): the peer sees RST, what was queued is dropped, and
   * the backend holds nothing more of it. A listener is simply closed.
   */
  abort(fd: number): void;
  /** The streams closed gracefully that still linger (see {@link LingeringHandle}), oldest first. */
  lingering(): LingeringHandle[];

  /** Socket options (TCP_NODELAY, SO_KEEPALIVE); a backend without sockets may ignore them. */
  configure(fd: number, options: { noDelay?: boolean; keepAlive?: boolean; keepAliveInitialDelayMs?: number }): void;

  /**
   * Which directions the reactor wants reported. A backend may use it to
   * arm a kernel interest, but must still notice errors and end of stream
   * whatever the interest (contract rule 21: as epoll always reports
   * `EPOLLERR` and `EPOLLHUP`); the backends here go on reading up to their
   * inbox limit either way, so they ignore it.
   */
  setInterest(fd: number, interest: number): void;
  /** The current {@link Readiness} bits of `fd`. */
  readiness(fd: number): number;
  info(fd: number): HandleInfo;

  /**
   * A poll is waiting: call `onDeadline` once the clock reaches `deadlineMs`
   * (absolute, on the reactor's clock; never before; `Infinity`: no deadline,
   * the poll waits for readiness alone), unless `cancelSleep` comes first. At
   * most one sleep is pending; a new one replaces it. A real backend arms a
   * Node timer; a simulated one moves its clock forward.
   */
  sleep(deadlineMs: number, onDeadline: () => void): void;
  cancelSleep(): void;

  /** Closes every handle; resolves once all are released, so the process holds nothing of the backend's. */
  dispose(): Promise<void>;

  /**
   * Opens a datagram socket as `fd` and binds it; rejects with a
   * `ReactorError` carrying the system code. Optional: a backend without it
   * refuses `reactor.bind` with `ERR_BACKEND_UNAVAILABLE`. Its readiness:
   * `READABLE` while datagrams wait, `WRITABLE` while `send` would take one,
   * `ERROR` once the socket failed; `close` and `abort` release it.
   */
  openDatagram?(fd: number, options: DatagramOptions): Promise<void>;
  /** The oldest datagram waiting on `fd`, or `null` (EAGAIN). */
  receive?(fd: number, maxBytes: number): Datagram | null;
  /**
   * Sends `data` as one datagram to `address`:`port` (an IP address of the
   * socket's family: the reactor has checked it): `data.length`, or 0 if
   * it would block (the send queue is full). The backend may hold `data`
   * until it is sent.
   */
  send?(fd: number, data: Uint8Array, address: string, port: number): number;

  /**
   * Opens a signal descriptor as `fd` (signalfd): `READABLE` while any of
   * `signals` (checked, distinct) has arrived and not been read. Optional:
   * a backend without it refuses `reactor.signal` with
   * `ERR_BACKEND_UNAVAILABLE`. `close` releases it (and gives the signals
   * their default action back once nothing else listens).
   */
  openSignals?(fd: number, signals: readonly NodeJS.Signals[]): void;
  /** What arrived on `fd` since the last read, first arrival first, or `null` (EAGAIN). */
  readSignals?(fd: number): SignalArrival[] | null;
}
