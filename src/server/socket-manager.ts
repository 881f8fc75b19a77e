import { Channels } from '../diagnostics';
import { Reactor, ReactorError } from '../reactor';
import { describe } from '../reactor/options-object';
import { checkNoTcpOptions, checkSocketPath } from '../reactor/socket-path';

/** One address to serve on: a host and port (TCP), or a `path` (a Unix domain socket). */
export interface ServerSocketConfig {
  /** Default `'::'`: every address, IPv6 and IPv4; `'0.0.0.0'` where there is no IPv6. */
  host?: string;
  /** 0 to 65535; 0 lets the system choose. Required unless `path` is given. */
  port?: number;
  /**
   * A Unix domain socket's path instead of a host and port (as
   * `ReactorUnixListenOptions.path`); `noDelay`, `keepAlive`, `ipv6Only`
   * and `reusePort` do not apply to it.
   */
  path?: string;
  /** With `path`: remove a stale socket file left there by a server that died (see `ReactorUnixListenOptions.removeStale`). Default `false`. */
  removeStale?: boolean;
  /** Connections that may wait to be accepted. Default 511. */
  backlog?: number;
  /** TCP_NODELAY on accepted connections. Default `true` (servers answer promptly). */
  noDelay?: boolean;
  /** SO_KEEPALIVE on accepted connections. Default `false`. */
  keepAlive?: boolean;
  /** Idle time before the first keep-alive probe. Default 0 (the system's). */
  keepAliveInitialDelayMs?: number;
  /** For an IPv6 host: refuse IPv4 clients. Default `false`. */
  ipv6Only?: boolean;
  /** SO_REUSEPORT, where the running Node supports it (22.12, 23.1 and newer). */
  reusePort?: boolean;
  /** In a `node:cluster` worker, `false` shares the primary's socket (see `ReactorListenOptions.exclusive`). Default `true`. */
  exclusive?: boolean;
}

/** A bound server socket. */
export interface ServerSocket {
  fd: number;
  /** The address actually bound (`'0.0.0.0'` if `'::'` fell back); a Unix socket's path (so code that names `host` names it). */
  host: string;
  /** The port actually bound (the system's choice for port 0); 0 for a Unix socket. */
  port: number;
  family: 'IPv4' | 'IPv6' | 'unix';
  /** A Unix socket's path; undefined for TCP. */
  path: string | undefined;
  config: Readonly<ServerSocketConfig>;
}

/** Codes that mean "this machine has no IPv6", for the '::' fallback. */
const NO_IPV6 = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EINVAL']);

/** What to do about a failed bind, by code: the second half of the error message. */
function advice(code: string, host: string, port: number | undefined, detail: string): string {
  if (port === undefined) return pathAdvice(code, host, detail);
  switch (code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use: stop whatever holds it (ss -ltnp 'sport = :${port}' shows it) or choose another port`;
    case 'EACCES':
      return `binding ${host}:${port} is not permitted: ports below 1024 need privileges; use a port of 1024 or above, or grant CAP_NET_BIND_SERVICE`;
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this machine: use one of its addresses, or '::' (or '0.0.0.0') for all of them`;
    case 'EAFNOSUPPORT':
      return `this machine has no ${host.includes(':') ? 'IPv6' : 'IPv4'}: use an address of the other family`;
    case 'ENOTSUP':
      return detail.includes('cluster')
        ? `raw handles cannot share a node:cluster primary's socket: use reusePort (Node 22.12+) or LibuvBackend`
        : `reusePort needs Node 22.12, 23.1 or newer (this is ${process.version}): drop the option or upgrade Node`;
    default:
      return `check the address ${host}:${port}`;
  }
}

/** {@link advice} for a Unix socket's path. */
function pathAdvice(code: string, path: string, detail: string): string {
  switch (code) {
    case 'EADDRINUSE':
      // The backend found out what holds the path (a server, a stale file, a file of another kind) and said so.
      return detail.replace(/^listen EADDRINUSE: address already in use: /, '');
    case 'EACCES':
      return `cannot make the socket file ${path}: its directory must exist and be writable by this user`;
    default:
      return `check the path ${path}`;
  }
}

/**
 * Binds the server's listening sockets and applies their options to the
 * connections they accept.
 *
 * `setupServerSockets` is all-or-nothing: it binds each address in turn and,
 * if one fails, closes the ones already bound and throws a `ReactorError`
 * that names the failing address, the system code and what to do about it.
 * A `'::'` address is dual stack (IPv4 and IPv6 clients alike); on a machine
 * without IPv6 it falls back to `'0.0.0.0'`.
 *
 * @example
 * ```ts
 * import { Reactor, SocketManager } from 'tsreactor';
 *
 * const manager = new SocketManager(new Reactor());
 * const [web, admin] = await manager.setupServerSockets([
 *   { host: '::', port: 8080 },
 *   { host: '127.0.0.1', port: 9090, noDelay: false },
 * ]);
 * console.log(`serving on ${web.port} and ${admin.port}`);
 * ```
 */
export class SocketManager {
  readonly #reactor: Reactor<never>;
  readonly #servers = new Map<number, ServerSocket>();

  constructor(reactor: Reactor<never> | Reactor) {
    if (!(reactor instanceof Reactor)) throw new TypeError(`'reactor' must be a Reactor, got ${describe(reactor)}`);
    this.#reactor = reactor as Reactor<never>;
  }

  /** The bound server sockets, in the order they were bound. */
  get serverSockets(): readonly ServerSocket[] {
    return [...this.#servers.values()];
  }

  /**
   * Binds every config, all or nothing.
   * @throws RangeError naming a bad option; ReactorError with the system
   *   code, naming the address and what to do, after closing what it bound.
   */
  async setupServerSockets(configs: readonly ServerSocketConfig[]): Promise<ServerSocket[]> {
    const list: unknown = configs;
    if (!Array.isArray(list) || configs.length === 0) {
      throw new RangeError(`'configs' must be a non-empty array of { host, port, ... }`);
    }
    for (const [index, config] of configs.entries()) checkConfig(config, index);
    const bound: ServerSocket[] = [];
    try {
      for (const config of configs) bound.push(await this.#bind(config));
    } catch (err) {
      for (const server of bound) this.closeServerSocket(server.fd);
      throw err;
    }
    return bound;
  }

  /**
   * Accepts a waiting connection on `serverFd` and applies that server's
   * options (noDelay, keepAlive) to it; `null` when none is waiting.
   * @throws ReactorError `EBADF` if `serverFd` is not one of ours, `EMFILE`.
   */
  acceptConnection(serverFd: number): number | null {
    const server = this.#servers.get(serverFd);
    if (server === undefined) {
      throw new ReactorError('EBADF', `fd ${describe(serverFd)} is not a server socket of this manager`, {
        fd: typeof serverFd === 'number' ? serverFd : undefined,
        syscall: 'accept',
      });
    }
    const fd = this.#reactor.accept(serverFd);
    if (fd === null || server.path !== undefined) return fd; // a Unix socket has no TCP options
    const { noDelay = true, keepAlive = false, keepAliveInitialDelayMs = 0 } = server.config;
    this.#reactor.setSocketOptions(fd, { noDelay, keepAlive, keepAliveInitialDelayMs });
    return fd;
  }

  /** Closes a connection (as `reactor.close(fd)`); closing twice throws `EBADF`. */
  closeConnection(fd: number): void {
    this.#reactor.close(fd);
  }

  /** Stops listening on one server socket. Idempotent. */
  closeServerSocket(fd: number): void {
    if (!this.#servers.delete(fd)) return;
    if (this.#reactor.state === 'open') this.#reactor.close(fd);
  }

  /** Stops listening on all of them. */
  closeServerSockets(): void {
    for (const fd of [...this.#servers.keys()]) this.closeServerSocket(fd);
  }

  async #bind(config: ServerSocketConfig): Promise<ServerSocket> {
    if (config.path !== undefined) return this.#bindPath(config, config.path);
    const host = config.host ?? '::';
    const { backlog, ipv6Only = false, reusePort = false, exclusive = true } = config;
    const port = config.port as number;
    let fd: number;
    let boundHost = host;
    try {
      fd = await this.#reactor.listen({ host, port, backlog, ipv6Only, reusePort, exclusive });
    } catch (err) {
      const code = (err as ReactorError).code;
      if (host === '::' && !ipv6Only && NO_IPV6.has(code)) {
        boundHost = '0.0.0.0';
        fd = await this.#listenOrExplain(boundHost, config);
      } else {
        throw explain(err, host, port);
      }
    }
    const info = this.#reactor.info(fd);
    const server: ServerSocket = {
      fd,
      host: boundHost,
      port: info.localPort ?? port,
      family: info.family === 'IPv4' || info.family === 'IPv6' ? info.family : boundHost.includes(':') ? 'IPv6' : 'IPv4',
      path: undefined,
      config: { ...config },
    };
    return this.#adopt(server);
  }

  async #bindPath(config: ServerSocketConfig, path: string): Promise<ServerSocket> {
    const { backlog, removeStale = false, exclusive = true } = config;
    let fd: number;
    try {
      fd = await this.#reactor.listen({ path, backlog, removeStale, exclusive });
    } catch (err) {
      throw explain(err, path, undefined);
    }
    return this.#adopt({ fd, host: path, port: 0, family: 'unix', path, config: { ...config } });
  }

  #adopt(server: ServerSocket): ServerSocket {
    this.#servers.set(server.fd, server);
    if (Channels.serverListen.hasSubscribers)
      Channels.serverListen.publish({ fd: server.fd, host: server.host, port: server.port, family: server.family });
    return server;
  }

  async #listenOrExplain(host: string, config: ServerSocketConfig): Promise<number> {
    try {
      const { backlog, reusePort = false, exclusive = true } = config;
      return await this.#reactor.listen({ host, port: config.port as number, backlog, reusePort, exclusive });
    } catch (err) {
      throw explain(err, host, config.port);
    }
  }
}

/** Rethrows a bind failure as a ReactorError that names the address (a path: no port), the code and what to do. */
function explain(err: unknown, host: string, port: number | undefined): ReactorError {
  const original = ReactorError.from(err, { syscall: 'listen', address: host, port });
  const where = port === undefined ? host : `${host}:${port}`;
  return new ReactorError(
    original.code,
    `cannot listen on ${where} (${original.code}): ${advice(original.code, host, port, original.message)}`,
    {
      syscall: 'listen',
      address: host,
      port,
      cause: err,
    },
  );
}

function checkConfig(config: ServerSocketConfig, index: number): void {
  const where = `configs[${index}]`;
  const value: unknown = config;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError(`'${where}' must be an object with a port or a path, got ${describe(config)}`);
  if (config.path !== undefined) {
    checkSocketPath(config.path, `${where}.`);
    checkNoTcpOptions(config, ['host', 'port', 'ipv6Only', 'reusePort'], `${where}.`);
    return;
  }
  const port = config.port as number;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`'${where}.port' must be an integer from 0 to 65535 (or give a 'path'), got ${describe(port)}`);
  }
  if (config.host !== undefined && (typeof config.host !== 'string' || config.host === '')) {
    throw new RangeError(`'${where}.host' must be a non-empty string`);
  }
  if (
    config.keepAliveInitialDelayMs !== undefined &&
    !(Number.isInteger(config.keepAliveInitialDelayMs) && config.keepAliveInitialDelayMs >= 0)
  ) {
    throw new RangeError(`'${where}.keepAliveInitialDelayMs' must be a whole number >= 0`);
  }
}
