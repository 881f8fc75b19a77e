import { isIP, type Socket } from 'node:net';
import { newLane } from './event-queue';
import { isIPv6, normalizeHost } from './sim-listeners';
import type { SimulatedHost } from './simulated-host';
import { SimulatedSocket, type SimulatedSocketConnectOptions, type SocketWorld } from './simulated-socket';

/** What undici's `connect` option (and libraries shaped like it) hand a connector. */
export interface ConnectorOptions {
  hostname?: string;
  host?: string;
  port?: string | number;
  protocol?: string;
  localAddress?: string | null;
}

/**
 * A connector: `(options, callback)`, calling back once connected (or
 * failed), as undici's `connect` option takes. The socket is a
 * {@link SimulatedSocket}, typed as the `net.Socket` it stands in for, so
 * the connector fits where a library's types ask for one.
 */
export type SimulatedConnector = (options: ConnectorOptions, callback: (...args: [null, Socket] | [Error, null]) => void) => void;

/**
 * `node:net`'s client side for one simulated host: `host.net.connect(...)`
 * and `createConnection(...)` take what `net.connect` takes (a port and
 * host, or options, and a connect listener) and give a
 * {@link SimulatedSocket} whose connection starts on this host. A host
 * name of the world (`world.host({ name: 'db', ... })`) resolves to its
 * first address, as a DNS name would; an unknown name fails with
 * `ENOTFOUND`, as `getaddrinfo` does. `connector()` is the same for undici's
 * `connect` option.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * import { SimulatedWorld } from 'tsreactor';
 *
 * const world = new SimulatedWorld({ virtualTime: true });
 * const client = world.host('10.0.0.3');
 * // ... a server on host 10.0.0.2, port 80 ...
 * const agent = new http.Agent({ keepAlive: true });
 * agent.createConnection = (options) => client.net.connect(options as { port: number; host?: string });
 * http.get({ host: '10.0.0.2', port: 80, path: '/', agent }, (res) => res.resume());
 * ```
 */
export class SimulatedNet {
  readonly #host: SimulatedHost;
  readonly #world: SocketWorld;

  /** @internal `host.net` makes it. */
  constructor(host: SimulatedHost) {
    this.#host = host;
    const world = host.world;
    const lane = newLane(); // the sockets' timeouts, in the order they were set
    this.#world = {
      after: (delayMs, run) => world.at(world.clock.now() + delayMs, run, lane),
      cancel: (item) => world.cancel(item),
      wakeTest: () => world.wakeTest(),
    };
  }

  /** As `net.connect(options, connectListener?)` or `net.connect(port, host?, connectListener?)`. */
  connect(options: SimulatedSocketConnectOptions, connectListener?: () => void): SimulatedSocket;
  connect(port: number | string, host?: string, connectListener?: () => void): SimulatedSocket;
  connect(...args: unknown[]): SimulatedSocket {
    const [options, listener] = connectArguments(args);
    const port = Number(options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new RangeError(`'port' must be a whole number from 0 to 65535, got ${String(options.port)}`);
    }
    const name = options.host ?? 'localhost';
    const address = this.#resolve(name);
    const socket = this.#host.openClient(address ?? '0.0.0.0', port, options.localAddress);
    const simulated = new SimulatedSocket(socket, this.#world, options);
    if (listener !== undefined) simulated.once('connect', listener);
    if (address === undefined) {
      socket.state = 'closed';
      process.nextTick(() => simulated.destroy(notFound(name)));
      return simulated;
    }
    this.#host.dial(socket, address, port);
    return simulated;
  }

  /** The same as `connect`, as `net.createConnection` is. */
  createConnection(options: SimulatedSocketConnectOptions, connectListener?: () => void): SimulatedSocket;
  createConnection(port: number | string, host?: string, connectListener?: () => void): SimulatedSocket;
  createConnection(...args: unknown[]): SimulatedSocket {
    return (this.connect as (...a: unknown[]) => SimulatedSocket)(...args);
  }

  /**
   * A connector for undici (`new Agent({ connect: host.net.connector() })`)
   * and libraries that take one: it connects to `options.hostname` (or
   * `host`) and `port` (default 80, 443 for https:) and calls back once
   * connected. TLS is not simulated: an `https:` origin is refused with
   * `ERR_SIM_NO_TLS`.
   */
  connector(): SimulatedConnector {
    return (options, callback) => {
      const https = options.protocol === 'https:';
      const host = options.hostname ?? options.host ?? 'localhost';
      const port = options.port === undefined || options.port === '' ? (https ? 443 : 80) : Number(options.port);
      const socket = this.connect({ host, port, localAddress: options.localAddress ?? undefined });
      if (https) {
        const error = Object.assign(new Error('the simulated network has no TLS: use http: origins'), { code: 'ERR_SIM_NO_TLS' });
        process.nextTick(() => socket.destroy(error));
      }
      let called = false;
      const once = (error: Error | null) => {
        if (called) return;
        called = true;
        if (error === null) callback(null, socket as unknown as Socket);
        else callback(error, null);
      };
      socket.once('connect', () => once(null)).once('error', (error: Error) => once(error));
    };
  }

  /** An IP address stays itself; `localhost` is this host; a host's name is its first address; else undefined. */
  #resolve(name: string): string | undefined {
    const host = normalizeHost(name);
    if (isIP(host) !== 0) return host;
    const named = this.#host.world.hostOf(host);
    return named?.addresses.find((address) => !address.startsWith('127.') && !(isIPv6(address) && address === '::1'));
  }
}

function connectArguments(args: unknown[]): [SimulatedSocketConnectOptions, (() => void) | undefined] {
  const [first, second, third] = args;
  if (typeof first === 'object' && first !== null) {
    return [first as SimulatedSocketConnectOptions, typeof second === 'function' ? (second as () => void) : undefined];
  }
  if (typeof second === 'function') return [{ port: first as number }, second as () => void];
  return [{ port: first as number, host: second as string | undefined }, typeof third === 'function' ? (third as () => void) : undefined];
}

function notFound(name: string): Error {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), {
    code: 'ENOTFOUND',
    syscall: 'getaddrinfo',
    hostname: name,
    errno: -3008,
  });
}
