import { type Clock, ManualClock } from '../../../timers';
import { ReactorError } from '../../reactor-error';
import { Readiness } from '../../readiness';
import type { Backend, BackendSettings, BackendSink, ConnectOptions, HandleInfo, LingeringHandle, ListenOptions } from '../backend';
import { Chance, type ChanceKind, type Schedule } from './chance';
import { EventQueue, type Lane, newLane } from './event-queue';
import { checkFaultRates, type FaultRates } from './fault-rates';
import { seedFromEnvironment } from './seed-from-environment';
import { SeededRandom } from './seeded-random';
import { isIPv6, normalizeHost, type PeerServerState, SimListener, SimListeners } from './sim-listeners';
import { type LinkOptions, type SimContext, SimSocket, type SimSocketOwner } from './sim-socket';
import { type PeerNetwork, SimulatedPeer } from './simulated-peer';
import { StallWatch, type Waiting } from './stall-watch';
import { payloadFormatter, type TraceOptions } from './trace-options';

export type { FaultRates } from './fault-rates';

/** How long (real time) a simulation may sit with nothing to do while something waits, before the wait fails. */
const STALL_TIMEOUT_MS = 250;
/** The chance that exploration postpones an event behind others due at the same time. */
const REORDER_RATE = 0.5;
/** Linux's SYN retransmissions (`tcp_syn_retries`): the first after 1 s, each wait twice the one before. */
const SYN_RETRIES = 6;
const SYN_RTO_MS = 1_000;

/** Options of {@link SimulatedBackend}. */
export interface SimulatedBackendOptions {
  /**
   * Fixes every random choice (faults, their timing, the orders explored):
   * one seed, one run. Default: the `TSREACTOR_SEED` environment variable
   * if set (so a failing seed replays without editing the test), else 1.
   */
  seed?: number;
  /**
   * Takes every chance decision from this list instead of the seed (see
   * {@link Schedule}): `sim.schedule` of one run, with the same other
   * options, replays it. Decisions not listed do not happen; the `faults`
   * rates are not drawn from, but their sizes (`delayMs`, `stallMs`) count. Same-time
   * events are ordered as the schedule's `'reorder'` entries say.
   */
  schedule?: Schedule;
  /**
   * Explores orders: events due at the same simulated time (deliveries on
   * different connections, a timer and a packet) run in a seeded order
   * instead of the order they were scheduled in; each connection's own
   * events keep their order. Off by default, so traces stay as they were;
   * on, each seed tries another interleaving.
   */
  explore?: boolean;
  /** The simulated clock's start, in ms. Default 0. */
  startMs?: number;
  /** One-way latency of every link, in ms. Default 0.1. */
  latencyMs?: number;
  /** Bytes per millisecond each way; default Infinity (latency only). */
  bandwidth?: number;
  /** Each socket's send buffer: `write` accepts this much before it would block. Default 64 KiB. */
  sendBufferSize?: number;
  /** Each socket's receive buffer: the most a sender may have unread at the receiver. Default 64 KiB. */
  receiveBufferSize?: number;
  /** Faults injected by chance (see {@link FaultRates}); none by default. */
  faults?: Partial<FaultRates>;
  /**
   * Record every event and byte in `trace`. Default false. `true` writes
   * payloads in hex; `{ payloads: 'hash' }` writes a short hash of each
   * instead, `{ payloads: n }` the first n bytes and the length (long runs
   * keep a trace that can still be compared).
   */
  trace?: boolean | TraceOptions;
  /**
   * The addresses this simulated host has, besides the wildcards; listening
   * on another gives EADDRNOTAVAIL. Default `['127.0.0.1', '::1']`.
   */
  localAddresses?: string[];
  /** Does the host have IPv6? Without it, binding an IPv6 address (even '::') fails with EAFNOSUPPORT. Default true. */
  ipv6?: boolean;
  /**
   * Default `true`: while no poll waits, the simulation moves on by itself,
   * one event per turn of Node's event loop, so a test can
   * `await peer.waitFor(n)` without a poll loop. `false`: time moves only
   * while a poll waits and inside `run` and `settle`, for a harness that
   * steps the world itself (a far timer, such as a linger deadline, then
   * never fires behind its back).
   */
  autoAdvance?: boolean;
  /**
   * Real time (ms) that a simulation may sit with nothing due while
   * something waits on it, before the waits fail with `ERR_SIM_STALLED`
   * (see "Stalls" on {@link SimulatedBackend}). Default 250; `Infinity`
   * never fails them.
   */
  stallTimeoutMs?: number;
}

/** Counts of what the simulated network did. */
export interface SimulatedStats {
  /** Network events processed (deliveries, handshakes, timers of the network). */
  events: number;
  /** Data segments delivered, and their bytes. */
  segments: number;
  bytes: number;
  connections: number;
  refused: number;
  /** SYNs dropped because a listener's backlog was full (each retransmission counts; the client retries, as on Linux). */
  dropped: number;
}

/** A test's listening peer: `reactor.connect` reaches it; each connection becomes a SimulatedPeer. */
export interface SimulatedPeerServer {
  readonly port: number;
  /** The next connection it accepted (in arrival order). */
  accepted(): Promise<SimulatedPeer>;
  close(): void;
}

/**
 * A whole network in memory, on a virtual clock, behind the same Backend
 * interface as {@link LibuvBackend}: test a server built on tsreactor without
 * sockets and without sleeping.
 *
 * - Time is a {@link ManualClock} (`sim.clock`, which the reactor adopts).
 *   When a poll has nothing ready, the clock jumps straight to the next
 *   network event or the poll's deadline (the next timer, or its timeout):
 *   a test of a 30-second idle timeout runs in microseconds.
 * - The network is a small TCP model (see `SimSocket`): send and receive
 *   buffers with sizes, so partial writes and backpressure happen as on a
 *   kernel; per-link latency and bandwidth; in-order delivery; FIN, RST,
 *   refused connections.
 * - Tests drive the other ends: `sim.connect(port)` opens a client
 *   ({@link SimulatedPeer}) that writes, reads, half-closes, resets, stalls;
 *   `sim.listen()` opens a server for `reactor.connect`.
 * - Faults on demand (`resetConnection`, `refuseNextConnection`,
 *   `failNextAccept`, `shortenNextWrite`, `delayNextDelivery`, `peer.stall`)
 *   or by seeded chance (`faults`), each giving the error code a real socket
 *   would: ECONNRESET, ECONNREFUSED, EMFILE.
 * - Deterministic: everything happens in (time, order of scheduling) order,
 *   random choices come from the seed, and with `trace: true` every event and
 *   every byte is recorded; the same seed and the same program give a
 *   byte-identical trace. `explore: true` orders same-time events by the
 *   seed instead; every chance decision is also written out as a
 *   {@link Schedule} (`sim.schedule`) that replays the run without the seed.
 *
 * Time moves only inside the simulation's own steps (run from `setImmediate`):
 * while a poll waits, up to its deadline; while nothing polls, one event at a
 * time, so a test can `await peer.waitFor(n)` without a poll loop. Code that
 * waits on real timers (`setTimeout`) sees no simulated time pass.
 *
 * ## Stalls
 *
 * A stalled simulation is an error, never a hang. When nothing is due and
 * nothing can come (no network event, no poll deadline, no call from the
 * program) while a test waits (a peer's `waitFor`/`readLine`/`waitEnd`,
 * `sim.waitUntil`), the wait rejects after `stallTimeoutMs` of real time
 * (250 ms) with `ERR_SIM_STALLED`: the message names who waits for what,
 * the simulated time and the last lines of the trace. A poll with no
 * timeout, and a wait in a plain script, rejects so when Node is about to
 * exit with nothing else to do. A server with a timer is not stalled: time
 * runs on to it.
 *
 * ## Full backlogs
 *
 * A connection that finds its listener's backlog full (`backlog + 1`
 * waiting, as Linux counts) is not refused: its
 * SYN is dropped and the client sends it again 1, 2, 4 ... 32 s later
 * (Linux's `tcp_syn_retries` of 6), and gives up with `ETIMEDOUT` 64 s
 * after the last, unless its own connect timeout comes first. A burst of
 * clients larger than the backlog is thus served, late, as on Linux.
 *
 * @example
 * ```ts
 * import { Events, Interest, Reactor, SimulatedBackend } from 'tsreactor';
 *
 * const sim = new SimulatedBackend({ seed: 42, latencyMs: 5 });
 * const reactor = new Reactor({ backend: sim });
 * const listener = await reactor.listen({ host: '127.0.0.1', port: 8080 });
 * reactor.register(listener, Interest.READABLE);
 * const client = sim.connect(8080);
 * const events = new Events();
 * await reactor.poll(events);       // the clock jumps 5 ms: the connection has arrived
 * const fd = reactor.accept(listener);
 * console.log(fd, sim.clock.now()); // 1 5
 * ```
 */
export class SimulatedBackend implements Backend {
  readonly name = 'simulated';
  readonly clock: ManualClock;
  readonly random: SeededRandom;
  readonly stats: SimulatedStats = { events: 0, segments: 0, bytes: 0, connections: 0, refused: 0, dropped: 0 };
  readonly #faults: FaultRates;
  readonly #link: LinkOptions;
  readonly #queue: EventQueue;
  readonly #trace: string[] | undefined;
  readonly #chance: Chance;
  readonly #explore: boolean;
  readonly #payload: (bytes: Buffer) => string;
  readonly #listeners: SimListeners;
  readonly #handles: (SimSocket | SimListener | undefined)[] = [];
  readonly #refuseNext = new Set<number>();
  readonly #blackholed = new Set<number>();
  readonly #context: SimContext;
  readonly #peerNetwork: PeerNetwork;
  #sink: BackendSink | undefined;
  #nextClientPort = 49_152;
  #connections = 0;
  #pumpImmediate: NodeJS.Immediate | undefined;
  /** Counts wake-ups of a test's waiters: when it moves, let the test's code run before time moves on. */
  #testWakes = 0;
  readonly #watch: StallWatch;
  /** Counts everything that happens (events scheduled or run, waiters woken), for the stall watch. */
  #activity = 0;
  /** The conditions of `waitUntil` still waited for, checked once per turn of Node's event loop. */
  readonly #conditions: { what: string; holds: () => boolean; resolve: () => void; reject: (err: Error) => void }[] = [];
  #conditionsImmediate: NodeJS.Immediate | undefined;
  /** The reactor has news to dispatch: time stands still until it sleeps again or resolves its poll. */
  #awaitingReactor = false;
  #sleeping = false;
  #sleepDeadline = Infinity;
  #onDeadline: (() => void) | undefined;
  #disposed = false;
  readonly #autoAdvance: boolean;
  /** Reactor fds closed gracefully, by socket, while they may linger (pruned as they finish). */
  readonly #closed = new Map<SimSocket, { fd: number; closedAtMs: number }>();

  constructor(options: SimulatedBackendOptions = {}) {
    const { seed = seedFromEnvironment() ?? 1, startMs = 0, latencyMs = 0.1, bandwidth = Infinity } = options;
    const { sendBufferSize = 64 * 1024, receiveBufferSize = 64 * 1024 } = options;
    if (!(latencyMs >= 0) || !Number.isFinite(latencyMs)) {
      throw new RangeError(`'latencyMs' must be a finite number >= 0, got ${String(latencyMs)}`);
    }
    if (!(bandwidth > 0)) throw new RangeError(`'bandwidth' must be a number of bytes per ms > 0, got ${String(bandwidth)}`);
    for (const [name, value] of [
      ['sendBufferSize', sendBufferSize],
      ['receiveBufferSize', receiveBufferSize],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`'${name}' must be a whole number >= 1, got ${String(value)}`);
    }
    const faults = checkFaultRates(options.faults);
    this.clock = new ManualClock(startMs);
    this.random = new SeededRandom(seed);
    this.#faults = faults;
    this.#link = { latencyMs, bandwidth, sendBufferSize, receiveBufferSize };
    const ipv6 = options.ipv6 ?? true;
    this.#listeners = new SimListeners(ipv6, options.localAddresses ?? (ipv6 ? ['127.0.0.1', '::1'] : ['127.0.0.1']), (line) =>
      this.#record(line),
    );
    this.#trace = options.trace === undefined || options.trace === false ? undefined : [];
    this.#payload = payloadFormatter(options.trace);
    this.#autoAdvance = options.autoAdvance ?? true;
    const stallTimeoutMs = options.stallTimeoutMs ?? STALL_TIMEOUT_MS;
    if (!(stallTimeoutMs > 0))
      throw new RangeError(`'stallTimeoutMs' must be a number of ms > 0 (Infinity: never), got ${String(stallTimeoutMs)}`);
    this.#explore = options.explore === true || options.schedule !== undefined;
    this.#chance = new Chance(this.random, { ...faults, reorder: options.explore === true ? REORDER_RATE : 0 }, options.schedule);
    this.#queue = new EventQueue(this.#explore);
    this.#watch = new StallWatch(
      {
        activity: () => this.#activity,
        idle: () =>
          this.#queue.size === 0 &&
          this.#pumpImmediate === undefined &&
          !this.#awaitingReactor &&
          (!this.#sleeping || this.#sleepDeadline === Infinity),
        pollWaitsForever: () => this.#sleeping && this.#sleepDeadline === Infinity,
        nowMs: () => this.clock.now(),
        traceTail: () =>
          this.#trace === undefined ? '(trace off: new SimulatedBackend({ trace: true }) records one)' : this.#trace.slice(-8).join('\n  '),
        failPoll: (error) => this.#sink?.fail(error),
      },
      stallTimeoutMs,
    );
    this.#context = {
      now: () => this.clock.now(),
      at: (time, run, lane) => this.#at(time, run, lane),
      chance: this.#chance,
      faults: this.#faults,
      trace: (line) => this.#record(line),
      payload: this.#payload,
      countSegment: (bytes) => {
        this.stats.segments++;
        this.stats.bytes += bytes;
      },
      lingerMs: Infinity,
    };
    this.#peerNetwork = {
      after: (delayMs, run, lane) => this.#at(this.clock.now() + delayMs, run, lane),
      wakeTest: () => {
        this.#testWakes++;
        this.#activity++;
      },
      waiting: (peer) => this.#watch.waiting(peer),
      decide: (kind: ChanceKind) => this.#chance.decide(kind),
      faults: this.#faults,
    };
  }

  /** Every event and byte so far, one line each (empty unless created with `trace: true`). */
  get trace(): readonly string[] {
    return this.#trace ?? [];
  }

  /**
   * Every chance decision taken so far that happened (faults, reorderings),
   * in order: `new SimulatedBackend({ ...sameOptions, schedule: sim.schedule })`
   * replays the run without the seed. See {@link Schedule}.
   */
  get schedule(): Schedule {
    return this.#chance.taken;
  }

  /**
   * Resolves once `condition` holds: server-side state the test cannot
   * await otherwise (`loop.registry.size === 3`, a counter of the
   * server's). It is checked once per turn of Node's event loop, while
   * the simulation runs on. Rejects with `ERR_SIM_STALLED` if the
   * simulation stalls first (nothing due, nothing can come), naming `what`.
   *
   * @example
   * ```ts
   * import { EventLoop, Reactor, SimulatedBackend } from 'tsreactor';
   *
   * const sim = new SimulatedBackend();
   * const loop = new EventLoop({ reactor: new Reactor({ backend: sim }) });
   * // ... listen, run, connect clients ...
   * await sim.waitUntil(() => loop.registry.size === 2, 'two connections served');
   * ```
   */
  waitUntil(condition: () => boolean, what = 'a condition (sim.waitUntil)'): Promise<void> {
    if (typeof condition !== 'function') return Promise.reject(new TypeError(`'condition' must be a function`));
    try {
      if (condition()) return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return new Promise<void>((resolve, reject) => {
      this.#conditions.push({ what, holds: condition, resolve, reject });
      this.#watch.waiting(this.#conditionWaits);
      this.#conditionsImmediate ??= setImmediate(this.#checkConditions);
      this.#schedulePump();
    });
  }

  readonly #checkConditions = (): void => {
    this.#conditionsImmediate = undefined;
    if (this.#disposed) return;
    let woke = false;
    for (let i = 0; i < this.#conditions.length; i++) {
      const condition = this.#conditions[i];
      let holds: boolean;
      try {
        holds = condition.holds();
      } catch (err) {
        this.#conditions.splice(i--, 1);
        condition.reject(err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      if (!holds) continue;
      this.#conditions.splice(i--, 1);
      condition.resolve();
      woke = true;
    }
    if (woke) this.#peerNetwork.wakeTest();
    if (this.#conditions.length > 0) this.#conditionsImmediate = setImmediate(this.#checkConditions);
  };

  /** The conditions, as the stall watch sees them. */
  readonly #conditionWaits: Waiting = {
    waits: () => this.#conditions.map((condition) => `sim.waitUntil waits for ${condition.what}`),
    failWaits: (error) => {
      for (const condition of this.#conditions.splice(0)) condition.reject(error);
    },
  };

  /* ---- The test's side: peers and faults -------------------------------- */

  /**
   * Opens a simulated client to `port` (on `host`, default 127.0.0.1). It
   * connects after the link's latency; `peer.connected` says when, or rejects
   * with ECONNREFUSED if nothing listens.
   */
  connect(port: number, options: { host?: string; localAddress?: string } = {}): SimulatedPeer {
    const host = normalizeHost(options.host ?? '127.0.0.1');
    const localAddress = options.localAddress ?? (isIPv6(host) ? '::1' : '127.0.0.1');
    const socket = this.#newClientSocket(localAddress, host, port);
    const peer = new SimulatedPeer(socket, this.#peerNetwork);
    this.#dial(socket, host, port);
    return peer;
  }

  /** Opens a listening peer for `reactor.connect` to reach (port 0: any free port). */
  listen(port = 0, options: { host?: string } = {}): SimulatedPeerServer {
    const host = normalizeHost(options.host ?? '127.0.0.1');
    const listener = this.#listeners.bind(host, port, false, false, 511);
    const state: PeerServerState = { peers: [], takers: [] };
    listener.peerServer = state;
    return {
      port: listener.port,
      accepted: () => {
        const peer = state.peers.shift();
        return peer !== undefined ? Promise.resolve(peer) : new Promise((resolve) => state.takers.push(resolve));
      },
      close: () => this.#listeners.unbind(listener),
    };
  }

  /** A port on which nothing listens (connecting to it is refused). */
  freePort(): number {
    return this.#listeners.freePort();
  }

  /** Resets the connection of reactor fd `fd` from the other side: the fd gets ECONNRESET. */
  resetConnection(fd: number): void {
    const socket = this.#socket(fd);
    this.#record(() => `fault reset-connection fd${fd}`);
    if (socket.other !== undefined) socket.other.reset();
    else socket.receiveReset('ECONNRESET');
  }

  /** The next connection attempt to `port` is refused (ECONNREFUSED). */
  refuseNextConnection(port: number): void {
    this.#refuseNext.add(port);
  }

  /**
   * From now on, connections to `port` go unanswered, as toward a host that
   * is down or a firewall that drops: the SYN is lost, and a connect stays
   * in progress until its timeout (`connectTimeoutMs`) gives up on it, or,
   * without one, until its SYN retries run out (`ETIMEDOUT` about 127 s
   * later, see "Full backlogs").
   */
  blackhole(port: number): void {
    this.#blackholed.add(port);
  }

  /** The next `accept` on listener `fd` fails with EMFILE; the connection stays waiting. */
  failNextAccept(fd: number): void {
    this.#listener(fd).failNextAccept = true;
  }

  /** The next `write` on `fd` accepts at most `bytes`. */
  shortenNextWrite(fd: number, bytes: number): void {
    this.#socket(fd).nextWriteLimit = bytes;
  }

  /** The next data segment sent to `fd` arrives `ms` late (and what follows it waits behind it). */
  delayNextDelivery(fd: number, ms: number): void {
    const other = this.#socket(fd).other;
    if (other !== undefined) other.nextDelayMs = ms;
  }

  /**
   * Runs the simulation by hand, without a reactor poll: every event up to
   * `untilMs` (default: until nothing is left), moving the clock. Returns how
   * many events ran. Promises it resolves settle after it returns.
   */
  run(untilMs = Infinity): number {
    let ran = 0;
    for (let time = this.#queue.peekTime(); time <= untilMs && time < Infinity; time = this.#queue.peekTime()) {
      if (time > this.clock.now()) this.clock.set(time);
      (this.#queue.pop() as () => void)();
      this.stats.events++;
      ran++;
    }
    if (untilMs !== Infinity && untilMs > this.clock.now()) this.clock.set(untilMs);
    return ran;
  }

  /**
   * Runs every event due within `horizonMs` of now, and those they cause
   * within `horizonMs` of the one before, moving the clock only as far as
   * the last event run: the network settles (everything in flight lands,
   * handshakes finish) while far events, such as a linger deadline, stay
   * pending. Returns how many events ran. With `autoAdvance: false`, this
   * is how a harness lets the network catch up between its steps.
   */
  settle(horizonMs = 1_000): number {
    let ran = 0;
    for (let time = this.#queue.peekTime(); time <= this.clock.now() + horizonMs; time = this.#queue.peekTime()) {
      if (time > this.clock.now()) this.clock.set(time);
      (this.#queue.pop() as () => void)();
      this.stats.events++;
      ran++;
    }
    return ran;
  }

  /** Pending network events: zero once everything in flight has landed. */
  get pendingEvents(): number {
    return this.#queue.size;
  }

  /* ---- Backend ---------------------------------------------------------- */

  attach(sink: BackendSink, clock: Clock, settings: BackendSettings): void {
    if (this.#sink !== undefined) throw new Error('a SimulatedBackend serves one reactor');
    if (clock !== this.clock) {
      throw new Error(
        'a SimulatedBackend runs on its own clock (sim.clock): create the Reactor without a clock option, or with clock: sim.clock',
      );
    }
    this.#sink = sink;
    (this.#context as { lingerMs: number }).lingerMs = settings.lingerMs;
  }

  openListener(fd: number, options: ListenOptions): Promise<void> {
    try {
      const listener = this.#listeners.bind(
        normalizeHost(options.host),
        options.port,
        options.ipv6Only,
        options.reusePort,
        options.backlog,
      );
      listener.fd = fd;
      this.#handles[fd] = listener;
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  openConnection(fd: number, options: ConnectOptions): void {
    const host = normalizeHost(options.host);
    const socket = this.#newClientSocket(isIPv6(host) ? '::1' : '127.0.0.1', host, options.port);
    socket.owner = this.#fdOwner(fd);
    socket.fd = fd;
    this.#handles[fd] = socket;
    this.#dial(socket, host, options.port);
  }

  timeOutConnect(fd: number): boolean {
    const socket = this.#handles[fd];
    return socket instanceof SimSocket && socket.timeOut();
  }

  pendingConnections(listenFd: number): number {
    return this.#listener(listenFd).queue.length;
  }

  accept(listenFd: number, fd: number): void {
    this.#activity++; // the program is working: not a stall
    const listener = this.#listener(listenFd);
    if (listener.failNextAccept || this.#chance.decide('acceptEmfile') !== undefined) {
      listener.failNextAccept = false;
      this.#record(() => `fault accept-emfile port ${listener.port}`);
      throw new ReactorError('EMFILE', 'too many open files', { syscall: 'accept', fd: listenFd });
    }
    const socket = listener.queue.shift() as SimSocket;
    socket.owner = this.#fdOwner(fd);
    socket.fd = fd;
    this.#handles[fd] = socket;
    this.#record(() => `accept c${socket.connection} fd${fd}`);
  }

  read(fd: number, maxBytes: number): Buffer | null {
    this.#activity++;
    const chunk = this.#socket(fd).read(maxBytes);
    if (chunk !== null && chunk.length > 0) this.#record(() => `read fd${fd} ${chunk.length}`);
    return chunk;
  }

  write(fd: number, data: Uint8Array): number {
    this.#activity++;
    return this.#socket(fd).write(data);
  }

  shutdown(fd: number): void {
    this.#socket(fd).shutdown();
  }

  close(fd: number): void {
    const handle = this.#handles[fd];
    this.#handles[fd] = undefined;
    if (handle instanceof SimListener) this.#listeners.unbind(handle);
    else if (handle !== undefined) {
      handle.fd = undefined;
      handle.close();
      if (handle.lingering) this.#closed.set(handle, { fd, closedAtMs: this.clock.now() });
    }
  }

  abort(fd: number): void {
    const handle = this.#handles[fd];
    this.#handles[fd] = undefined;
    if (handle instanceof SimListener) this.#listeners.unbind(handle);
    else if (handle !== undefined) {
      this.#record(() => `abort fd${fd}`);
      handle.fd = undefined;
      handle.reset();
    }
  }

  lingering(): LingeringHandle[] {
    const lingering: LingeringHandle[] = [];
    for (const [socket, { fd, closedAtMs }] of this.#closed) {
      if (!socket.lingering) {
        this.#closed.delete(socket);
        continue;
      }
      lingering.push({ fd, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, queuedBytes: socket.sendBytes, closedAtMs });
    }
    return lingering;
  }

  configure(): void {
    // No TCP options in the model: accepted and ignored.
  }

  setInterest(): void {
    // The simulated kernel buffers whatever the interest: flow control is the receive window.
  }

  readiness(fd: number): number {
    const handle = this.#handles[fd];
    if (handle === undefined) return 0;
    if (handle instanceof SimListener) return handle.queue.length > 0 ? Readiness.READABLE : 0;
    return handle.readiness();
  }

  info(fd: number): HandleInfo {
    const handle = this.#handles[fd];
    if (handle instanceof SimListener) {
      return {
        kind: 'listener',
        localAddress: handle.host,
        localPort: handle.port,
        remoteAddress: undefined,
        remotePort: undefined,
        family: isIPv6(handle.host) ? 'IPv6' : 'IPv4',
        bytesRead: 0,
        bytesWritten: 0,
        readBuffered: 0,
        writeBuffered: 0,
        osFd: undefined,
        droppedConnections: handle.dropped,
      };
    }
    const socket = this.#socket(fd);
    return {
      kind: 'stream',
      localAddress: socket.localAddress,
      localPort: socket.localPort,
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      family: isIPv6(socket.remoteAddress) ? 'IPv6' : 'IPv4',
      bytesRead: socket.bytesRead,
      bytesWritten: socket.bytesWritten,
      readBuffered: socket.recvBytes,
      writeBuffered: socket.sendBytes,
      osFd: undefined,
      droppedConnections: 0,
    };
  }

  /** Connections a listener dropped because its backlog was full. */
  droppedConnections(listenFd: number): number {
    return this.#listener(listenFd).dropped;
  }

  sleep(deadlineMs: number, onDeadline: () => void): void {
    this.#activity++;
    this.#sleeping = true;
    this.#sleepDeadline = deadlineMs;
    this.#onDeadline = onDeadline;
    this.#awaitingReactor = false;
    this.#schedulePump();
    if (deadlineMs === Infinity && this.#autoAdvance) this.#watch.pollSleeps();
  }

  cancelSleep(): void {
    this.#sleeping = false;
    this.#sleepDeadline = Infinity;
    this.#onDeadline = undefined;
    if (this.#awaitingReactor) {
      this.#awaitingReactor = false;
      if (this.#queue.size > 0) this.#schedulePump();
    }
  }

  dispose(): Promise<void> {
    this.#disposed = true;
    this.#watch.dispose(
      new ReactorError('ERR_REACTOR_CLOSED', 'the simulation ended (its reactor closed) while this waited', { syscall: 'wait' }),
    );
    if (this.#conditionsImmediate !== undefined) clearImmediate(this.#conditionsImmediate);
    this.#conditionsImmediate = undefined;
    this.cancelSleep();
    if (this.#pumpImmediate !== undefined) clearImmediate(this.#pumpImmediate);
    this.#pumpImmediate = undefined;
    this.#queue.clear();
    this.#closed.clear();
    return Promise.resolve();
  }

  /* ---- The simulation -------------------------------------------------- */

  /** Schedules `run` at `time` in `lane`; exploring, a chance decision may postpone it behind others due with it. */
  #at(time: number, run: () => void, lane: Lane): void {
    if (this.#disposed) return;
    this.#activity++;
    this.#queue.push(Math.max(time, this.clock.now()), run, lane, this.#explore ? (this.#chance.decide('reorder') ?? 0) : 0);
    this.#schedulePump();
  }

  #schedulePump(): void {
    if (this.#pumpImmediate !== undefined || this.#disposed) return;
    if (!this.#autoAdvance && !this.#sleeping) return; // a harness steps it (run, settle), or a poll does
    this.#pumpImmediate = setImmediate(this.#pump);
  }

  /**
   * One step of the simulation: run what is due; then move the clock on:
   * while a poll sleeps, event by event up to its deadline; otherwise one
   * event. It stops early when the reactor has news to dispatch (the reactor
   * resumes it by sleeping again or ending its poll) or a test's waiter woke
   * (it resumes in the next step, after the test's code ran).
   */
  readonly #pump = (): void => {
    this.#pumpImmediate = undefined;
    const testWakes = this.#testWakes;
    for (;;) {
      this.#runDue();
      if (this.#awaitingReactor) return;
      if (!this.#sleeping && !this.#autoAdvance) return;
      if (this.#testWakes !== testWakes) break;
      const next = this.#queue.peekTime();
      const limit = this.#sleeping ? this.#sleepDeadline : Infinity;
      if (next > limit) {
        this.clock.set(Math.max(this.clock.now(), limit));
        const onDeadline = this.#onDeadline;
        this.cancelSleep();
        onDeadline?.();
        // What is still due later goes on by itself (autoAdvance) unless the reactor sleeps again first.
        if (this.#queue.size > 0 && !this.#sleeping) this.#schedulePump();
        return;
      }
      if (next === Infinity) return; // idle: the next scheduled event starts a pump again
      this.clock.set(next);
      if (!this.#sleeping) {
        this.#runDue();
        break;
      }
    }
    if (this.#queue.size > 0 || this.#sleeping) this.#schedulePump();
  };

  #runDue(): void {
    const now = this.clock.now();
    while (this.#queue.peekTime() <= now) {
      this.#activity++;
      (this.#queue.pop() as () => void)();
      this.stats.events++;
    }
  }

  #record(line: () => string): void {
    this.#trace?.push(`${this.clock.now().toFixed(3)} ${line()}`);
  }

  #fdOwner(fd: number): SimSocketOwner {
    return {
      socketEvent: (_socket, edges) => {
        if (this.#sink?.ready(fd, edges) === true) this.#awaitingReactor = true;
      },
    };
  }

  #newClientSocket(localAddress: string, host: string, port: number): SimSocket {
    const connection = ++this.#connections;
    this.stats.connections++;
    return new SimSocket(
      this.#context,
      this.#link,
      connection,
      'client',
      { address: localAddress, port: this.#nextClientPort++ },
      { address: host, port },
      newLane(),
    );
  }

  /**
   * The handshake: SYN now, the listener's queue one latency later,
   * established one more later. A SYN that finds no room (a full backlog)
   * or no answer (a blackholed port) is lost, and sent again as Linux does
   * (see "Full backlogs" above): `attempt` counts the retransmissions.
   */
  #dial(client: SimSocket, host: string, port: number, attempt = 0): void {
    const latency = this.#link.latencyMs;
    const sentAt = this.clock.now();
    this.#record(
      () =>
        `syn${attempt > 0 ? ` (retry ${attempt})` : ''} c${client.connection} ${client.localAddress}:${client.localPort} -> ${host}:${port}`,
    );
    this.#at(
      sentAt + latency,
      () => {
        if (client.state !== 'connecting' || client.error !== undefined) return;
        if (this.#blackholed.has(port)) {
          this.#record(() => `syn lost c${client.connection} (${port} is unanswered)`);
          this.#retransmitSyn(client, host, port, attempt, sentAt);
          return;
        }
        const listener = this.#listeners.listenerFor(host, port);
        const refuse = this.#refuseNext.delete(port) || this.#chance.decide('refuse') !== undefined;
        if (listener === undefined || refuse) {
          this.stats.refused++;
          if (refuse) this.#record(() => `fault refuse c${client.connection}`);
          this.#at(this.clock.now() + latency, () => client.receiveReset('ECONNREFUSED'), client.lane);
          return;
        }
        if (listener.queue.length > listener.backlog) {
          // Linux holds backlog + 1 (sk_acceptq_is_full)
          listener.dropped++;
          this.stats.dropped++;
          this.#record(() => `syn dropped c${client.connection} (backlog of ${listener.backlog} full on port ${port})`);
          this.#retransmitSyn(client, host, port, attempt, sentAt);
          return;
        }
        const server = new SimSocket(
          this.#context,
          this.#link,
          client.connection,
          'server',
          { address: host, port },
          { address: client.localAddress, port: client.localPort },
          client.lane,
        );
        server.state = 'open';
        server.other = client;
        client.other = server;
        client.partner = server;
        server.partner = client;
        server.lastArrival = this.clock.now() + latency; // nothing overtakes the SYN-ACK
        this.#at(server.lastArrival, () => client.established(), client.lane);
        this.#record(() => `queued c${client.connection} on port ${port}`);
        if (listener.peerServer !== undefined) {
          const peer = new SimulatedPeer(server, this.#peerNetwork);
          const taker = listener.peerServer.takers.shift();
          if (taker !== undefined) taker(peer);
          else listener.peerServer.peers.push(peer);
          this.#testWakes++;
          return;
        }
        listener.queue.push(server);
        if (this.#sink?.ready(listener.fd as number, Readiness.READABLE) === true) this.#awaitingReactor = true;
      },
      client.lane,
    );
  }

  /** A SYN sent at `sentAt` was lost: send it again after the retransmission timeout, or give up. */
  #retransmitSyn(client: SimSocket, host: string, port: number, attempt: number, sentAt: number): void {
    const rtoMs = SYN_RTO_MS * 2 ** attempt;
    this.#at(
      sentAt + rtoMs,
      () => {
        if (client.state !== 'connecting' || client.error !== undefined) return;
        if (attempt < SYN_RETRIES) this.#dial(client, host, port, attempt + 1);
        else client.timeOut();
      },
      client.lane,
    );
  }

  #socket(fd: number): SimSocket {
    const handle = this.#handles[fd];
    if (!(handle instanceof SimSocket)) throw new ReactorError('EBADF', `fd ${fd} is not a simulated stream`, { fd });
    return handle;
  }

  #listener(fd: number): SimListener {
    const handle = this.#handles[fd];
    if (!(handle instanceof SimListener)) throw new ReactorError('EBADF', `fd ${fd} is not a simulated listener`, { fd });
    return handle;
  }
}
