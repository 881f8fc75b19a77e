import { Channels } from '../diagnostics';
import { type Event, Events, Interest, Reactor, ReactorError } from '../reactor';
import { describe, optionsObject } from '../reactor/options-object';
import type { TimerWheel } from '../timers';
import { AcceptGate, type ServerEntry } from './accept-gate';
import { type CloseReason, Connection, type ConnectionHandlers, type ConnectionLoop } from './connection';
import { ConnectionRegistry, type MaxConnectionsPolicy } from './connection-registry';
import { type DeferHandle, DeferredQueue, type DeferPriority } from './deferred-queue';
import { type DescriptorReportEntry, descriptorReport } from './descriptor-report';
import { type Logger, silentLogger } from './logger';
import { GracefulShutdown, type ShutdownReport } from './graceful-shutdown';
import { drainChannel, LoopChannel } from './loop-channel';
import { MemoryBudget } from './memory-budget';
import { SignalWatch } from './signal-watch';
import { Metrics } from './metrics';
import { type ServerSocket, type ServerSocketConfig, SocketManager } from './socket-manager';

/** Options of {@link EventLoop}. */
export interface EventLoopOptions {
  /** The reactor to run on (the loop takes over its `poll` and closes it). Default: a new one on real sockets. */
  reactor?: Reactor;
  /** Handlers for connections whose server socket was added without its own. */
  handlers?: ConnectionHandlers;
  /** A callback threw: here is the error (and its connection, which is then closed). Default: the logger. */
  onError?: (error: unknown, connection?: Connection) => void;
  /** A callback running longer than this is reported (channel, metrics, logger). Default 50 ms. */
  slowCallbackMs?: number;
  /** See {@link ConnectionRegistry}. Default Infinity. */
  maxConnections?: number;
  maxConnectionsPolicy?: MaxConnectionsPolicy;
  /** Close connections silent this long. Default 0: never. */
  idleTimeoutMs?: number;
  /** Per connection: queued bytes past which its reading pauses. Default 256 KiB. */
  connectionHighWaterMark?: number;
  /**
   * For all connections together: queued bytes past which reading pauses on
   * the connections holding the most, until the total is back under half.
   * Default Infinity.
   */
  maxBufferedBytes?: number;
  /** Keep connections half-open after the peer's FIN. Default false: end ours too. */
  allowHalfOpen?: boolean;
  /** After our FIN, how long to wait for the peer's before closing anyway. Default 5000 ms. */
  lingerMs?: number;
  /** Deferred callbacks run per turn of the loop, at most. Default 1024. */
  deferBudget?: number;
  /** Events per poll. Default 1024. */
  eventsCapacity?: number;
  /** After an accept fails (EMFILE, say), try again after this long, or sooner if a connection closes. Default 100 ms. */
  acceptRetryMs?: number;
  /** Default: silent. */
  logger?: Logger;
}

/** The loop's lifecycle. */
export type EventLoopState = 'idle' | 'running' | 'closing' | 'closed';

type Token = Connection | ServerEntry | LoopChannel | SignalWatch;

/** A callback invoked with `.call`: the application's handlers, and deferred work. */
type Callable = (this: unknown, a?: unknown, b?: unknown, c?: unknown) => void;

function isServerEntry(token: unknown): token is ServerEntry {
  return typeof token === 'object' && token !== null && !(token instanceof Connection) && 'paused' in token;
}

const CONNECTION_INTEREST = Interest.READABLE | Interest.WRITABLE;

/** A function, not a property test: the state changes under calls that TypeScript cannot see into. */
function isClosed(connection: Connection): boolean {
  return connection.state === 'closed';
}

/**
 * A callback event loop for servers, on the reactor: it accepts connections,
 * reads and writes them (edge-triggered, partial-write safe), calls your
 * handlers, and keeps the rest in hand: idle timeouts, connection limits, a
 * memory budget, deferred work, slow and failing callbacks, metrics, and a
 * graceful shutdown.
 *
 * Every handler runs isolated: if it throws, the error goes to `onError`,
 * the connection it belongs to is closed, and the loop goes on. Each is
 * timed; one slower than `slowCallbackMs` is reported.
 *
 * Deferred work (`defer`) runs after the current batch of events, by
 * priority (`'high'`, `'normal'`, `'low'`; FIFO within one), at most
 * `deferBudget` per turn, shared 4:2:1 so low priority always moves.
 *
 * @example
 * ```ts
 * import { EventLoop } from 'tsreactor';
 *
 * const loop = new EventLoop({ idleTimeoutMs: 30_000 });
 * await loop.listen([{ host: '::', port: 7007 }], {
 *   onData(conn, chunk) {
 *     conn.send(chunk); // echo
 *   },
 * });
 * loop.handleSignals({ timeoutMs: 5_000 }); // Ctrl-C: drain, then exit
 * await loop.run();
 * ```
 */
export class EventLoop {
  readonly reactor: Reactor<Token>;
  readonly socketManager: SocketManager;
  readonly registry: ConnectionRegistry;
  readonly metrics: Metrics;
  readonly #options: Required<
    Omit<EventLoopOptions, 'reactor' | 'handlers' | 'onError' | 'maxConnections' | 'maxConnectionsPolicy' | 'idleTimeoutMs'>
  >;
  #handlers: ConnectionHandlers;
  readonly #onError: ((error: unknown, connection?: Connection) => void) | undefined;
  readonly #logger: Logger;
  readonly #servers = new Map<number, ServerEntry>();
  #nextConnectionId = 1;
  /** Connections lost in the backend by server sockets no longer served. */
  #retiredDrops = 0;
  readonly #deferred = new DeferredQueue();
  readonly #events: Events<Token>;
  readonly #connectionLoop: ConnectionLoop;
  #state: EventLoopState = 'idle';
  #stopRequested = false;
  #running: Promise<void> | undefined;
  /** Connections active during the current batch: their idle timers are re-armed once, after it. */
  #touched: Connection[] = [];
  readonly #budget: MemoryBudget;
  #closing: Promise<ShutdownReport> | undefined;
  readonly #shutdown: GracefulShutdown;
  /** True while a batch of events is being handled (activity is then noted, and acted on after it). */
  #dispatching = false;
  readonly #gate: AcceptGate;
  readonly #channels = new Set<LoopChannel>();
  /** Delivers one channel message: timed and isolated, as every callback. */
  readonly #deliver = (handler: (message: unknown) => void, message: unknown): void => {
    this.#call(undefined, 'channel', handler, undefined, message);
  };

  constructor(options?: EventLoopOptions) {
    options = optionsObject(options, 'options');
    if (options.reactor !== undefined && !(options.reactor instanceof Reactor))
      throw new TypeError(`'reactor' must be a Reactor, got ${describe(options.reactor)}`);
    this.reactor = (options.reactor ?? new Reactor()) as Reactor<Token>;
    this.socketManager = new SocketManager(this.reactor);
    this.#options = {
      slowCallbackMs: options.slowCallbackMs ?? 50,
      connectionHighWaterMark: options.connectionHighWaterMark ?? 256 * 1024,
      maxBufferedBytes: options.maxBufferedBytes ?? Infinity,
      allowHalfOpen: options.allowHalfOpen ?? false,
      lingerMs: options.lingerMs ?? 5_000,
      deferBudget: options.deferBudget ?? 1024,
      eventsCapacity: options.eventsCapacity ?? 1024,
      acceptRetryMs: options.acceptRetryMs ?? 100,
      logger: options.logger ?? silentLogger,
    };
    for (const name of [
      'slowCallbackMs',
      'connectionHighWaterMark',
      'maxBufferedBytes',
      'lingerMs',
      'deferBudget',
      'acceptRetryMs',
    ] as const) {
      const value = this.#options[name];
      if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`'${name}' must be a number > 0, got ${describe(value)}`);
    }
    this.#handlers = checkHandlers(options.handlers) ?? {};
    this.#onError = options.onError;
    this.#logger = this.#options.logger;
    this.#events = new Events<Token>(this.#options.eventsCapacity);
    this.registry = new ConnectionRegistry(this.reactor.timers, this.#onIdle, {
      maxConnections: options.maxConnections,
      maxConnectionsPolicy: options.maxConnectionsPolicy,
      idleTimeoutMs: options.idleTimeoutMs,
    });
    this.metrics = new Metrics(
      this.reactor.stats,
      () => this.registry.size,
      () => this.#backendDrops(),
    );
    this.#gate = new AcceptGate({
      reactor: this.reactor,
      registry: this.registry,
      metrics: this.metrics,
      socketManager: this.socketManager,
      logger: this.#logger,
      servers: this.#servers,
      acceptRetryMs: this.#options.acceptRetryMs,
      closing: () => this.#state === 'closing' || this.#state === 'closed',
      serve: (fd, entry) => this.#serveAccepted(fd, entry),
    });
    this.#shutdown = new GracefulShutdown({
      reactor: this.reactor,
      registry: this.registry,
      logger: this.#logger,
      stopAccepting: () => {
        this.#gate.stop();
        for (const fd of [...this.#servers.keys()]) this.removeServerSocket(fd);
      },
      handOverInput: (connections) => {
        this.#dispatching = true;
        for (const connection of connections) if (connection.reading) connection.readAvailable();
        this.#dispatching = false;
        this.#rearmIdleTimers();
      },
      askToFinish: (connection) => {
        if (connection.handlers.onShutdown === undefined) connection.end();
        else this.#connectionLoop.callHandler(connection, 'onShutdown');
      },
      forceAll: () => this.#forceAll(),
      serveUntil: async (done, finished) => {
        // The loop must run until everything has closed, whatever stop() did before.
        this.#stopRequested = false;
        while (!finished() && this.reactor.state === 'open') {
          if (this.#running === undefined) void this.run();
          await Promise.race([done, this.#running]);
        }
      },
      stopAndClose: async () => {
        this.#stopRequested = true;
        await this.reactor.close();
        this.#closeChannels();
        await this.#running;
      },
    });
    this.#budget = new MemoryBudget(this.#options.maxBufferedBytes, this.registry, this.metrics, this.#logger);
    this.#connectionLoop = {
      reactor: this.reactor,
      highWaterMark: this.#options.connectionHighWaterMark,
      allowHalfOpen: this.#options.allowHalfOpen,
      nextConnectionId: () => this.#nextConnectionId++,
      now: () => this.reactor.clock.now(),
      interestChanged: (conn) => this.#interestChanged(conn),
      bufferedChanged: (delta) => this.#budget.changed(delta),
      activity: (conn, read, written) => this.#activity(conn, read, written),
      finish: (conn, reason, error) => this.#finish(conn, reason, error),
      lingering: (conn) => {
        conn.lingerTimer = this.reactor.timers.schedule(this.#options.lingerMs, this.#onLinger, conn);
      },
      callHandler: (conn, name, arg) => {
        const handlers = conn.handlers;
        // Called as handler.call(handlers, ...) below: `this` is kept.
        // eslint-disable-next-line @typescript-eslint/unbound-method
        const handler = handlers[name] as Callable | undefined;
        if (handler !== undefined) this.#call(conn, name, handler, handlers, conn, arg);
      },
    };
  }

  get state(): EventLoopState {
    return this.#state;
  }

  /** The reactor's timer wheel: timers on it fire inside the loop. */
  get timers(): TimerWheel {
    return this.reactor.timers;
  }

  /** Bytes queued for sending across all connections. */
  get bufferedBytes(): number {
    return this.#budget.buffered;
  }

  /** Sets the handlers used by server sockets added without their own, from their next connection on. */
  setHandlers(handlers: ConnectionHandlers): void {
    this.#handlers = checkHandlers(handlers) ?? {};
  }

  /** Binds the server sockets (all or nothing, see SocketManager) and serves them. */
  async listen(configs: readonly ServerSocketConfig[], handlers?: ConnectionHandlers): Promise<ServerSocket[]> {
    checkHandlers(handlers);
    const servers = await this.socketManager.setupServerSockets(configs);
    for (const server of servers) this.addServerSocket(server, handlers);
    return servers;
  }

  /**
   * Serves a listening socket: a `ServerSocket` from the socket manager (its
   * options apply to each accepted connection) or a listener fd of the reactor.
   */
  addServerSocket(server: ServerSocket | number, handlers?: ConnectionHandlers): void {
    const fd = serverFd(server);
    checkHandlers(handlers);
    if (this.#servers.has(fd)) throw new ReactorError('EEXIST', `fd ${fd} is already served`, { fd });
    const entry: ServerEntry = {
      fd,
      handlers,
      server: typeof server === 'number' ? undefined : server,
      paused: undefined,
    };
    this.reactor.register(fd, Interest.READABLE, { token: entry });
    this.#servers.set(fd, entry);
  }

  /**
   * Stops serving a server socket and closes it: nothing more is accepted
   * on it, while the connections already accepted from it stay open (as
   * closing a listening socket does). The counterpart of `addServerSocket`;
   * `false` if `server` was not being served.
   * @example
   * ```ts
   * import { EventLoop } from 'tsreactor';
   * const loop = new EventLoop();
   * const [server] = await loop.listen([{ host: '127.0.0.1', port: 0 }]);
   * loop.removeServerSocket(server); // stop accepting; the loop goes on
   * ```
   */
  removeServerSocket(server: ServerSocket | number): boolean {
    const fd = serverFd(server);
    const entry = this.#servers.get(fd);
    if (entry === undefined) return false;
    this.#retiredDrops += this.#dropsOf(fd); // what it lost stays counted once it is gone
    this.#servers.delete(fd);
    if (entry.server !== undefined) this.socketManager.closeServerSocket(fd);
    else if (this.reactor.state === 'open') this.reactor.close(fd);
    return true;
  }

  /** Serves a connected fd (from `reactor.connect`, or accepted elsewhere) as a Connection. */
  addClient<T = unknown>(fd: number, handlers: ConnectionHandlers<T> = this.#handlers): Connection<T> {
    checkHandlers(handlers);
    if (this.reactor.kind(fd) !== 'stream') {
      throw new ReactorError('EINVAL', `fd ${fd} is a listener: serve it with addServerSocket`, { fd });
    }
    return this.#serve(fd, handlers);
  }

  /** Serves stream `fd` with handlers already checked (an accepted connection: its server's, checked when added). */
  #serve<T>(fd: number, handlers: ConnectionHandlers<T>): Connection<T> {
    const connection = new Connection<T>(this.#connectionLoop, fd, handlers);
    this.reactor.register(fd, CONNECTION_INTEREST, { trigger: 'edge', token: connection });
    this.registry.add(connection);
    return connection;
  }

  /** Stops serving a connection and closes it (as `connection.destroy()`). */
  removeClient(connection: Connection): void {
    if (!(connection instanceof Connection)) throw new TypeError(`'connection' must be a Connection, got ${describe(connection)}`);
    connection.destroy();
  }

  /**
   * Runs `callback` after the current batch of events. Cancellable.
   * @example
   * ```ts
   * import { EventLoop } from 'tsreactor';
   * const loop = new EventLoop();
   * const handle = loop.defer(() => console.log('later'), { priority: 'low' });
   * handle.cancel();
   * ```
   */
  defer(callback: () => void, options?: { priority?: DeferPriority }): DeferHandle {
    const priority: unknown = optionsObject(options, 'options').priority ?? 'normal';
    if (priority !== 'high' && priority !== 'normal' && priority !== 'low') {
      throw new RangeError(`'priority' must be 'high', 'normal' or 'low', got ${describe(priority)}`);
    }
    if (typeof callback !== 'function') throw new TypeError(`'callback' must be a function`);
    if (this.#state === 'closed') throw new ReactorError('ERR_REACTOR_CLOSED', 'the event loop is closed: nothing deferred would run');
    const handle = this.#deferred.add(callback, priority);
    if (this.#running !== undefined && this.reactor.state === 'open') this.reactor.wake();
    return handle;
  }

  /**
   * A channel that hands work back to this loop's thread: what is sent on it
   * (from worker threads through `channel.port()`, or from this thread with
   * `channel.send`) reaches `handler` inside a turn of the loop, which wakes
   * for it. See {@link LoopChannel}. Closed with the loop.
   * @example
   * ```ts
   * import { EventLoop } from 'tsreactor';
   * const loop = new EventLoop();
   * const done = loop.channel<string>((text) => console.log('on the loop:', text));
   * done.send('hello'); // or done.port() to a worker, which posts on it
   * ```
   */
  channel<M>(handler: (message: M) => void): LoopChannel<M> {
    if (typeof handler !== 'function') throw new TypeError(`'handler' must be a function, got ${describe(handler)}`);
    if (this.#state === 'closed') throw new ReactorError('ERR_REACTOR_CLOSED', 'the event loop is closed');
    const channel = new LoopChannel<M>(this.reactor, handler);
    this.#channels.add(channel as LoopChannel);
    return channel;
  }

  #closeChannels(): void {
    for (const channel of this.#channels) channel.close();
    this.#channels.clear();
  }

  /**
   * Runs the loop until `stop()` or `close()`. Resolves then; rejects only
   * with an error the loop cannot go on from.
   */
  run(): Promise<void> {
    if (this.#running !== undefined) {
      this.#stopRequested = false; // run() again before a stop took effect: carry on
      return this.#running;
    }
    if (this.#state === 'closed') return Promise.reject(new ReactorError('ERR_REACTOR_CLOSED', 'the event loop is closed'));
    this.#stopRequested = false;
    if (this.#state === 'idle') this.#state = 'running';
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
      if (this.#state === 'running') this.#state = 'idle';
    });
    return this.#running;
  }

  /**
   * Ends `run()` after the current batch. Connections stay open; `run()`
   * again to go on. Ignored while `close()` runs (it needs the loop).
   */
  stop(): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#stopRequested = true;
    if (this.reactor.state === 'open') this.reactor.wake();
  }

  /**
   * Graceful shutdown: stop accepting; hand the input that has already
   * arrived to `onData`; then end every connection (queued writes drain,
   * then FIN), except those whose handlers have `onShutdown`: those are
   * told, go on being read and served, and end when their handler says
   * (having finished the request they were in). Then wait for the peers to
   * close, up to `timeoutMs`, and reset what is left. Closes the reactor. Idempotent (a second call
   * returns the same report); if it failed (it rejected: the reactor could
   * not be disposed of), a second call tries again, and its report counts
   * the connections of both attempts.
   */
  close(options?: { timeoutMs?: number }): Promise<ShutdownReport> {
    const { timeoutMs = 5_000 } = optionsObject(options, 'options');
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))
      throw new RangeError(`'timeoutMs' must be a number >= 0, got ${describe(timeoutMs)}`);
    // One close at a time; one that failed may be tried again (a cached rejection would refuse every retry).
    this.#closing ??= this.#gracefulClose(timeoutMs).catch((err: unknown) => {
      this.#closing = undefined;
      throw err;
    });
    return this.#closing;
  }

  /**
   * Closes at once: every connection is reset now, and the reactor closes.
   * During a graceful `close()`, cuts it short (what had not ended yet counts
   * as forced in its report, which this returns too); otherwise it is a
   * `close({ timeoutMs: 0 })`. What a second Ctrl-C does under `handleSignals`.
   * @example
   * ```ts
   * import { EventLoop } from 'tsreactor';
   * const loop = new EventLoop();
   * void loop.close({ timeoutMs: 30_000 });
   * const report = await loop.destroy(); // no, now
   * console.log(report.forced, 'connections cut');
   * ```
   */
  destroy(): Promise<ShutdownReport> {
    if (this.#closing === undefined) return this.close({ timeoutMs: 0 });
    this.#forceAll();
    return this.#closing;
  }

  /**
   * Closes gracefully on SIGINT or SIGTERM; a second signal forces (destroys
   * every connection at once). Once closed, the process exits by itself
   * (nothing of the loop is left) with exit code 0 unless set otherwise.
   * Returns a function that removes the handling.
   *
   * Built on a signal descriptor (`reactor.signal`, as signalfd): a signal
   * is an event of the loop's poll, handled between two batches of I/O,
   * never from inside one. While it is open the signals do not take their
   * default action; the loop's close closes it, and the default comes back.
   * So a signal is handled while the loop runs: one that comes before
   * `run()`, or while the loop is stopped (`stop()`) and not yet closed,
   * waits for the next `run()`, as a signalfd's signal waits for its read.
   * On the simulator, `sim.raise('SIGTERM')` is the signal.
   * @throws as `reactor.signal` does: `ERR_REACTOR_CLOSED` once the loop is
   *   closed, `ERR_BACKEND_UNAVAILABLE` on a backend without signals, a
   *   RangeError naming `'signals'`.
   * @example
   * ```ts
   * import { EventLoop } from 'tsreactor';
   * const loop = new EventLoop();
   * const stopHandling = loop.handleSignals({ timeoutMs: 10_000, signals: ['SIGTERM'] });
   * // ... stopHandling() gives SIGTERM its default action back
   * ```
   */
  handleSignals(options: { timeoutMs?: number; signals?: NodeJS.Signals[] } = {}): () => void {
    const { timeoutMs = 5_000, signals = ['SIGINT', 'SIGTERM'] } = options;
    let received = 0;
    const watch = new SignalWatch(this.reactor.signal(signals), (signal) => onSignal(signal));
    const { generation } = this.reactor.info(watch.fd);
    this.reactor.register(watch.fd, Interest.READABLE, { token: watch });
    const remove = () => {
      if (watch.removed) return;
      watch.removed = true;
      // Still its descriptor (not closed with the reactor, its number not reused since)?
      const reactor = this.reactor;
      if (reactor.state === 'open' && reactor.descriptors().includes(watch.fd) && reactor.info(watch.fd).generation === generation) {
        reactor.close(watch.fd);
      }
    };
    const onSignal = (signal: NodeJS.Signals) => {
      received++;
      if (received === 1) {
        this.#logger.info(`${signal}: closing gracefully (again to force)`, { timeoutMs });
        void this.close({ timeoutMs }).then((report) => {
          this.#logger.info('closed', report);
          process.exitCode ??= 0;
          remove(); // closed: a later signal gets the default treatment again
        });
      } else {
        this.#logger.warn(`${signal} again: forcing`);
        this.#forceAll();
      }
    };
    return remove;
  }

  /**
   * What is open now and since when: every descriptor, every connection's
   * state, and every channel's messages waiting for the loop (memory held
   * on behalf of other threads).
   */
  report(): { descriptors: DescriptorReportEntry[]; connections: ConnectionReportEntry[]; channels: { pending: number }[] } {
    const now = this.reactor.clock.now();
    const connections = [...this.registry.values()].map((c) => ({
      id: c.id,
      fd: c.fd,
      state: c.state,
      remoteAddress: c.remoteAddress,
      remotePort: c.remotePort,
      openForMs: now - c.connectedAtMs,
      idleForMs: now - c.lastActivityMs,
      buffered: c.buffered,
      bytesRead: c.bytesRead,
      bytesWritten: c.bytesWritten,
    }));
    const channels = [...this.#channels].map((channel) => ({ pending: channel.pending }));
    return { descriptors: this.reactor.state === 'open' ? descriptorReport(this.reactor) : [], connections, channels };
  }

  /** Connections the backend lost on the server sockets served, and on those served before. */
  #backendDrops(): number {
    let drops = this.#retiredDrops;
    for (const fd of this.#servers.keys()) drops += this.#dropsOf(fd);
    return drops;
  }

  #dropsOf(fd: number): number {
    return this.reactor.state === 'open' ? this.reactor.info(fd).droppedConnections : 0;
  }

  /* ---- The loop -------------------------------------------------------- */

  async #loop(): Promise<void> {
    const reactor = this.reactor;
    const events = this.#events;
    try {
      while (!this.#stopRequested) {
        try {
          await reactor.poll(events, this.#deferred.size > 0 ? 0 : null);
        } catch (err) {
          // The reactor closed, or its simulation cannot go on (it stalled, its host crashed): neither can the loop.
          if (err instanceof ReactorError && (err.code === 'ERR_REACTOR_CLOSED' || err.code.startsWith('ERR_SIM_'))) throw err;
          // A timer callback on loop.timers threw (inside the poll): isolated like any callback.
          this.#callbackFailed(err, undefined, 'timer');
          continue;
        }
        const start = performance.now();
        this.#dispatching = true;
        for (let i = 0; i < events.length; i++) {
          const event = events.get(i);
          if (event !== undefined) this.#dispatch(event);
        }
        this.#dispatching = false;
        this.#rearmIdleTimers();
        if (this.#deferred.size > 0) {
          this.#deferred.runTurn(this.#options.deferBudget, (run) => {
            this.#call(undefined, 'defer', run, undefined);
          });
        }
        this.#budget.check();
        this.metrics.dispatchDuration.record(Math.max(1, Math.round((performance.now() - start) * 1e6)));
      }
    } catch (err) {
      if (err instanceof ReactorError && err.code === 'ERR_REACTOR_CLOSED') {
        this.#closeChannels(); // the reactor was closed under the loop: their wakers are gone, so are they
        return;
      }
      throw err;
    }
  }

  #dispatch(event: Event<Token>): void {
    const token = event.token;
    if (token instanceof Connection) {
      if (isClosed(token)) return;
      if (event.writable) token.flush();
      if (isClosed(token)) return; // flushing may have finished it
      if (event.readable) token.readAvailable();
      else if (event.error) this.#surfaceError(token);
      // writeClosed alone on a paused connection: both sides are done, but it has unread data
      // its owner paused; resume() reads it (and the end), or the linger timer closes it.
    } else if (token instanceof LoopChannel) {
      drainChannel(token, this.#deliver);
    } else if (token instanceof SignalWatch) {
      const arrivals = this.reactor.readSignals(token.fd);
      if (arrivals !== null) token.deliver(arrivals);
    } else if (isServerEntry(token)) {
      this.#gate.accept(token);
    }
  }

  /**
   * An error with reading paused: the connection is lost. Read past what its
   * owner had not taken (a reset discards it anyway) to learn the code, and
   * close with it.
   */
  #surfaceError(connection: Connection): void {
    try {
      for (let chunk = this.reactor.read(connection.fd); chunk !== null && chunk.length > 0; chunk = this.reactor.read(connection.fd)) {
        // discarded: the connection is failing
      }
    } catch (err) {
      this.#finish(connection, 'error', err as Error);
      return;
    }
    this.#finish(connection, 'error', new ReactorError('ECONNRESET', 'the connection failed', { fd: connection.fd }));
  }

  /** A connection just accepted on `entry`: served with its handlers (checked when its server was added). */
  #serveAccepted(fd: number, entry: ServerEntry): void {
    const handlers = entry.handlers ?? this.#handlers;
    const connection = this.#serve(fd, handlers);
    this.metrics.accepts++;
    if (Channels.serverAccept.hasSubscribers)
      Channels.serverAccept.publish({
        fd,
        id: connection.id,
        remoteAddress: connection.remoteAddress,
        remotePort: connection.remotePort,
      });
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(handlers, ...)
    const onConnect = handlers.onConnect as Callable | undefined;
    if (onConnect !== undefined) this.#call(connection, 'onConnect', onConnect, handlers, connection);
  }

  #interestChanged(connection: Connection): void {
    if (connection.state === 'closed') return;
    const interest = connection.reading ? CONNECTION_INTEREST : Interest.WRITABLE;
    this.reactor.modify(connection.fd, interest, { trigger: 'edge', token: connection });
  }

  #activity(connection: Connection, read: number, written: number): void {
    this.metrics.bytesRead += read;
    this.metrics.bytesWritten += written;
    if (!this.#dispatching) {
      // Outside a batch (a send from a timer, say): no batch end is coming to re-arm it.
      connection.lastActivityMs = Math.floor(this.reactor.clock.now());
      this.registry.touch(connection);
    } else if (!connection.touched) {
      connection.touched = true;
      this.#touched.push(connection);
    }
  }

  /** Once per batch: the idle deadline of every connection that was active moves later. */
  #rearmIdleTimers(): void {
    const touched = this.#touched;
    if (touched.length === 0) return;
    const now = Math.floor(this.reactor.clock.now());
    for (const connection of touched) {
      connection.touched = false;
      if (connection.state === 'closed') continue;
      connection.lastActivityMs = now;
      this.registry.touch(connection);
    }
    this.#touched = [];
  }

  readonly #onIdle = (connection: Connection): void => {
    connection.idleTimer = 0;
    this.metrics.idleTimeouts++;
    if (Channels.connectionIdle.hasSubscribers)
      Channels.connectionIdle.publish({
        id: connection.id,
        fd: connection.fd,
        idleMs: this.reactor.clock.now() - connection.lastActivityMs,
      });
    this.#finish(connection, 'idle-timeout');
  };

  readonly #onLinger = (connection: Connection): void => {
    connection.lingerTimer = 0;
    this.#finish(connection, 'linger-timeout');
  };

  #finish(connection: Connection, reason: CloseReason, error?: Error): void {
    if (connection.state === 'closed') return;
    connection.markClosed();
    this.registry.remove(connection);
    if (connection.lingerTimer !== 0) this.reactor.timers.cancel(connection.lingerTimer);
    connection.lingerTimer = 0;
    if (this.reactor.state === 'open') {
      // Ended cleanly, or failed already: close(2). Cut short (destroyed, idle, forced, the peer
      // never closing, a failing callback): a reset, so nothing lingers toward a peer that may never read.
      if (reason === 'closed' || reason === 'error') this.reactor.close(connection.fd);
      else this.reactor.abort(connection.fd);
    }
    this.metrics.connectionsClosed++;
    if (Channels.connectionClose.hasSubscribers)
      Channels.connectionClose.publish({
        id: connection.id,
        fd: connection.fd,
        reason,
        bytesRead: connection.bytesRead,
        bytesWritten: connection.bytesWritten,
        durationMs: this.reactor.clock.now() - connection.connectedAtMs,
      });
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(connection.handlers, ...)
    const onClose = connection.handlers.onClose as Callable | undefined;
    if (onClose !== undefined) this.#call(connection, 'onClose', onClose, connection.handlers, connection, reason, error);
    if (connection.pressurePaused) this.#budget.forget(connection);
    if (this.#shutdown.started) this.#shutdown.ended(reason);
    else if (this.#servers.size > 0) {
      this.#gate.resume();
    }
  }

  /**
   * Runs one of the application's callbacks, `callback.call(self, a, b, c)`:
   * timed, and isolated from the loop. (Arguments rather than a closure: no
   * allocation per call on the hot path.)
   */
  #call(connection: Connection | undefined, name: string, callback: Callable, self: unknown, a?: unknown, b?: unknown, c?: unknown): void {
    const start = performance.now();
    try {
      callback.call(self, a, b, c);
    } catch (err) {
      this.#callbackFailed(err, connection, name);
    } finally {
      const durationMs = performance.now() - start;
      this.metrics.callbackDuration.record(Math.max(1, Math.round(durationMs * 1e6)));
      if (durationMs > this.#options.slowCallbackMs) {
        this.metrics.slowCallbacks++;
        if (Channels.loopSlow.hasSubscribers) Channels.loopSlow.publish({ callback: name, durationMs, id: connection?.id });
        this.#logger.warn(`slow callback: ${name} took ${durationMs.toFixed(1)} ms`, { id: connection?.id });
      }
    }
  }

  /** A callback threw: report it, and close the connection it belongs to. */
  #callbackFailed(err: unknown, connection: Connection | undefined, name: string): void {
    this.metrics.callbackErrors++;
    if (Channels.loopError.hasSubscribers) Channels.loopError.publish({ error: err, id: connection?.id });
    try {
      if (this.#onError !== undefined) this.#onError(err, connection);
      else this.#logger.error(`${name} threw`, { error: err, id: connection?.id });
    } catch (inner) {
      this.#logger.error('onError threw', { error: inner });
    }
    if (connection !== undefined && connection.state !== 'closed') this.#finish(connection, 'callback-error', err as Error);
  }

  #forceAll(): void {
    for (const connection of [...this.registry.values()]) this.#finish(connection, 'shutdown-forced');
  }

  async #gracefulClose(timeoutMs: number): Promise<ShutdownReport> {
    this.#state = 'closing';
    const report = await this.#shutdown.run(timeoutMs);
    this.#state = 'closed';
    return report;
  }
}

/** One connection in {@link EventLoop.report}. */
export interface ConnectionReportEntry {
  id: number;
  fd: number;
  state: string;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  openForMs: number;
  idleForMs: number;
  buffered: number;
  bytesRead: number;
  bytesWritten: number;
}

/** The fd of a `ServerSocket` or a listener fd; a TypeError for anything else. */
function serverFd(server: ServerSocket | number): number {
  const value: unknown = server;
  if (typeof value === 'number') return value;
  if (typeof value === 'object' && value !== null && typeof (value as ServerSocket).fd === 'number') return (value as ServerSocket).fd;
  throw new TypeError(`'server' must be a ServerSocket or a listener fd, got ${describe(server)}`);
}

/** Handlers are an object of callbacks (or undefined); a TypeError for anything else, or for a handler that is not a function. */
function checkHandlers<H extends object>(handlers: H | undefined): H | undefined {
  if (handlers === undefined) return undefined;
  const checked = optionsObject(handlers, 'handlers');
  for (const [name, handler] of Object.entries(checked)) {
    if (handler !== undefined && typeof handler !== 'function')
      throw new TypeError(`'handlers.${name}' must be a function, got ${describe(handler)}`);
  }
  return checked;
}
