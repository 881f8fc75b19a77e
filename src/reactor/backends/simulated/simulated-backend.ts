import type { Clock } from '../../../timers';
import { ReactorError } from '../../reactor-error';
import { Readiness } from '../../readiness';
import type {
  Backend,
  BackendSettings,
  BackendSink,
  ConnectOptions,
  Datagram,
  DatagramOptions,
  HandleInfo,
  LingeringHandle,
  ListenOptions,
} from '../backend';
import type { Schedule } from './chance';
import type { ManualClock } from '../../../timers';
import type { SeededRandom } from './seeded-random';
import { canonicalSignal } from '../../check-signals';
import { datagramInfo, signalInfo } from '../handle-info';
import { PendingSignals, type SignalArrival } from '../pending-signals';
import { newLane } from './event-queue';
import { SimDatagramSocket } from './sim-datagram-socket';
import { isIPv6, normalizeHost, SimListener } from './sim-listeners';
import { SimSocket, type SimSocketOwner } from './sim-socket';
import type { SimulatedDatagramPeer } from './simulated-datagram-peer';
import type { SimulatedPeer } from './simulated-peer';
import type { SimulatedHost, SimulatedPeerServer } from './simulated-host';
import { type PollState, SimulatedWorld, type SimulatedStats, type SimulatedWorldOptions } from './simulated-world';

export type { FaultRates } from './fault-rates';
export type { SimulatedPeerServer } from './simulated-host';
export type { SimulatedStats } from './simulated-world';

/** Options of {@link SimulatedBackend}: those of its world, and of its one host. */
export interface SimulatedBackendOptions extends SimulatedWorldOptions {
  /**
   * The addresses this simulated host has, besides the wildcards; listening
   * on another gives EADDRNOTAVAIL. Default `['127.0.0.1', '::1']`.
   */
  localAddresses?: string[];
  /** Does the host have IPv6? Without it, binding an IPv6 address (even '::') fails with EAFNOSUPPORT. Default true. */
  ipv6?: boolean;
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
 * A backend serves one reactor on one host of a {@link SimulatedWorld}
 * (`sim.world`, `sim.host`): `new SimulatedBackend(options)` makes a world
 * of one host of its own; `world.host(...).backend()` puts one more
 * reactor into a shared world (a proxy and its backends, a cluster).
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
  /** The world this backend's host is in (made for it, unless it came from `host.backend()`). */
  readonly world: SimulatedWorld;
  /** The host its reactor runs on. */
  readonly host: SimulatedHost;
  /** The world was made for this backend alone: it ends with it. */
  readonly #ownsWorld: boolean;
  readonly #handles: (SimSocket | SimListener | SimDatagramSocket | undefined)[] = [];
  #sink: BackendSink | undefined;
  readonly #poll: PollState;
  #lingerMs = Infinity;
  #disposed = false;
  /** Its host crashed: every poll rejects with this. */
  #crashed: ReactorError | undefined;
  /** Signal descriptors: what each watches and what waits to be read. */
  readonly #signals = new Map<number, PendingSignals>();
  readonly #signalLane = newLane();
  /** Reactor fds closed gracefully, by socket, while they may linger (pruned as they finish). */
  readonly #closed = new Map<SimSocket, { fd: number; closedAtMs: number }>();

  /**
   * A backend on a world of its own, with one host (`options.localAddresses`).
   * (`host` is internal: `world.host(...).backend()` passes it.)
   */
  constructor(options: SimulatedBackendOptions = {}, host?: SimulatedHost) {
    if (host === undefined) {
      this.world = new SimulatedWorld(options);
      this.host = this.world.host({ addresses: options.localAddresses, ipv6: options.ipv6 });
      this.#ownsWorld = true;
    } else {
      this.world = host.world;
      this.host = host;
      this.#ownsWorld = false;
    }
    this.host.adopt(this);
    this.#poll = {
      sleeping: false,
      deadlineMs: Infinity,
      onDeadline: undefined,
      awaiting: false,
      fail: (error) => this.#sink?.fail(error),
    };
  }

  /** The simulated clock (the world's): the reactor adopts it. */
  get clock(): ManualClock {
    return this.world.clock;
  }

  /** The world's seeded generator. */
  get random(): SeededRandom {
    return this.world.random;
  }

  /** Counts of what the world's network did. */
  get stats(): SimulatedStats {
    return this.world.stats;
  }

  /** Every event and byte so far, one line each (empty unless created with `trace: true`). */
  get trace(): readonly string[] {
    return this.world.trace;
  }

  /**
   * Every chance decision taken so far that happened (faults, reorderings),
   * in order: `new SimulatedBackend({ ...sameOptions, schedule: sim.schedule })`
   * replays the run without the seed. See {@link Schedule}.
   */
  get schedule(): Schedule {
    return this.world.schedule;
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
    return this.world.waitUntil(condition, what);
  }

  /* ---- The test's side: peers and faults -------------------------------- */

  /**
   * Delivers `signal` to this backend's reactor, as `kill(pid, signal)`
   * would to its process, at the current simulated time (an event of the
   * simulation, so a stepped world delivers it when it runs): every signal
   * descriptor watching it turns readable. Real process signals never
   * reach a simulated reactor. With nothing watching it, the trace says
   * so (a real process would take the signal's default action, for
   * SIGTERM an exit).
   * @example
   * ```ts
   * import { Reactor, SimulatedBackend } from 'tsreactor';
   * const sim = new SimulatedBackend();
   * const reactor = new Reactor({ backend: sim });
   * const fd = reactor.signal(['SIGTERM']);
   * sim.raise('SIGTERM'); // the next poll reports fd readable; readSignals(fd) -> [{ signal: 'SIGTERM', count: 1 }]
   * ```
   */
  raise(signal: NodeJS.Signals): void {
    signal = canonicalSignal(signal);
    this.world.record(() => `raise ${signal}`);
    if (this.#crashed !== undefined) return; // its process is gone
    this.world.at(
      this.clock.now(),
      () => {
        if (this.#crashed !== undefined) return; // crashed meanwhile
        let heard = false;
        for (const [fd, pending] of this.#signals) {
          if (!pending.add(signal)) continue;
          heard = true;
          this.#ready(fd, Readiness.READABLE);
        }
        if (!heard) this.world.record(() => `${signal}: no signal descriptor watches it (a process would take its default action)`);
      },
      this.#signalLane,
    );
  }

  /** A test's UDP socket on this backend's host (see {@link SimulatedDatagramPeer}). */
  udp(options: { port?: number; host?: string } = {}): SimulatedDatagramPeer {
    return this.host.udp(options);
  }

  /**
   * Opens a simulated client on this backend's host to `port` (on `host`,
   * default 127.0.0.1). It connects after the link's latency;
   * `peer.connected` says when, or rejects with ECONNREFUSED if nothing listens.
   * A string is a Unix socket's path on this host instead (rejects with
   * ENOENT where there is no socket, ECONNREFUSED at a stale one).
   */
  connect(port: number | string, options: { host?: string; localAddress?: string } = {}): SimulatedPeer {
    return this.host.connect(port, options);
  }

  /** Opens a listening peer on this backend's host for `reactor.connect` to reach (port 0: any free port; a string: a Unix socket's path). */
  listen(port: number | string = 0, options: { host?: string } = {}): SimulatedPeerServer {
    return this.host.listen(port, options);
  }

  /** A socket file at `path` that nothing listens on, as a killed server leaves one (see `SimulatedHost.leaveStaleSocket`). */
  leaveStaleSocket(path: string): void {
    this.host.leaveStaleSocket(path);
  }

  /** A port on which nothing listens (connecting to it is refused). */
  freePort(): number {
    return this.host.freePort();
  }

  /** Resets the connection of reactor fd `fd` from the other side: the fd gets ECONNRESET. */
  resetConnection(fd: number): void {
    const socket = this.#socket(fd);
    this.world.record(() => `fault reset-connection fd${fd}`);
    if (socket.other !== undefined) socket.other.reset();
    else socket.receiveReset('ECONNRESET');
  }

  /** The next connection attempt to `port` is refused (ECONNREFUSED). */
  refuseNextConnection(port: number): void {
    this.host.refuseNextConnection(port);
  }

  /**
   * From now on, connections to `port` go unanswered, as toward a host that
   * is down or a firewall that drops: the SYN is lost, and a connect stays
   * in progress until its timeout (`connectTimeoutMs`) gives up on it, or,
   * without one, until its SYN retries run out (`ETIMEDOUT` about 127 s
   * later, see "Full backlogs").
   */
  blackhole(port: number): void {
    this.host.blackhole(port);
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
    return this.world.run(untilMs);
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
    return this.world.settle(horizonMs);
  }

  /** Pending network events: zero once everything in flight has landed. */
  get pendingEvents(): number {
    return this.world.pendingEvents;
  }

  /* ---- Backend ---------------------------------------------------------- */

  attach(sink: BackendSink, clock: Clock, settings: BackendSettings): void {
    if (this.#sink !== undefined) {
      throw new Error('a SimulatedBackend serves one reactor: give each reactor its own (host.backend() for another on the same host)');
    }
    if (clock !== this.clock) {
      throw new Error(
        'a SimulatedBackend runs on its own clock (sim.clock): create the Reactor without a clock option, or with clock: sim.clock',
      );
    }
    this.#sink = sink;
    this.#lingerMs = settings.lingerMs;
    this.world.addPoll(this.#poll);
  }

  openListener(fd: number, options: ListenOptions): Promise<void> {
    if (this.#crashed !== undefined) return Promise.reject(this.#crashed);
    try {
      const listener =
        options.path !== undefined
          ? this.host.listeners.bindPath(options.path, options.backlog, options.removeStale === true)
          : this.host.listeners.bind(normalizeHost(options.host), options.port, options.ipv6Only, options.reusePort, options.backlog);
      listener.fd = fd;
      listener.onQueued = () => {
        this.#ready(fd, Readiness.READABLE);
      };
      this.#handles[fd] = listener;
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  openConnection(fd: number, options: ConnectOptions): void {
    if (this.#crashed !== undefined) return; // a crashed host opens nothing: the fd never connects
    if (options.path !== undefined) {
      const socket = this.host.openUnixClient(options.path);
      this.#own(socket, fd);
      this.host.dialPath(socket, options.path);
      return;
    }
    const address = normalizeHost(options.host);
    const socket = this.host.openClient(address, options.port);
    this.#own(socket, fd);
    this.host.dial(socket, address, options.port);
  }

  timeOutConnect(fd: number): boolean {
    const socket = this.#handles[fd];
    return socket instanceof SimSocket && socket.timeOut();
  }

  pendingConnections(listenFd: number): number {
    return this.#listener(listenFd).queue.length;
  }

  accept(listenFd: number, fd: number): void {
    this.world.touch(); // the program is working: not a stall
    const listener = this.#listener(listenFd);
    if (listener.failNextAccept || this.world.chance.decide('acceptEmfile') !== undefined) {
      listener.failNextAccept = false;
      this.world.record(() => `fault accept-emfile port ${listener.port}`);
      throw new ReactorError('EMFILE', 'too many open files', { syscall: 'accept', fd: listenFd });
    }
    const socket = listener.queue.shift() as SimSocket;
    this.#own(socket, fd);
    this.world.record(() => `accept c${socket.connection} fd${fd}`);
  }

  read(fd: number, maxBytes: number): Buffer | null {
    this.world.touch();
    const chunk = this.#socket(fd).read(maxBytes);
    if (chunk !== null && chunk.length > 0) this.world.record(() => `read fd${fd} ${chunk.length}`);
    return chunk;
  }

  write(fd: number, data: Uint8Array): number {
    this.world.touch();
    return this.#socket(fd).write(data);
  }

  shutdown(fd: number): void {
    this.#socket(fd).shutdown();
  }

  openDatagram(fd: number, options: DatagramOptions): Promise<void> {
    if (this.#crashed !== undefined) return Promise.reject(this.#crashed);
    try {
      const socket = this.host.datagrams.bind(options);
      socket.onQueued = () => {
        this.#ready(fd, Readiness.READABLE);
      };
      socket.onWritable = () => {
        this.#ready(fd, Readiness.WRITABLE);
      };
      this.#handles[fd] = socket;
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  receive(fd: number, maxBytes: number): Datagram | null {
    this.world.touch();
    const datagram = this.#datagramSocket(fd).take(maxBytes);
    if (datagram !== null) this.world.record(() => `recvfrom fd${fd} ${datagram.data.length} from ${datagram.address}:${datagram.port}`);
    return datagram;
  }

  send(fd: number, data: Uint8Array, address: string, port: number): number {
    this.world.touch();
    const socket = this.#datagramSocket(fd);
    if (!socket.writable) return 0;
    if (this.#crashed === undefined) this.host.sendDatagram(socket, data, address, port);
    socket.bytesWritten += data.length;
    return data.length;
  }

  openSignals(fd: number, signals: readonly NodeJS.Signals[]): void {
    if (this.#crashed !== undefined) throw this.#crashed;
    this.#signals.set(fd, new PendingSignals(signals));
  }

  readSignals(fd: number): SignalArrival[] | null {
    this.world.touch();
    const pending = this.#signals.get(fd);
    if (pending === undefined) throw new ReactorError('EBADF', `fd ${fd} is not a simulated signal descriptor`, { fd });
    return pending.take();
  }

  close(fd: number): void {
    if (this.#signals.delete(fd)) return;
    const handle = this.#handles[fd];
    this.#handles[fd] = undefined;
    if (handle instanceof SimListener) this.host.listeners.unbind(handle);
    else if (handle instanceof SimDatagramSocket) this.host.datagrams.unbind(handle);
    else if (handle !== undefined) {
      handle.fd = undefined;
      handle.close();
      if (handle.lingering) this.#closed.set(handle, { fd, closedAtMs: this.clock.now() });
    }
  }

  abort(fd: number): void {
    if (this.#signals.delete(fd)) return;
    const handle = this.#handles[fd];
    this.#handles[fd] = undefined;
    if (handle instanceof SimListener) this.host.listeners.unbind(handle);
    else if (handle instanceof SimDatagramSocket) this.host.datagrams.unbind(handle);
    else if (handle !== undefined) {
      this.world.record(() => `abort fd${fd}`);
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
      const [remoteAddress, remotePort] = socket.unix ? [undefined, undefined] : [socket.remoteAddress, socket.remotePort];
      lingering.push({ fd, remoteAddress, remotePort, queuedBytes: socket.sendBytes, closedAtMs });
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
    if (handle === undefined) return this.#signals.get(fd)?.pending === true ? Readiness.READABLE : 0;
    if (handle instanceof SimListener) return handle.queue.length > 0 ? Readiness.READABLE : 0;
    if (handle instanceof SimDatagramSocket) {
      return (handle.queue.length > 0 ? Readiness.READABLE : 0) | (handle.writable ? Readiness.WRITABLE : 0);
    }
    return handle.readiness();
  }

  info(fd: number): HandleInfo {
    if (this.#signals.has(fd)) return signalInfo();
    const handle = this.#handles[fd];
    if (handle instanceof SimDatagramSocket) {
      return datagramInfo({
        localAddress: handle.address,
        localPort: handle.port,
        type: handle.binding.type,
        bytesRead: handle.bytesRead,
        bytesWritten: handle.bytesWritten,
        readBuffered: handle.queue.bytes,
        writeBuffered: handle.unsent,
        droppedDatagrams: handle.queue.dropped,
      });
    }
    if (handle instanceof SimListener) {
      const unix = handle.path !== undefined;
      return {
        kind: 'listener',
        localAddress: unix ? undefined : handle.host,
        localPort: unix ? undefined : handle.port,
        remoteAddress: undefined,
        remotePort: undefined,
        family: unix ? 'unix' : isIPv6(handle.host) ? 'IPv6' : 'IPv4',
        path: handle.path,
        bytesRead: 0,
        bytesWritten: 0,
        readBuffered: 0,
        writeBuffered: 0,
        osFd: undefined,
        droppedConnections: handle.dropped,
        droppedDatagrams: 0,
      };
    }
    const socket = this.#socket(fd);
    if (socket.unix) {
      // As on real sockets, a Unix stream has no addresses or ports: the path (the listener's) says where.
      return {
        ...this.#streamCounts(socket),
        localAddress: undefined,
        localPort: undefined,
        remoteAddress: undefined,
        remotePort: undefined,
        family: 'unix',
        path: socket.remoteAddress,
      };
    }
    return {
      ...this.#streamCounts(socket),
      localAddress: socket.localAddress,
      localPort: socket.localPort,
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      family: isIPv6(socket.remoteAddress) ? 'IPv6' : 'IPv4',
      path: undefined,
    };
  }

  /** What `info` says of any stream, TCP or Unix. */
  #streamCounts(socket: SimSocket): Omit<HandleInfo, 'localAddress' | 'localPort' | 'remoteAddress' | 'remotePort' | 'family' | 'path'> {
    return {
      kind: 'stream',
      bytesRead: socket.bytesRead,
      bytesWritten: socket.bytesWritten,
      readBuffered: socket.recvBytes,
      writeBuffered: socket.sendBytes,
      osFd: undefined,
      droppedConnections: 0,
      droppedDatagrams: 0,
    };
  }

  /** Connections a listener dropped because its backlog was full. */
  droppedConnections(listenFd: number): number {
    return this.#listener(listenFd).dropped;
  }

  sleep(deadlineMs: number, onDeadline: () => void): void {
    const crashed = this.#crashed;
    if (crashed !== undefined) {
      queueMicrotask(() => this.#sink?.fail(crashed)); // after the reactor has finished arming this poll
      return;
    }
    this.world.sleep(this.#poll, deadlineMs, onDeadline);
  }

  /** @internal Its host crashed: its sockets vanished (see `host.crash`); the waiting poll, and every later one, rejects. */
  hostCrashed(error: ReactorError): void {
    this.#crashed = error;
    this.#closed.clear(); // its handles stay, inert (their sockets vanished), so the program can still close them
    for (const pending of this.#signals.values()) pending.clear(); // its process is gone, and what it had not read
    this.world.removePoll(this.#poll);
    this.#sink?.fail(error);
  }

  cancelSleep(): void {
    this.world.cancelSleep(this.#poll);
  }

  /**
   * The reactor closed (it closed every fd first). A world made for this
   * backend ends with it: what still waits on it rejects with
   * `ERR_REACTOR_CLOSED`. In a shared world the reactor just leaves it.
   */
  dispose(): Promise<void> {
    if (this.#disposed) return Promise.resolve();
    this.#disposed = true;
    this.host.disown(this);
    this.world.removePoll(this.#poll);
    this.#closed.clear();
    this.#signals.clear();
    return this.#ownsWorld ? this.world.close() : Promise.resolve();
  }

  /* ---- Internal ---------------------------------------------------------- */

  /** `socket` becomes reactor fd `fd`: it reports to the reactor and lingers as the reactor says. */
  #own(socket: SimSocket, fd: number): void {
    socket.owner = this.#fdOwner(fd);
    socket.fd = fd;
    socket.lingerMs = this.#lingerMs;
    this.#handles[fd] = socket;
  }

  #fdOwner(fd: number): SimSocketOwner {
    return {
      socketEvent: (_socket, edges) => {
        this.#ready(fd, edges);
      },
    };
  }

  /** News for the reactor about `fd`; if it ends a waiting poll, the world hears so (it holds its clock for it). */
  #ready(fd: number, edges: number): void {
    if (this.#sink?.ready(fd, edges) === true) this.world.news(this.#poll);
  }

  #socket(fd: number): SimSocket {
    const handle = this.#handles[fd];
    if (!(handle instanceof SimSocket)) throw new ReactorError('EBADF', `fd ${fd} is not a simulated stream`, { fd });
    return handle;
  }

  #datagramSocket(fd: number): SimDatagramSocket {
    const handle = this.#handles[fd];
    if (!(handle instanceof SimDatagramSocket)) throw new ReactorError('EBADF', `fd ${fd} is not a simulated datagram socket`, { fd });
    return handle;
  }

  #listener(fd: number): SimListener {
    const handle = this.#handles[fd];
    if (!(handle instanceof SimListener)) throw new ReactorError('EBADF', `fd ${fd} is not a simulated listener`, { fd });
    return handle;
  }
}
