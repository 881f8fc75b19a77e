import { linkSync, mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Backend, LibuvBackend, RawHandleBackend, SimulatedBackend, type SimulatedBackendOptions } from '../../src';
import { closeServer, type Peer, realSettle, settleSimulation, simPeer, trackedPeers } from './harness';

/** What the Unix socket contract needs from a backend's world: paths, peers at them, stale files. */
export interface UnixHarness {
  name: string;
  makeBackend(): Backend;
  /** A fresh socket path of this test's own (nothing there yet). */
  path(): string;
  /** A client connected to the listener at `path`. */
  connectPeer(path: string): Promise<Peer>;
  /** A listening peer at `path` for `reactor.connect`; its next connection. */
  listenPeer(path: string): Promise<{ accepted(): Promise<Peer>; close(): Promise<void> }>;
  /** Leaves a socket file at `path` that nothing listens on, as a killed server does. */
  leaveStale(path: string): Promise<void>;
  /** Lets the world move on a little (as `ContractHarness.settle`). */
  settle(): Promise<void>;
  dispose(): Promise<void>;
}

/** Real Unix sockets in a temporary folder of their own; the peers are plain `node:net` sockets. */
export function realUnixHarness(backend: 'libuv' | 'raw'): UnixHarness {
  let folder: string | undefined;
  let count = 0;
  const { track, closeAll } = trackedPeers(true);
  const servers = new Set<net.Server>();
  const listen = (path: string, onSocket: (socket: net.Socket) => void) =>
    new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true }, onSocket);
      servers.add(server);
      server.once('error', reject);
      server.listen(path, () => resolve(server));
    });
  return {
    name: `${backend} on a Unix socket`,
    makeBackend: () => (backend === 'libuv' ? new LibuvBackend() : new RawHandleBackend()),
    path() {
      folder ??= mkdtempSync(join(tmpdir(), 'tsreactor-unix-'));
      return join(folder, `s${count++}.sock`);
    },
    connectPeer: (path) =>
      new Promise((resolve, reject) => {
        const socket = net.connect({ path, allowHalfOpen: true });
        socket.once('connect', () => resolve(track(socket)));
        socket.once('error', reject);
      }),
    async listenPeer(path) {
      const queue: Peer[] = [];
      const takers: ((peer: Peer) => void)[] = [];
      const server = await listen(path, (socket) => {
        const peer = track(socket);
        const taker = takers.shift();
        if (taker) taker(peer);
        else queue.push(peer);
      });
      return {
        accepted: () => {
          const peer = queue.shift();
          return peer ? Promise.resolve(peer) : new Promise((r) => takers.push(r));
        },
        close: () => closeServer(server),
      };
    },
    async leaveStale(path) {
      // A hard link keeps the socket's inode at `path` after its server closes (and libuv removes its own name).
      const server = await listen(`${path}.live`, () => undefined);
      linkSync(`${path}.live`, path);
      await closeServer(server);
    },
    settle: realSettle,
    async dispose() {
      await closeAll();
      await Promise.all([...servers].map(closeServer));
      servers.clear();
      if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
      folder = undefined;
    },
  };
}

/** The simulator's Unix sockets: paths on its host's own file system. */
export function simulatedUnixHarness(seed = 1, options: SimulatedBackendOptions = {}): UnixHarness {
  let sim: SimulatedBackend | undefined;
  let count = 0;
  const current = () => {
    if (sim === undefined) throw new Error('makeBackend() first');
    return sim;
  };
  return {
    name: `simulated (seed ${seed}) on a Unix socket`,
    makeBackend: () => (sim = new SimulatedBackend({ ...options, seed })),
    path: () => `/run/test/s${count++}.sock`,
    connectPeer: async (path) => {
      const network = current();
      const peer = network.connect(path);
      if (options.autoAdvance === false) network.settle(); // nothing moves the clock otherwise
      await peer.connected;
      return simPeer(peer);
    },
    listenPeer: (path) => {
      const server = current().listen(path);
      return Promise.resolve({
        accepted: () => server.accepted().then(simPeer),
        close: () => {
          server.close();
          return Promise.resolve();
        },
      });
    },
    leaveStale: (path) => {
      current().leaveStaleSocket(path);
      return Promise.resolve();
    },
    settle: () => settleSimulation(current()),
    dispose: () => Promise.resolve(),
  };
}
