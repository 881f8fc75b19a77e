import { constants } from 'node:os';
import { Duplex } from 'node:stream';
import { Readiness } from '../../readiness';
import type { Scheduled } from './event-queue';
import { isIPv6 } from './sim-listeners';
import type { SimSocket } from './sim-socket';

/** What a socket needs of its world. */
export interface SocketWorld {
  /** Runs `run` after `delayMs` of simulated time; the handle cancels it. */
  after(delayMs: number, run: () => void): Scheduled | undefined;
  cancel(item: Scheduled): void;
  /** The program heard something: let its promises settle before time moves on. */
  wakeTest(): void;
}

/** Options of `host.net.connect`, as `net.connect` takes them (those that mean something here). */
export interface SimulatedSocketConnectOptions {
  port: number | string;
  /** Default `'localhost'` (this host). */
  host?: string;
  localAddress?: string;
  /** Ms of inactivity before `'timeout'` (see `setTimeout`). */
  timeout?: number;
  /** Default false: once the other side ends, this side ends too, as `net.Socket`. */
  allowHalfOpen?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  /** The readable side's buffer, as `net.Socket`'s. */
  highWaterMark?: number;
}

/** A write waiting for room in the send buffer. */
interface PendingWrite {
  chunk: Buffer;
  callback: (error?: Error | null) => void;
}

/**
 * A `net.Socket` over the simulated network: a `Duplex` with the events
 * (`'connect'`, `'ready'`, `'data'`, `'end'`, `'timeout'`, `'error'`,
 * `'close'` with `hadError`), properties (`connecting`, `pending`,
 * `readyState`, addresses and ports, `bytesRead`, `bytesWritten`) and
 * methods (`setNoDelay`, `setKeepAlive`, `setTimeout`, `ref`, `unref`,
 * `end`, `destroy`, `resetAndDestroy`, `address`) that `net.Socket` users
 * rely on, so code written for `net.connect` runs against simulated
 * servers unchanged: node:http through `Agent.createConnection`, undici
 * through its `connect` option (`host.net.connector()`), client libraries
 * that take a socket factory.
 *
 * Its flow control is TCP's: a reader that stops reading (a paused stream,
 * a full readable buffer) leaves the bytes in the simulated kernel, whose
 * receive window then stops the sender; `write` returns false past the
 * writable high-water mark, as a `net.Socket` does, and its callback runs
 * once the simulated kernel took the bytes. `destroy()` is close(2) (a reset
 * if received data was left unread), `resetAndDestroy()` is a reset.
 * Errors carry Node's `code`, `errno`, `syscall`, `address` and `port`
 * (`connect ECONNREFUSED 10.0.0.2:80`). `setTimeout` counts simulated time.
 *
 * @example
 * ```ts
 * import { SimulatedBackend } from 'tsreactor';
 *
 * const sim = new SimulatedBackend({ virtualTime: true });
 * // ... a server of sim's listening on port 80 ...
 * const socket = sim.host.net.connect({ port: 80 }, () => socket.end('hello'));
 * socket.on('data', (chunk: Buffer) => console.log(chunk.toString()));
 * ```
 */
export class SimulatedSocket extends Duplex {
  readonly #socket: SimSocket;
  readonly #world: SocketWorld;
  #connecting = true;
  #pulling = false;
  #ended = false;
  #pendingWrite: PendingWrite | undefined;
  #pendingFinal: ((error?: Error | null) => void) | undefined;
  #timeoutMs = 0;
  #idle: Scheduled | undefined;
  #refed = true;

  /** @internal Made by `host.net.connect`. */
  constructor(socket: SimSocket, world: SocketWorld, options: Omit<SimulatedSocketConnectOptions, 'port' | 'host'> = {}) {
    super({ allowHalfOpen: options.allowHalfOpen ?? false, emitClose: false, highWaterMark: options.highWaterMark, decodeStrings: true });
    this.#socket = socket;
    this.#world = world;
    socket.owner = this;
    if (options.timeout !== undefined) this.setTimeout(options.timeout);
    if (socket.state === 'open') this.#connected();
  }

  /* ---- net.Socket's properties ---------------------------------------------- */

  get connecting(): boolean {
    return this.#connecting;
  }

  get pending(): boolean {
    return this.#connecting;
  }

  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.#connecting) return 'opening';
    if (this.destroyed) return 'closed';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  get remoteAddress(): string | undefined {
    return this.#connecting && this.#socket.error === undefined ? undefined : this.#socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.#connecting && this.#socket.error === undefined ? undefined : this.#socket.remotePort;
  }

  get remoteFamily(): 'IPv4' | 'IPv6' | undefined {
    const address = this.remoteAddress;
    return address === undefined ? undefined : isIPv6(address) ? 'IPv6' : 'IPv4';
  }

  get localAddress(): string {
    return this.#socket.localAddress;
  }

  get localPort(): number {
    return this.#socket.localPort;
  }

  get localFamily(): 'IPv4' | 'IPv6' {
    return isIPv6(this.#socket.localAddress) ? 'IPv6' : 'IPv4';
  }

  get bytesRead(): number {
    return this.#socket.bytesRead;
  }

  get bytesWritten(): number {
    return this.#socket.bytesWritten;
  }

  /** The inactivity timeout in ms (0: none), as `net.Socket.timeout`. */
  get timeout(): number {
    return this.#timeoutMs;
  }

  address(): { address: string; family: 'IPv4' | 'IPv6'; port: number } | Record<string, never> {
    return { address: this.localAddress, family: this.localFamily, port: this.localPort };
  }

  /* ---- net.Socket's methods -------------------------------------------------- */

  /** Accepted; the model has no Nagle delay to turn off. */
  setNoDelay(): this {
    return this;
  }

  /** Accepted; a simulated peer that vanishes is found by writes and timeouts, not probes. */
  setKeepAlive(): this {
    return this;
  }

  /**
   * Emits `'timeout'` after `timeoutMs` of simulated time without reading
   * or writing (0 turns it off), as `net.Socket.setTimeout`; like it, the
   * socket stays open: the listener decides.
   */
  setTimeout(timeoutMs: number, callback?: () => void): this {
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0)
      throw new RangeError(`'timeoutMs' must be a number of ms >= 0, got ${String(timeoutMs)}`);
    this.#timeoutMs = timeoutMs;
    if (callback !== undefined) {
      if (timeoutMs === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    this.#rearmIdle();
    return this;
  }

  /** Kept for `net.Socket`'s API (an unref'd socket does not keep the simulation going either way: only events do). */
  ref(): this {
    this.#refed = true;
    return this;
  }

  unref(): this {
    this.#refed = false;
    return this;
  }

  /** Has `ref()` the last say (the default)? */
  get refed(): boolean {
    return this.#refed;
  }

  /** Closes with a reset (RST), as `net.Socket.resetAndDestroy`. */
  resetAndDestroy(): this {
    if (this.#socket.state !== 'closed') this.#socket.reset();
    return this.destroy();
  }

  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /* ---- The stream ---------------------------------------------------------- */

  override _read(): void {
    this.#pulling = true;
    this.#pull();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#pendingWrite = { chunk, callback };
    this.#flush();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#pendingFinal = callback;
    this.#flush();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#cancelIdle();
    const socket = this.#socket;
    if (socket.state !== 'closed') socket.close(); // close(2): unread data makes it a reset
    socket.owner = undefined;
    callback(error);
    process.nextTick(() => {
      this.emit('close', error !== null);
      this.#world.wakeTest();
    });
  }

  /** @internal SimSocketOwner: news from the simulated kernel. */
  socketEvent(_socket: SimSocket, edges: number): void {
    const socket = this.#socket;
    if (socket.error !== undefined && (edges & Readiness.ERROR) !== 0) {
      if (!this.destroyed) this.destroy(nodeError(socket.error, this.#connecting));
      this.#world.wakeTest();
      return;
    }
    if ((edges & Readiness.WRITABLE) !== 0) {
      if (this.#connecting) this.#connected();
      this.#flush();
    }
    if ((edges & Readiness.READABLE) !== 0) this.#pull();
    this.#world.wakeTest();
  }

  #connected(): void {
    this.#connecting = false;
    this.#rearmIdle();
    this.emit('connect');
    this.emit('ready');
    this.#flush();
    this.#pull();
  }

  /** Hands the simulated kernel what it takes of the pending write; ends our side once all is taken. */
  #flush(): void {
    if (this.#connecting || this.destroyed) return;
    const pending = this.#pendingWrite;
    if (pending !== undefined) {
      let accepted: number;
      try {
        accepted = this.#socket.write(pending.chunk);
      } catch (err) {
        this.#pendingWrite = undefined;
        pending.callback(nodeError(err, false));
        return;
      }
      if (accepted > 0) this.#rearmIdle();
      if (accepted < pending.chunk.length) {
        pending.chunk = pending.chunk.subarray(accepted);
        return; // the rest once WRITABLE comes back
      }
      this.#pendingWrite = undefined;
      pending.callback();
    }
    const final = this.#pendingFinal;
    if (final !== undefined && this.#pendingWrite === undefined) {
      this.#pendingFinal = undefined;
      this.#socket.shutdown();
      final();
    }
  }

  /** Moves what the simulated kernel received into the stream, while the stream wants more. */
  #pull(): void {
    if (!this.#pulling || this.#connecting || this.#ended || this.destroyed) return;
    for (;;) {
      let chunk: Buffer | null;
      try {
        chunk = this.#socket.read(Infinity);
      } catch (err) {
        this.destroy(nodeError(err, false));
        return;
      }
      if (chunk === null) return;
      if (chunk.length === 0) {
        this.#ended = true;
        this.push(null);
        return;
      }
      this.#rearmIdle();
      if (!this.push(chunk)) {
        this.#pulling = false; // the stream is full: the rest waits in the kernel, and the window closes
        return;
      }
    }
  }

  #rearmIdle(): void {
    this.#cancelIdle();
    if (this.#timeoutMs === 0 || this.destroyed) return;
    this.#idle = this.#world.after(this.#timeoutMs, () => {
      this.#idle = undefined;
      this.emit('timeout');
      this.#world.wakeTest();
    });
  }

  #cancelIdle(): void {
    if (this.#idle !== undefined) this.#world.cancel(this.#idle);
    this.#idle = undefined;
  }
}

/** A socket error as Node gives it: `connect ECONNREFUSED 10.0.0.2:80`, with `errno`, `code`, `syscall`, `address`, `port`. */
function nodeError(cause: unknown, connecting: boolean): Error {
  const { code = 'EIO', address, port } = cause as { code?: string; address?: string; port?: number };
  const syscall = connecting ? 'connect' : ((cause as { syscall?: string }).syscall ?? 'read');
  const where = address !== undefined ? ` ${address}${port !== undefined ? `:${port}` : ''}` : '';
  const error = new Error(`${syscall} ${code}${where}`) as NodeJS.ErrnoException & { address?: string; port?: number };
  const errno = (constants.errno as Record<string, number | undefined>)[code];
  if (errno !== undefined) error.errno = -errno;
  error.code = code;
  error.syscall = syscall;
  if (address !== undefined) error.address = address;
  if (port !== undefined) error.port = port;
  return error;
}
