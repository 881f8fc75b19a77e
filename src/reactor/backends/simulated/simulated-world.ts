import { ManualClock } from '../../../timers';
import { ReactorError } from '../../reactor-error';
import { Chance, type ChanceKind, type Schedule } from './chance';
import { EventQueue, type Lane, type Scheduled } from './event-queue';
import { checkFaultRates, type FaultRates } from './fault-rates';
import { seedFromEnvironment } from './seed-from-environment';
import { SeededRandom } from './seeded-random';
import { checkLinkOptions, type LinkOptions, SimLink, SimPath } from './sim-link';
import type { SimContext, SocketBuffers } from './sim-socket';
import type { PeerNetwork } from './simulated-peer';
import { SimulatedHost, type SimulatedHostOptions } from './simulated-host';
import { StallWatch, type Waiting } from './stall-watch';
import { payloadFormatter, type TraceOptions } from './trace-options';
import { VirtualTime, type VirtualTimeOptions } from './virtual-time';

/** Node's own, taken before virtual time can replace them: the simulation's steps are real turns of Node's loop. */
const { setImmediate: realSetImmediate, clearImmediate: realClearImmediate } = globalThis;

/** How long (real time) a simulation may sit with nothing to do while something waits, before the wait fails. */
const STALL_TIMEOUT_MS = 250;
/** The chance that exploration postpones an event behind others due at the same time. */
const REORDER_RATE = 0.5;

/** Options of {@link SimulatedWorld} (and of a `SimulatedBackend` that makes a world of its own). */
export interface SimulatedWorldOptions {
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
  /** One-way latency of every link (unless `world.link` says otherwise), in ms. Default 0.1. */
  latencyMs?: number;
  /**
   * Bytes per millisecond each way that one connection sends at, on every
   * link; default Infinity (latency only). A link's shared capacity is
   * `world.link(a, b, { bandwidth })`.
   */
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
   * (see "Stalls" on `SimulatedBackend`). Default 250; `Infinity`
   * never fails them.
   */
  stallTimeoutMs?: number;
  /**
   * Puts the whole program on the simulated clock while the world runs:
   * `setTimeout`, `setInterval`, `timers/promises`, `Date`,
   * `performance.now()` and `process.hrtime` follow it, and a pending timer
   * is an event of the simulation (see `VirtualTime`). Put back when the
   * world closes. Default false. `{ epochMs }` sets what `Date.now()`
   * says at simulated time 0 (default 2026-01-01T00:00:00Z).
   */
  virtualTime?: boolean | VirtualTimeOptions;
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
  /**
   * Connections a full backlog turned away: SYNs dropped (each retransmission
   * counts; the client retries, as on Linux) and Unix connects failed with
   * `EAGAIN` (they do not retry).
   */
  dropped: number;
}

/**
 * @internal One reactor's poll as the world's pump sees it (a
 * `SimulatedBackend` keeps one): time runs on freely only while every
 * reactor of the world sleeps in its poll, and stands still while one has
 * news to dispatch.
 */
export interface PollState {
  sleeping: boolean;
  deadlineMs: number;
  onDeadline: (() => void) | undefined;
  /** The reactor has news to dispatch: time stands still until it sleeps again or resolves its poll. */
  awaiting: boolean;
  /** Rejects the waiting poll (a stall). */
  fail(error: Error): void;
}

/** A host, by itself or by one of its addresses or its name. */
export type HostRef = SimulatedHost | string;

/**
 * A simulated world: hosts with their addresses and their reactors, links
 * between them with latency, jitter, bandwidth and loss, and one virtual
 * clock for all of it. Every host, link and reactor of a world runs on one
 * agenda, so one seed gives one run of the whole world, with one trace.
 *
 * - `world.host('10.0.0.2')` adds a host (it also has its loopback,
 *   127.0.0.1 and ::1); `host.backend()` is a backend for a reactor on it
 *   (a host can run several); `host.connect(port, { host })` and
 *   `host.listen(port)` open test peers there.
 * - A connection to one of a host's addresses reaches that host's
 *   listeners; to a loopback address, its own; to an address no host has,
 *   nothing answers (the SYN is lost, as toward a firewall that drops).
 * - `world.link(a, b, options)` sets a link's latency, jitter, bandwidth
 *   and loss; `partition(a, b)` and `heal(a, b)` cut and restore it;
 *   `hold(a, b)` and `release(a, b)` keep its packets and then let them go
 *   (see {@link LinkOptions} and `SimLink` for what TCP shows above each).
 *
 * Time runs as for one `SimulatedBackend` (see there): while every reactor
 * of the world waits in its poll, straight to the next event or deadline;
 * otherwise one event per turn of Node's event loop.
 *
 * `new SimulatedBackend(options)` makes a world of one host of its own;
 * `sim.world` is it.
 *
 * @example
 * ```ts
 * import { Reactor, SimulatedWorld } from 'tsreactor';
 *
 * const world = new SimulatedWorld({ seed: 7 });
 * const server = world.host('10.0.0.2');
 * const client = world.host('10.0.0.3');
 * world.link(server, client, { latencyMs: 10 });
 * const reactor = new Reactor({ backend: server.backend() });
 * const fd = await reactor.listen({ host: '0.0.0.0', port: 80 });
 * const peer = client.connect(80, { host: '10.0.0.2' });
 * await peer.connected; // 20 ms of simulated time: SYN there, SYN-ACK back
 * world.partition(server, client); // from now on nothing crosses
 * ```
 */
export class SimulatedWorld {
  readonly clock: ManualClock;
  readonly random: SeededRandom;
  readonly stats: SimulatedStats = { events: 0, segments: 0, bytes: 0, connections: 0, refused: 0, dropped: 0 };
  /** @internal */
  readonly faults: FaultRates;
  /** @internal */
  readonly buffers: SocketBuffers;
  /** @internal The network services of sockets. */
  readonly context: SimContext;
  /** @internal What peers need. */
  readonly peerNetwork: PeerNetwork;
  /** @internal */
  readonly chance: Chance;
  /** @internal */
  readonly watch: StallWatch;
  readonly #defaultLink: LinkOptions;
  readonly #queue: EventQueue;
  readonly #trace: string[] | undefined;
  readonly #explore: boolean;
  readonly #hosts: SimulatedHost[] = [];
  readonly #byAddress = new Map<string, SimulatedHost>();
  /** Links by the names of their hosts, `a|b` in sorted order; paths by `from>to`. */
  readonly #links = new Map<string, SimLink>();
  readonly #paths = new Map<string, SimPath>();
  readonly #polls = new Set<PollState>();
  #sleeping = 0;
  #awaiting = 0;
  /** The sleeping poll due first, which limits how far time may run (undefined: none sleeps with a deadline). */
  #first: PollState | undefined;
  #connections = 0;
  #pumpImmediate: NodeJS.Immediate | undefined;
  /** Counts wake-ups of a test's waiters: when it moves, let the test's code run before time moves on. */
  #testWakes = 0;
  /** Counts everything that happens (events scheduled or run, waiters woken), for the stall watch. */
  #activity = 0;
  /** The conditions of `waitUntil` still waited for, checked once per turn of Node's event loop. */
  readonly #conditions: { what: string; holds: () => boolean; resolve: () => void; reject: (err: Error) => void }[] = [];
  #conditionsImmediate: NodeJS.Immediate | undefined;
  #disposed = false;
  readonly #autoAdvance: boolean;
  /** The program's timers and clocks, when they follow the simulated clock. */
  readonly #virtualTime: VirtualTime | undefined;
  /** The pump let the program's pending immediates run before moving the clock (once per step). */
  #letImmediatesRun = false;

  constructor(options: SimulatedWorldOptions = {}) {
    const { seed = seedFromEnvironment() ?? 1, startMs = 0, latencyMs = 0.1, bandwidth = Infinity } = options;
    const { sendBufferSize = 64 * 1024, receiveBufferSize = 64 * 1024 } = options;
    this.#defaultLink = checkLinkOptions({}, { latencyMs, bandwidth: Infinity, jitterMs: 0, loss: 0 });
    if (!(bandwidth > 0)) throw new RangeError(`'bandwidth' must be a number of bytes per ms > 0, got ${String(bandwidth)}`);
    for (const [name, value] of [
      ['sendBufferSize', sendBufferSize],
      ['receiveBufferSize', receiveBufferSize],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`'${name}' must be a whole number >= 1, got ${String(value)}`);
    }
    this.buffers = { sendBufferSize, receiveBufferSize, bandwidth };
    this.faults = checkFaultRates(options.faults);
    this.clock = new ManualClock(startMs);
    this.random = new SeededRandom(seed);
    this.#trace = options.trace === undefined || options.trace === false ? undefined : [];
    const payload = payloadFormatter(options.trace);
    this.#autoAdvance = options.autoAdvance ?? true;
    const stallTimeoutMs = options.stallTimeoutMs ?? STALL_TIMEOUT_MS;
    if (!(stallTimeoutMs > 0))
      throw new RangeError(`'stallTimeoutMs' must be a number of ms > 0 (Infinity: never), got ${String(stallTimeoutMs)}`);
    this.#explore = options.explore === true || options.schedule !== undefined;
    this.chance = new Chance(this.random, { ...this.faults, reorder: options.explore === true ? REORDER_RATE : 0 }, options.schedule);
    this.#queue = new EventQueue(this.#explore);
    this.watch = new StallWatch(
      {
        activity: () => this.#activity,
        idle: () =>
          this.#queue.size === (this.#virtualTime?.unrefPending ?? 0) &&
          this.#pumpImmediate === undefined &&
          this.#awaiting === 0 &&
          this.#first === undefined,
        pollWaitsForever: () => this.#sleeping > 0 && this.#first === undefined,
        nowMs: () => this.clock.now(),
        traceTail: () =>
          this.#trace === undefined ? '(trace off: new SimulatedBackend({ trace: true }) records one)' : this.#trace.slice(-8).join('\n  '),
        failPoll: (error) => {
          for (const poll of this.#polls) if (poll.sleeping) poll.fail(error);
        },
      },
      stallTimeoutMs,
    );
    this.context = {
      now: () => this.clock.now(),
      at: (time, run, lane) => this.at(time, run, lane),
      chance: this.chance,
      faults: this.faults,
      trace: (line) => this.record(line),
      payload,
      countSegment: (bytes) => {
        this.stats.segments++;
        this.stats.bytes += bytes;
      },
    };
    this.peerNetwork = {
      after: (delayMs, run, lane) => this.at(this.clock.now() + delayMs, run, lane),
      wakeTest: () => this.wakeTest(),
      waiting: (peer) => this.watch.waiting(peer),
      decide: (kind: ChanceKind) => this.chance.decide(kind),
      faults: this.faults,
    };
    const virtualTime = options.virtualTime ?? false;
    this.#virtualTime = virtualTime === false ? undefined : new VirtualTime(this, virtualTime === true ? {} : virtualTime);
    this.#virtualTime?.install(); // last: nothing after it can throw and leave the globals replaced
  }

  /** Every event and byte so far, one line each (empty unless created with `trace: true`). */
  get trace(): readonly string[] {
    return this.#trace ?? [];
  }

  /**
   * Every chance decision taken so far that happened (faults, reorderings,
   * link draws), in order: a world made with the same options and
   * `schedule: world.schedule` replays the run without the seed. See {@link Schedule}.
   */
  get schedule(): Schedule {
    return this.chance.taken;
  }

  /* ---- Hosts and links ---------------------------------------------------- */

  /**
   * Adds a host with `address` (or the addresses and name of `options`);
   * every host also has its loopback (127.0.0.1, and ::1 unless
   * `ipv6: false`). An address another host has throws `EADDRINUSE`.
   */
  host(address: string | SimulatedHostOptions): SimulatedHost {
    const options = typeof address === 'string' ? { addresses: [address] } : address;
    const host = new SimulatedHost(this, options);
    const owns = host.addresses.filter((own) => !isLoopback(own));
    for (const own of owns) {
      if (this.#byAddress.has(own)) {
        throw new ReactorError(
          'EADDRINUSE',
          `the address ${own} belongs to host ${(this.#byAddress.get(own) as SimulatedHost).name} already`,
          {
            address: own,
          },
        );
      }
    }
    if (this.#hosts.some((other) => other.name === host.name))
      throw new RangeError(`'name' must be unique in the world: ${host.name} is taken`);
    for (const own of owns) this.#byAddress.set(own, host);
    this.#hosts.push(host);
    return host;
  }

  /** The hosts, in the order they were added. */
  get hosts(): readonly SimulatedHost[] {
    return this.#hosts;
  }

  /** The host that has `address` (or is named so), if any. */
  hostOf(address: string): SimulatedHost | undefined {
    return this.#byAddress.get(address) ?? this.#hosts.find((host) => host.name === address);
  }

  /**
   * Sets the properties of the link between `a` and `b` (both
   * directions); what is left out keeps its value. A host's loopback is
   * `world.link(a, a, ...)`. Takes effect for packets sent from now on.
   */
  link(a: HostRef, b: HostRef, options: Partial<LinkOptions>): void {
    const link = this.#link(a, b);
    link.options = checkLinkOptions(options, link.options);
  }

  /**
   * Cuts the link between `a` and `b`: from now on every packet is lost.
   * Connections across it stall (TCP sends again after 200 ms, 400 ms ...,
   * and gives up with `ETIMEDOUT` after 15 tries, about 15 minutes, as
   * Linux); connects are not answered (SYNs sent again after 1, 2, 4 s ...).
   * Nothing is reported to either side: it is a silence, not a reset.
   */
  partition(a: HostRef, b: HostRef): void {
    const link = this.#link(a, b);
    link.partitioned = true;
    this.record(() => `partition ${link.name}`);
  }

  /** Restores a partitioned link: the next retransmissions get through. */
  heal(a: HostRef, b: HostRef): void {
    const link = this.#link(a, b);
    link.partitioned = false;
    this.record(() => `heal ${link.name}`);
  }

  /** Holds every packet on the link between `a` and `b` until `release`: nothing lost, nothing delivered. */
  hold(a: HostRef, b: HostRef): void {
    const link = this.#link(a, b);
    link.held = true;
    this.record(() => `hold ${link.name}`);
  }

  /** Delivers what the link held, now and in order, and carries packets again. */
  release(a: HostRef, b: HostRef): void {
    const link = this.#link(a, b);
    this.record(() => `release ${link.name} (${link.holding} held)`);
    link.release();
  }

  /** Crashes `host` (see `SimulatedHost.crash`): its sockets vanish without a word, its reactors stop. */
  crash(host: HostRef): void {
    this.#resolve(host, 'host').crash();
  }

  /** Boots a crashed `host` again, with nothing open (see `SimulatedHost.restart`). */
  restart(host: HostRef): void {
    this.#resolve(host, 'host').restart();
  }

  /** @internal The host a packet to `address`, sent from `from`, reaches (undefined: no host has it). */
  destination(address: string, from: SimulatedHost): SimulatedHost | undefined {
    if (isLoopback(address)) return from;
    return this.#byAddress.get(address);
  }

  /** @internal The direction `from` → `to` of their link. */
  path(from: SimulatedHost, to: SimulatedHost): SimPath {
    const key = `${from.name}>${to.name}`;
    let path = this.#paths.get(key);
    if (path === undefined) {
      path = new SimPath(this.#link(from, to), this.context, to);
      this.#paths.set(key, path);
    }
    return path;
  }

  /** @internal A number for the next connection, unique in the world. */
  nextConnection(): number {
    this.stats.connections++;
    return ++this.#connections;
  }

  #link(a: HostRef, b: HostRef): SimLink {
    const first = this.#resolve(a, 'a');
    const second = this.#resolve(b, 'b');
    const [x, y] = first.name <= second.name ? [first, second] : [second, first];
    const key = `${x.name}|${y.name}`;
    let link = this.#links.get(key);
    if (link === undefined) {
      link = new SimLink(x === y ? `${x.name} (loopback)` : `${x.name} <-> ${y.name}`, this.#defaultLink);
      this.#links.set(key, link);
    }
    return link;
  }

  #resolve(ref: HostRef, name: string): SimulatedHost {
    const host = typeof ref === 'string' ? this.hostOf(ref) : ref;
    if (host === undefined || host.world !== this) {
      throw new RangeError(
        `'${name}' must be a host of this world (a SimulatedHost, an address or a name), got ${typeof ref === 'string' ? ref : `host ${ref.name} of another world`}`,
      );
    }
    return host;
  }

  /* ---- Waiting for the world -------------------------------------------- */

  /**
   * Resolves once `condition` holds: server-side state the test cannot
   * await otherwise (`loop.registry.size === 3`, a counter of the
   * server's). It is checked once per turn of Node's event loop, while
   * the simulation runs on. Rejects with `ERR_SIM_STALLED` if the
   * simulation stalls first (nothing due, nothing can come), naming `what`.
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
      this.watch.waiting(this.#conditionWaits);
      this.#conditionsImmediate ??= realSetImmediate(this.#checkConditions);
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
    if (woke) this.wakeTest();
    if (this.#conditions.length > 0) this.#conditionsImmediate = realSetImmediate(this.#checkConditions);
  };

  /** The conditions, as the stall watch sees them. */
  readonly #conditionWaits: Waiting = {
    waits: () => this.#conditions.map((condition) => `sim.waitUntil waits for ${condition.what}`),
    failWaits: (error) => {
      for (const condition of this.#conditions.splice(0)) condition.reject(error);
    },
  };

  /* ---- Stepping by hand ------------------------------------------------- */

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

  /**
   * Ends the simulation: what still waits on it (peers' waits,
   * `waitUntil`) rejects with `ERR_REACTOR_CLOSED`, and nothing more
   * happens. Close the reactors first. Idempotent.
   */
  close(): Promise<void> {
    if (this.#disposed) return Promise.resolve();
    this.#disposed = true;
    this.#virtualTime?.uninstall();
    this.watch.dispose(
      new ReactorError('ERR_REACTOR_CLOSED', 'the simulation ended (its reactor closed) while this waited', { syscall: 'wait' }),
    );
    if (this.#conditionsImmediate !== undefined) realClearImmediate(this.#conditionsImmediate);
    this.#conditionsImmediate = undefined;
    for (const poll of this.#polls) this.cancelSleep(poll);
    if (this.#pumpImmediate !== undefined) realClearImmediate(this.#pumpImmediate);
    this.#pumpImmediate = undefined;
    this.#queue.clear();
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /* ---- The reactors' polls (internal) ----------------------------------- */

  /** @internal A reactor joined the world (its backend attached). */
  addPoll(poll: PollState): void {
    this.#polls.add(poll);
  }

  /** @internal A reactor left the world (its backend disposed). */
  removePoll(poll: PollState): void {
    this.cancelSleep(poll);
    this.#polls.delete(poll);
    // Time may run freely again if every reactor left sleeps.
    if (this.#queue.size > 0) this.#schedulePump();
  }

  /** @internal A poll waits, until `deadlineMs` at most. */
  sleep(poll: PollState, deadlineMs: number, onDeadline: () => void): void {
    this.#activity++;
    if (!poll.sleeping) this.#sleeping++;
    poll.sleeping = true;
    poll.deadlineMs = deadlineMs;
    poll.onDeadline = onDeadline;
    this.#findFirst();
    if (poll.awaiting) this.#awaiting--;
    poll.awaiting = false;
    this.#schedulePump();
    if (deadlineMs === Infinity && this.#autoAdvance) this.watch.pollSleeps();
  }

  /** @internal A poll stopped waiting (it resolved, or its reactor closed). */
  cancelSleep(poll: PollState): void {
    if (poll.sleeping) this.#sleeping--;
    poll.sleeping = false;
    poll.deadlineMs = Infinity;
    poll.onDeadline = undefined;
    if (this.#first === poll) this.#findFirst();
    if (poll.awaiting) {
      poll.awaiting = false;
      this.#awaiting--;
      if (this.#queue.size > 0) this.#schedulePump();
    }
  }

  /** @internal The reactor of `poll` has news to dispatch: time stands still until it sleeps again or resolves. */
  news(poll: PollState): void {
    if (poll.awaiting) return;
    poll.awaiting = true;
    this.#awaiting++;
  }

  /** @internal The program called into the simulation (read, write, accept): it is working, not stalled. */
  touch(): void {
    this.#activity++;
  }

  /** @internal A test's waiter woke: let the test's code run before time moves on. */
  wakeTest(): void {
    this.#testWakes++;
    this.#activity++;
  }

  /** @internal Records a trace line, if tracing (the line is built only then). */
  record(line: () => string): void {
    this.#trace?.push(`${this.clock.now().toFixed(3)} ${line()}`);
  }

  /** @internal Schedules `run` at `time` in `lane`; exploring, a chance decision may postpone it behind others due with it. */
  at(time: number, run: () => void, lane: Lane): Scheduled | undefined {
    if (this.#disposed) return undefined;
    this.#activity++;
    const item = this.#queue.push(Math.max(time, this.clock.now()), run, lane, this.#explore ? (this.chance.decide('reorder') ?? 0) : 0);
    this.#schedulePump();
    return item;
  }

  /** @internal Takes back an event scheduled with `at` that has not run (a cleared timer). */
  cancel(item: Scheduled): void {
    this.#queue.cancel(item);
  }

  #schedulePump(): void {
    if (this.#pumpImmediate !== undefined || this.#disposed) return;
    if (!this.#autoAdvance && this.#sleeping === 0) return; // a harness steps it (run, settle), or a poll does
    this.#pumpImmediate = realSetImmediate(this.#pump);
  }

  /** Finds the sleeping poll due first again (see `#first`): after any poll's sleep began or ended. */
  #findFirst(): void {
    let first: PollState | undefined;
    for (const poll of this.#polls) if (poll.sleeping && poll.deadlineMs < (first?.deadlineMs ?? Infinity)) first = poll;
    this.#first = first;
  }

  /**
   * One step of the simulation: run what is due; then move the clock on:
   * while every reactor sleeps in its poll, event by event up to the
   * earliest poll deadline; otherwise one event. It stops early when a
   * reactor has news to dispatch (that reactor resumes it by sleeping again
   * or ending its poll) or a test's waiter woke (it resumes in the next
   * step, after the test's code ran).
   */
  readonly #pump = (): void => {
    this.#pumpImmediate = undefined;
    const testWakes = this.#testWakes;
    for (;;) {
      this.#runDue();
      if (this.#awaiting > 0) return;
      if (this.#sleeping === 0 && !this.#autoAdvance) return;
      if (this.#testWakes !== testWakes) break;
      const virtualTime = this.#virtualTime;
      if (virtualTime !== undefined) {
        // The program's immediates run at the time they were scheduled at: this step waits behind them, once.
        if (virtualTime.immediatesPending > 0 && !this.#letImmediatesRun) {
          this.#letImmediatesRun = true;
          break;
        }
        this.#letImmediatesRun = false;
        // Only unref'd timers left, and nothing else keeps the world going: it stops, as Node would exit.
        if (this.#queue.size === virtualTime.unrefPending && this.#sleeping === 0 && !this.watch.watching()) return;
      }
      const next = this.#queue.peekTime();
      const first = this.#first;
      if (first !== undefined && next > first.deadlineMs) {
        this.clock.set(Math.max(this.clock.now(), first.deadlineMs));
        const onDeadline = first.onDeadline;
        this.cancelSleep(first);
        onDeadline?.();
        // What is still due later goes on by itself (autoAdvance, or other polls asleep) unless this one sleeps again first.
        if (this.#queue.size > 0 || this.#sleeping > 0) this.#schedulePump();
        return;
      }
      if (next === Infinity) return; // idle: the next scheduled event starts a pump again
      this.clock.set(next);
      if (this.#sleeping === 0 || this.#sleeping < this.#polls.size) {
        this.#runDue();
        break;
      }
    }
    if (this.#queue.size > 0 || this.#sleeping > 0) this.#schedulePump();
  };

  #runDue(): void {
    const now = this.clock.now();
    while (this.#queue.peekTime() <= now) {
      this.#activity++;
      (this.#queue.pop() as () => void)();
      this.stats.events++;
    }
  }
}

/** 127.0.0.0/8, ::1, and the wildcards (a connect to 0.0.0.0 or :: reaches the host itself, as on Linux). */
function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address === '0.0.0.0' || address === '::';
}
