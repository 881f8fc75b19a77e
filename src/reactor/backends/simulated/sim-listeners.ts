import { ReactorError } from '../../reactor-error';
import { socketPathInUse } from '../socket-path-in-use';
import type { SimSocket } from './sim-socket';
import type { SimulatedPeer } from './simulated-peer';

/** A test's listening peer's connections, and the tests waiting for them. */
export interface PeerServerState {
  peers: SimulatedPeer[];
  takers: ((peer: SimulatedPeer) => void)[];
}

/** A listening socket of the simulated host: a reactor fd, or a test's peer server. */
export class SimListener {
  readonly host: string;
  readonly port: number;
  readonly ipv6Only: boolean;
  readonly reusePort: boolean;
  readonly backlog: number;
  readonly queue: SimSocket[] = [];
  dropped = 0;
  failNextAccept = false;
  closed = false;
  /** Set for a reactor fd; undefined for a peer server. */
  fd: number | undefined;
  /** A Unix domain socket's path (`host` is the path too, `port` 0); undefined for TCP. */
  path: string | undefined = undefined;
  /** The reactor's backend hears of each connection queued. */
  onQueued: (() => void) | undefined;
  peerServer: PeerServerState | undefined;

  constructor(host: string, port: number, ipv6Only: boolean, reusePort: boolean, backlog: number) {
    this.host = host;
    this.port = port;
    this.ipv6Only = ipv6Only;
    this.reusePort = reusePort;
    this.backlog = backlog;
  }

  /** Does a connection to `address` reach this listener? */
  covers(address: string): boolean {
    return bindingCovers(this.host, this.ipv6Only, address);
  }

  /** Could this listener and `other` both be bound? Only if they cover no address in common, or share with reusePort. */
  conflictsWith(other: SimListener): boolean {
    if (this.reusePort && other.reusePort) return false;
    const sample = (l: SimListener): string[] =>
      l.host === '::'
        ? l.ipv6Only
          ? ['::1', '::x']
          : ['::1', '::x', '127.0.0.1', '0.0.0.x']
        : l.host === '0.0.0.0'
          ? ['127.0.0.1', '0.0.0.x']
          : [l.host];
    return sample(other).some((a) => this.covers(a)) || sample(this).some((a) => other.covers(a));
  }
}

/**
 * Does a packet to `address` reach a socket bound to `host`? Its own
 * address, or for a wildcard every address of its family: `'0.0.0.0'` the
 * IPv4 ones, `'::'` both families unless `ipv6Only`. TCP and UDP alike.
 */
export function bindingCovers(host: string, ipv6Only: boolean, address: string): boolean {
  if (host === '::') return ipv6Only ? isIPv6(address) : true;
  if (host === '0.0.0.0') return !isIPv6(address);
  return host === address;
}

export function isIPv6(address: string): boolean {
  return address.includes(':');
}

export function normalizeHost(host: string): string {
  return host === 'localhost' ? '127.0.0.1' : host;
}

/**
 * The simulated host's listening sockets, by port, and the rules of binding
 * them as a kernel applies them: an address the host does not have gives
 * EADDRNOTAVAIL, an IPv6 one on a host without IPv6 EAFNOSUPPORT, an
 * overlap EADDRINUSE unless both sides asked for reusePort (which then share
 * the connections, in turn); port 0 picks a free port from 32768 up.
 */
export class SimListeners {
  readonly #byPort = new Map<number, SimListener[]>();
  /** Unix socket listeners by path; and the socket files left where nothing listens (a crash leaves them). */
  readonly #byPath = new Map<string, SimListener>();
  readonly #staleFiles = new Set<string>();
  readonly #ipv6: boolean;
  readonly #localAddresses: Set<string>;
  readonly #record: (line: () => string) => void;
  #reusePortTurn = 0;
  #nextListenPort = 32_768;

  constructor(ipv6: boolean, localAddresses: readonly string[], record: (line: () => string) => void) {
    this.#ipv6 = ipv6;
    this.#localAddresses = new Set(localAddresses);
    this.#record = record;
  }

  /** A port on which nothing listens. */
  freePort(): number {
    while (this.#byPort.has(this.#nextListenPort)) this.#nextListenPort++;
    return this.#nextListenPort++;
  }

  listenerFor(host: string, port: number): SimListener | undefined {
    const listeners = this.#byPort.get(port)?.filter((l) => !l.closed && l.covers(host));
    if (listeners === undefined || listeners.length === 0) return undefined;
    if (listeners.length === 1) return listeners[0];
    // Several with reusePort: spread connections over them in turn, counted as SYNs arrive (a kernel hashes the
    // 4-tuple; the count since opening would hand a burst of connects, all dialled before any arrived, to one).
    return listeners[this.#reusePortTurn++ % listeners.length];
  }

  /**
   * Can this host bind `host`? An IPv6 address on a host without IPv6 fails
   * with `EAFNOSUPPORT`, an address it does not have with `EADDRNOTAVAIL`
   * (the wildcards `'::'` and `'0.0.0.0'` always do). For TCP and UDP alike.
   */
  checkAddress(host: string, port: number, syscall: 'listen' | 'bind'): void {
    if (!this.#ipv6 && isIPv6(host)) {
      throw new ReactorError('EAFNOSUPPORT', `${syscall} EAFNOSUPPORT: address family not supported ${host}:${port}`, {
        syscall,
        address: host,
        port,
      });
    }
    const wildcard = host === '::' || host === '0.0.0.0';
    if (!wildcard && !this.#localAddresses.has(host)) {
      throw new ReactorError('EADDRNOTAVAIL', `${syscall} EADDRNOTAVAIL: address not available ${host}:${port}`, {
        syscall,
        address: host,
        port,
      });
    }
  }

  bind(host: string, port: number, ipv6Only: boolean, reusePort: boolean, backlog: number): SimListener {
    this.checkAddress(host, port, 'listen');
    const chosenPort = port === 0 ? this.freePort() : port;
    const listener = new SimListener(host, chosenPort, ipv6Only, reusePort, backlog);
    const existing = this.#byPort.get(chosenPort) ?? [];
    if (existing.some((l) => l.conflictsWith(listener))) {
      throw new ReactorError('EADDRINUSE', `listen EADDRINUSE: address already in use ${host}:${chosenPort}`, {
        syscall: 'listen',
        address: host,
        port: chosenPort,
      });
    }
    existing.push(listener);
    this.#byPort.set(chosenPort, existing);
    this.#record(() => `listen ${host}:${chosenPort}`);
    return listener;
  }

  /**
   * A Unix socket listener at `path`, with the rules of bind(2) on a path
   * and of the real backends: a path a listener holds, or a stale socket
   * file (one a crash left), fails with `EADDRINUSE` saying which
   * ({@link socketPathInUse}), unless `removeStale` removes a stale one.
   * The file system is the host's own: paths of other hosts are not seen.
   */
  bindPath(path: string, backlog: number, removeStale: boolean): SimListener {
    if (this.#byPath.has(path)) throw socketPathInUse(path, 'listening');
    if (this.#staleFiles.has(path)) {
      if (!removeStale) throw socketPathInUse(path, 'stale');
      this.#staleFiles.delete(path);
      this.#record(() => `unlink stale ${path}`);
    }
    const listener = new SimListener(path, 0, false, false, backlog);
    listener.path = path;
    this.#byPath.set(path, listener);
    this.#record(() => `listen ${path}`);
    return listener;
  }

  /** A socket file at `path` that nothing listens on (see `SimulatedHost.leaveStaleSocket`). */
  leaveStale(path: string): void {
    if (this.#byPath.has(path)) throw socketPathInUse(path, 'listening');
    this.#staleFiles.add(path);
    this.#record(() => `stale ${path}`);
  }

  /** Who answers a connect to `path`: its listener, `'stale'` for a socket file nothing listens on, or undefined (no file). */
  listenerForPath(path: string): SimListener | 'stale' | undefined {
    return this.#byPath.get(path) ?? (this.#staleFiles.has(path) ? 'stale' : undefined);
  }

  /**
   * The host crashed: every listener and what waits on it are gone,
   * silently (their sockets vanished with the host). The socket files of
   * Unix listeners stay on disk, stale (abstract names, `'\0...'`, have none).
   */
  vanishAll(): void {
    for (const listeners of this.#byPort.values()) {
      for (const listener of listeners) {
        listener.closed = true;
        listener.queue.length = 0;
      }
    }
    this.#byPort.clear();
    for (const [path, listener] of this.#byPath) {
      listener.closed = true;
      listener.queue.length = 0;
      if (!path.startsWith('\0')) this.#staleFiles.add(path);
    }
    this.#byPath.clear();
  }

  unbind(listener: SimListener): void {
    if (listener.closed) return;
    listener.closed = true;
    if (listener.path !== undefined) {
      this.#byPath.delete(listener.path); // its socket file is removed with it, as libuv does
      for (const socket of listener.queue) socket.reset();
      listener.queue.length = 0;
      this.#record(() => `unlisten ${listener.host}`);
      return;
    }
    const rest = (this.#byPort.get(listener.port) ?? []).filter((l) => l !== listener);
    if (rest.length > 0) this.#byPort.set(listener.port, rest);
    else this.#byPort.delete(listener.port);
    for (const socket of listener.queue) socket.reset(); // never accepted: the clients see a reset
    listener.queue.length = 0;
    this.#record(() => `unlisten ${listener.host}:${listener.port}`);
  }
}
