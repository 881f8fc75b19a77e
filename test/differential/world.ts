import type { Backend, ReactorConnectOptions, ReactorListenOptions, ReactorUnixConnectOptions, ReactorUnixListenOptions } from '../../src';
import type { ContractHarness, Peer } from '../contract/harness';
import type { UnixHarness } from '../contract/unix-harness';

/** A peer that listens for the reactor's connects: where to dial it, and its next connection. */
export interface ScenarioPeerServer {
  dial: ReactorConnectOptions | ReactorUnixConnectOptions;
  accepted(): Promise<Peer>;
  close(): Promise<void>;
}

/**
 * Where a scenario runs: one backend and one kind of address (TCP on a
 * loopback host, or Unix domain sockets at paths). The runner only listens,
 * dials and lets time pass through it, so the same scenario language covers
 * both kinds of stream.
 */
export interface ScenarioWorld {
  /** Shown when the world disagrees with its reference. */
  name: string;
  /**
   * `false` on a Unix domain socket: there is no RST, so the peer cannot
   * reset, and a close or abort ends the stream (a reset only where a
   * kernel held data unread, see `Slot.peerViewUncertain`).
   */
  resets: boolean;
  makeBackend(): Backend;
  /** Options for the reactor's listener. */
  listenAt(): ReactorListenOptions | ReactorUnixListenOptions;
  /** A client connected to the reactor's listener, given where it listens. */
  connectPeer(listening: { port: number | undefined; path: string | undefined }): Promise<Peer>;
  /** A listening peer for `reactor.connect`. */
  listenPeer(): Promise<ScenarioPeerServer>;
  /** Lets the world move on a little (see `ContractHarness.settle`). */
  settle(): Promise<void>;
  dispose(): Promise<void>;
}

/** TCP over a contract harness's loopback host. */
export function tcpWorld(harness: ContractHarness): ScenarioWorld {
  return {
    name: harness.name,
    resets: true,
    makeBackend: () => harness.makeBackend(),
    listenAt: () => ({ host: harness.host, port: 0 }),
    connectPeer: ({ port }) => harness.connectPeer(port as number),
    async listenPeer() {
      const server = await harness.listenPeer();
      return { dial: { host: harness.host, port: server.port }, accepted: () => server.accepted(), close: () => server.close() };
    },
    settle: () => harness.settle(),
    dispose: () => harness.dispose(),
  };
}

/** Unix domain stream sockets over a Unix harness's paths. */
export function unixWorld(harness: UnixHarness): ScenarioWorld {
  return {
    name: harness.name,
    resets: false,
    makeBackend: () => harness.makeBackend(),
    listenAt: () => ({ path: harness.path() }),
    connectPeer: ({ path }) => harness.connectPeer(path as string),
    async listenPeer() {
      const path = harness.path();
      const server = await harness.listenPeer(path);
      return { dial: { path }, accepted: () => server.accepted(), close: () => server.close() };
    },
    settle: () => harness.settle(),
    dispose: () => harness.dispose(),
  };
}
