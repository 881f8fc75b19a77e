import { ReactorError } from '../../reactor-error';
import { Readiness } from '../../readiness';
import type { ChanceKind } from './chance';
import type { Lane } from './event-queue';
import type { FaultRates } from './fault-rates';
import type { SimSocket } from './sim-socket';

/** What a peer needs from its network. */
export interface PeerNetwork {
  /** Runs `run` after `delayMs` of simulated time, in `lane`. */
  after(delayMs: number, run: () => void, lane: Lane): void;
  /** A waiter resolved: let the test's code run before time moves on. */
  wakeTest(): void;
  /** `peer` waits for something (the network watches for a stall: see `SimulatedBackend`). */
  waiting(peer: SimulatedPeer): void;
  /** Does the fault `kind` happen this time? (see `Chance`) */
  decide(kind: ChanceKind): number | undefined;
  readonly faults: Readonly<FaultRates>;
}

/** A test waiting on a peer: what it waits for, how to tell it is done, and how to fail it. */
interface Waiter {
  what: () => string;
  done: () => boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * The far end of a simulated connection, driven by a test: a client made by
 * `sim.connect(port)`, or a connection accepted by a `sim.listen()` server.
 *
 * It behaves like an ordinary application socket: `write` queues any amount
 * (it leaves as the network and the reactor's reading allow), and everything
 * that arrives is read at once into `received()`, unless the peer is paused
 * or stalled, in which case its receive buffer fills and the sender blocks.
 * The `wait...` methods resolve as simulated time reaches the moment; they
 * need the simulation to be running (a reactor polling, or `sim.run()`).
 *
 * @example
 * ```ts
 * import { Events, Interest, Reactor, SimulatedBackend } from 'tsreactor';
 *
 * const sim = new SimulatedBackend({ seed: 1 });
 * const reactor = new Reactor({ backend: sim });
 * const fd = await reactor.listen({ port: 7000 });
 * reactor.register(fd, Interest.READABLE);
 * const client = sim.connect(7000);
 * client.write('hello');
 * await reactor.poll(new Events()); // the listener is readable: accept it
 * ```
 */
export class SimulatedPeer {
  /** @internal A peer that closed still hears the other side's FIN: `waitEnd` after `close` resolves. */
  readonly hearsAfterClose = true;
  readonly #socket: SimSocket;
  readonly #network: PeerNetwork;
  readonly #outbox: Buffer[] = [];
  #outboxBytes = 0;
  #ending = false;
  #closing = false;
  #flushing = false;
  #received: Buffer[] = [];
  #receivedBytes = 0;
  #paused = false;
  #waiters: Waiter[] = [];
  /** How far the read helpers have read. */
  #cursor = 0;
  /** The last read helper called: the next one starts once it is done. */
  #readTurn: Promise<unknown> = Promise.resolve();
  readonly connected: Promise<void>;
  #connectedSettled = false;
  #resolveConnected!: () => void;
  #rejectConnected!: (err: ReactorError) => void;

  constructor(socket: SimSocket, network: PeerNetwork) {
    this.#socket = socket;
    this.#network = network;
    socket.owner = this;
    this.connected = new Promise<void>((resolve, reject) => {
      this.#resolveConnected = resolve;
      this.#rejectConnected = reject;
    });
    this.connected.catch(() => {}); // a refusal is also reported through `error`
    if (socket.state === 'open') this.#settleConnected();
  }

  /** Our port and the port we are connected to. */
  get localPort(): number {
    return this.#socket.localPort;
  }

  /**
   * The reactor's descriptor for the other end of this connection, which
   * the fault calls take (`sim.resetConnection(client.serverFd!)`): for a
   * client, the fd its server accepted it as; for a peer a `sim.listen()`
   * server accepted, the fd of the reactor's `connect`. `undefined` until
   * accepted, and again once that fd is closed.
   */
  get serverFd(): number | undefined {
    return this.#socket.partner?.fd;
  }
  get remotePort(): number {
    return this.#socket.remotePort;
  }

  /** Everything received so far, in order. */
  received(): Buffer {
    if (this.#received.length > 1) this.#received = [Buffer.concat(this.#received)];
    return this.#received[0] ?? Buffer.alloc(0);
  }

  get receivedBytes(): number {
    return this.#receivedBytes;
  }

  /** The other side's FIN has arrived (and everything before it has been read). */
  get ended(): boolean {
    return this.#socket.finReceived && this.#socket.recvBytes === 0;
  }

  /** The connection's error (ECONNRESET, ECONNREFUSED), if it failed. */
  get error(): ReactorError | undefined {
    return this.#socket.error;
  }

  /** Bytes written but not yet on the wire: grows while the other side does not read. */
  get buffered(): number {
    return this.#outboxBytes + this.#socket.sendBytes;
  }

  /** Queues bytes to send; they leave as fast as the connection allows. */
  write(data: Uint8Array | string): void {
    if (this.#ending) throw new Error('write after end');
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    if (bytes.length === 0) return;
    this.#outbox.push(bytes);
    this.#outboxBytes += bytes.length;
    this.#flush();
  }

  /** Half-close: FIN after everything written. */
  end(): void {
    this.#ending = true;
    this.#flush();
  }

  /** Aborts with a reset: the other side gets ECONNRESET. */
  reset(): void {
    this.#outbox.length = 0;
    this.#outboxBytes = 0;
    this.#socket.reset();
    this.#wake();
  }

  /**
   * Closes gracefully, once everything written is on its way: FIN after the
   * data (a reset instead if received data was left unread), as
   * `net.Socket.end()` followed by close. For close(2) now, `destroy()`.
   */
  close(): void {
    this.#closing = true;
    this.#ending = true;
    this.#flush();
  }

  /**
   * Closes now, as close(2) (or `net.Socket.destroy()`): what this peer has
   * not handed to the network yet is dropped, what its socket holds still
   * goes, then FIN (a reset instead if received data was left unread).
   */
  destroy(): void {
    this.#outbox.length = 0;
    this.#outboxBytes = 0;
    this.#closing = true;
    this.#ending = true;
    this.#socket.close();
    this.#wake();
  }

  /** Stops reading: the receive buffer fills and the sender's writes block. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#drain();
  }

  /** Stops reading for `ms` of simulated time: a stalled peer. */
  stall(ms: number): void {
    this.pause();
    this.#network.after(ms, () => this.resume(), this.#socket.lane);
  }

  /**
   * Resolves once `bytes` have been received in total (with all received so
   * far). Rejects if the connection fails first (its error: `ECONNRESET`,
   * `ECONNREFUSED`), or if the other side ends it first (`ERR_PEER_ENDED`,
   * saying how many bytes came): a server that closes without answering
   * fails the test at once instead of leaving it waiting.
   */
  waitFor(bytes: number): Promise<Buffer> {
    return this.#receive(
      () => this.#receivedBytes >= bytes,
      () => `waits for ${bytes} bytes (has ${this.#receivedBytes})`,
      () => `after ${this.#receivedBytes} of the ${bytes} bytes waited for`,
    ).then(() => this.received());
  }

  /**
   * The next `n` bytes after what the read helpers (`readBytes`,
   * `readUntil`, `readLine`) took so far. Rejects as `waitFor` does
   * when the bytes cannot come.
   *
   * @example
   * ```ts
   * import { SimulatedBackend } from 'tsreactor';
   *
   * const sim = new SimulatedBackend();
   * // ... a server listening on 7000, on a reactor of sim ...
   * const client = sim.connect(7000);
   * client.write('GET\n');
   * const status = await client.readLine(); // 'OK'
   * const body = await client.readBytes(5);
   * ```
   */
  readBytes(n: number): Promise<Buffer> {
    if (!Number.isInteger(n) || n < 0) return Promise.reject(new RangeError(`'n' must be a whole number >= 0, got ${String(n)}`));
    return this.#inTurn(() => this.#readBytes(n));
  }

  async #readBytes(n: number): Promise<Buffer> {
    const from = this.#cursor;
    await this.waitFor(from + n);
    this.#cursor = from + n;
    return Buffer.from(this.received().subarray(from, from + n));
  }

  /** The bytes up to and including the next `delimiter` (see `readBytes`). */
  readUntil(delimiter: string | Buffer): Promise<Buffer> {
    const mark = typeof delimiter === 'string' ? Buffer.from(delimiter) : delimiter;
    if (mark.length === 0) return Promise.reject(new RangeError(`'delimiter' must not be empty`));
    return this.#inTurn(() => this.#readUntil(mark));
  }

  /**
   * The read helpers take turns: each starts where the one before it
   * stopped, however many are called at once (`Promise.all([c.readLine(), c.readLine()])`
   * gives two lines, in order).
   */
  #inTurn<T>(read: () => Promise<T>): Promise<T> {
    const turn = this.#readTurn.then(read, read);
    this.#readTurn = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  async #readUntil(mark: Buffer): Promise<Buffer> {
    const from = this.#cursor;
    const found = () => this.received().indexOf(mark, from);
    const shown = JSON.stringify(mark.toString('latin1'));
    await this.#receive(
      () => found() >= 0,
      () => `waits for ${shown} after byte ${from} (has ${this.#receivedBytes})`,
      () => `before ${shown} came (after byte ${from})`,
    );
    this.#cursor = found() + mark.length;
    return Buffer.from(this.received().subarray(from, this.#cursor));
  }

  /** The next line, without its `\n` or `\r\n` (see `readBytes`). */
  async readLine(): Promise<string> {
    const line = (await this.readUntil('\n')).toString();
    return line.endsWith('\r\n') ? line.slice(0, -2) : line.slice(0, -1);
  }

  /**
   * Resolves when the other side's FIN has arrived (after everything before
   * it). Rejects with the connection's error (`ECONNRESET`,
   * `ECONNREFUSED`) if it failed instead: a reset is not an orderly end.
   */
  async waitEnd(): Promise<void> {
    await this.#until(
      () => this.ended || this.error !== undefined,
      () => 'waits for the end of the stream',
    );
    if (!this.ended && this.error !== undefined) throw this.error;
  }

  /** Resolves when the connection has failed (reset, refused). */
  waitError(): Promise<ReactorError> {
    return this.#until(
      () => this.error !== undefined,
      () => 'waits for an error',
    ).then(() => this.error as ReactorError);
  }

  /** @internal SimSocketOwner: the network's news about our socket. */
  socketEvent(_socket: SimSocket, edges: number): void {
    if ((edges & Readiness.WRITABLE) !== 0) {
      this.#settleConnected();
      this.#flush();
    }
    if ((edges & Readiness.ERROR) !== 0 && !this.#connectedSettled) {
      this.#connectedSettled = true;
      this.#rejectConnected(this.#socket.error as ReactorError);
    }
    if ((edges & Readiness.READABLE) !== 0) {
      if (!this.#paused && this.#socket.recvBytes > 0 && this.#network.decide('stall') !== undefined)
        this.stall(this.#network.faults.stallMs);
      this.#drain();
    }
    this.#wake();
  }

  #settleConnected(): void {
    if (this.#connectedSettled) return;
    this.#connectedSettled = true;
    this.#resolveConnected();
  }

  #drain(): void {
    if (this.#paused) return;
    for (;;) {
      let chunk: Buffer | null;
      try {
        chunk = this.#socket.read(Infinity);
      } catch {
        break; // the error is kept on the socket
      }
      if (chunk === null || chunk.length === 0) break;
      this.#received.push(chunk);
      this.#receivedBytes += chunk.length;
    }
    this.#wake();
  }

  #flush(): void {
    if (this.#flushing) return; // re-entered from an event the socket raised while writing
    this.#flushing = true;
    try {
      this.#flushOutbox();
    } finally {
      this.#flushing = false;
    }
  }

  #flushOutbox(): void {
    const socket = this.#socket;
    while (this.#outbox.length > 0 && socket.error === undefined) {
      const head = this.#outbox[0];
      let accepted: number;
      try {
        accepted = socket.write(head);
      } catch {
        return; // a reset that was held until this write: the error is on the socket now
      }
      this.#outboxBytes -= accepted;
      if (accepted < head.length) {
        this.#outbox[0] = head.subarray(accepted);
        return;
      }
      this.#outbox.shift();
    }
    if (this.#outbox.length > 0 || socket.state !== 'open') return;
    if (this.#closing) socket.close();
    else if (this.#ending) socket.shutdown();
  }

  /**
   * Waits until `arrived()`; rejects if the connection fails first (its
   * error) or the other side ends it first (`ERR_PEER_ENDED`, the message
   * ending with `missing()`).
   */
  async #receive(arrived: () => boolean, what: () => string, missing: () => string): Promise<void> {
    await this.#until(() => arrived() || this.error !== undefined || this.ended, what);
    if (arrived()) return;
    if (this.error !== undefined) throw this.error;
    throw new ReactorError('ERR_PEER_ENDED', `the other side ended the connection ${missing()}`, {
      syscall: 'read',
      address: this.#socket.remoteAddress,
      port: this.#socket.remotePort,
    });
  }

  #until(done: () => boolean, what: () => string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ what, done, resolve, reject });
      this.#network.waiting(this);
    });
  }

  /** @internal What the test waits for on this peer, one line each (empty: nothing). */
  waits(): string[] {
    const who = `peer ${this.#socket.localAddress}:${this.#socket.localPort} -> ${this.#socket.remoteAddress}:${this.#socket.remotePort}`;
    return this.#waiters.map((waiter) => `${who} ${waiter.what()}`);
  }

  /** @internal The simulation stalled: every wait on this peer fails with `error`. */
  failWaits(error: Error): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const before = this.#waiters.length;
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.done()) return true;
      waiter.resolve();
      return false;
    });
    if (this.#waiters.length < before) this.#network.wakeTest();
  }
}
