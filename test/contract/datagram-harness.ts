import * as dgram from 'node:dgram';
import { type Backend, type Datagram, LibuvBackend, RawHandleBackend, SimulatedBackend, type SimulatedBackendOptions } from '../../src';
import { realSettle, settleSimulation } from './harness';

/** A test's UDP socket at the far end: it sends to the reactor and keeps what it receives. */
export interface DatagramPeer {
  readonly port: number;
  send(data: Buffer | string, port: number): void;
  /** Everything received so far, oldest first. */
  readonly received: readonly Datagram[];
  close(): Promise<void>;
}

/** What the datagram contract needs from a backend's world. */
export interface DatagramHarness {
  name: string;
  /** The loopback address the reactor binds and the peers use. */
  host: '127.0.0.1' | '::1';
  makeBackend(): Backend;
  /** A UDP socket of the test's on `host`. */
  peer(): Promise<DatagramPeer>;
  /** Lets the world move on a little (as `ContractHarness.settle`). */
  settle(): Promise<void>;
  dispose(): Promise<void>;
}

/** Real UDP on loopback; the peers are plain `node:dgram` sockets. */
export function realDatagramHarness(backend: 'libuv' | 'raw', host: '127.0.0.1' | '::1' = '127.0.0.1'): DatagramHarness {
  const sockets = new Set<dgram.Socket>();
  const close = (socket: dgram.Socket) =>
    new Promise<void>((resolve) => {
      if (!sockets.delete(socket)) {
        resolve();
        return;
      }
      socket.close(() => resolve());
    });
  return {
    name: `${backend} on udp ${host}`,
    host,
    makeBackend: () => (backend === 'libuv' ? new LibuvBackend() : new RawHandleBackend()),
    peer: () =>
      new Promise((resolve, reject) => {
        const socket = dgram.createSocket(host === '::1' ? 'udp6' : 'udp4');
        sockets.add(socket);
        const received: Datagram[] = [];
        socket.on('message', (data, from) => received.push({ data, address: from.address, port: from.port }));
        socket.once('error', reject);
        socket.bind(0, host, () =>
          resolve({
            port: socket.address().port,
            send: (data, port) => socket.send(data, port, host),
            received,
            close: () => close(socket),
          }),
        );
      }),
    settle: realSettle,
    async dispose() {
      await Promise.all([...sockets].map(close));
    },
  };
}

/** The simulator's UDP: its peers are `sim.udp()` sockets. */
export function simulatedDatagramHarness(seed = 1, options: SimulatedBackendOptions = {}): DatagramHarness {
  let sim: SimulatedBackend | undefined;
  const current = () => {
    if (sim === undefined) throw new Error('makeBackend() first');
    return sim;
  };
  return {
    name: `simulated (seed ${seed}) on udp`,
    host: '127.0.0.1',
    makeBackend: () => (sim = new SimulatedBackend({ ...options, seed })),
    peer: () => {
      const peer = current().udp();
      return Promise.resolve({
        port: peer.port,
        send: (data, port) => peer.send(data, port),
        received: peer.received,
        close: () => {
          peer.close();
          return Promise.resolve();
        },
      });
    },
    settle: () => settleSimulation(current()),
    dispose: () => Promise.resolve(),
  };
}
