import { type Reactor, ReactorError } from '../reactor';
import { describe } from '../reactor/options-object';

/** A connection's lifecycle: open, then ending (our FIN is on its way), then closed. */
export type ConnectionState = 'open' | 'ending' | 'closed';

/**
 * Why a connection closed. Only `'closed'` and `'error'` close the socket
 * as close(2) does; every other reason resets it (RST, see
 * `Reactor.abort`), so that nothing lingers toward a peer that may never
 * read:
 * - `'closed'`: both sides ended cleanly (graceful);
 * - `'destroyed'`: `destroy()` (or `removeClient`) was called;
 * - `'error'`: a socket error (reset, broken pipe);
 * - `'idle-timeout'`: nothing was read or written for `idleTimeoutMs`;
 * - `'linger-timeout'`: after our FIN, the peer did not close within `lingerMs`;
 * - `'callback-error'`: one of its callbacks threw;
 * - `'shutdown-forced'`: still open at the shutdown deadline.
 *
 * (Connections refused at `maxConnections` with the `'reject'` policy never
 * become Connections: they are counted as drops.)
 */
export type CloseReason = 'closed' | 'destroyed' | 'error' | 'idle-timeout' | 'linger-timeout' | 'callback-error' | 'shutdown-forced';

/**
 * Callbacks for one connection. Each runs isolated: if it throws, the error
 * goes to the loop's `onError`, the connection is closed (`'callback-error'`)
 * and the loop goes on.
 */
export interface ConnectionHandlers<T = unknown> {
  /** A connection was accepted (server sockets only). */
  onConnect?(connection: Connection<T>): void;
  /** Bytes arrived. The buffer is yours to keep. */
  onData?(connection: Connection<T>, data: Buffer): void;
  /** The peer half-closed. Unless `allowHalfOpen`, the connection then ends itself. */
  onEnd?(connection: Connection<T>): void;
  /**
   * Everything queued has gone out, after `send` returned false or reading
   * paused because the queue passed the high-water mark (`needsDrain` was
   * true). A producer that stopped on `needsDrain` goes on from here.
   */
  onDrain?(connection: Connection<T>): void;
  /** The connection is gone; `error` is set for `'error'` closes. */
  onClose?(connection: Connection<T>, reason: CloseReason, error?: Error): void;
  /**
   * The loop began a graceful close (`loop.close()`, a signal). The
   * connection is still open and still read: finish what it is in (answer
   * the request being received, say), then `end()` it. Without this handler
   * the loop ends the connection at once. What is still open at the
   * close's deadline is reset. Input that had already arrived is handed to
   * `onData` first, so a request the server had received is not mistaken
   * for an idle connection.
   */
  onShutdown?(connection: Connection<T>): void;
}

/** What a Connection needs from its event loop (one object, shared by all its connections). Internal. */
export interface ConnectionLoop {
  readonly reactor: Reactor;
  /** Queued bytes past which reading pauses until the queue drains to half. */
  readonly highWaterMark: number;
  /** Keep a half-open connection open after the peer's FIN. */
  readonly allowHalfOpen: boolean;
  /** The next connection id of this loop (1, 2, 3, ...). */
  nextConnectionId(): number;
  now(): number;
  /** Reading was paused or resumed: update the registration. */
  interestChanged(connection: Connection): void;
  /** Bytes queued for sending changed by `delta`. */
  bufferedChanged(delta: number): void;
  /** Activity: re-arm the idle timer; count bytes. */
  activity(connection: Connection, read: number, written: number): void;
  /** The connection is finished: tear it down and report it. */
  finish(connection: Connection, reason: CloseReason, error?: Error): void;
  /** Our FIN is out and the peer has not closed yet: start the linger timer. */
  lingering(connection: Connection): void;
  /** Calls `connection.handlers[name](connection, arg)`, if there is one: isolated and timed. */
  callHandler(connection: Connection, name: HandlerName, arg?: unknown): void;
}

/** The handlers a connection calls by itself. */
export type HandlerName = 'onData' | 'onEnd' | 'onDrain' | 'onShutdown';

/** A connection's addresses, looked up when first asked for. */
interface Addresses {
  localAddress: string | undefined;
  localPort: number | undefined;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  family: 'IPv4' | 'IPv6' | 'unix' | undefined;
  path: string | undefined;
}

const NO_ADDRESSES: Addresses = {
  localAddress: undefined,
  localPort: undefined,
  remoteAddress: undefined,
  remotePort: undefined,
  family: undefined,
  path: undefined,
};

// Flag bits: eight booleans in one small integer (an idle connection should be small).
const BLOCKED = 1; // send returned false, or the queue paused reading: onDrain is owed
const FIN_SENT = 2;
const PEER_ENDED = 4;
const PAUSED_BY_APP = 8;
const PAUSED_BY_QUEUE = 16;
const PAUSED_BY_PRESSURE = 32;
const TOUCHED = 64;
const CORKED = 128; // onData is running: small sends are gathered, written when it returns
const PAUSED = PAUSED_BY_APP | PAUSED_BY_QUEUE | PAUSED_BY_PRESSURE;

/**
 * Sends made during `onData` are gathered up to this many bytes and written
 * together when the handler returns; a larger one is written at once (after
 * what was gathered), without a copy.
 */
const CORK_LIMIT = 16 * 1024;

/** A Buffer view of `bytes`, without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length);
}

/**
 * One client connection, as the event loop serves it: buffered,
 * partial-write-safe `send`; `end` (graceful: flush, then FIN, then close
 * once the peer closes too) and `destroy` (at once); reading that pauses
 * itself when too much is queued for a slow reader (TCP then holds the client
 * back: backpressure, not buffering); and metadata.
 *
 * `T` types `data`, a slot for the application's own per-connection state.
 *
 * An idle connection is kept small (it costs about what a bare `net.Socket`
 * with a `setTimeout` does): its addresses are looked up from the socket
 * the first time one is read (read them before the connection closes if you
 * need them afterwards), flags share one integer, times are whole
 * milliseconds, and the send queue exists only while something waits in it.
 *
 * @example
 * ```ts
 * import { EventLoop } from 'tsreactor';
 *
 * const loop = new EventLoop();
 * loop.setHandlers({
 *   onData(conn, chunk) {
 *     conn.send(chunk);                      // echo; queued if the socket is full
 *     if (chunk.includes('bye')) conn.end(); // flush, FIN, close
 *   },
 * });
 * ```
 */
export class Connection<T = unknown> {
  /**
   * Unique within its event loop, numbered from 1 in each loop (fd numbers
   * are reused; ids are not), so two runs of one simulation log the same ids.
   */
  readonly id: number;
  readonly fd: number;
  /** When the connection was accepted, on the loop's clock (whole ms). */
  readonly connectedAtMs: number;
  /** When something was last read or written (whole ms; updated once per batch of events). */
  lastActivityMs: number;
  bytesRead = 0;
  bytesWritten = 0;
  /** How many reads and writes (operations, not bytes). */
  reads = 0;
  writes = 0;
  /** The application's own state for this connection. */
  data: T | undefined = undefined;
  readonly handlers: ConnectionHandlers<T>;
  /** @internal The idle timer's handle on the loop's wheel (0: none). */
  idleTimer = 0;
  /** @internal The linger timer's handle on the loop's wheel (0: none). */
  lingerTimer = 0;
  /** @internal The registry's list links. */
  newer: Connection | undefined = undefined;
  /** @internal */
  older: Connection | undefined = undefined;

  #state: ConnectionState = 'open';
  readonly #loop: ConnectionLoop;
  #queue: Buffer[] | undefined = undefined;
  #queued = 0;
  /** Sends gathered while `onData` runs (see CORK_LIMIT); undefined when none. */
  #corked: Buffer[] | undefined = undefined;
  #corkedBytes = 0;
  #flags = 0;
  #addresses: Addresses | undefined = undefined;

  constructor(loop: ConnectionLoop, fd: number, handlers: ConnectionHandlers<T>) {
    this.id = loop.nextConnectionId();
    this.fd = fd;
    this.#loop = loop;
    this.handlers = handlers;
    this.connectedAtMs = Math.floor(loop.now());
    this.lastActivityMs = this.connectedAtMs;
  }

  get localAddress(): string | undefined {
    return this.#lookUpAddresses().localAddress;
  }
  get localPort(): number | undefined {
    return this.#lookUpAddresses().localPort;
  }
  get remoteAddress(): string | undefined {
    return this.#lookUpAddresses().remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.#lookUpAddresses().remotePort;
  }
  /** `'unix'` for a connection over a Unix domain socket (its addresses and ports are then undefined; `path` says where). */
  get family(): 'IPv4' | 'IPv6' | 'unix' | undefined {
    return this.#lookUpAddresses().family;
  }
  /** A Unix domain socket's path (the listener's); undefined over TCP. */
  get path(): string | undefined {
    return this.#lookUpAddresses().path;
  }

  /** @internal Active in the current batch (its idle timer is re-armed after it). */
  get touched(): boolean {
    return (this.#flags & TOUCHED) !== 0;
  }
  /** @internal */
  set touched(value: boolean) {
    this.#flags = value ? this.#flags | TOUCHED : this.#flags & ~TOUCHED;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Bytes `send` accepted that are still waiting for the socket. */
  get buffered(): number {
    return this.#queued;
  }

  /**
   * `true` from a `send` that returned false, or from the queue passing the
   * high-water mark, until everything queued has gone out and `onDrain` was
   * called: time to stop producing (as Node's `writableNeedDrain`).
   */
  get needsDrain(): boolean {
    return (this.#flags & BLOCKED) !== 0;
  }

  /** `true` while the loop reads from this connection. */
  get reading(): boolean {
    return (this.#flags & (PAUSED | PEER_ENDED)) === 0 && this.#state !== 'closed';
  }

  /** The peer has half-closed. */
  get peerEnded(): boolean {
    return (this.#flags & PEER_ENDED) !== 0;
  }

  /**
   * Sends `data`: as much as the socket takes now, the rest queued and sent
   * as it drains. Returns `true` if it all went out at once, `false` if some
   * waits (then `onDrain` follows). A queue past the high-water mark pauses
   * reading from this connection until it drains to half.
   * Do not modify `data` after sending it.
   *
   * Inside `onData`, small sends are gathered and written together when the
   * handler returns, as Netty's write-then-flush or a corked socket would:
   * a pipeline of ten requests in one chunk is answered with one system call,
   * not ten. Such a send returns `true` (accepted, room to spare); if the
   * socket then takes only part, the rest is queued and goes out as it
   * drains, with no `onDrain` owed (unless that queue passes the high-water
   * mark: see `needsDrain`). A send that would gather more than 16 KiB
   * writes at once instead, with the meaning above. `end()` and `destroy()`
   * write what was gathered first, so nothing overtakes it.
   *
   * After `end()` nothing more can be sent, and `send` says so: it throws
   * a `ReactorError` `EPIPE`, as a write after shutdown(2) fails (the data
   * would otherwise be lost without a word). A graceful close of the loop
   * ends the connections that have no `onShutdown` handler; one with it
   * ends when its handler says. Once the connection is closed (the peer
   * reset it, a timeout or `destroy()`; `onClose` has told you), `send`
   * returns `false` and drops the data: that can race with any send, and
   * is no mistake of the caller's.
   * @throws ReactorError `EPIPE` after `end()`; TypeError for data that is not bytes or a string.
   */
  send(data: Uint8Array | string): boolean {
    if (typeof data !== 'string' && !(data instanceof Uint8Array))
      throw new TypeError(`'data' must be a string, Buffer or Uint8Array, got ${describe(data)}`);
    if (this.#state !== 'open') {
      if (this.#state === 'ending') {
        throw new ReactorError('EPIPE', `send after end(): connection ${this.id} is ending, nothing more can be sent`, {
          fd: this.fd,
          syscall: 'send',
        });
      }
      return false;
    }
    const bytes = typeof data === 'string' ? Buffer.from(data) : asBuffer(data);
    if (bytes.length === 0) return this.#queued === 0;
    if (this.#queued > 0) {
      this.#enqueue(bytes, true);
      return false;
    }
    if ((this.#flags & CORKED) !== 0 && this.#corkedBytes + bytes.length <= CORK_LIMIT) {
      (this.#corked ??= []).push(bytes);
      this.#corkedBytes += bytes.length;
      return true;
    }
    if (this.#corked !== undefined) {
      if (!this.#uncork()) return false;
      if (this.#queued > 0) {
        this.#enqueue(bytes, true);
        return false;
      }
    }
    const accepted = this.#write(bytes);
    if (accepted < 0) return false; // failed: the connection is closing
    if (accepted < bytes.length) {
      this.#enqueue(bytes.subarray(accepted), true);
      return false;
    }
    return true;
  }

  /** Graceful close: what is queued goes out, then FIN; closed once the peer closes too. Idempotent. */
  end(): void {
    if (this.#state !== 'open') return;
    if (this.#corked !== undefined && !this.#uncork()) return;
    this.#state = 'ending';
    if (this.#queued === 0) this.#sendFin();
  }

  /**
   * Closes at once with a reset (RST, as `Reactor.abort`): what is queued
   * here and what the socket has not sent yet are dropped, the peer sees
   * ECONNRESET, and nothing of the connection is left behind. For a clean
   * ending, use `end()`. Idempotent.
   */
  destroy(): void {
    if (this.#state === 'closed') return;
    // Sent before destroy(): handed to the socket first, as a direct write would have been (the reset may
    // still overtake what the kernel has not sent). A failed write has finished it already.
    if (this.#corked !== undefined && !this.#uncork()) return;
    this.#loop.finish(this, 'destroyed');
  }

  /**
   * Stops reading from this connection: past the backend's small inbox, its
   * kernel buffers fill and the peer is held back. (A reset or the peer's
   * FIN is still noticed.)
   */
  pause(): void {
    this.#setPaused(PAUSED_BY_APP, true);
  }

  /** Resumes reading. */
  resume(): void {
    this.#setPaused(PAUSED_BY_APP, false);
  }

  /* ---- Called by the event loop ---------------------------------------- */

  /** @internal The socket is writable again: send what is queued. */
  flush(): void {
    const queue = this.#queue;
    while (queue !== undefined && queue.length > 0 && this.#state !== 'closed') {
      const head = queue[0];
      const accepted = this.#write(head);
      if (accepted < 0) return;
      this.#dequeued(accepted);
      if (accepted < head.length) {
        queue[0] = head.subarray(accepted);
        return;
      }
      queue.shift();
    }
    if (this.#state === 'closed') return;
    this.#queue = undefined;
    this.#setPaused(PAUSED_BY_QUEUE, false);
    if ((this.#flags & BLOCKED) !== 0) {
      this.#flags &= ~BLOCKED;
      this.#loop.callHandler(this, 'onDrain');
    }
    // onDrain may have queued more (and then ended): FIN only once that is out too.
    if (this.#state === 'ending' && this.#queued === 0 && (this.#flags & FIN_SENT) === 0) this.#sendFin();
  }

  /** @internal Reads until the socket has nothing more (edge-triggered), handing each chunk to `onData`. */
  readAvailable(): void {
    const reactor = this.#loop.reactor;
    while (this.reading) {
      let chunk: Buffer | null;
      try {
        chunk = reactor.read(this.fd);
      } catch (err) {
        this.#loop.finish(this, 'error', err as Error);
        return;
      }
      if (chunk === null) return;
      if (chunk.length === 0) {
        this.#onPeerEnd();
        return;
      }
      this.reads++;
      this.bytesRead += chunk.length;
      this.#loop.activity(this, chunk.length, 0);
      this.#flags |= CORKED;
      this.#loop.callHandler(this, 'onData', chunk);
      this.#flags &= ~CORKED;
      if (this.#corked !== undefined && this.#state !== 'closed' && !this.#uncork()) return;
    }
  }

  /** @internal The memory budget pauses or resumes reading. */
  setPressurePaused(paused: boolean): void {
    this.#setPaused(PAUSED_BY_PRESSURE, paused);
  }

  /** @internal Reading is paused by the memory budget. */
  get pressurePaused(): boolean {
    return (this.#flags & PAUSED_BY_PRESSURE) !== 0;
  }

  /** @internal Marks the connection closed; the loop has released it. */
  markClosed(): void {
    this.#state = 'closed';
    if (this.#queued > 0) this.#loop.bufferedChanged(-this.#queued);
    this.#queue = undefined;
    this.#queued = 0;
    this.#corked = undefined;
    this.#corkedBytes = 0;
  }

  /** Looks the addresses up once, while the socket is there to ask. */
  #lookUpAddresses(): Addresses {
    if (this.#addresses === undefined) {
      if (this.#state === 'closed') return NO_ADDRESSES;
      const info = this.#loop.reactor.info(this.fd);
      this.#addresses = {
        localAddress: info.localAddress,
        localPort: info.localPort,
        remoteAddress: info.remoteAddress,
        remotePort: info.remotePort,
        family: info.family,
        path: info.path,
      };
    }
    return this.#addresses;
  }

  #setPaused(bit: number, paused: boolean): void {
    if (((this.#flags & bit) !== 0) === paused) return;
    this.#flags = paused ? this.#flags | bit : this.#flags & ~bit;
    this.#loop.interestChanged(this);
  }

  #onPeerEnd(): void {
    this.#flags |= PEER_ENDED;
    this.#loop.interestChanged(this);
    this.#loop.callHandler(this, 'onEnd');
    if (this.#state === 'closed') return;
    if ((this.#flags & FIN_SENT) !== 0) this.#loop.finish(this, 'closed');
    else if (!this.#loop.allowHalfOpen) this.end();
  }

  #sendFin(): void {
    try {
      this.#loop.reactor.shutdown(this.fd);
    } catch (err) {
      this.#loop.finish(this, 'error', err as Error);
      return;
    }
    this.#flags |= FIN_SENT;
    if ((this.#flags & PEER_ENDED) !== 0) this.#loop.finish(this, 'closed');
    else this.#loop.lingering(this);
  }

  /** One write; -1 if it failed (the connection is then finished). */
  #write(bytes: Uint8Array): number {
    let accepted: number;
    try {
      accepted = this.#loop.reactor.write(this.fd, bytes);
    } catch (err) {
      this.#loop.finish(this, 'error', err as Error);
      return -1;
    }
    if (accepted > 0) {
      this.writes++;
      this.bytesWritten += accepted;
      this.#loop.activity(this, 0, accepted);
    }
    return accepted;
  }

  /**
   * Writes what `send` gathered during `onData`, in one piece; what the
   * socket does not take is queued. `false` if the write failed (the
   * connection is then finished).
   */
  #uncork(): boolean {
    const parts = this.#corked as Buffer[];
    const bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts, this.#corkedBytes);
    this.#corked = undefined;
    this.#corkedBytes = 0;
    const accepted = this.#write(bytes);
    if (accepted < 0) return false;
    // The sender was told "accepted": what waits is queued, but no onDrain is owed for it.
    if (accepted < bytes.length) this.#enqueue(bytes.subarray(accepted), false);
    return true;
  }

  /** Queues unsent bytes; `owed`: the sender saw `false` and expects `onDrain`. */
  #enqueue(bytes: Buffer, owed: boolean): void {
    (this.#queue ??= []).push(bytes);
    this.#queued += bytes.length;
    if (owed) this.#flags |= BLOCKED;
    this.#loop.bufferedChanged(bytes.length);
    if (this.#queued > this.#loop.highWaterMark) {
      this.#flags |= BLOCKED; // reading pauses on our output: onDrain says when to go on
      this.#setPaused(PAUSED_BY_QUEUE, true);
    }
  }

  #dequeued(bytes: number): void {
    this.#queued -= bytes;
    this.#loop.bufferedChanged(-bytes);
    if (this.#queued <= this.#loop.highWaterMark / 2) this.#setPaused(PAUSED_BY_QUEUE, false);
  }
}
