import { compactFront } from '../../compact-front';
import { ReactorError } from '../../reactor-error';
import { Readiness } from '../../readiness';
import type { Chance } from './chance';
import type { FaultRates } from './fault-rates';
import { readinessOf } from '../socket/stream-readiness';
import type { Lane } from './event-queue';
import type { SimPath } from './sim-link';
import { SimWire } from './sim-wire';

/** The network services a socket needs: time, scheduling, chance decisions, faults, tracing. */
export interface SimContext {
  now(): number;
  /** Runs `run` at simulated time `time` (not before now), after what `lane` scheduled before for that time. */
  at(time: number, run: () => void, lane: Lane): void;
  /** Whether each fault happens (from the seed, or from a schedule). */
  readonly chance: Chance;
  /** The rates, for the sizes of faults (`delayMs`, `stallMs`). */
  readonly faults: Readonly<FaultRates>;
  /** Records a trace line, if tracing is on (the line is built only then). */
  trace(line: () => string): void;
  /** A payload as the trace writes it (hex, a hash, or truncated: see `TraceOptions`). */
  payload(bytes: Buffer): string;
  /** Counts a delivered segment, for the statistics. */
  countSegment(bytes: number): void;
}

/** Whoever a socket reports to: the backend (for a reactor fd) or a test peer. */
export interface SimSocketOwner {
  socketEvent(socket: SimSocket, edges: number): void;
  /**
   * Goes on hearing of the connection after closing its end (a test's peer
   * that waits for the other side's FIN after `close()`, as a `net.Socket`
   * hears `'end'` after `end()`); a reactor fd hears nothing after close.
   */
  readonly hearsAfterClose?: boolean;
}

/** The host a socket lives on, as the socket sees it: a crash starts a new incarnation, and its sockets are gone. */
export interface SocketHome {
  readonly incarnation: number;
}

/** The sizes of a socket's kernel buffers, and the rate one connection sends at (bytes per ms; Infinity: none). */
export interface SocketBuffers {
  sendBufferSize: number;
  receiveBufferSize: number;
  bandwidth: number;
}

/** The largest piece a connection puts on the wire at once. */
const SEGMENT_SIZE = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * One end of a simulated TCP connection: a send buffer that drains onto the
 * wire as the receiver's window allows, a receive buffer that the owner reads
 * from, and the end-of-stream and reset handling of a real socket.
 *
 * The model, kept small: data is delivered in order, in segments of at most
 * 64 KiB, each arriving its path's latency (and jitter) after it left, plus
 * its size over the link's bandwidth, and later if the link loses it and it
 * is sent again (see `SimWire`); a sender never has more in flight than the receiver has room
 * for (flow control), so a receiver that stops reading stops the sender; room
 * freed by reading is seen at once. Writable has hysteresis: off once the send
 * buffer is full, on again once it has drained to half. `close` with unread
 * data resets the connection, as Linux does; data arriving at a closed socket
 * resets it; a socket closed gracefully goes on sending for at most
 * `lingerMs`, then resets.
 *
 * A reset is seen where the backends on real sockets see it, not earlier
 * (the simulator is worth trusting only if what passes on it holds there):
 * one that arrives while the receive buffer is full waits behind the data
 * until the owner reads (real backends stop reading a full socket, and the
 * kernel holds the reset behind what it buffered) or writes; one that
 * arrives after the peer's FIN waits for the next write, which fails with
 * EPIPE (once end of stream is read, nothing reads the socket any more).
 * Neither waits while the socket has bytes queued to send: a writer still
 * writing meets the reset at once.
 */
export class SimSocket {
  readonly connection: number;
  readonly side: 'client' | 'server';
  /** The connection's events keep their order among those due at one time (both ends share it). */
  readonly lane: Lane;
  /** The reactor fd that owns this end, if a reactor does. */
  fd: number | undefined;
  owner: SimSocketOwner | undefined;
  /** The other end while the connection lasts. */
  other: SimSocket | undefined;
  /** The other end, kept after the connection ended (for `peer.serverFd`). */
  partner: SimSocket | undefined;
  state: 'connecting' | 'open' | 'closed' = 'connecting';
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;

  readonly #net: SimContext;
  readonly #buffers: SocketBuffers;
  /** How this end's packets reach the other end. */
  readonly wire: SimWire;
  /** How long a graceful close may go on sending before it resets (the owning reactor's `lingerMs`). */
  lingerMs = Infinity;
  /**
   * A Unix domain stream socket (its addresses are the listener's path,
   * its ports 0): it has no RST. `reset` closes it instead, dropping what
   * was not sent yet; the peer reads end of stream after what it already
   * had, or `ECONNRESET` if this side still held data unread (as Linux
   * tells the peer of a Unix socket released with a non-empty receive
   * queue); data sent to it once closed fails the sender with `EPIPE`.
   */
  unix = false;
  readonly #home: SocketHome;
  readonly #born: number;
  #recv: Buffer[] = [];
  #recvHead = 0;
  recvBytes = 0;
  finReceived = false;
  error: ReactorError | undefined;
  #send: Buffer[] = [];
  sendBytes = 0;
  #inFlight = 0;
  shutdownRequested = false;
  #finSent = false;
  #writable = true;
  /** This connection's own sending is busy until then (its own rate: the world's `bandwidth`). */
  #busyUntil = 0;
  /** No segment of this direction arrives before the previous one: TCP is ordered. */
  lastArrival = 0;
  bytesRead = 0;
  bytesWritten = 0;
  /** Test faults on demand: cap the next write; delay the next segment. */
  nextWriteLimit = Infinity;
  nextDelayMs = 0;
  /** A reset not seen yet (see the class comment), and what makes it seen. */
  #latent: { error: ReactorError; until: 'read' | 'write' } | undefined;

  constructor(
    net: SimContext,
    home: SocketHome,
    buffers: SocketBuffers,
    path: SimPath,
    connection: number,
    side: 'client' | 'server',
    local: { address: string; port: number },
    remote: { address: string; port: number },
    lane: Lane,
  ) {
    this.#net = net;
    this.#home = home;
    this.#born = home.incarnation;
    this.#buffers = buffers;
    this.connection = connection;
    this.side = side;
    this.lane = lane;
    this.wire = new SimWire(
      net,
      path,
      lane,
      () => this.#name,
      () => this.#retransmitTimeout(),
      () => !this.vanished,
    );
    this.localAddress = local.address;
    this.localPort = local.port;
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
  }

  /**
   * Its host crashed after it was made: it is gone, as the kernel that held
   * it. It sends nothing more and tells no one; a packet that reaches it
   * after the host restarted is answered with RST (the new kernel knows no
   * such connection).
   */
  get vanished(): boolean {
    return this.#home.incarnation !== this.#born;
  }

  /** A packet reached a socket whose host restarted since: RST back, as a kernel answers a segment of no connection. */
  #answerUnknown(): void {
    const other = this.other;
    this.other = undefined;
    if (other === undefined) return;
    const path = this.wire.path;
    this.#net.trace(() => `rst ${this.#name} (no such connection since the restart)`);
    path.carry(this.#net.now() + path.delayMs(), () => other.receiveReset('ECONNRESET'), this.lane);
  }

  get #name(): string {
    return `c${this.connection} ${this.side === 'client' ? 'c>s' : 's>c'}`;
  }

  /** The current readiness bits, by the rules every backend shares (`readinessOf`). */
  readiness(): number {
    return readinessOf(
      this.error,
      this.recvBytes,
      this.finReceived,
      this.shutdownRequested,
      this.state === 'connecting',
      this.state === 'open' && this.#writable,
    );
  }

  /** Closed gracefully and still sending: what it holds has not all left yet (its FIN is not out). */
  get lingering(): boolean {
    return this.state === 'closed' && this.error === undefined && this.other !== undefined && !this.#finSent;
  }

  /** Room in the send buffer now (0 while not writable). */
  get room(): number {
    return this.state === 'open' && this.#writable && !this.shutdownRequested && this.error === undefined
      ? this.#buffers.sendBufferSize - this.sendBytes
      : 0;
  }

  /* ---- The owner's operations ------------------------------------------ */

  read(maxBytes: number): Buffer | null {
    if (this.recvBytes > 0) {
      const chunk = this.#recv[this.#recvHead];
      let out: Buffer;
      if (chunk.length <= maxBytes) {
        out = chunk;
        this.#recv[this.#recvHead++] = EMPTY;
        if (this.#recvHead === this.#recv.length) {
          this.#recv = [];
          this.#recvHead = 0;
        } else {
          this.#recvHead = compactFront(this.#recv, this.#recvHead); // a reader that always leaves a chunk behind
        }
      } else {
        out = chunk.subarray(0, maxBytes);
        this.#recv[this.#recvHead] = chunk.subarray(maxBytes);
      }
      this.recvBytes -= out.length;
      this.bytesRead += out.length;
      // The window opened: the sender may go on (as soon as an ACK would say so).
      const other = this.other;
      if (other !== undefined && other.sendBytes > 0) this.#net.at(this.#net.now(), () => other.transmit(), this.lane);
      // A reset held behind a full buffer: reading on reaches it.
      if (this.#latent?.until === 'read') this.#net.at(this.#net.now(), () => this.#surfaceLatent(), this.lane);
      return out;
    }
    if (this.error !== undefined) throw this.error;
    return this.finReceived ? EMPTY : null;
  }

  write(data: Uint8Array): number {
    if (this.error !== undefined) throw this.error;
    if (this.shutdownRequested) {
      throw new ReactorError('EPIPE', 'write after shutdown', { syscall: 'write' }); // never reaches the wire
    }
    const latent = this.#latent;
    if (latent !== undefined) {
      this.#surfaceLatent();
      throw latent.error;
    }
    if (this.unix && this.other?.state === 'closed') {
      // A Unix socket shares its state with its peer: once the peer has closed (not just shut down its side, which
      // leaves it reading), write(2) fails at once, as Linux's unix_stream_sendmsg does, even while data and the end
      // of stream still wait to be read here (a real peer's close is no message in flight). Nothing reaches the wire.
      const error = this.#resetError('EPIPE', 'write');
      this.#fail(error, true);
      throw error;
    }
    const fits = Math.min(data.length, this.room);
    let n = Math.min(fits, this.nextWriteLimit);
    if (n <= 0) return 0; // connecting, or the send buffer is full: would block
    this.nextWriteLimit = Infinity;
    const short = n > 1 ? this.#net.chance.decide('shortWrite') : undefined;
    if (short !== undefined) {
      n = 1 + Math.floor(short * (n - 1));
      this.#net.trace(() => `fault short-write ${this.#name} ${n}/${data.length}`);
    }
    // A short write (injected) says what a partial write always says: the send buffer is full now. It stops being
    // writable, so the writable edge that rule 22 promises comes (just after this write, below).
    if (n < fits) this.#writable = false;
    // The kernel copies what it accepts: the caller may reuse its buffer.
    this.#send.push(Buffer.from(data.subarray(0, n)));
    this.sendBytes += n;
    this.bytesWritten += n;
    if (this.sendBytes >= this.#buffers.sendBufferSize) this.#writable = false;
    this.#net.trace(() => `write ${this.#name} ${n}`);
    this.transmit(true);
    if (!this.#writable && this.sendBytes <= this.#buffers.sendBufferSize / 2) {
      // Room came back during this write: say so as an event, after it, as a kernel would.
      this.#net.at(this.#net.now(), () => this.transmit(), this.lane);
    }
    return n;
  }

  /** Half-close: FIN once what was written has left. */
  shutdown(): void {
    if (this.shutdownRequested || this.state === 'closed') return;
    this.shutdownRequested = true;
    this.#net.trace(() => `shutdown ${this.#name}`);
    this.transmit();
    if (this.finReceived) this.#report(Readiness.WRITE_CLOSED);
  }

  /**
   * close(2): what was written still goes, then FIN, for at most
   * `lingerMs`; unread data makes it a reset instead.
   */
  close(): void {
    if (this.state === 'closed') return;
    if (this.owner?.hearsAfterClose !== true) this.owner = undefined;
    if (this.recvBytes > 0 && this.error === undefined) {
      this.#net.trace(() => `close ${this.#name} with ${this.recvBytes} unread: reset`);
      this.reset();
      return;
    }
    this.#net.trace(() => `close ${this.#name}`);
    this.shutdown();
    this.state = 'closed';
    const lingerMs = this.lingerMs;
    if (this.lingering && lingerMs !== Infinity) {
      this.#net.at(
        this.#net.now() + lingerMs,
        () => {
          if (!this.lingering) return;
          this.#net.trace(() => `linger-timeout ${this.#name} ${this.sendBytes} unsent: reset`);
          this.reset();
        },
        this.lane,
      );
    }
  }

  /** Aborts the connection: RST to the other side, everything buffered dropped (for a Unix socket, see `unix`). */
  reset(): void {
    if (this.vanished) return;
    this.owner = undefined;
    this.#send = [];
    this.sendBytes = 0;
    if (this.unix && this.recvBytes === 0 && this.error === undefined) {
      this.#net.trace(() => `close ${this.#name} (unix: no reset)`);
      this.shutdownRequested = true;
      this.state = 'closed';
      this.transmit(); // the FIN, behind what is already on its way
      return;
    }
    this.state = 'closed';
    const other = this.other;
    this.other = undefined;
    if (other === undefined) return;
    const arrival = Math.max(this.#net.now() + this.wire.path.delayMs(), this.lastArrival);
    this.#net.trace(() => `rst ${this.#name}`);
    this.wire.send(arrival, () => other.receiveReset('ECONNRESET'), false);
  }

  /* ---- The wire -------------------------------------------------------- */

  /**
   * Puts what the receiver has room for on the wire; sends FIN when due.
   * Called from `write` (`quiet`), it leaves writability alone: a kernel never
   * signals readiness from inside the write(2) that made room (the writer,
   * who is right there, would re-enter); `write` schedules the report.
   */
  transmit(quiet = false): void {
    if (this.vanished) return;
    const other = this.other;
    const net = this.#net;
    const path = this.wire.path;
    while (this.sendBytes > 0 && other !== undefined && this.error === undefined) {
      const window = other.#buffers.receiveBufferSize - other.recvBytes - this.#inFlight;
      if (window <= 0) break;
      const segment = this.#take(Math.min(window, SEGMENT_SIZE, this.sendBytes));
      // Both limits hold: the connection's own rate, and the capacity of the link it shares with others.
      const start = Math.max(net.now(), this.#busyUntil);
      let end = start + segment.length / this.#buffers.bandwidth;
      this.#busyUntil = end;
      const capacity = path.link.options.bandwidth;
      if (capacity !== Infinity) {
        path.busyUntil = Math.max(net.now(), path.busyUntil) + segment.length / capacity;
        end = Math.max(end, path.busyUntil);
      }
      let arrival = Math.max(end + path.delayMs() + this.nextDelayMs, this.lastArrival);
      this.nextDelayMs = 0;
      const late = net.chance.decide('delay');
      if (late !== undefined) {
        const extra = late * net.faults.delayMs;
        arrival += extra;
        net.trace(() => `fault delay ${this.#name} +${extra.toFixed(3)}`);
      }
      this.lastArrival = arrival;
      this.#inFlight += segment.length;
      if (!this.unix && net.chance.decide('reset') !== undefined) {
        net.trace(() => `fault reset ${this.#name}`);
        net.at(
          arrival,
          () => {
            this.#inFlight -= segment.length;
            other.receiveReset('ECONNRESET');
            this.receiveReset('ECONNRESET');
          },
          this.lane,
        );
        return;
      }
      this.wire.sendData(arrival, this, other, segment);
    }
    if (!quiet && !this.#writable && this.state === 'open' && this.error === undefined && !this.shutdownRequested) {
      if (this.sendBytes <= this.#buffers.sendBufferSize / 2) {
        this.#writable = true;
        this.#report(Readiness.WRITABLE);
      }
    }
    if (this.sendBytes === 0 && this.shutdownRequested && !this.#finSent && other !== undefined) {
      this.#finSent = true;
      const arrival = Math.max(Math.max(net.now(), this.#busyUntil) + path.delayMs(), this.lastArrival);
      this.lastArrival = arrival;
      net.trace(() => `fin ${this.#name}`);
      this.wire.send(arrival, () => other.receiveFin(), true);
    }
  }

  #take(bytes: number): Buffer {
    let segment: Buffer;
    const head = this.#send[0];
    if (head.length === bytes) {
      segment = head;
      this.#send.shift();
    } else if (head.length > bytes) {
      segment = head.subarray(0, bytes);
      this.#send[0] = head.subarray(bytes);
    } else {
      const parts: Buffer[] = [];
      let left = bytes;
      while (left > 0) {
        const first = this.#send[0];
        if (first.length <= left) {
          parts.push(first);
          this.#send.shift();
          left -= first.length;
        } else {
          parts.push(first.subarray(0, left));
          this.#send[0] = first.subarray(left);
          left = 0;
        }
      }
      segment = Buffer.concat(parts, bytes);
    }
    this.sendBytes -= bytes;
    return segment;
  }

  receiveData(from: SimSocket, segment: Buffer): void {
    from.#inFlight -= segment.length;
    this.#net.countSegment(segment.length);
    if (this.vanished) {
      this.#answerUnknown();
      return;
    }
    if (this.error !== undefined || this.#latent !== undefined) return; // the connection is gone already
    if (this.state === 'closed') {
      if (this.unix) {
        // A Unix socket's peer is gone at once: the write fails (EPIPE), and nothing is reset.
        this.#net.trace(() => `data ${from.#name} ${segment.length} to a closed unix socket: epipe`);
        from.#fail(from.#resetError('EPIPE', 'write'), from.state !== 'closed');
        return;
      }
      // Nobody will read it: as a real stack, the closed socket resets the connection (dropping what it still held).
      this.#net.trace(() => `data ${from.#name} ${segment.length} to a closed socket: rst`);
      this.reset();
      return;
    }
    this.#net.trace(() => `data ${from.#name} ${segment.length} ${this.#net.payload(segment)}`);
    this.#recv.push(segment);
    this.recvBytes += segment.length;
    this.#report(Readiness.READABLE);
  }

  receiveFin(): void {
    if (this.vanished) {
      this.#answerUnknown();
      return;
    }
    if (this.finReceived) return;
    this.finReceived = true;
    this.#net.trace(() => `fin-received ${this.#name}`);
    let edges = Readiness.READABLE;
    if (this.recvBytes === 0) edges |= Readiness.READ_CLOSED;
    if (this.shutdownRequested) edges |= Readiness.WRITE_CLOSED;
    this.#report(edges);
  }

  receiveReset(code: 'ECONNRESET' | 'ECONNREFUSED'): void {
    if (this.error !== undefined || this.#latent !== undefined || this.vanished) return;
    const closedByOwner = this.state === 'closed';
    this.#net.trace(() => `${code === 'ECONNREFUSED' ? 'refused' : 'rst-received'} ${this.#name}`);
    // Held where a real backend would not see it yet (see the class comment); never while writes are
    // queued: a writer still writing meets the reset at once (the kernel wakes it with EPOLLOUT|EPOLLERR).
    if (!closedByOwner && code === 'ECONNRESET' && this.sendBytes === 0) {
      let latent: 'read' | 'write' | undefined;
      if (this.recvBytes >= this.#buffers.receiveBufferSize) latent = 'read';
      else if (this.finReceived) latent = 'write';
      if (latent !== undefined) {
        const pipe = latent === 'write';
        this.#latent = { error: this.#resetError(pipe ? 'EPIPE' : 'ECONNRESET', pipe ? 'write' : 'read'), until: latent };
        this.other = undefined;
        this.#net.trace(() => `rst-held ${this.#name} until ${latent}`);
        return;
      }
    }
    if (this.unix && this.finReceived && code === 'ECONNRESET') {
      // Reading has ended, so only the writer meets it, and a Unix socket's write(2) says EPIPE for a peer that is gone.
      this.#fail(this.#resetError('EPIPE', 'write'), !closedByOwner);
      return;
    }
    this.#fail(this.#resetError(code, code === 'ECONNREFUSED' ? 'connect' : 'read'), !closedByOwner);
  }

  #resetError(code: 'ECONNRESET' | 'ECONNREFUSED' | 'EPIPE', syscall: string): ReactorError {
    const message = code === 'ECONNREFUSED' ? 'connection refused' : code === 'EPIPE' ? 'broken pipe' : 'connection reset by peer';
    return new ReactorError(code, message, this.#where(syscall));
  }

  /** Error details naming the far end: its address and port, or a Unix socket's path. */
  #where(syscall: string): { syscall: string; address: string; port?: number } {
    return this.unix ? { syscall, address: this.remoteAddress } : { syscall, address: this.remoteAddress, port: this.remotePort };
  }

  /**
   * A Unix socket's connect failed at once, as connect(2) on a path fails
   * before any packet: `ENOENT` (no socket file), `ECONNREFUSED` (a stale
   * one), `EAGAIN` (the listener's backlog is full).
   */
  connectFailed(code: 'ENOENT' | 'ECONNREFUSED' | 'EAGAIN'): void {
    if (this.state !== 'connecting' || this.error !== undefined) return;
    this.#net.trace(() => `connect-failed ${this.#name} ${code}`);
    const message =
      code === 'ENOENT' ? 'no such file or directory' : code === 'EAGAIN' ? 'resource temporarily unavailable' : 'connection refused';
    this.#fail(new ReactorError(code, message, this.#where('connect')), true);
  }

  /** The connection failed: everything buffered for sending is dropped; the owner hears of it (`report`). */
  #fail(error: ReactorError, report: boolean): void {
    this.error = error;
    this.#latent = undefined;
    this.#send = [];
    this.sendBytes = 0;
    this.other = undefined;
    if (report) this.#report(Readiness.READABLE | Readiness.ERROR | Readiness.WRITE_CLOSED);
  }

  /** A held reset is seen now. */
  #surfaceLatent(): void {
    const latent = this.#latent;
    if (latent === undefined || this.error !== undefined) return;
    this.#net.trace(() => `rst-seen ${this.#name}`);
    this.#fail(latent.error, this.state !== 'closed');
  }

  /**
   * Its owner gave up the connect (a timeout): it fails with ETIMEDOUT, as
   * a connect(2) whose SYNs went unanswered. A handshake already under way
   * is answered with RST, as a kernel answers a SYN-ACK for a socket that
   * is gone. `false` if it is no longer connecting.
   */
  timeOut(): boolean {
    if (this.state !== 'connecting' || this.error !== undefined) return false;
    this.#net.trace(() => `connect-timeout ${this.#name}`);
    const other = this.other;
    if (other !== undefined) this.wire.send(this.#net.now() + this.wire.path.delayMs(), () => other.receiveReset('ECONNRESET'), false);
    this.#fail(
      new ReactorError('ETIMEDOUT', 'connection timed out', { syscall: 'connect', address: this.remoteAddress, port: this.remotePort }),
      true,
    );
    return true;
  }

  /**
   * A segment went unacknowledged through every retransmission (a
   * partition that lasted, a host that crashed): the connection fails with
   * `ETIMEDOUT`, as Linux gives up after `tcp_retries2`. The other end
   * hears nothing (nothing gets through).
   */
  #retransmitTimeout(): void {
    if (this.error !== undefined) return;
    const report = this.state !== 'closed';
    this.#fail(
      new ReactorError('ETIMEDOUT', 'connection timed out', { syscall: 'write', address: this.remoteAddress, port: this.remotePort }),
      report,
    );
  }

  /** The handshake completed (client side). */
  established(): void {
    if (this.state !== 'connecting' || this.error !== undefined) return;
    if (this.vanished) {
      this.#answerUnknown();
      return;
    }
    this.state = 'open';
    this.#net.trace(() => `established ${this.#name}`);
    this.#report(Readiness.WRITABLE);
    this.transmit();
  }

  #report(edges: number): void {
    if (this.vanished) return;
    this.owner?.socketEvent(this, edges);
  }
}
