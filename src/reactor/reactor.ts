import { Channels } from '../diagnostics';
import { type Clock, SystemClock, type TimerHandle, TimerWheel } from '../timers';
import { OncePerBurst } from '../timers/once-per-burst';
import type { Backend, BackendSink, Datagram, DescriptorKind, HandleInfo, LingeringHandle } from './backends/backend';
import type { SignalArrival } from './backends/pending-signals';
import { bindOptions, checkDestination, type DatagramBinding, type ReactorBindOptions } from './bind-options';
import { checkSignals } from './check-signals';
import { LibuvBackend } from './backends/libuv-backend';
import { DescriptorTable } from './descriptor-table';
import { addEvent, Events, resetEvents, setWoken } from './events';
import { Interest, isInterest, type InterestMask } from './interest';
import { checkPort, describe, optionsObject, requiredOptions } from './options-object';
import { ReactorError, type ReactorErrorDetails } from './reactor-error';
import { ReadyList } from './ready-list';
import { Registration } from './registration';
import { type Trigger, TriggerFlags, triggerFlags } from './trigger';
import { Readiness } from './readiness';
import { checkNoTcpOptions, checkSocketPath } from './socket-path';

/** Options of {@link Reactor}. */
export interface ReactorOptions {
  /** The I/O backend. Default: a new {@link LibuvBackend} (real sockets through `node:net`). */
  backend?: Backend;
  /** The time source. Default: the backend's own clock if it has one, else {@link SystemClock}. */
  clock?: Clock;
  /** The timer wheel that `poll` drives. Default: a new wheel on the reactor's clock. */
  timers?: TimerWheel;
  /** How many descriptors may be open at once (`EMFILE` past it). Default 1,048,576. */
  maxDescriptors?: number;
  /**
   * How long a descriptor closed with `close(fd)` may go on sending what it
   * still holds (then FIN) before it is aborted with a reset: the bound on
   * close(2)'s background send, so a peer that never reads cannot pin a
   * closed socket and its memory. `Infinity`: no bound, as close(2).
   * Default 30,000 ms (as nginx's `lingering_time`).
   */
  lingerMs?: number;
  /**
   * How long `connect` waits for the handshake before it gives up with
   * `ETIMEDOUT` (an `error` event, as a connect(2) whose SYNs went
   * unanswered), unless a `connect` call says otherwise (`timeoutMs`).
   * Default `Infinity`: as long as the kernel retries (minutes on Linux),
   * as a plain non-blocking connect(2) and mio do.
   */
  connectTimeoutMs?: number;
}

/** Options of {@link Reactor.listen}. */
export interface ReactorListenOptions {
  /** The address to bind. Default `'::'`: every address, IPv6 and IPv4 (dual stack unless `ipv6Only`). */
  host?: string;
  /** The port, 0 to 65535; 0 lets the system choose (`info(fd).localPort` tells which). */
  port: number;
  /** How many connections may wait to be accepted; more are dropped. Default 511. */
  backlog?: number;
  /** For an IPv6 host: refuse IPv4 clients. Default `false`. */
  ipv6Only?: boolean;
  /** SO_REUSEPORT, where the running Node supports it (a `ReactorError` `ENOTSUP` where it does not). */
  reusePort?: boolean;
  /**
   * Node's `exclusive`, for a `node:cluster` worker: `false` shares the
   * primary's listening socket with the other workers (the primary hands
   * out connections, round-robin), `true` (default) binds one of this
   * process's own. Outside a cluster worker it changes nothing. Only
   * LibuvBackend can share (the primary's socket reaches a worker through
   * `node:net`); RawHandleBackend refuses `false` in a worker with `ENOTSUP`.
   */
  exclusive?: boolean;
}

/**
 * Options of {@link Reactor.listen} for a Unix domain stream socket
 * (`socket(AF_UNIX, SOCK_STREAM)`, bind, listen): the same stream contract
 * as TCP, at a file system path.
 */
export interface ReactorUnixListenOptions {
  /**
   * The socket file to make, at most 107 bytes (Linux's `sun_path`); a
   * leading NUL byte names a socket in Linux's abstract namespace, with no
   * file. The file is removed when the listener closes.
   */
  path: string;
  /** How many connections may wait to be accepted; more are dropped. Default 511. */
  backlog?: number;
  /**
   * A socket file already at `path` that nothing listens on (left by a
   * server that was killed or crashed) is removed and the bind tried
   * again. Default `false`: such a file fails the listen with `EADDRINUSE`,
   * whose message says it is stale. A file a server listens on, or one
   * that is not a socket, is never removed.
   */
  removeStale?: boolean;
  /** As {@link ReactorListenOptions.exclusive}. */
  exclusive?: boolean;
}

/** Options of {@link Reactor.connect} for a Unix domain stream socket. */
export interface ReactorUnixConnectOptions {
  /** The listener's socket path. A path with no socket file fails with `ENOENT`, a stale file with `ECONNREFUSED`. */
  path: string;
  /** This connect's timeout in ms (see {@link ReactorOptions.connectTimeoutMs}, its default). */
  timeoutMs?: number;
}

/** Options of {@link Reactor.connect}. */
export interface ReactorConnectOptions {
  /** The peer's address or host name. */
  host: string;
  /** The peer's port, 1 to 65535. */
  port: number;
  /** This connect's timeout in ms (see {@link ReactorOptions.connectTimeoutMs}, its default). */
  timeoutMs?: number;
}

/** Options of {@link Reactor.register} and {@link Reactor.modify}. */
export interface RegisterOptions<T> {
  /** Default `'level'`. */
  trigger?: Trigger;
  /** Handed back with each event of this registration. */
  token?: T;
}

/** What {@link Reactor.info} tells about a descriptor. */
export interface DescriptorInfo extends HandleInfo {
  fd: number;
  /** Changes each time the fd number is released and reused. */
  generation: number;
  /** When the descriptor was opened, on the reactor's clock (ms). */
  createdAtMs: number;
  /** The current registration, if any. */
  interest: InterestMask | undefined;
  trigger: Trigger | undefined;
}

/** The reactor's lifecycle. */
export type ReactorState = 'open' | 'closing' | 'closed';

/** Counters the reactor keeps as it goes (cheap: plain increments). */
export interface ReactorStats {
  /** Polls resolved. */
  polls: number;
  /** Events handed to polls (as gathered). */
  events: number;
  /** Timer callbacks fired inside polls. */
  timersFired: number;
}

/** Socket options for one connection, where the backend supports them. */
export interface SocketOptions {
  /** TCP_NODELAY: send small writes at once (no Nagle). */
  noDelay?: boolean;
  /** SO_KEEPALIVE, with the idle time before the first probe. */
  keepAlive?: boolean;
  keepAliveInitialDelayMs?: number;
}

interface Descriptor<T> {
  kind: DescriptorKind;
  /** 'opening' while `listen` waits for the bind: the fd is taken but not yet handed out. */
  state: 'opening' | 'open';
  generation: number;
  createdAtMs: number;
  registration: Registration<T> | undefined;
  /** A connect's timeout timer (0: none). */
  connectTimer: TimerHandle;
  /** A datagram socket's binding (what its `sendTo` destinations are checked against). */
  udp: DatagramBinding | undefined;
}

/** What a connect timeout needs to find its descriptor (and not its successor). */
interface ConnectDeadline {
  fd: number;
  generation: number;
}

interface PendingPoll<T> {
  events: Events<T>;
  timeoutMs: number | undefined;
  deadlineMs: number;
  resolve: (count: number) => void;
  reject: (err: unknown) => void;
}

/**
 * Internal, for {@link Waker}: a source of events with no descriptor. Its
 * events have fd -1 and its token; `notify` makes it ready (readable, edge
 * triggered, so notifications before a poll gathers it collapse into one
 * event), `close` ends it (events already gathered are dropped, as for an
 * unregistered fd).
 */
export interface WakeSource {
  notify(): void;
  close(): void;
}

/** Internal: opens a {@link WakeSource} on `reactor`; `onReactorClose` runs when the reactor closes first. */
export let openWakeSource: <T>(reactor: Reactor<T>, token: T, onReactorClose: () => void) => WakeSource;

const TRIGGER_NAMES: Record<number, Trigger> = { 0: 'level', 1: 'edge', 2: 'oneshot', 3: 'edge-oneshot' };
const DEFAULT_BACKLOG = 511;
const DEFAULT_LINGER_MS = 30_000;

/**
 * The reactor: an epoll instance over Node's libuv. Descriptors are small
 * integers; a registration says which readiness to report for one, and how
 * (level, edge, one-shot); `poll` waits for readiness and fills an
 * {@link Events} buffer with a batch of events. Due timers of
 * {@link Reactor.timers} fire inside `poll`.
 *
 * ```ts
 * import { Events, Interest, Reactor } from 'tsreactor';
 *
 * const reactor = new Reactor();
 * const listener = await reactor.listen({ host: '127.0.0.1', port: 0 });
 * reactor.register(listener, Interest.READABLE);
 * const events = new Events();
 * for (;;) {
 *   await reactor.poll(events);
 *   for (const event of events) {
 *     if (event.fd === listener) {
 *       for (let fd = reactor.accept(listener); fd !== null; fd = reactor.accept(listener)) {
 *         reactor.register(fd, Interest.READABLE, { trigger: 'edge' });
 *       }
 *     } else {
 *       // read until null (EAGAIN): see "Draining readiness (edge)"
 *     }
 *   }
 * }
 * ```
 *
 * ## Waiting
 * `poll(events, timeoutMs)` resolves when events are ready, when timers of
 * `reactor.timers` fired, when `wake()` was called, or when the timeout
 * passed (`0`: do not wait; `undefined` or `null`: no limit). It resolves at
 * most once per turn of Node's event loop, from a `setImmediate`, so that all
 * the I/O callbacks of one libuv iteration become one batch and a program
 * that always has something ready cannot starve Node's own I/O and timers.
 *
 * ## Spurious events
 * An event says a descriptor was ready when the batch was gathered, for the
 * interest it has when you read the event. By the time you act, the
 * condition may have passed (another read drained it; the peer reset). So
 * treat every event as a hint: `read` may return `null` (EAGAIN) and `write`
 * may accept 0 bytes after an event said otherwise. Handle those the same way
 * as you would without the event: wait for the next one.
 * ```ts
 * import { Reactor } from 'tsreactor';
 * declare const reactor: Reactor;
 * declare const fd: number;
 * const data = reactor.read(fd);
 * if (data === null) {
 *   // spurious: nothing after all; poll again
 * }
 * ```
 *
 * ## Draining readiness (edge)
 * An edge-triggered registration reports each new arrival once. If you stop
 * reading while data is left, no further event comes for it until more
 * arrives, which may be never. Read until `read` returns `null` (EAGAIN) or a
 * zero-length buffer (end of stream); write until `write` accepts less than
 * you offered, then wait for `writable`.
 * ```ts
 * import { Reactor } from 'tsreactor';
 * declare const reactor: Reactor;
 * declare const fd: number;
 * for (;;) {
 *   const chunk = reactor.read(fd);
 *   if (chunk === null) break;                            // drained: wait for the next edge
 *   if (chunk.length === 0) { reactor.close(fd); break; } // end of stream
 *   // ...use chunk
 * }
 * ```
 *
 * ## Re-arming one-shot
 * A `'oneshot'` or `'edge-oneshot'` registration delivers one event and is
 * then disarmed: it stays registered, reports nothing, and keeps its place.
 * `modify` re-arms it (and may change interest, trigger and token); if the
 * condition still holds then, it is reported on the next poll. This hands a
 * descriptor to exactly one handler at a time, as `EPOLLONESHOT` does.
 * ```ts
 * import { Interest, Reactor } from 'tsreactor';
 * declare const reactor: Reactor;
 * declare const fd: number;
 * reactor.register(fd, Interest.READABLE, { trigger: 'oneshot' });
 * // ...one event arrives; the handler reads what it wants, then:
 * reactor.modify(fd, Interest.READABLE, { trigger: 'oneshot' }); // armed again
 * ```
 *
 * ## Errors and hang-ups
 * A reset, or both directions closed, is reported to every registration
 * whatever its interest, as epoll always reports `EPOLLERR` and `EPOLLHUP`:
 * `error` and `writeClosed` (with `readable` too for a read interest, since
 * `read` then throws the code). It arrives without the program reading or
 * writing first: the backends go on reading into a bounded inbox whatever
 * the interest. Two cases are seen only later, on every backend alike: a
 * reset that reaches a socket whose inbox is full waits behind the data (the
 * kernel holds it there) until the program reads or writes, and a reset
 * after the peer's FIN has been read surfaces at the next write (`EPIPE`).
 * A reset is never reported as an end of stream.
 *
 * ## The same on every backend
 * Every rule here holds on every backend alike: the simulator, real sockets
 * through `node:net`, and libuv's handles. Each rule has its test in the
 * contract suite, run on each backend; and generated scenarios (the
 * differential suite) run on all of them must give the same events, bytes
 * and codes, so what passes on the simulated network holds on real sockets.
 *
 * ## Closing
 * `close(fd)` releases a descriptor at once: its registration ends, events
 * already gathered for it are dropped, and the number may be handed out again
 * (to a new socket that never sees the old one's events). What happens on
 * the wire is close(2)'s: with received data still unread, the connection is
 * reset (the peer sees RST); otherwise what was written is still sent, then
 * FIN, for at most `lingerMs` (a reactor option), after which it is reset.
 * While it lingers (only while it still holds bytes to send), `lingering()`
 * lists it with those bytes;
 * data that arrives for it meanwhile resets it at once. `abort(fd)` is
 * close(2) after `SO_LINGER` {on, 0}: a reset now, queued data dropped,
 * nothing left behind. `await reactor.close()` closes everything (and cuts
 * what still lingers) and resolves once every handle is released; from then
 * on every call throws `ERR_REACTOR_CLOSED`. A `listen` still binding (or
 * resolving its host) when the reactor closes rejects with
 * `ERR_REACTOR_CLOSED`, and `close()` waits for it to settle and closes what
 * it opened.
 * ```ts
 * import { Reactor } from 'tsreactor';
 * declare const reactor: Reactor;
 * declare const fd: number;
 * reactor.close(fd);  // graceful: the rest of what was written, then FIN (or RST if data was left unread)
 * // or, for a client that must not hold anything a moment longer:
 * // reactor.abort(fd);
 * for (const l of reactor.lingering()) console.log(`fd ${l.fd} still sending ${l.queuedBytes} bytes`);
 * ```
 */
export class Reactor<T = unknown> {
  /** The timers that `poll` fires. Schedule on it freely; a poll waits no longer than its next expiration. */
  readonly timers: TimerWheel;
  /** Running counts; read them, do not write them. */
  readonly stats: ReactorStats = { polls: 0, events: 0, timersFired: 0 };
  readonly #backend: Backend;
  readonly #clock: Clock;
  readonly #table: DescriptorTable<Descriptor<T>>;
  readonly #ready = new ReadyList<Registration<T>>();
  #state: ReactorState = 'open';
  #closing: Promise<void> | undefined;
  /** Listens in flight (the backend is binding), by fd: `close()` waits for them. */
  readonly #binding = new Map<number, Promise<void>>();

  readonly #connectTimeoutMs: number;
  #pending: PendingPoll<T> | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #woken = false;
  /** Open wakers' sources, each with what to tell its waker when the reactor closes. */
  readonly #wakeSources = new Map<Registration<T>, () => void>();

  static {
    openWakeSource = (reactor, token, onReactorClose) => reactor.#openWakeSource(token, onReactorClose);
  }

  constructor(options?: ReactorOptions) {
    options = optionsObject(options, 'options');
    const { lingerMs = DEFAULT_LINGER_MS, connectTimeoutMs = Infinity } = options;
    if (typeof lingerMs !== 'number' || !(lingerMs >= 0)) {
      throw new RangeError(`'lingerMs' must be a number of ms >= 0 (or Infinity), got ${describe(lingerMs)}`);
    }
    this.#connectTimeoutMs = checkConnectTimeout(connectTimeoutMs, 'connectTimeoutMs');
    const backend: Backend = options.backend ?? new LibuvBackend();
    this.#backend = backend;
    this.#clock = options.clock ?? options.timers?.clock ?? backend.clock ?? SystemClock.instance;
    this.timers = options.timers ?? new TimerWheel({ clock: this.#clock });
    this.#table = new DescriptorTable({ limit: options.maxDescriptors });
    const sink: BackendSink = {
      ready: (fd, edges) => this.#onReady(fd, edges),
      fail: (error) => {
        const pending = this.#pending;
        if (pending === undefined) return;
        this.#finish(pending);
        pending.reject(error);
      },
    };
    backend.attach(sink, this.#clock, { lingerMs });
  }

  /** `'open'`, then `'closing'` while `close()` runs, then `'closed'`. */
  get state(): ReactorState {
    return this.#state;
  }

  /** The backend's name (`'libuv'`, `'simulated'`, ...). */
  get backendName(): string {
    return this.#backend.name;
  }

  /** The reactor's clock: timers and `info().createdAtMs` use it. */
  get clock(): Clock {
    return this.#clock;
  }

  /** How many descriptors are open. */
  get size(): number {
    return this.#table.size;
  }

  /* ---- Descriptors ----------------------------------------------------- */

  /**
   * Opens a listening socket (socket, bind, listen) and returns its fd. It
   * reports `readable` while connections wait for `accept`.
   *
   * @throws RangeError naming a bad option; `ReactorError` with the system
   *   code (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`, ...) if binding fails.
   * @example
   * ```ts
   * import { Reactor } from 'tsreactor';
   * const reactor = new Reactor();
   * const fd = await reactor.listen({ host: '127.0.0.1', port: 0 });
   * console.log('listening on', reactor.info(fd).localPort);
   * ```
   */
  async listen(options: ReactorListenOptions | ReactorUnixListenOptions): Promise<number> {
    this.#checkOpen();
    const given = requiredOptions(options) as Partial<ReactorListenOptions & ReactorUnixListenOptions>;
    const unix = given.path !== undefined;
    const {
      host = unix ? '' : '::',
      port = unix ? 0 : undefined,
      backlog = DEFAULT_BACKLOG,
      ipv6Only = false,
      reusePort = false,
      exclusive = true,
      removeStale = false,
    } = given;
    if (unix) {
      checkSocketPath(given.path);
      checkNoTcpOptions(given, ['host', 'port', 'ipv6Only', 'reusePort']);
    } else {
      if (typeof host !== 'string' || host === '') throw new RangeError(`'host' must be a non-empty string`);
      checkPort(port, 0);
    }
    if (!Number.isInteger(backlog) || backlog < 1 || backlog > 65_535) {
      throw new RangeError(`'backlog' must be an integer from 1 to 65535, got ${describe(backlog)}`);
    }
    const settings = {
      host,
      port: port as number,
      backlog,
      ipv6Only: Boolean(ipv6Only),
      reusePort: Boolean(reusePort),
      exclusive: Boolean(exclusive),
      path: given.path,
      removeStale: Boolean(removeStale),
    };
    return this.#bound(
      'listener',
      (fd) => this.#backend.openListener(fd, settings),
      unix ? { syscall: 'listen', address: given.path } : { syscall: 'listen', address: host, port },
    );
  }

  /**
   * Opens a datagram (UDP) socket and binds it (socket, bind), and returns
   * its fd. It is `readable` while datagrams wait for `recvFrom`, and
   * `writable` while `sendTo` would take one; message boundaries are kept
   * (one `sendTo`, one datagram, one `recvFrom`). Level, edge and one-shot
   * triggering work as for streams: an edge registration hears once per
   * arriving datagram, so drain to `null` before waiting again.
   *
   * Its receive queue is bounded ({@link ReactorBindOptions.receiveQueueDatagrams},
   * `receiveQueueBytes`): what arrives while it is full is dropped and
   * counted in `info(fd).droppedDatagrams`, as a kernel drops datagrams
   * past `SO_RCVBUF`, so a flood costs a bounded amount of memory. UDP
   * itself loses, duplicates and reorders datagrams between hosts; the
   * simulator does too when asked (see `SimulatedWorld`'s link options).
   *
   * `read`, `write` and `shutdown` on it fail with `EINVAL`; `close` and
   * `abort` release it. A backend without datagram sockets refuses with
   * `ERR_BACKEND_UNAVAILABLE`.
   *
   * @throws RangeError naming a bad option; `ReactorError` with the system
   *   code (`EADDRINUSE`, `EADDRNOTAVAIL`, ...) if binding fails.
   * @example
   * ```ts
   * import { Events, Interest, Reactor } from 'tsreactor';
   * const reactor = new Reactor();
   * const fd = await reactor.bind({ host: '127.0.0.1', port: 0 });
   * reactor.register(fd, Interest.READABLE);
   * const events = new Events();
   * await reactor.poll(events);
   * for (let d = reactor.recvFrom(fd); d !== null; d = reactor.recvFrom(fd)) {
   *   reactor.sendTo(fd, d.data, d.address, d.port); // echo
   * }
   * ```
   */
  async bind(options: ReactorBindOptions): Promise<number> {
    this.#checkOpen();
    const settings = bindOptions(options);
    const backend = this.#backend;
    if (backend.openDatagram === undefined || backend.receive === undefined || backend.send === undefined) {
      throw new ReactorError('ERR_BACKEND_UNAVAILABLE', `the ${backend.name} backend has no datagram sockets`, { syscall: 'bind' });
    }
    const openDatagram = backend.openDatagram.bind(backend);
    const { type, host, ipv6Only } = settings;
    const where = { syscall: 'bind', address: host, port: settings.port };
    return this.#bound('datagram', (fd) => openDatagram(fd, settings), where, { type, host, ipv6Only });
  }

  /**
   * The oldest datagram waiting on `fd`, with its sender's address and
   * port, or `null` if none waits (EAGAIN), as recvfrom(2). With
   * `maxBytes`, a longer datagram is cut to it and the rest is lost, as
   * recvfrom(2) truncates (MSG_TRUNC).
   * @throws ReactorError `EBADF`, `EINVAL` (not a datagram socket), the socket's code after an error.
   */
  recvFrom(fd: number, maxBytes: number = Infinity): Datagram | null {
    this.#open(fd, 'datagram', 'recvfrom');
    checkMaxBytes(maxBytes);
    return (this.#backend.receive as NonNullable<Backend['receive']>)(fd, maxBytes);
  }

  /**
   * Sends `data` as one datagram to `address`:`port`, as sendto(2), and
   * returns `data.length`, or 0 if it would block (the send queue past
   * `sendQueueBytes`): wait for `writable`. A zero-length datagram is sent
   * like any other, so its 0 does not tell; check `writable` first if it
   * matters. Sent is not delivered: UDP does not say whether it arrived.
   * Like `write`, the backend may hold on to `data` until it is sent.
   * @throws RangeError for an address of the wrong family or a bad port;
   *   ReactorError `EMSGSIZE` for a payload past one datagram (65,507
   *   bytes on udp4, 65,527 on udp6), `EBADF`, `EINVAL`.
   */
  sendTo(fd: number, data: Uint8Array, address: string, port: number): number {
    const descriptor = this.#open(fd, 'datagram', 'sendto');
    if (!(data instanceof Uint8Array)) throw new TypeError(`'data' must be a Buffer or Uint8Array`);
    const destination = checkDestination(descriptor.udp as DatagramBinding, data, address, port, fd);
    return (this.#backend.send as NonNullable<Backend['send']>)(fd, data, destination, port);
  }

  /**
   * Opens a signal descriptor, as Linux's `signalfd`: it is `readable`
   * while any of `signals` has arrived and not been read, so a program
   * waits for SIGTERM among its sockets, in one `poll`, and handles it in
   * the same turn as everything else (not in a callback from anywhere).
   * `readSignals` says which arrived and how often.
   *
   * While it is open, its signals do not take their default action (a
   * SIGTERM no longer ends the process), as signalfd needs them blocked;
   * `close` gives the default back once nothing else listens. Several
   * descriptors may watch one signal: each hears every arrival. On real
   * sockets they are the process's signals (`process.on`); on the
   * simulator, `sim.raise(signal)` delivers one in simulated time.
   *
   * `read`, `write` and the datagram calls on it fail with `EINVAL`.
   * Aliases are one signal (SIGIOT is SIGABRT, SIGPOLL is SIGIO):
   * `readSignals` names each by the name its number goes by.
   * @throws RangeError naming `'signals'` (empty, unknown names, SIGKILL
   *   or SIGSTOP, which cannot be caught; SIGPIPE, which Node ignores and
   *   which would end the process at a broken pipe once the watch closed;
   *   SIGBUS, SIGFPE, SIGILL, SIGSEGV, after which no JavaScript can
   *   safely run); ReactorError `ERR_BACKEND_UNAVAILABLE` on a backend without signals.
   * @example
   * ```ts
   * import { Events, Interest, Reactor } from 'tsreactor';
   * const reactor = new Reactor();
   * const signals = reactor.signal(['SIGINT', 'SIGTERM']);
   * reactor.register(signals, Interest.READABLE);
   * const events = new Events();
   * await reactor.poll(events);
   * for (const { signal, count } of reactor.readSignals(signals) ?? []) console.log(`${signal} x${count}: shutting down`);
   * ```
   */
  signal(signals: readonly NodeJS.Signals[]): number {
    this.#checkOpen();
    const watched = checkSignals(signals);
    const backend = this.#backend;
    if (backend.openSignals === undefined || backend.readSignals === undefined) {
      throw new ReactorError('ERR_BACKEND_UNAVAILABLE', `the ${backend.name} backend has no signal descriptors`, { syscall: 'signalfd' });
    }
    const descriptor = this.#newDescriptor('signal', 'open');
    const fd = this.#table.allocate(descriptor);
    descriptor.generation = this.#table.generation(fd);
    backend.openSignals(fd, watched);
    return fd;
  }

  /**
   * The signals that arrived on signal descriptor `fd` since the last call,
   * each with how many times it came, in the order each first arrived; or
   * `null` if none did (EAGAIN). Reading clears them, so `readable` ends.
   * (A method of its own rather than `read`: a typed list, where signalfd
   * hands out `signalfd_siginfo` structs to decode.)
   * @throws ReactorError `EBADF`, `EINVAL` (not a signal descriptor).
   */
  readSignals(fd: number): SignalArrival[] | null {
    this.#open(fd, 'signal', 'read');
    return (this.#backend.readSignals as NonNullable<Backend['readSignals']>)(fd);
  }

  /** Allocates a descriptor of `kind` while `open` binds it; releases it again if that fails. */
  async #bound(
    kind: DescriptorKind,
    open: (fd: number) => Promise<void>,
    where: ReactorErrorDetails,
    udp?: DatagramBinding,
  ): Promise<number> {
    const descriptor = this.#newDescriptor(kind, 'opening');
    descriptor.udp = udp;
    const fd = this.#table.allocate(descriptor);
    descriptor.generation = this.#table.generation(fd);
    const binding = open(fd);
    this.#binding.set(fd, binding);
    try {
      await binding;
    } catch (err) {
      if (this.#table.get(fd) !== descriptor) throw closedError();
      this.#backend.close(fd);
      this.#table.release(fd);
      throw ReactorError.from(err, where);
    } finally {
      this.#binding.delete(fd);
    }
    if (this.#table.get(fd) !== descriptor) {
      // The reactor was closed while binding (only close() removes an 'opening' fd); close() closes it.
      throw closedError();
    }
    descriptor.state = 'open';
    return fd;
  }

  /**
   * Takes the next waiting connection from listener `listenFd` and returns
   * its fd, or `null` if none is waiting (EAGAIN).
   * @throws ReactorError `EBADF`, `EINVAL` (not a listener), `EMFILE`.
   */
  accept(listenFd: number): number | null {
    this.#open(listenFd, 'listener', 'accept');
    if (this.#backend.pendingConnections(listenFd) === 0) return null;
    const descriptor = this.#newDescriptor('stream', 'open');
    const fd = this.#table.allocate(descriptor);
    descriptor.generation = this.#table.generation(fd);
    try {
      this.#backend.accept(listenFd, fd);
    } catch (err) {
      this.#table.release(fd); // the connection stays waiting, as with accept(2)
      throw ReactorError.from(err, { syscall: 'accept', fd: listenFd });
    }
    return fd;
  }

  /**
   * Starts a connection and returns its fd at once, as a non-blocking
   * connect(2) does: it reports `writable` once connected, or `error` if the
   * connection fails (then `read` and `write` throw the code, such as
   * `ECONNREFUSED`). With a timeout (`timeoutMs`, or the reactor's
   * `connectTimeoutMs`), a handshake not done by then fails with
   * `ETIMEDOUT`; the timer runs on `reactor.timers`, so it fires inside a
   * poll, and on a simulated clock in simulated time.
   * @example
   * ```ts
   * import { Reactor } from 'tsreactor';
   * const reactor = new Reactor({ connectTimeoutMs: 3_000 });
   * const fd = reactor.connect({ host: '127.0.0.1', port: 8080, timeoutMs: 500 }); // this one: 500 ms
   * ```
   */
  connect(options: ReactorConnectOptions | ReactorUnixConnectOptions): number {
    this.#checkOpen();
    const given = requiredOptions(options) as Partial<ReactorConnectOptions & ReactorUnixConnectOptions>;
    const { host = '', port = 0, path, timeoutMs = this.#connectTimeoutMs } = given;
    if (path !== undefined) {
      checkSocketPath(path);
      checkNoTcpOptions(given, ['host', 'port']);
    } else {
      if (typeof host !== 'string' || host === '') throw new RangeError(`'host' must be a non-empty string`);
      checkPort(port, 1);
    }
    checkConnectTimeout(timeoutMs, 'timeoutMs');
    const descriptor = this.#newDescriptor('stream', 'open');
    const fd = this.#table.allocate(descriptor);
    descriptor.generation = this.#table.generation(fd);
    try {
      this.#backend.openConnection(fd, { host, port, path });
    } catch (err) {
      this.#table.release(fd);
      throw ReactorError.from(
        err,
        path !== undefined ? { syscall: 'connect', address: path } : { syscall: 'connect', address: host, port },
      );
    }
    if (timeoutMs !== Infinity) {
      const deadline: ConnectDeadline = { fd, generation: descriptor.generation };
      descriptor.connectTimer = this.timers.schedule(timeoutMs, this.#onConnectTimeout, deadline);
    }
    return fd;
  }

  /**
   * Reads what has arrived: up to `maxBytes` (default: the next chunk as
   * received, whatever its size, without copying). Returns `null` when nothing
   * is buffered (EAGAIN) and a zero-length buffer at end of stream, as read(2)
   * returns 0. Data that arrived before an error is returned first.
   * @throws ReactorError with the socket's code (`ECONNRESET`, ...), or `EBADF`, `EINVAL`.
   */
  read(fd: number, maxBytes: number = Infinity): Buffer | null {
    this.#open(fd, 'stream', 'read');
    checkMaxBytes(maxBytes);
    return this.#backend.read(fd, maxBytes);
  }

  /**
   * Offers `data` for sending and returns how many bytes were accepted, from
   * 0 (the send buffer is full: EAGAIN) to `data.length`. Keep the rest and
   * wait for `writable`. Like Node's `socket.write`, the reactor may hold on
   * to `data` until it is sent: do not modify it afterwards.
   * @throws ReactorError `EPIPE` after `shutdown`, the socket's code after an error, `EBADF`, `EINVAL`.
   */
  write(fd: number, data: Uint8Array): number {
    this.#open(fd, 'stream', 'write');
    if (!(data instanceof Uint8Array)) throw new TypeError(`'data' must be a Buffer or Uint8Array`);
    if (data.length === 0) return 0;
    return this.#backend.write(fd, data);
  }

  /**
   * Half-closes our side: what was written is sent, then FIN. Reading stays
   * possible; writing then throws `EPIPE`. Idempotent.
   */
  shutdown(fd: number): void {
    this.#open(fd, 'stream', 'shutdown');
    this.#backend.shutdown(fd);
  }

  /**
   * Releases descriptor `fd` as close(2) does (see "Closing"): a reset if
   * received data is left unread, else the rest of what was written, then
   * FIN, within `lingerMs`. @throws ReactorError `EBADF` if it is not open.
   */
  close(fd: number): void;
  /**
   * Closes every descriptor and the reactor; idempotent; resolves when all
   * is released. If the backend could not be disposed of (it rejects), a
   * second call tries again. Only with no argument at all: `close(undefined)` is a bad
   * descriptor (`EBADF`), not a request to close everything.
   */
  close(): Promise<void>;
  close(...args: [fd?: number]): void | Promise<void> {
    if (args.length === 0) return this.#closeReactor();
    const fd = args[0] as number;
    const descriptor = this.#open(fd, undefined, 'close');
    this.#release(fd, descriptor);
  }

  /**
   * Releases descriptor `fd` with a reset, as close(2) after `SO_LINGER`
   * {on, 0} (see "Closing"): the peer sees RST (`ECONNRESET`), what was
   * queued is dropped, and nothing of it lingers. For a listener, the same
   * as `close`. @throws ReactorError `EBADF` if it is not open.
   * @example
   * ```ts
   * import { Reactor } from 'tsreactor';
   * declare const reactor: Reactor;
   * declare const fd: number;
   * reactor.abort(fd); // an idle client that stopped reading: let it go, and its buffers with it
   * ```
   */
  abort(fd: number): void {
    const descriptor = this.#open(fd, undefined, 'abort');
    this.#release(fd, descriptor, true);
  }

  /**
   * The streams closed with `close(fd)` that still send what they held,
   * oldest first, with the bytes each still holds: they have no descriptor
   * any more, but hold memory and a socket until done or `lingerMs` passes.
   */
  lingering(): LingeringHandle[] {
    this.#checkOpen();
    return this.#backend.lingering();
  }

  /** `Symbol.asyncDispose`: `await using reactor = new Reactor()` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#closeReactor();
  }

  /**
   * Sets socket options on a connection (TCP_NODELAY, SO_KEEPALIVE). A
   * backend without sockets (the simulator) accepts and ignores them.
   * @throws ReactorError `EBADF`, `EINVAL` (a listener).
   */
  setSocketOptions(fd: number, options: SocketOptions): void {
    this.#open(fd, 'stream', 'setsockopt');
    options = requiredOptions(options);
    const { keepAliveInitialDelayMs } = options;
    if (keepAliveInitialDelayMs !== undefined && !(Number.isInteger(keepAliveInitialDelayMs) && keepAliveInitialDelayMs >= 0)) {
      throw new RangeError(`'keepAliveInitialDelayMs' must be a whole number >= 0, got ${describe(keepAliveInitialDelayMs)}`);
    }
    this.#backend.configure(fd, options);
  }

  /** What is known of `fd`: kind, addresses, byte counts, creation time, registration. */
  info(fd: number): DescriptorInfo {
    const descriptor = this.#open(fd, undefined, 'info');
    const registration = descriptor.registration;
    return {
      ...this.#backend.info(fd),
      fd,
      generation: descriptor.generation,
      createdAtMs: descriptor.createdAtMs,
      interest: registration?.interest,
      trigger: registration === undefined ? undefined : TRIGGER_NAMES[registration.trigger],
    };
  }

  /**
   * What `fd` is (a listener, a stream, a datagram socket or a signal descriptor), cheaply (`info` asks the socket
   * for its addresses). @throws ReactorError `EBADF` if it is not open.
   */
  kind(fd: number): DescriptorKind {
    return this.#open(fd, undefined, 'kind').kind;
  }

  /** The open descriptors, lowest first. */
  descriptors(): number[] {
    return [...this.#table.entries()].filter(([, d]) => d.state === 'open').map(([fd]) => fd);
  }

  /* ---- Registrations --------------------------------------------------- */

  /**
   * Adds `fd` to the interest list (epoll_ctl ADD). If it is ready already,
   * the next poll reports it.
   * @throws ReactorError `EEXIST` (already registered), `EBADF`, `EINVAL` (bad interest or trigger).
   */
  register(fd: number, interest: InterestMask, options?: RegisterOptions<T>): void {
    const descriptor = this.#open(fd, undefined, 'register');
    const trigger = checkRegistration(interest, options);
    if (descriptor.registration !== undefined) {
      throw new ReactorError('EEXIST', `fd ${fd} is already registered`, { fd, syscall: 'register' });
    }
    this.#backend.setInterest(fd, interest);
    const registration = new Registration<T>(fd, interest, trigger, options?.token as T);
    descriptor.registration = registration;
    this.#arm(registration);
  }

  /**
   * Replaces interest, trigger and token entirely (epoll_ctl MOD) and re-arms
   * a one-shot registration. Options left out take their defaults.
   * @throws ReactorError `ENOENT` (not registered), `EBADF`, `EINVAL`.
   */
  modify(fd: number, interest: InterestMask, options?: RegisterOptions<T>): void {
    const registration = this.#registered(fd, 'modify');
    const trigger = checkRegistration(interest, options);
    this.#backend.setInterest(fd, interest);
    registration.set(interest, trigger, options?.token as T);
    this.#arm(registration);
  }

  /**
   * Removes `fd` from the interest list (epoll_ctl DEL). Events already
   * gathered for it are dropped. @throws ReactorError `ENOENT`, `EBADF`.
   */
  unregister(fd: number): void {
    const registration = this.#registered(fd, 'unregister');
    registration.live = false;
    (this.#table.get(fd) as Descriptor<T>).registration = undefined;
    this.#backend.setInterest(fd, 0);
  }

  /* ---- Waiting --------------------------------------------------------- */

  /**
   * Waits for events and fills `events` with a batch; resolves with how many
   * were gathered. See "Waiting" above.
   *
   * @param timeoutMs `0`: do not wait; a positive number: wait at most that
   *   long; `undefined`/`null`: no limit.
   * @throws (rejects) ReactorError `ERR_POLL_REENTRANT` while another poll is
   *   pending, `ERR_REACTOR_CLOSED`; RangeError for a bad timeout; whatever a
   *   timer callback threw.
   */
  poll(events: Events<T>, timeoutMs?: number | null): Promise<number> {
    try {
      this.#checkOpen();
      if (this.#pending !== undefined) {
        throw new ReactorError('ERR_POLL_REENTRANT', 'poll() called while another poll() on this reactor is pending');
      }
      if (!(events instanceof Events)) throw new TypeError(`'events' must be an Events buffer`);
      if (timeoutMs !== undefined && timeoutMs !== null && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) {
        throw new RangeError(`'timeoutMs' must be a number >= 0, null or undefined, got ${describe(timeoutMs)}`);
      }
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const timeout = timeoutMs ?? undefined;
    return new Promise<number>((resolve, reject) => {
      this.#pending = {
        events,
        timeoutMs: timeout,
        deadlineMs: timeout === undefined ? Infinity : this.#clock.now() + timeout,
        resolve,
        reject,
      };
      const nextTimer = this.timers.nextExpiration();
      if (timeout === 0 || this.#woken || this.#ready.length > 0 || (nextTimer !== undefined && nextTimer <= this.#clock.now())) {
        this.#scheduleDispatch();
      } else {
        this.#sleep();
      }
    });
  }

  /**
   * Makes the pending poll resolve at once (on the next turn), or, if none is
   * pending, the next one. Several wakes before a poll resolves count as one.
   * The poll's `events.woken` is then `true`.
   */
  wake(): void {
    this.#checkOpen();
    this.#woken = true;
    if (this.#pending !== undefined) this.#scheduleDispatch();
  }

  /* ---- Internals ------------------------------------------------------- */

  #openWakeSource(token: T, onReactorClose: () => void): WakeSource {
    this.#checkOpen();
    const registration = new Registration<T>(-1, Interest.READABLE, TriggerFlags.EDGE, token);
    this.#wakeSources.set(registration, onReactorClose);
    return {
      notify: () => {
        if (!registration.live) return;
        registration.edges |= Readiness.READABLE;
        this.#enqueue(registration);
      },
      close: () => {
        registration.live = false;
        this.#wakeSources.delete(registration);
      },
    };
  }

  #newDescriptor(kind: DescriptorKind, state: 'opening' | 'open'): Descriptor<T> {
    return { kind, state, generation: 0, createdAtMs: this.#clock.now(), registration: undefined, connectTimer: 0, udp: undefined };
  }

  /** A connect's deadline passed: the backend gives it up if it is still connecting (and reports the error). */
  readonly #onConnectTimeout = (deadline: ConnectDeadline): void => {
    const descriptor = this.#table.get(deadline.fd);
    if (descriptor?.state !== 'open' || descriptor.generation !== deadline.generation) return;
    descriptor.connectTimer = 0;
    this.#backend.timeOutConnect(deadline.fd);
  };

  #checkOpen(): void {
    if (this.#state !== 'open') throw closedError();
  }

  /** The open descriptor `fd` (of `kind`, if given), or throws EBADF / EINVAL. */
  #open(fd: number, kind: DescriptorKind | undefined, syscall: string): Descriptor<T> {
    this.#checkOpen();
    const descriptor = typeof fd === 'number' ? this.#table.get(fd) : undefined;
    if (descriptor?.state !== 'open') {
      throw new ReactorError('EBADF', `fd ${describe(fd)} is not open`, { fd: typeof fd === 'number' ? fd : undefined, syscall });
    }
    if (kind !== undefined && descriptor.kind !== kind) {
      throw new ReactorError('EINVAL', `${syscall} needs a ${kind}; fd ${fd} is a ${descriptor.kind}`, { fd, syscall });
    }
    return descriptor;
  }

  #registered(fd: number, syscall: string): Registration<T> {
    const registration = this.#open(fd, undefined, syscall).registration;
    if (registration === undefined) {
      throw new ReactorError('ENOENT', `fd ${fd} is not registered`, { fd, syscall });
    }
    return registration;
  }

  #release(fd: number, descriptor: Descriptor<T>, abort = false): void {
    if (descriptor.connectTimer !== 0) this.timers.cancel(descriptor.connectTimer);
    if (descriptor.registration !== undefined) {
      descriptor.registration.live = false;
      descriptor.registration = undefined;
    }
    if (abort) this.#backend.abort(fd);
    else this.#backend.close(fd);
    this.#table.release(fd);
  }

  /** After register or modify: report the current state once, as epoll_ctl does. */
  #arm(registration: Registration<T>): void {
    const readiness = this.#backend.readiness(registration.fd);
    registration.edges = readiness;
    if ((readiness & registration.mask) !== 0) this.#enqueue(registration);
  }

  #enqueue(registration: Registration<T>): void {
    if (registration.queued) return;
    registration.queued = true;
    this.#ready.push(registration);
    if (this.#pending !== undefined) this.#scheduleDispatch();
  }

  /** The backend's news: bits rose on `fd`. Returns whether a dispatch for a waiting poll is now due. */
  #onReady(fd: number, edges: number): boolean {
    const registration = this.#table.get(fd)?.registration;
    if (registration !== undefined) {
      registration.edges |= edges;
      if (registration.armed && (edges & registration.mask) !== 0) this.#enqueue(registration);
    }
    return this.#pending !== undefined && this.#immediate !== undefined;
  }

  #scheduleDispatch(): void {
    this.#immediate ??= setImmediate(this.#dispatch);
  }

  /** Waits until the poll's deadline or the next timer, whichever is first. */
  #sleep(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    const wakeAt = Math.min(pending.deadlineMs, this.timers.nextExpiration() ?? Infinity);
    this.#backend.sleep(wakeAt, this.#onSleepEnd);
    this.timers.setWaker(wakeAt, this.#onEarlierTimer);
  }

  readonly #onSleepEnd = (): void => {
    this.#scheduleDispatch();
  };

  /** A timer was scheduled before the poll meant to wake: sleep less (once per burst). */
  readonly #resleep = new OncePerBurst(() => {
    if (this.#pending !== undefined && this.#immediate === undefined) this.#sleep();
  });
  readonly #onEarlierTimer = (): void => this.#resleep.request();

  /** Runs in a setImmediate: fire due timers, gather a batch, resolve or wait on. */
  readonly #dispatch = (): void => {
    this.#immediate = undefined;
    const pending = this.#pending;
    if (pending === undefined) return;
    let fired: number;
    try {
      fired = this.timers.advance();
    } catch (err) {
      this.#finish(pending);
      pending.reject(err);
      return;
    }
    if (this.#pending !== pending) return; // a timer callback closed the reactor
    const count = this.#gather(pending.events);
    const woken = this.#woken;
    this.stats.timersFired += fired;
    if (count > 0 || fired > 0 || woken || pending.timeoutMs === 0 || this.#clock.now() >= pending.deadlineMs) {
      this.#woken = false;
      setWoken(pending.events, woken);
      this.#finish(pending);
      this.stats.polls++;
      this.stats.events += count;
      if (Channels.reactorPoll.hasSubscribers) Channels.reactorPoll.publish({ events: count, timersFired: fired, woken });
      pending.resolve(count);
    } else {
      this.#sleep();
    }
  };

  #finish(pending: PendingPoll<T>): void {
    if (this.#pending === pending) this.#pending = undefined;
    this.#backend.cancelSleep();
    this.timers.setWaker(-Infinity);
  }

  /**
   * Moves up to `events.capacity` ready registrations into the batch. Each
   * registration in the list at the start is looked at once: level ones still
   * ready go back to the tail (round-robin across polls), edge ones wait for
   * their next edge, one-shot ones disarm.
   */
  #gather(events: Events<T>): number {
    resetEvents(events);
    const ready = this.#ready;
    const backend = this.#backend;
    let count = 0;
    for (let remaining = ready.length; remaining > 0 && count < events.capacity; remaining--) {
      const registration = ready.shift() as Registration<T>;
      registration.queued = false;
      if (!registration.live || !registration.armed) continue;
      // fd -1: a waker's source, readable whenever it is in the list (its edges say whether it was notified).
      const readiness = registration.fd < 0 ? Readiness.READABLE : backend.readiness(registration.fd);
      const edge = registration.edgeTriggered;
      const flags = (edge ? registration.edges & readiness : readiness) & registration.mask;
      if (edge) registration.edges = 0;
      if (flags === 0) continue;
      addEvent(events, registration, flags);
      count++;
      if (registration.oneshot) registration.armed = false;
      else if (!edge) {
        registration.queued = true;
        ready.push(registration);
      }
    }
    return count;
  }

  /** One close at a time; one that failed (the backend's dispose rejected) may be tried again. */
  #closeReactor(): Promise<void> {
    this.#closing ??= this.#shutdownAll().catch((err: unknown) => {
      this.#closing = undefined;
      throw err;
    });
    return this.#closing;
  }

  async #shutdownAll(): Promise<void> {
    this.#state = 'closing';
    const pending = this.#pending;
    if (pending !== undefined) {
      this.#finish(pending);
      pending.reject(closedError());
    }
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    for (const [fd, descriptor] of [...this.#table.entries()]) {
      if (descriptor.state === 'opening')
        this.#table.release(fd); // closed once its bind has settled, below
      else this.#release(fd, descriptor);
    }
    this.#ready.clear();
    for (const [registration, onReactorClose] of [...this.#wakeSources]) {
      registration.live = false;
      onReactorClose();
    }
    this.#wakeSources.clear();
    // A backend closes a listener only once its bind has settled (see Backend.close).
    const binding = [...this.#binding];
    await Promise.allSettled(binding.map(([, promise]) => promise));
    for (const [fd] of binding) this.#backend.close(fd);
    try {
      await this.#backend.dispose();
    } finally {
      this.#state = 'closed';
    }
  }
}

function closedError(): ReactorError {
  return new ReactorError('ERR_REACTOR_CLOSED', 'the reactor is closed');
}

function checkConnectTimeout(value: unknown, name: string): number {
  if (typeof value !== 'number' || !(value > 0))
    throw new RangeError(`'${name}' must be a number of ms > 0 (or Infinity), got ${describe(value)}`);
  return value;
}

/** `read`'s and `recvFrom`'s `maxBytes`: a whole number >= 1, or Infinity; a RangeError naming it otherwise. */
function checkMaxBytes(maxBytes: unknown): void {
  if (typeof maxBytes !== 'number' || !(maxBytes >= 1) || (maxBytes !== Infinity && !Number.isInteger(maxBytes))) {
    throw new RangeError(`'maxBytes' must be a whole number >= 1 (or Infinity), got ${describe(maxBytes)}`);
  }
}

/** Checks interest and trigger; returns the trigger's flags. @throws ReactorError EINVAL; TypeError for options that are not an object. */
function checkRegistration<T>(interest: unknown, options: RegisterOptions<T> | undefined): number {
  if (!isInterest(interest)) {
    throw new ReactorError('EINVAL', `'interest' must be Interest.READABLE, Interest.WRITABLE or both, got ${describe(interest)}`);
  }
  const trigger = triggerFlags(optionsObject(options, 'options').trigger ?? 'level');
  if (trigger < 0) {
    throw new ReactorError('EINVAL', `'trigger' must be 'level', 'edge', 'oneshot' or 'edge-oneshot', got ${describe(options?.trigger)}`);
  }
  return trigger;
}
