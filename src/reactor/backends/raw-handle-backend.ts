import cluster from 'node:cluster';
import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { ReactorError } from '../reactor-error';
import { Readiness } from '../readiness';
import type { Backend, ConnectOptions, HandleInfo, LingeringHandle, ListenOptions } from './backend';
import {
  loadTcpBindings,
  type ConnectWrap,
  type PipeBindings,
  type PipeHandle,
  type ShutdownWrap,
  type SocketAddress,
  type StreamHandle,
  type TcpBindings,
  type TcpHandle,
  type WriteWrap,
} from './raw/tcp-bindings';
import { type LingerEntry, LingerList } from './socket/linger-list';
import { listenOnPath } from './socket/listen-on-path';
import { publishDrop } from './socket/publish-drop';
import { SocketBackendCore } from './socket/socket-backend-core';
import { socketBackendOptions } from './socket/socket-backend-options';
import { inboxPush } from './socket/stream-inbox';
import { endOfStream, FAILED_STREAM, resetBehindEnd, type StreamFields } from './socket/stream-readiness';

/** Options of {@link RawHandleBackend}. */
export interface RawHandleBackendOptions {
  /**
   * Bytes a stream may hold unread before the backend stops reading it
   * (`readStop`; the rest waits in the kernel, and then the peer). An unread
   * socket holds at most this plus one read (libuv reads up to 64 KiB at a
   * time). Default 64 KiB: one read's worth, so the JavaScript side holds
   * one chunk and the kernel the rest. A larger limit (128 KiB) lets a
   * consumer that lags by a read avoid a `readStop`/`readStart` pair per
   * read, at twice the memory per unread connection (BENCHMARKS.md has the
   * measurement).
   */
  inboxLimit?: number;
  /**
   * The most a write hands libuv beyond what the kernel takes at once (it is
   * written in slices of this size, stopping at the first that does not go
   * through whole). Default 64 KiB.
   */
  highWaterMark?: number;
  /** Disable Nagle's algorithm on every socket (TCP_NODELAY). Default `false`. */
  noDelay?: boolean;
}

const NO_PENDING: readonly StreamHandle[] = Object.freeze([]);

/** Where our FIN stands: not asked for; asked, waiting for the writes before it; handed to libuv; done. */
type FinState = 'none' | 'wanted' | 'sent' | 'done';

/** The backend's state for one libuv stream handle: TCP, or a pipe (a Unix domain socket). */
class RawHandle implements StreamFields {
  readonly fd: number;
  readonly backend: RawHandleBackend;
  readonly kind: 'listener' | 'stream';
  /** The libuv handle (a connect that moves on to the next address gets a fresh one): a `TcpHandle` unless `path` is set. */
  native: StreamHandle;
  /** A Unix domain socket's path (the listener's, for its accepted streams); undefined for TCP. */
  path: string | undefined = undefined;
  inbox: Buffer[] | undefined = undefined;
  inboxHead = 0;
  inboxBytes = 0;
  /** FIN received. */
  ended = false;
  /** Our FIN requested (sent once the writes before it are done). */
  shutdown = false;
  fin: FinState = 'none';
  connecting = false;
  /** libuv is reading (readStart without readStop since). */
  reading = false;
  /** Writes libuv still holds (they went asynchronous): not writable until they are done. */
  pendingWrites = 0;
  error: ReactorError | undefined;
  /** The reactor closed the descriptor; the handle may still linger (then `linger` is set). */
  closed = false;
  linger: LingerEntry<RawHandle> | undefined = undefined;
  /** An abort came while a shutdown request was in flight: reset once it completes. */
  resetWhenShut = false;
  bytesRead = 0;
  bytesWritten = 0;
  /** Listener: connections libuv accepted, waiting for `accept`. */
  pending = NO_PENDING as StreamHandle[];
  backlog = 0;
  dropped = 0;
  /** Connecting: the addresses still to try after the current one, and the port. */
  nextAddresses: string[] | undefined = undefined;
  port = 0;

  constructor(fd: number, backend: RawHandleBackend, kind: 'listener' | 'stream', native: StreamHandle) {
    this.fd = fd;
    this.backend = backend;
    this.kind = kind;
    this.native = native;
  }

  /** Its handle as TCP: only where `path` is undefined. */
  get tcp(): TcpHandle {
    return this.native as TcpHandle;
  }
}

/** The owner of a libuv handle, from open until released; `closed` once the reactor let go of its fd. */
const kOwner = Symbol('tsreactor.rawHandle');
type Tagged = StreamHandle & { [kOwner]?: RawHandle };

let B: TcpBindings;
/**
 * Where libuv reads every stream of every RawHandleBackend (`useUserBuffer`).
 * One buffer serves them all because a read is handed to `onRead` before
 * libuv reads again (on this thread), and `onRead` copies what arrived into
 * a Buffer of its own (from Node's pool when small). Without it, Node
 * allocates 64 KiB per read, shrinks it to what arrived and wraps it in a
 * new ArrayBuffer that the garbage collector tracks and frees: for a small
 * request that costs more than the copy (BENCHMARKS.md, "HTTP against the
 * ceiling": 10% less CPU per request; bulk 64 KiB echo unchanged). An idle
 * connection still holds no read buffer. A chunk under 4 KiB is a slice of
 * Node's shared Buffer pool, as `Buffer.from` of a short string is: its
 * `.buffer` holds other bytes too, so it cannot go in a `postMessage`
 * transfer list (copy it first).
 */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * A write request that no write holds. Node wraps the request object of a
 * `writeBuffer` only when the write goes asynchronous (the kernel did not
 * take it all at once: `StreamBase::Write` tries the write first and returns
 * before touching the request when it went through); until then the object
 * is ours, so one object serves every write that completes at once, and a
 * new one is made only after a write kept it.
 */
let spareWrite: WriteWrap | undefined;

/** Makes `handle` the owner of a libuv stream handle: its reads come to `onRead`, into READ_BUFFER. */
function claim(native: Tagged, handle: RawHandle): void {
  native[kOwner] = handle;
  native.onread = onRead;
  native.useUserBuffer(READ_BUFFER);
}

/** A ReactorError for a negative libuv status. */
function uvError(status: number, syscall: string, details: { fd?: number; address?: string; port?: number } = {}): ReactorError {
  let code: string;
  try {
    code = getSystemErrorName(status);
  } catch {
    code = `E${-status}`;
  }
  return new ReactorError(code, `${syscall} failed: ${code}`, { ...details, syscall });
}

/* ---- Module-level callbacks: `this` is the libuv handle or request; the
 * backend's handle is found through a back-reference, cleared once the
 * libuv handle is released. */

/**
 * A read into READ_BUFFER: `streamBaseState` says how many bytes (or the
 * error, or EOF; 0 for EAGAIN after a read that filled the buffer). It
 * must return nothing: Node takes any other value as the next buffer to
 * read into.
 */
function onRead(this: Tagged): void {
  const nread = B.streamBaseState[B.kReadBytesOrError];
  const handle = this[kOwner];
  if (handle === undefined) return;
  if (handle.closed) {
    // Lingering: data reaching a closed socket resets it, as on Linux; nothing more is read.
    // A reset by the peer ends the linger: nothing can be sent any more.
    if (nread > 0) handle.backend.abortClosed(handle);
    else if (nread < 0 && nread !== B.UV_EOF) handle.backend.dropClosed(handle);
    return;
  }
  if (nread > 0) {
    const chunk = Buffer.allocUnsafe(nread);
    READ_BUFFER.copy(chunk, 0, 0, nread);
    inboxPush(handle, chunk);
    handle.bytesRead += nread;
    handle.backend.updateFlow(handle);
    handle.backend.notify(handle, Readiness.READABLE);
    return;
  }
  if (nread === 0) return;
  handle.reading = false; // libuv stops reading at EOF and on errors
  if (nread === B.UV_EOF) {
    const reset = resetBehindEnd(handle, handle.path === undefined ? handle.tcp : undefined, handle.fd);
    if (reset !== undefined) handle.backend.fail(handle, reset);
    else handle.backend.notify(handle, endOfStream(handle));
    return;
  }
  handle.backend.fail(handle, uvError(nread, 'read', { fd: handle.fd }));
}

function onConnection(this: Tagged, status: number, client?: StreamHandle): void {
  const handle = this[kOwner];
  if (handle === undefined || handle.closed) {
    client?.close();
    return;
  }
  if (status < 0 || client === undefined) {
    handle.dropped++; // EMFILE, ENFILE... that libuv's reserve descriptor did not absorb (what it absorbs, nobody hears of)
    publishDrop(handle.fd, uvError(status, 'accept', { fd: handle.fd }));
    return;
  }
  if (handle.pending.length >= handle.backlog) {
    handle.dropped++;
    handle.backend.release(client);
    return;
  }
  handle.pending.push(client);
  handle.backend.notify(handle, Readiness.READABLE);
}

function onWriteComplete(this: WriteWrap, status: number): void {
  const handle = (this.handle as Tagged)[kOwner];
  this.buffer = null;
  if (handle === undefined) return;
  handle.pendingWrites--;
  if (status < 0 && !handle.closed) {
    handle.backend.fail(handle, uvError(status, 'write', { fd: handle.fd }));
    return;
  }
  if (handle.pendingWrites === 0) handle.backend.writesDone(handle);
}

function onShutdownComplete(this: ShutdownWrap, status: number): void {
  const handle = (this.handle as Tagged)[kOwner];
  if (handle === undefined) return;
  handle.fin = 'done';
  // ENOTCONN: the peer is gone already (as Node, which ignores it: the next write tells).
  if (status < 0 && !handle.closed && getSystemErrorName(status) !== 'ENOTCONN') {
    handle.backend.fail(handle, uvError(status, 'shutdown', { fd: handle.fd }));
  }
  if (handle.closed) handle.backend.lingerProgress(handle);
}

function onConnectComplete(this: ConnectWrap, status: number, native: StreamHandle): void {
  const handle = (native as Tagged)[kOwner];
  if (handle === undefined || handle.closed) return;
  if (status < 0) {
    handle.backend.connectFailed(handle, uvError(status, 'connect', { fd: handle.fd, address: this.address, port: this.port }));
    return;
  }
  handle.connecting = false;
  handle.nextAddresses = undefined;
  handle.backend.connected(handle);
}

/**
 * A backend directly on libuv's TCP handles, the ones Node's `net` module is
 * built on (`tcp_wrap`, `stream_wrap`), without `net.Socket` and its streams
 * in between: a read is libuv's `readStart`/`readStop`, a write is one
 * `writeBuffer`, and nothing else runs per event.
 *
 * - Reading: libuv reads whatever the read interest (so a reset or end of
 *   stream is noticed on a descriptor nobody reads, contract rule 21); each
 *   chunk goes to the descriptor's inbox; at `inboxLimit` (one read's worth
 *   by default), `readStop`, and the kernel's buffer and then the peer hold
 *   the rest (real TCP backpressure). A reset that reaches a socket stopped
 *   this way waits in the kernel behind the data until the program reads
 *   (or writes). An end of stream is checked before it is taken for a FIN
 *   (libuv reports one for a reset that follows a partial read).
 * - Writing: `write` hands libuv the buffer in slices of `highWaterMark`;
 *   libuv writes what the kernel takes at once and queues the rest of the
 *   slice that did not go through whole, and `write` stops there and says
 *   how much it took (that slice included). While anything is queued the
 *   descriptor is not writable (`write` returns 0); WRITABLE comes back, one
 *   edge, when libuv has written it. The bytes taken must not change until
 *   then (as with `Connection.send`). `shutdown` sends FIN once the queue
 *   is written.
 * - Listening: libuv accepts; connections wait in a queue up to the backlog
 *   (more are closed and counted as dropped, `info(fd).droppedConnections`).
 *   Out of descriptors, libuv accepts and closes the waiting connections
 *   with a reserve descriptor of its own and tells nobody: those cannot be
 *   counted, here or anywhere in the process. An `EMFILE`/`ENFILE` that
 *   reaches the handle (the reserve did not absorb it) is counted and
 *   published (`tsreactor:server:drop`, reason `'no-descriptors'`).
 * - `close` is close(2): with unread data it resets the connection;
 *   otherwise pending writes still go out, then FIN, then the handle is
 *   released, within the reactor's `lingerMs` (then it is reset); data that
 *   arrives meanwhile resets it at once. `abort` resets at once
 *   (`uv_tcp_close_reset`).
 * - A host name is resolved with `dns.lookup` (all its addresses, in the
 *   resolver's order); connecting tries each in turn until one connects, as
 *   Python's `socket.create_connection` does, and reports the last error if
 *   none does. (`node:net` races IPv6 against IPv4 instead, "happy
 *   eyeballs"; the outcome is the same for a name such as `localhost` that
 *   resolves to `::1` while the server listens on 127.0.0.1 only.)
 *   A lookup still running when the reactor closes cannot be cancelled
 *   (getaddrinfo runs on libuv's thread pool); its answer is dropped.
 * - `reusePort` where this Node's libuv has `UV_TCP_REUSEPORT` (Node 22.12+,
 *   23.1+; ENOTSUP before): listeners on one port, the kernel spreading
 *   connections between them.
 *
 * These bindings are internal to Node. Constructing the backend checks every
 * member it uses and throws `ReactorError` `ERR_BACKEND_UNAVAILABLE` where
 * something is missing, different or refused (a permission model, a write
 * convention it does not know, deprecation flags under which touching
 * `process.binding` could crash the process: see `tcp-bindings.ts`);
 * `RawHandleBackend.available()` asks without throwing. Tried on Node
 * 20.20, 22.23, 24.22 and 26.12. The default backend stays `LibuvBackend`.
 *
 * @example
 * ```ts
 * import { LibuvBackend, RawHandleBackend, Reactor } from 'tsreactor';
 *
 * const backend = RawHandleBackend.available() ? new RawHandleBackend() : new LibuvBackend();
 * const reactor = new Reactor({ backend });
 * ```
 */
export class RawHandleBackend extends SocketBackendCore<RawHandle, StreamHandle, RawHandle> implements Backend {
  readonly name = 'raw';
  /** Streams closed gracefully that still send what they held; reset at their deadline. */
  protected readonly lingeringStreams = new LingerList<RawHandle>((handle) => this.abortClosed(handle));

  /** `true` if this Node has the bindings the backend needs (see the class comment). */
  static available(): boolean {
    try {
      loadTcpBindings();
      return true;
    } catch {
      return false;
    }
  }

  constructor(options: RawHandleBackendOptions = {}) {
    B = loadTcpBindings();
    super(socketBackendOptions(options, { inboxLimit: 64 * 1024, highWaterMark: 64 * 1024 }));
  }

  /* ---- Called by the module-level callbacks ----------------------------- */

  /** @internal A socket error: reported once; reading stops. */
  fail(handle: RawHandle, error: ReactorError): void {
    if (handle.error !== undefined) return;
    handle.error = error;
    handle.connecting = false;
    this.updateFlow(handle);
    this.notify(handle, FAILED_STREAM);
  }

  /** @internal A connect attempt failed: on to the next address with a fresh handle, or report the error. */
  connectFailed(handle: RawHandle, error: ReactorError): void {
    if (handle.nextAddresses === undefined || handle.nextAddresses.length === 0) {
      handle.nextAddresses = undefined;
      this.fail(handle, error);
      return;
    }
    this.#replaceHandle(handle);
    connectNext(handle);
  }

  /** @internal An outgoing connection is up. */
  connected(handle: RawHandle): void {
    if (this.noDelay && handle.path === undefined) handle.tcp.setNoDelay(true);
    if (handle.shutdown) this.#finAfterWrites(handle); // shutdown() came while connecting
    this.updateFlow(handle);
    if (!handle.shutdown) this.notify(handle, Readiness.WRITABLE);
  }

  /** @internal Start or stop libuv's reading as the inbox and the socket's state say. */
  updateFlow(handle: RawHandle): void {
    const want = handle.inboxBytes < this.inboxLimit && !handle.ended && handle.error === undefined && !handle.connecting && !handle.closed;
    if (want && !handle.reading) {
      const status = handle.native.readStart();
      if (status < 0) {
        this.fail(handle, uvError(status, 'read', { fd: handle.fd }));
        return;
      }
      handle.reading = true;
    } else if (!want && handle.reading) {
      handle.native.readStop();
      handle.reading = false;
    }
  }

  /** @internal libuv has written everything it held: FIN if one waits, else the writable edge. */
  writesDone(handle: RawHandle): void {
    if (handle.closed) {
      this.lingerProgress(handle);
      return;
    }
    if (handle.fin === 'wanted') this.#sendFin(handle);
    if (!handle.shutdown) this.notify(handle, Readiness.WRITABLE);
  }

  /**
   * @internal A closed stream moves on: once its writes are done, FIN; once
   * that is handed over, it is released (or reset, if an abort waited for it).
   */
  lingerProgress(handle: RawHandle): void {
    if (handle.pendingWrites > 0) return;
    if (handle.fin === 'none' || handle.fin === 'wanted') this.#sendFin(handle);
    if (handle.fin !== 'done') return; // the shutdown request is in flight
    if (handle.linger !== undefined) this.lingeringStreams.remove(handle.linger);
    if (handle.resetWhenShut) this.#reset(handle);
    else this.release(handle.native);
  }

  /**
   * @internal A closed stream is cut short (data arrived for it, or its
   * linger time is up): reset, at once unless a shutdown request is in flight
   * (libuv refuses to reset a stream that is shutting down; then it resets
   * as soon as that completes).
   */
  abortClosed(handle: RawHandle): void {
    if (handle.linger !== undefined) this.lingeringStreams.remove(handle.linger);
    if (handle.fin === 'sent') handle.resetWhenShut = true;
    else this.#reset(handle);
  }

  /** @internal A closed stream whose connection failed: released at once (close, never reset, is safe in any state). */
  dropClosed(handle: RawHandle): void {
    if (handle.linger !== undefined) this.lingeringStreams.remove(handle.linger);
    this.release(handle.native);
  }

  protected hasRoom(handle: RawHandle): boolean {
    return handle.pendingWrites === 0;
  }

  protected cutLingering(handle: RawHandle): void {
    this.abortClosed(handle);
  }

  /* ---- Backend --------------------------------------------------------- */

  async openListener(fd: number, options: ListenOptions): Promise<void> {
    if (options.path !== undefined) {
      const path = options.path;
      const pipes = pipeBindings('listen', path);
      if (!options.exclusive && cluster.isWorker) throw sharedHandleRefused(path, undefined);
      await listenOnPath(path, options.removeStale === true, () => {
        const pipe = new pipes.Pipe(pipes.SERVER);
        let status = pipe.bind(path);
        if (status === 0) status = pipe.listen(options.backlog);
        if (status < 0) {
          this.release(pipe);
          return Promise.reject(uvError(status, 'listen', { address: path }));
        }
        this.#listening(fd, pipe, options.backlog).path = path;
        return Promise.resolve();
      });
      return;
    }
    if (options.reusePort && B.UV_TCP_REUSEPORT === undefined) {
      throw new ReactorError(
        'ENOTSUP',
        `reusePort needs Node 22.12, 23.1 or newer (libuv's UV_TCP_REUSEPORT); this is ${process.version}`,
        {
          syscall: 'listen',
          address: options.host,
          port: options.port,
        },
      );
    }
    if (!options.exclusive && cluster.isWorker) throw sharedHandleRefused(options.host, options.port);
    const reusePort = options.reusePort ? (B.UV_TCP_REUSEPORT as number) : 0;
    const address = await resolve(options.host, options.port, 'listen');
    const tcp = new B.TCP(B.SERVER) as TcpHandle & Tagged;
    const family = isIP(address);
    let status =
      family === 6
        ? tcp.bind6(address, options.port, (options.ipv6Only ? B.UV_TCP_IPV6ONLY : 0) | reusePort)
        : reusePort === 0
          ? tcp.bind(address, options.port)
          : tcp.bind(address, options.port, reusePort);
    // libuv reports some bind errors (EADDRINUSE) only at listen.
    if (status === 0) status = tcp.listen(options.backlog);
    if (status < 0) {
      this.release(tcp);
      throw uvError(status, 'listen', { address: options.host, port: options.port });
    }
    this.#listening(fd, tcp, options.backlog);
  }

  /** A bound and listening handle becomes listener `fd`. */
  #listening(fd: number, native: Tagged, backlog: number): RawHandle {
    const handle = new RawHandle(fd, this, 'listener', native);
    handle.pending = [];
    handle.backlog = backlog;
    native[kOwner] = handle;
    native.onconnection = onConnection;
    this.handles[fd] = handle;
    return handle;
  }

  openConnection(fd: number, options: ConnectOptions): void {
    if (options.path !== undefined) {
      const pipes = pipeBindings('connect', options.path);
      const handle = this.#adopt(fd, new pipes.Pipe(pipes.SOCKET));
      handle.connecting = true;
      handle.path = options.path;
      const req = new pipes.PipeConnectWrap();
      req.oncomplete = onConnectComplete;
      req.address = options.path;
      const status = (handle.native as PipeHandle).connect(req, options.path);
      // As non-blocking connect(2): the outcome is reported later, never from inside reactor.connect.
      if (status < 0) process.nextTick(() => this.connectFailed(handle, uvError(status, 'connect', { fd, address: options.path })));
      return;
    }
    const handle = this.#adopt(fd, new B.TCP(B.SOCKET));
    handle.connecting = true;
    handle.port = options.port;
    if (isIP(options.host) !== 0) {
      handle.nextAddresses = [options.host];
      // As non-blocking connect(2): the outcome is reported later, never from inside reactor.connect.
      process.nextTick(connectNext, handle);
      return;
    }
    lookup(options.host, { all: true }, (err, found) => {
      if (handle.closed || handle.error !== undefined) return; // closed, or timed out, while resolving
      if (err !== null) {
        this.fail(handle, lookupError(err, options.host, options.port, 'connect'));
        return;
      }
      handle.nextAddresses = found.map((entry) => entry.address);
      connectNext(handle);
    });
  }

  timeOutConnect(fd: number): boolean {
    const handle = this.handle(fd);
    if (!handle.connecting || handle.error !== undefined) return false;
    handle.nextAddresses = undefined;
    this.fail(handle, new ReactorError('ETIMEDOUT', 'connection timed out', { syscall: 'connect', fd, port: handle.port }));
    this.#replaceHandle(handle); // a fresh one, never opened, stands in until close
    return true;
  }

  accept(listenFd: number, fd: number): void {
    const listener = this.handle(listenFd);
    const native = listener.pending.shift() as Tagged;
    const handle = this.#adopt(fd, native);
    handle.path = listener.path;
    if (this.noDelay && handle.path === undefined) handle.tcp.setNoDelay(true);
    this.updateFlow(handle); // reading starts now, registered or not
  }

  write(fd: number, data: Uint8Array): number {
    const handle = this.handle(fd);
    if (handle.error !== undefined) throw handle.error;
    if (handle.shutdown) throw new ReactorError('EPIPE', `write after shutdown on fd ${fd}`, { fd, syscall: 'write' });
    if (handle.connecting || handle.pendingWrites > 0) return 0;
    // Hand libuv a slice at a time: it writes what the kernel takes and queues
    // the rest of that slice. So at most one slice waits in libuv, a partial
    // write means "the kernel is full", and its completion is the writable edge.
    const slice = this.highWaterMark;
    let n = 0;
    while (n < data.length) {
      const end = Math.min(data.length, n + slice);
      const chunk = n === 0 && end === data.length ? data : data.subarray(n, end);
      const req = spareWrite ?? new B.WriteWrap();
      spareWrite = undefined;
      req.handle = handle.native;
      req.oncomplete = onWriteComplete;
      req.async = false;
      req.bytes = chunk.length;
      req.buffer = chunk;
      const status = handle.native.writeBuffer(req, chunk);
      if (status < 0) {
        const error = uvError(status, 'write', { fd });
        this.fail(handle, error);
        if (n === 0) throw error;
        break; // what went before was accepted; the error comes as an event
      }
      n = end;
      if (B.streamBaseState[B.kLastWriteWasAsync] !== 0) {
        req.async = true;
        handle.pendingWrites++; // the kernel is full; libuv writes the rest of the slice as it drains
        break;
      }
      req.buffer = null;
      spareWrite = req; // written at once: Node never wrapped the request, so the next write can use it
    }
    handle.bytesWritten += n;
    return n;
  }

  shutdown(fd: number): void {
    const handle = this.handle(fd);
    if (handle.shutdown) return;
    handle.shutdown = true;
    if (handle.error === undefined) this.#finAfterWrites(handle);
    if (handle.ended) this.notify(handle, Readiness.WRITE_CLOSED);
  }

  close(fd: number): void {
    const handle = this.handles[fd];
    if (handle === undefined) {
      this.closeUnhandled(fd);
      return;
    }
    this.handles[fd] = undefined;
    handle.closed = true;
    if (handle.kind === 'listener') {
      for (const client of handle.pending) this.release(client);
      handle.pending.length = 0;
      this.release(handle.native);
      return;
    }
    if (handle.error !== undefined || handle.connecting) {
      this.release(handle.native);
      return;
    }
    if (handle.inboxBytes > 0) {
      this.#reset(handle); // as close(2) with unread data: a reset, not a FIN
      return;
    }
    // As close(2): what was written still goes out, then FIN, then the handle
    // is released; at most lingerMs while writes are queued. Data arriving meanwhile resets it.
    this.releasing(handle.native);
    if (handle.pendingWrites > 0) handle.linger = this.lingeringStreams.add(handle, fd);
    if (!handle.reading && !handle.ended) {
      handle.native.readStart();
      handle.reading = true;
    }
    this.lingerProgress(handle);
  }

  abort(fd: number): void {
    const handle = this.handles[fd];
    if (handle === undefined) {
      this.closeUnhandled(fd);
      return;
    }
    if (handle.kind === 'listener' || handle.error !== undefined || handle.connecting) {
      this.close(fd);
      return;
    }
    this.handles[fd] = undefined;
    handle.closed = true;
    this.releasing(handle.native);
    this.abortClosed(handle);
  }

  lingering(): LingeringHandle[] {
    return Array.from(this.lingeringStreams, ({ handle, fd, closedAtMs }) => {
      const remote: SocketAddress = {};
      if (handle.path === undefined) handle.tcp.getpeername(remote);
      return { fd, remoteAddress: remote.address, remotePort: remote.port, queuedBytes: handle.native.writeQueueSize, closedAtMs };
    });
  }

  configure(fd: number, options: { noDelay?: boolean; keepAlive?: boolean; keepAliveInitialDelayMs?: number }): void {
    const handle = this.handle(fd);
    if (handle.kind !== 'stream' || handle.path !== undefined) return; // TCP options: a Unix socket has none
    if (options.noDelay !== undefined) handle.tcp.setNoDelay(options.noDelay);
    if (options.keepAlive !== undefined)
      handle.tcp.setKeepAlive(options.keepAlive, Math.floor((options.keepAliveInitialDelayMs ?? 0) / 1000));
  }

  info(fd: number): HandleInfo {
    const unhandled = this.unhandledInfo(fd);
    if (unhandled !== undefined) return unhandled;
    const handle = this.handle(fd);
    const local: SocketAddress = {};
    const remote: SocketAddress = {};
    if (handle.path === undefined) {
      handle.tcp.getsockname(local);
      if (handle.kind === 'stream') handle.tcp.getpeername(remote);
    }
    const family = handle.path !== undefined ? 'unix' : ((handle.kind === 'stream' ? remote.family : local.family) ?? local.family);
    return {
      kind: handle.kind,
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      family: family === undefined || family === 'unix' ? family : family === 'IPv6' ? 'IPv6' : 'IPv4',
      path: handle.path,
      bytesRead: handle.bytesRead,
      bytesWritten: handle.bytesWritten,
      readBuffered: handle.inboxBytes,
      writeBuffered: handle.kind === 'stream' ? handle.native.writeQueueSize : 0,
      osFd: typeof handle.native.fd === 'number' && handle.native.fd >= 0 ? handle.native.fd : undefined,
      droppedConnections: handle.dropped,
      droppedDatagrams: 0,
    };
  }

  /* ---- Internals ------------------------------------------------------- */

  /** Closes a stream's libuv handle (its pending connect then finds no owner) and gives the stream a fresh, unopened one. */
  #replaceHandle(handle: RawHandle): void {
    this.release(handle.native);
    const native: Tagged =
      handle.path === undefined ? new B.TCP(B.SOCKET) : new (B.pipes as PipeBindings).Pipe((B.pipes as PipeBindings).SOCKET);
    claim(native, handle);
    handle.native = native;
  }

  #adopt(fd: number, tcp: Tagged): RawHandle {
    const handle = new RawHandle(fd, this, 'stream', tcp);
    claim(tcp, handle);
    this.handles[fd] = handle;
    return handle;
  }

  /** FIN now if nothing is queued, else once libuv has written it (so an abort never meets a shutdown in flight behind writes). */
  #finAfterWrites(handle: RawHandle): void {
    if (handle.fin !== 'none') return;
    if (handle.connecting || handle.pendingWrites > 0) handle.fin = 'wanted';
    else this.#sendFin(handle);
  }

  #sendFin(handle: RawHandle): void {
    const req = new B.ShutdownWrap();
    req.handle = handle.native;
    req.oncomplete = onShutdownComplete;
    handle.fin = 'sent';
    const status = handle.native.shutdown(req);
    if (status < 0) {
      handle.fin = 'done';
      if (!handle.closed && getSystemErrorName(status) !== 'ENOTCONN')
        handle.backend.fail(handle, uvError(status, 'shutdown', { fd: handle.fd }));
    }
  }

  /**
   * Resets a stream (RST, `uv_tcp_close_reset`), which also releases it.
   * Never while a shutdown request is in flight. A Unix socket has no
   * reset: it is closed (the kernel resets the peer only if it held data
   * for us unread).
   */
  #reset(handle: RawHandle): void {
    handle.inbox = undefined;
    if (handle.path !== undefined) {
      this.release(handle.native);
      return;
    }
    const tcp = handle.tcp as TcpHandle & Tagged;
    tcp[kOwner] = undefined;
    this.releasing(tcp);
    tcp.reset(() => this.released(tcp));
  }

  /** @internal Closes a libuv handle; `dispose` waits for every one. */
  release(native: StreamHandle): void {
    (native as Tagged)[kOwner] = undefined;
    this.releasing(native);
    native.close(() => this.released(native));
  }
}

/** Starts connecting a handle to the next of its addresses. */
function connectNext(handle: RawHandle): void {
  if (handle.closed) return;
  const address = (handle.nextAddresses as string[]).shift() as string;
  const req = new B.TCPConnectWrap();
  req.oncomplete = onConnectComplete;
  req.address = address;
  req.port = handle.port;
  const tcp = handle.tcp;
  const status = isIP(address) === 6 ? tcp.connect6(req, address, handle.port) : tcp.connect(req, address, handle.port);
  if (status < 0) handle.backend.connectFailed(handle, uvError(status, 'connect', { fd: handle.fd, address, port: handle.port }));
}

/** This Node's pipe bindings, or ERR_BACKEND_UNAVAILABLE saying why there are none. */
function pipeBindings(syscall: string, path: string): PipeBindings {
  if (typeof B.pipes !== 'string') return B.pipes;
  throw new ReactorError(
    'ERR_BACKEND_UNAVAILABLE',
    `the raw-handle backend cannot open Unix domain sockets on Node ${process.version}: ${B.pipes}. Use LibuvBackend for them.`,
    { syscall, address: path },
  );
}

/** A listener in a `node:cluster` worker asked to share the primary's socket, which only node:net servers can. */
function sharedHandleRefused(address: string, port: number | undefined): ReactorError {
  return new ReactorError(
    'ENOTSUP',
    `a raw handle cannot share the node:cluster primary's socket (exclusive: false): only node:net servers can; use reusePort, or LibuvBackend`,
    { syscall: 'listen', address, port },
  );
}

/** `host` as an IP address: itself if it is one, else the first `dns.lookup` gives. */
function resolve(host: string, port: number, syscall: string): Promise<string> {
  if (isIP(host) !== 0) return Promise.resolve(host);
  return new Promise((done, fail) => {
    lookup(host, (err, address) => {
      if (err !== null) fail(lookupError(err, host, port, syscall));
      else done(address);
    });
  });
}

function lookupError(err: NodeJS.ErrnoException, host: string, port: number, syscall: string): ReactorError {
  return new ReactorError(err.code ?? 'ENOTFOUND', `${syscall} ${host}: ${err.message}`, { syscall, address: host, port });
}
