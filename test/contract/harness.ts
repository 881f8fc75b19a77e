import * as net from 'node:net';
import type { Backend, SimulatedBackendOptions, SimulatedPeer } from '../../src';
import { type UnansweredPort, unansweredLoopbackPort } from './unanswered-port';
import { LibuvBackend, RawHandleBackend, SimulatedBackend } from '../../src';

/** How a peer's connection has ended, as far as it has seen: not yet, by our FIN, or by a reset. */
export type PeerOutcome = 'open' | 'fin' | 'reset';

/**
 * The far end of a connection, driven by a test: the reactor's client (for a
 * reactor listener) or the reactor's server (for `reactor.connect`).
 */
export interface Peer {
  /** Resolves once the bytes are handed to the network. */
  write(data: Buffer | string): Promise<void>;
  /** Half-close: FIN after what was written. */
  end(): void;
  /** Abort with a reset (RST). */
  reset(): void;
  /** Stop reading: the reactor's writes eventually block. */
  pause(): void;
  resume(): void;
  /** Everything received so far. */
  received(): Buffer;
  /** How many bytes have been received so far. */
  readonly receivedBytes: number;
  /** Resolves once at least `bytes` have been received in total. */
  waitFor(bytes: number): Promise<Buffer>;
  /** Resolves when the reactor's FIN has arrived. */
  waitEnd(): Promise<void>;
  /** What the peer has seen of the end: `'reset'` once a reset arrived (or a write failed on one). */
  outcome(): PeerOutcome;
  /** Resolves once the peer has seen a FIN or a reset. */
  waitOutcome(): Promise<'fin' | 'reset'>;
  /** close(2) now (what the peer has not handed to its kernel is dropped); resolves when it is gone. */
  close(): Promise<void>;
}

/** A listening peer that `reactor.connect` can reach. */
export interface PeerServer {
  port: number;
  /** The next connection it accepted. */
  accepted(): Promise<Peer>;
  close(): Promise<void>;
}

/** What the contract suite needs from a backend's world. */
export interface ContractHarness {
  /** Shown in test names. */
  name: string;
  /** The address the reactor listens on and peers connect to. */
  host: string;
  makeBackend(): Backend;
  /** A client connected to `port` on `host`. */
  connectPeer(port: number): Promise<Peer>;
  /** A server on `host` for the reactor to connect to. */
  listenPeer(): Promise<PeerServer>;
  /** A port on `host` where nothing listens (connecting is refused). */
  closedPort(): Promise<number>;
  /** Makes the next write on `fd` accept at most `bytes`, where the backend can inject that (the simulator). */
  shortenNextWrite?(fd: number, bytes: number): void;
  /** A port on `host` where connects go unanswered (the SYN is lost): a connect there stays in progress. */
  unansweredPort(): Promise<UnansweredPort>;
  /**
   * Lets the world move on a little, for a test that steps it and watches
   * for quiescence: a couple of milliseconds of real time on loopback; the
   * network's due events (not its far timers) in the simulator.
   */
  settle(): Promise<void>;
  /** Releases whatever the harness still holds. */
  dispose(): Promise<void>;
}

/** `true` if a socket that just read end of stream has no peer any more: a reset, which libuv may report as EOF. */
function peerGone(socket: net.Socket): boolean {
  const handle = (socket as unknown as { _handle?: { getpeername?: (out: object) => number } })._handle;
  return typeof handle?.getpeername === 'function' && handle.getpeername({}) < 0;
}

export class SocketPeer implements Peer {
  readonly #socket: net.Socket;
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  #ended = false;
  #endedByUs = false;
  #outcome: PeerOutcome = 'open';
  #waiters: (() => void)[] = [];
  readonly #closed: Promise<void>;
  /** A Unix domain socket: it has no RST, so `reset` is refused and `close` is a plain close(2). */
  readonly #unix: boolean;

  constructor(socket: net.Socket, unix = false) {
    this.#socket = socket;
    this.#unix = unix;
    socket.on('error', () => {
      this.#outcome = 'reset'; // resets are part of the tests
      this.#wake();
    });
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#bytes += chunk.length;
      this.#wake();
    });
    socket.on('end', () => {
      this.#ended = true;
      // Once our own FIN is out, the connection closing leaves no peer either (TIME_WAIT): only ask before.
      if (this.#outcome === 'open') this.#outcome = !this.#endedByUs && peerGone(socket) ? 'reset' : 'fin';
      this.#wake();
    });
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** The socket itself, for a test that needs more (its queue, its pause state). */
  get socket(): net.Socket {
    return this.#socket;
  }

  get receivedBytes(): number {
    return this.#bytes;
  }

  outcome(): PeerOutcome {
    return this.#outcome;
  }

  waitOutcome(): Promise<'fin' | 'reset'> {
    return this.#until(() => this.#outcome !== 'open').then(() => this.#outcome as 'fin' | 'reset');
  }

  write(data: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  end(): void {
    this.#endedByUs = true;
    this.#socket.end();
  }

  reset(): void {
    if (this.#unix) throw new Error('a Unix domain socket cannot reset (there is no RST): close it');
    this.#socket.resetAndDestroy();
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  received(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  waitFor(bytes: number): Promise<Buffer> {
    return this.#until(() => this.#bytes >= bytes).then(() => this.received());
  }

  waitEnd(): Promise<void> {
    return this.#until(() => this.#ended);
  }

  async close(): Promise<void> {
    // As close(2): a reset if it holds received data unread. (A paused net.Socket reads ahead into its own
    // buffer, so the kernel would not know of it and destroy() would send FIN.) A Unix socket cannot reset:
    // its peer sees ECONNRESET only if the kernel held some of it.
    if (!this.#unix && this.#socket.readableLength > 0 && !this.#socket.destroyed) this.#socket.resetAndDestroy();
    else this.#socket.destroy();
    await this.#closed;
  }

  #until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (condition()) resolve();
        else this.#waiters.push(check);
      };
      this.#waiters.push(check);
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** The backends on real sockets: through `node:net`, and directly on libuv's TCP handles. */
const REAL_BACKENDS: Record<'libuv' | 'raw', () => Backend> = {
  libuv: () => new LibuvBackend(),
  raw: () => new RawHandleBackend(),
};

/** The peers a real harness made, to close them all at its `dispose`. */
export function trackedPeers(unix = false): { track: (socket: net.Socket) => SocketPeer; closeAll: () => Promise<void> } {
  const peers = new Set<SocketPeer>();
  return {
    track(socket) {
      const peer = new SocketPeer(socket, unix);
      peers.add(peer);
      return peer;
    },
    async closeAll() {
      await Promise.all([...peers].map((p) => p.close()));
      peers.clear();
    },
  };
}

/** Real sockets on loopback, for a backend on real sockets (the peers are plain `node:net` sockets). */
export function realSocketHarness(host: '127.0.0.1' | '::1', backend: 'libuv' | 'raw' = 'libuv'): ContractHarness {
  const { track, closeAll } = trackedPeers();
  const servers = new Set<net.Server>();
  return {
    name: `${backend} on ${host}`,
    host,
    makeBackend: REAL_BACKENDS[backend],
    connectPeer(port) {
      return new Promise((resolve, reject) => {
        // Half-open capable, as the simulator's peers and as the reactor's own sockets: ending is the test's call.
        const socket = net.connect({ host, port, allowHalfOpen: true });
        socket.once('connect', () => resolve(track(socket)));
        socket.once('error', reject);
      });
    },
    listenPeer() {
      return new Promise((resolve) => {
        const queue: Peer[] = [];
        const takers: ((peer: Peer) => void)[] = [];
        const server = net.createServer({ allowHalfOpen: true }, (socket) => {
          const peer = track(socket);
          const taker = takers.shift();
          if (taker) taker(peer);
          else queue.push(peer);
        });
        servers.add(server);
        server.listen(0, host, () => {
          resolve({
            port: (server.address() as net.AddressInfo).port,
            accepted: () => {
              const peer = queue.shift();
              return peer ? Promise.resolve(peer) : new Promise((r) => takers.push(r));
            },
            close: () => closeServer(server),
          });
        });
      });
    },
    closedPort() {
      return new Promise((resolve) => {
        const server = net.createServer();
        server.listen(0, host, () => {
          const { port } = server.address() as net.AddressInfo;
          server.close(() => resolve(port));
        });
      });
    },
    unansweredPort: () => unansweredLoopbackPort(host),
    settle: realSettle,
    async dispose() {
      await closeAll();
      await Promise.all([...servers].map((s) => closeServer(s)));
      servers.clear();
    },
  };
}

/** A couple of milliseconds of real time: what `settle` is on loopback. */
export const realSettle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 2));

/** Two turns of the host's event loop: promises resolved by the simulation settle. */
const turns = async (): Promise<void> => {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
};

/** What `settle` is in the simulator: the network's due events, then the promises they resolved. */
export async function settleSimulation(sim: SimulatedBackend): Promise<void> {
  sim.settle();
  await turns();
}

export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

/** `true` if this machine can bind ::1. */
export function hasIPv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}

/** Wraps a simulated peer in the suite's Peer shape. */
export function simPeer(peer: SimulatedPeer): Peer {
  return {
    write: (data) => {
      peer.write(data);
      return Promise.resolve();
    },
    outcome: () => (peer.error !== undefined ? 'reset' : peer.ended ? 'fin' : 'open'),
    // waitEnd rejects on a reset: that is an outcome here; anything else (a stall) is not.
    waitOutcome: () =>
      peer.waitEnd().then(
        () => (peer.error !== undefined ? 'reset' : 'fin'),
        (err: unknown) => {
          if (peer.error !== undefined) return 'reset' as const;
          throw err;
        },
      ),
    end: () => peer.end(),
    reset: () => peer.reset(),
    pause: () => peer.pause(),
    resume: () => peer.resume(),
    received: () => peer.received(),
    get receivedBytes() {
      return peer.receivedBytes;
    },
    waitFor: (bytes) => peer.waitFor(bytes),
    waitEnd: () => peer.waitEnd(),
    close: () => {
      peer.destroy(); // as the real peers' socket.destroy(): close(2) now
      return Promise.resolve();
    },
  };
}

/** The simulated network: the same rules must hold, in simulated time. */
export function simulatedHarness(seed = 1, options: SimulatedBackendOptions = {}): ContractHarness {
  let sim: SimulatedBackend | undefined;
  const current = () => {
    if (sim === undefined) throw new Error('makeBackend() first');
    return sim;
  };
  return {
    name: `simulated (seed ${seed})`,
    host: '127.0.0.1',
    makeBackend: () => (sim = new SimulatedBackend({ ...options, seed })),
    connectPeer: async (port) => {
      const network = current();
      const peer = network.connect(port);
      if (options.autoAdvance === false) network.settle(); // nothing moves the clock otherwise
      await peer.connected;
      return simPeer(peer);
    },
    listenPeer: () => {
      const server = current().listen(0);
      return Promise.resolve({
        port: server.port,
        accepted: () => server.accepted().then(simPeer),
        close: () => {
          server.close();
          return Promise.resolve();
        },
      });
    },
    closedPort: () => Promise.resolve(current().freePort()),
    shortenNextWrite: (fd, bytes) => current().shortenNextWrite(fd, bytes),
    unansweredPort: () => {
      const port = current().freePort();
      current().blackhole(port);
      return Promise.resolve({ port, release: () => Promise.resolve() });
    },
    settle: () => settleSimulation(current()),
    dispose: () => Promise.resolve(),
  };
}
