import * as net from 'node:net';
import { ReactorError } from '../reactor-error';
import { Readiness } from '../readiness';
import type { Backend, ConnectOptions, HandleInfo, LingeringHandle, ListenOptions } from './backend';
import { type LingerEntry, LingerList } from './socket/linger-list';
import { listenOnPath } from './socket/listen-on-path';
import { publishDrop } from './socket/publish-drop';
import { SocketBackendCore } from './socket/socket-backend-core';
import { socketBackendOptions } from './socket/socket-backend-options';
import { inboxPush } from './socket/stream-inbox';
import { endOfStream, FAILED_STREAM, type PeerNameSource, resetBehindEnd, type StreamFields } from './socket/stream-readiness';

/** Options of {@link LibuvBackend}. */
export interface LibuvBackendOptions {
  /**
   * Bytes a socket may hold unread before the backend stops reading from it
   * (`socket.pause()`), whatever the read interest: past it, the kernel's
   * buffers fill and the peer's writes block. Default 64 KiB.
   */
  inboxLimit?: number;
  /**
   * The sockets' stream high-water mark: `write` accepts bytes while less than
   * this is queued in Node, and `writable` comes back once the queue has
   * drained. Also bounds what Node reads ahead while a socket is paused.
   * Default 64 KiB.
   */
  highWaterMark?: number;
  /** Disable Nagle's algorithm on every socket (TCP_NODELAY). Default `false`, as Node. */
  noDelay?: boolean;
}

const DEFAULT_INBOX_LIMIT = 64 * 1024;
const DEFAULT_HIGH_WATER_MARK = 64 * 1024;
/** The accept queue of every stream handle: always empty (only listeners get their own). */
const NO_PENDING: readonly net.Socket[] = Object.freeze([]);

/** The backend's state for one socket or listener, found from Node's objects through `kHandle`. */
class Handle implements StreamFields {
  readonly fd: number;
  readonly backend: LibuvBackend;
  readonly kind: 'listener' | 'stream';
  /** A Unix domain socket's path (the listener's, for its accepted streams); undefined for TCP. */
  path: string | undefined = undefined;
  socket: net.Socket | undefined;
  server: net.Server | undefined;
  /** Received chunks not yet read; `inboxHead` is the first unread one. Only while there are some. */
  inbox: Buffer[] | undefined = undefined;
  inboxHead = 0;
  inboxBytes = 0;
  /** FIN received. */
  ended = false;
  /** Our FIN requested. */
  shutdown = false;
  connecting = false;
  /** Node is reading the socket (resumed); paused while the inbox is full or the stream has ended. */
  reading = false;
  error: ReactorError | undefined;
  closed = false;
  /** Listener: accepted by Node, waiting for `accept` (a listener gets its own array). */
  pending = NO_PENDING as net.Socket[];
  backlog = 0;
  dropped = 0;

  constructor(fd: number, backend: LibuvBackend, kind: 'listener' | 'stream') {
    this.fd = fd;
    this.backend = backend;
    this.kind = kind;
  }
}

const kHandle = Symbol('tsreactor.handle');
const kEarlyError = Symbol('tsreactor.earlyError');
/** A socket closed gracefully, while it lingers (see `LibuvBackend.close`). */
const kLinger = Symbol('tsreactor.linger');
/** A Unix domain socket: it has no reset (see `resetSoon`). */
const kUnix = Symbol('tsreactor.unix');
type Tagged<T> = T & { [kHandle]?: Handle; [kEarlyError]?: Error; [kLinger]?: LingerEntry<net.Socket>; [kUnix]?: true };

/* ---- Module-level handlers: one function each, shared by every socket, so a
 * connection costs no closures. `this` is the emitter; its handle is found
 * through the kHandle back-reference, which `close` clears. */

function onData(this: Tagged<net.Socket>, chunk: Buffer): void {
  const handle = this[kHandle];
  if (handle === undefined) return;
  inboxPush(handle, chunk);
  handle.backend.updateFlow(handle);
  handle.backend.notify(handle, Readiness.READABLE);
}

function onEnd(this: Tagged<net.Socket>): void {
  const handle = this[kHandle];
  if (handle === undefined) return;
  const reset = resetBehindEnd(handle, (this as unknown as { _handle?: PeerNameSource })._handle, handle.fd);
  if (reset === undefined) {
    handle.backend.notify(handle, endOfStream(handle));
    return;
  }
  handle.backend.fail(handle, reset);
  this.destroy(); // Node took it for a FIN and keeps the socket half-open: release it now
}

function onSocketError(this: Tagged<net.Socket>, err: Error): void {
  const handle = this[kHandle];
  if (handle === undefined) {
    this[kEarlyError] ??= err; // not accepted yet (or already closed): remembered for accept
    return;
  }
  handle.backend.fail(handle, err);
}

function onDrain(this: Tagged<net.Socket>): void {
  const handle = this[kHandle];
  if (handle !== undefined) handle.backend.notify(handle, Readiness.WRITABLE);
}

function onConnect(this: Tagged<net.Socket>): void {
  const handle = this[kHandle];
  if (handle === undefined) return;
  handle.connecting = false;
  handle.backend.notify(handle, Readiness.WRITABLE);
}

/** Data for a socket closed gracefully: as on Linux, the connection is reset, and nothing more is read. */
function onLingerData(this: net.Socket): void {
  resetSoon(this);
}

function onConnection(this: Tagged<net.Server>, socket: Tagged<net.Socket>): void {
  socket.on('error', onSocketError); // always: an error before accept must not crash the process
  if (this[kUnix] === true) socket[kUnix] = true;
  const handle = this[kHandle];
  if (handle === undefined || handle.pending.length >= handle.backlog) {
    if (handle !== undefined) handle.dropped++;
    socket.destroy();
    return;
  }
  handle.pending.push(socket);
  handle.backend.notify(handle, Readiness.READABLE);
}

function onDrop(this: Tagged<net.Server>): void {
  const handle = this[kHandle];
  if (handle !== undefined) handle.dropped++;
}

function onServerError(this: Tagged<net.Server>, err: Error): void {
  const handle = this[kHandle];
  if (handle === undefined) return;
  if ((err as NodeJS.ErrnoException).syscall === 'accept') {
    // One connection lost (EMFILE, ENFILE...), reported by libuv when its reserve descriptor could not absorb it: the listener goes on.
    handle.dropped++;
    publishDrop(handle.fd, err);
    return;
  }
  if (handle.error !== undefined) return;
  handle.error = ReactorError.from(err, { fd: handle.fd });
  handle.backend.notify(handle, Readiness.ERROR);
}

/**
 * Resets a socket (RST, as close(2) after SO_LINGER 0) as soon as libuv
 * allows: libuv refuses to reset a stream whose shutdown request is in
 * flight (and Node would then never release the handle), so in that short
 * window (after `end()`, all written, FIN not yet handed over) the reset
 * waits for `'finish'`. A socket still connecting has nothing to reset:
 * it is destroyed. A Unix domain socket has no reset either: it is closed
 * (what libuv still queued is dropped; the kernel resets the peer only if
 * it held data for us unread).
 */
function resetSoon(socket: Tagged<net.Socket>): void {
  if (socket.destroyed) return;
  if (socket.connecting || socket[kUnix] === true) socket.destroy();
  else if (socket.writableEnded && socket.writableLength === 0 && !socket.writableFinished) socket.once('finish', resetNow);
  else socket.resetAndDestroy();
}

function resetNow(this: net.Socket): void {
  if (!this.destroyed) this.resetAndDestroy();
}

/** Node's listen() gained `reusePort` in 23.1 and 22.12. */
export function nodeSupportsReusePort(): boolean {
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/**
 * The default backend: real sockets through `node:net`, so through libuv.
 *
 * - Sockets run in `'data'` mode; each chunk goes to the descriptor's inbox.
 *   Readable means the inbox holds data, end of stream was seen, or an error
 *   is pending.
 * - Reading goes on whatever the read interest, up to `inboxLimit`: the
 *   inbox is a bounded extension of the kernel's receive buffer, so a reset
 *   or an end of stream is noticed on a descriptor nobody reads (contract
 *   rule 21), while backpressure stays real TCP backpressure: at the limit
 *   the socket is paused (`socket.pause()`), libuv stops reading, the
 *   kernel's receive buffer fills and the peer's writes block. Node may
 *   still read ahead up to the stream's high-water mark, plus one read, so
 *   an unread socket holds at most `inboxLimit + highWaterMark` plus one
 *   chunk of 64 KiB. A reset that reaches a socket paused this way waits in
 *   the kernel behind the data until the program reads (or writes).
 * - A reset is a reset: libuv reports end of stream for a reset that
 *   follows a partial read, so each end of stream is checked (the socket
 *   must still have a peer) before it is taken for a FIN.
 * - Writable means `!socket.writableNeedDrain`: `write` accepts bytes while
 *   less than the high-water mark is queued, writable turns off past it, and
 *   back on with `'drain'` once the queue is empty: hysteresis with the high
 *   mark at `highWaterMark` and the low mark at 0, one edge per transition.
 *   Not writable while connecting, after an error or after `shutdown`.
 * - `close` is close(2): with unread data it resets the connection;
 *   otherwise what was written still goes out, then FIN, for at most the
 *   reactor's `lingerMs`, after which the socket is reset; data that
 *   arrives meanwhile resets it at once. `abort` resets at once.
 * - Every socket always has an `'error'` listener; sockets are half-open
 *   capable (`allowHalfOpen`), and the reactor ends them itself.
 * - Listeners accept through Node (`pauseOnConnect`), queue the connections
 *   up to the backlog (more are dropped and counted), and report readable
 *   while any wait. libuv absorbs `EMFILE` on accept itself (it accepts and
 *   closes with a reserve descriptor, telling nobody): such drops cannot be
 *   counted anywhere in the process. An accept error that reaches Node
 *   (the reserve did not absorb it) is counted and published
 *   (`tsreactor:server:drop`, reason `'no-descriptors'`) and the listener
 *   goes on; `server.maxConnections` drops arrive as `'drop'` and are counted.
 * - Handlers are module-level functions that find their descriptor through a
 *   back-reference on the socket: a connection costs no closures.
 *
 * @example
 * ```ts
 * import { LibuvBackend, Reactor } from 'tsreactor';
 *
 * const reactor = new Reactor({ backend: new LibuvBackend({ inboxLimit: 16 * 1024, noDelay: true }) });
 * ```
 */
export class LibuvBackend extends SocketBackendCore<Handle, net.Socket | net.Server, net.Socket> implements Backend {
  readonly name = 'libuv';
  /** Sockets closed gracefully that still send what they held; reset at their deadline. */
  protected readonly lingeringStreams = new LingerList<net.Socket>(resetSoon);

  constructor(options: LibuvBackendOptions = {}) {
    super(socketBackendOptions(options, { inboxLimit: DEFAULT_INBOX_LIMIT, highWaterMark: DEFAULT_HIGH_WATER_MARK }));
  }

  /* ---- Called by the module-level handlers ----------------------------- */

  /** @internal A socket error: reported once, and from then on; returns the stream's error. */
  fail(handle: Handle, err: Error): ReactorError {
    if (handle.error !== undefined) return handle.error;
    const error = ReactorError.from(err, { fd: handle.fd });
    handle.error = error;
    handle.connecting = false;
    this.notify(handle, FAILED_STREAM);
    return error;
  }

  /** @internal Pause or resume reading as the inbox's fill says. */
  updateFlow(handle: Handle): void {
    const socket = handle.socket;
    if (socket === undefined) return;
    const wantRead = handle.inboxBytes < this.inboxLimit && !handle.ended;
    if (wantRead && !handle.reading) {
      handle.reading = true;
      socket.resume();
    } else if (!wantRead && handle.reading) {
      handle.reading = false;
      socket.pause();
    }
  }

  protected hasRoom(handle: Handle): boolean {
    return !(handle.socket as net.Socket).writableNeedDrain;
  }

  protected cutLingering(socket: net.Socket): void {
    resetSoon(socket);
  }

  /* ---- Backend --------------------------------------------------------- */

  openListener(fd: number, options: ListenOptions): Promise<void> {
    if (options.path !== undefined) {
      const { path, backlog, exclusive } = options;
      return listenOnPath(path, options.removeStale === true, () => this.#listen(fd, { path, backlog, exclusive }));
    }
    if (options.reusePort && !nodeSupportsReusePort()) {
      return Promise.reject(
        new ReactorError('ENOTSUP', `reusePort needs Node 22.12, 23.1 or newer; this is ${process.version}`, {
          syscall: 'listen',
          address: options.host,
          port: options.port,
        }),
      );
    }
    const listenOptions: net.ListenOptions & { reusePort?: boolean } = {
      host: options.host,
      port: options.port,
      backlog: options.backlog,
      ipv6Only: options.ipv6Only,
      exclusive: options.exclusive,
    };
    if (options.reusePort) listenOptions.reusePort = true;
    return this.#listen(fd, listenOptions);
  }

  /** Listens as `listenOptions` say (TCP, or a path), as `fd`; rejects with the bind's error. */
  #listen(fd: number, listenOptions: net.ListenOptions): Promise<void> {
    const handle = new Handle(fd, this, 'listener');
    handle.pending = [];
    handle.path = listenOptions.path;
    const server: Tagged<net.Server> = net.createServer({
      allowHalfOpen: true,
      pauseOnConnect: true,
      noDelay: this.noDelay,
      highWaterMark: this.highWaterMark,
    });
    if (handle.path !== undefined) server[kUnix] = true;
    handle.server = server;
    handle.backlog = listenOptions.backlog as number;
    this.handles[fd] = handle;
    return new Promise<void>((resolve, reject) => {
      const onListenError = (err: Error) => {
        server.off('listening', onListening);
        if (this.handles[fd] === handle) this.handles[fd] = undefined; // a path's bind may be tried again as the same fd
        const address = listenOptions.path ?? listenOptions.host;
        reject(ReactorError.from(err, { syscall: 'listen', address, port: listenOptions.port }));
      };
      const onListening = () => {
        server.off('error', onListenError);
        server[kHandle] = handle;
        server.on('error', onServerError);
        resolve();
      };
      server.once('error', onListenError);
      server.once('listening', onListening);
      server.on('connection', onConnection);
      server.on('drop', onDrop);
      server.listen(listenOptions);
    });
  }

  openConnection(fd: number, options: ConnectOptions): void {
    const handle = new Handle(fd, this, 'stream');
    // net.Socket passes these stream options on to Duplex; @types/node leaves them out.
    const socketOptions = {
      allowHalfOpen: true,
      readableHighWaterMark: this.highWaterMark,
      writableHighWaterMark: this.highWaterMark,
    } as net.SocketConstructorOpts;
    const socket: Tagged<net.Socket> = new net.Socket(socketOptions);
    handle.path = options.path;
    if (options.path !== undefined) socket[kUnix] = true;
    this.#adopt(handle, socket);
    handle.connecting = true;
    socket.on('connect', onConnect);
    if (options.path !== undefined) socket.connect({ path: options.path });
    else socket.connect({ host: options.host, port: options.port, noDelay: this.noDelay });
    this.handles[fd] = handle;
  }

  timeOutConnect(fd: number): boolean {
    const handle = this.handle(fd);
    if (!handle.connecting || handle.error !== undefined) return false;
    const socket = handle.socket as net.Socket;
    this.fail(handle, new ReactorError('ETIMEDOUT', 'connection timed out', { syscall: 'connect', fd }));
    socket.destroy(); // the SYN_SENT socket is simply closed: nothing is sent
    return true;
  }

  accept(listenFd: number, fd: number): void {
    const listener = this.handle(listenFd);
    const socket = listener.pending.shift() as Tagged<net.Socket>;
    const handle = new Handle(fd, this, 'stream');
    handle.path = listener.path;
    socket.off('error', onSocketError); // re-added by #adopt, with the handle in place
    this.#adopt(handle, socket);
    const early = socket[kEarlyError];
    if (early !== undefined) handle.error = ReactorError.from(early, { fd });
    this.handles[fd] = handle;
  }

  write(fd: number, data: Uint8Array): number {
    const handle = this.handle(fd);
    if (handle.error !== undefined) throw handle.error;
    if (handle.shutdown) {
      throw new ReactorError('EPIPE', `write after shutdown on fd ${fd}`, { fd, syscall: 'write' });
    }
    const socket = handle.socket as net.Socket;
    if (handle.connecting || socket.writableNeedDrain) return 0;
    // Hand Node what fits under its high-water mark, again and again while it
    // writes synchronously to the kernel, until it is all taken or Node needs
    // a drain. So a partial write always means "full now": the 'drain' that
    // follows is the writable edge the caller waits for.
    let n = 0;
    while (n < data.length && !needsDrain(socket)) {
      const room = Math.max(this.highWaterMark - socket.writableLength, 1);
      const end = Math.min(data.length, n + room);
      socket.write(n === 0 && end === data.length ? data : data.subarray(n, end));
      // A failed write(2) marks the stream errored at once (the 'error' event follows on a later tick).
      const failed = errorOf(socket);
      if (failed !== null) {
        const error = this.fail(handle, failed);
        if (n === 0) throw error;
        return n; // what went before was accepted; the error comes as an event
      }
      n = end;
    }
    return n;
  }

  shutdown(fd: number): void {
    const handle = this.handle(fd);
    if (handle.shutdown) return;
    handle.shutdown = true;
    if (handle.error === undefined) (handle.socket as net.Socket).end();
    if (handle.ended) this.notify(handle, Readiness.WRITE_CLOSED);
  }

  close(fd: number): void {
    const handle = this.handles[fd];
    if (handle === undefined) {
      this.closeUnhandled(fd);
      return;
    }
    const socket = this.#release(fd, handle);
    if (socket === undefined) return;
    if (handle.inboxBytes > 0 || socket.readableLength > 0) {
      resetSoon(socket); // as close(2) with unread data: a reset, not a FIN
      return;
    }
    // As close(2): what was written is still sent, then FIN, then the socket is
    // released; at most lingerMs while something is queued. Data arriving meanwhile resets it.
    if (socket.writableLength > 0) socket[kLinger] = this.lingeringStreams.add(socket, fd);
    socket.off('data', onData);
    socket.on('data', onLingerData);
    socket.resume();
    socket.destroySoon();
  }

  abort(fd: number): void {
    const handle = this.handles[fd];
    if (handle === undefined) {
      this.closeUnhandled(fd);
      return;
    }
    const socket = this.#release(fd, handle);
    if (socket !== undefined) resetSoon(socket);
  }

  lingering(): LingeringHandle[] {
    return Array.from(this.lingeringStreams, ({ handle: socket, fd, closedAtMs }) => ({
      fd,
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      queuedBytes: socket.writableLength,
      closedAtMs,
    }));
  }

  configure(fd: number, options: { noDelay?: boolean; keepAlive?: boolean; keepAliveInitialDelayMs?: number }): void {
    const socket = this.handle(fd).socket;
    if (socket === undefined) return;
    if (options.noDelay !== undefined) socket.setNoDelay(options.noDelay);
    if (options.keepAlive !== undefined) socket.setKeepAlive(options.keepAlive, options.keepAliveInitialDelayMs ?? 0);
  }

  info(fd: number): HandleInfo {
    const unhandled = this.unhandledInfo(fd);
    if (unhandled !== undefined) return unhandled;
    const handle = this.handle(fd);
    if (handle.server !== undefined) {
      const address = handle.server.address();
      const bound = typeof address === 'object' && address !== null ? address : undefined;
      return {
        kind: 'listener',
        localAddress: bound?.address,
        localPort: bound?.port,
        remoteAddress: undefined,
        remotePort: undefined,
        family: handle.path !== undefined ? 'unix' : bound === undefined ? undefined : familyOf(bound.family),
        path: handle.path,
        bytesRead: 0,
        bytesWritten: 0,
        readBuffered: 0,
        writeBuffered: 0,
        osFd: osFdOf(handle.server),
        droppedConnections: handle.dropped,
        droppedDatagrams: 0,
      };
    }
    const socket = handle.socket as net.Socket;
    return {
      kind: 'stream',
      localAddress: socket.localAddress,
      localPort: socket.localPort,
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      family: handle.path !== undefined ? 'unix' : socket.remoteFamily === undefined ? undefined : familyOf(socket.remoteFamily),
      path: handle.path,
      bytesRead: socket.bytesRead,
      bytesWritten: socket.bytesWritten,
      readBuffered: handle.inboxBytes + socket.readableLength,
      writeBuffered: socket.writableLength,
      osFd: osFdOf(socket),
      droppedConnections: 0,
      droppedDatagrams: 0,
    };
  }

  /* ---- Internals ------------------------------------------------------- */

  #adopt(handle: Handle, socket: Tagged<net.Socket>): void {
    handle.socket = socket;
    socket[kHandle] = handle;
    if (this.noDelay) socket.setNoDelay(true);
    socket.pause();
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onSocketError);
    socket.on('drain', onDrain);
    this.updateFlow(handle); // reading starts now, registered or not
  }

  /**
   * Takes `fd` out of the table: no more sink calls, the inbox dropped. A
   * listener is closed here; a live stream is returned for the caller to
   * close or reset, tracked until Node releases it.
   */
  #release(fd: number, handle: Handle): Tagged<net.Socket> | undefined {
    this.handles[fd] = undefined;
    handle.closed = true;
    handle.inbox = undefined;
    const server: Tagged<net.Server> | undefined = handle.server;
    if (server !== undefined) {
      server[kHandle] = undefined;
      for (const socket of handle.pending) socket.destroy();
      handle.pending.length = 0;
      if (server.listening) {
        this.releasing(server);
        server.close(() => this.released(server));
      }
      return undefined;
    }
    const socket = handle.socket as Tagged<net.Socket>;
    socket[kHandle] = undefined;
    if (socket.destroyed) return undefined;
    this.releasing(socket);
    socket.once('close', () => {
      const linger = socket[kLinger];
      if (linger !== undefined) this.lingeringStreams.remove(linger);
      this.released(socket);
    });
    return socket;
  }
}

/** The error a stream has failed with, if any (`errored` is set synchronously by a failed write). */
function errorOf(socket: net.Socket): Error | null {
  return (socket as unknown as { errored: Error | null }).errored;
}

/** A function, so the check is read afresh after each write (TypeScript would narrow the property). */
function needsDrain(socket: net.Socket): boolean {
  return socket.writableNeedDrain;
}

function familyOf(family: string | number): 'IPv4' | 'IPv6' {
  return family === 'IPv6' || family === 6 ? 'IPv6' : 'IPv4';
}

/** The OS descriptor behind a Node socket or server, where Node exposes it (`_handle.fd`). */
function osFdOf(emitter: net.Socket | net.Server): number | undefined {
  const fd = (emitter as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}
