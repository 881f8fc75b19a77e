import { ReactorError } from '../../reactor-error';
import { newLane } from './event-queue';
import { mappedIPv4 } from '../../bind-options';
import { SimDatagramPorts } from './sim-datagram-ports';
import type { SimDatagramSocket } from './sim-datagram-socket';
import type { SimPath } from './sim-link';
import { isIPv6, normalizeHost, type PeerServerState, type SimListener, SimListeners } from './sim-listeners';
import { SimSocket } from './sim-socket';
import { SimulatedBackend } from './simulated-backend';
import { SimulatedDatagramPeer } from './simulated-datagram-peer';
import { SimulatedNet } from './simulated-net';
import { SimulatedPeer } from './simulated-peer';
import type { SimulatedWorld } from './simulated-world';

/** Linux's SYN retransmissions (`tcp_syn_retries`): the first after 1 s, each wait twice the one before. */
const SYN_RETRIES = 6;
const SYN_RTO_MS = 1_000;

/** Options of `world.host(...)`. */
export interface SimulatedHostOptions {
  /**
   * Its addresses, besides the loopback every host has (127.0.0.1, and ::1
   * with IPv6); connections it opens to another host come from the first
   * one of the destination's family. Default none (loopback only).
   */
  addresses?: readonly string[];
  /** Its name in traces and for `world.partition('name', ...)`. Default: its first address, or `'localhost'`. */
  name?: string;
  /** Does it have IPv6? Without it, binding an IPv6 address (even '::') fails with EAFNOSUPPORT. Default true. */
  ipv6?: boolean;
}

/** A test's listening peer: `reactor.connect` reaches it; each connection becomes a SimulatedPeer. */
export interface SimulatedPeerServer {
  /** Its port; 0 for a Unix socket peer server (`path` says where). */
  readonly port: number;
  /** A Unix socket peer server's path; undefined for TCP. */
  readonly path: string | undefined;
  /** The next connection it accepted (in arrival order). */
  accepted(): Promise<SimulatedPeer>;
  close(): void;
}

/**
 * One machine of a {@link SimulatedWorld}: its addresses, its listening
 * ports (shared by every reactor on it, as by the processes of one
 * machine), and the connections it opens. `host.backend()` is a backend
 * for one more reactor on it; `host.connect` and `host.listen` open test
 * peers on it.
 *
 * @example
 * ```ts
 * import { Reactor, SimulatedWorld } from 'tsreactor';
 *
 * const world = new SimulatedWorld();
 * const web = world.host({ name: 'web', addresses: ['10.0.0.2'] });
 * const reactor = new Reactor({ backend: web.backend() });
 * const fd = await reactor.listen({ host: '10.0.0.2', port: 80 });
 * const client = world.host('10.0.0.3').connect(80, { host: '10.0.0.2' });
 * ```
 */
export class SimulatedHost {
  readonly world: SimulatedWorld;
  readonly name: string;
  /** Every address it has, loopback included. */
  readonly addresses: readonly string[];
  /** @internal Its listening sockets. */
  readonly listeners: SimListeners;
  /** @internal Its UDP sockets. */
  readonly datagrams: SimDatagramPorts;
  /** @internal Ports whose next connection attempt is refused; ports that answer nothing. */
  readonly refuseNext = new Set<number>();
  readonly blackholed = new Set<number>();
  /** Its own addresses (not loopback), in the order given. */
  readonly #own: readonly string[];
  #nextClientPort = 49_152;
  #net: SimulatedNet | undefined;
  #up = true;
  #incarnation = 0;
  /** The backends of its reactors, which a crash takes down. */
  readonly #backends = new Set<SimulatedBackend>();

  /** @internal Made by `world.host(...)`. */
  constructor(world: SimulatedWorld, options: SimulatedHostOptions) {
    const ipv6 = options.ipv6 ?? true;
    const loopback = ipv6 ? ['127.0.0.1', '::1'] : ['127.0.0.1'];
    const given = options.addresses ?? [];
    for (const address of given) {
      if (typeof address !== 'string' || address.length === 0)
        throw new RangeError(`'addresses' must hold addresses, got ${String(address)}`);
    }
    this.world = world;
    this.#own = given.filter((address) => !loopback.includes(address));
    this.addresses = [...new Set([...this.#own, ...loopback])];
    this.name = options.name ?? (this.#own.length > 0 ? this.#own[0] : 'localhost');
    this.listeners = new SimListeners(ipv6, this.addresses, (line) => world.record(line));
    this.datagrams = new SimDatagramPorts(this.listeners, (line) => world.record(line));
  }

  /**
   * `node:net`'s client side on this host: `host.net.connect(...)` gives a
   * `net.Socket`-compatible {@link SimulatedSocket} for unmodified Node
   * clients (node:http's `createConnection`, undici's `connect`: `host.net.connector()`).
   */
  get net(): SimulatedNet {
    return (this.#net ??= new SimulatedNet(this));
  }

  /** A backend for a reactor on this host (`new Reactor({ backend: host.backend() })`); one per reactor. */
  backend(): SimulatedBackend {
    return new SimulatedBackend({}, this);
  }

  /** Is it running (not crashed, or restarted since)? */
  get up(): boolean {
    return this.#up;
  }

  /** @internal Counts its crashes: a socket made before the last one is gone. */
  get incarnation(): number {
    return this.#incarnation;
  }

  /** @internal A backend on this host joined (its constructor) or left (its dispose). */
  adopt(backend: SimulatedBackend): void {
    this.#backends.add(backend);
  }

  /** @internal */
  disown(backend: SimulatedBackend): void {
    this.#backends.delete(backend);
  }

  /**
   * The host crashes (power off, kernel panic): every socket of it
   * vanishes at once, without a FIN or RST, its listening ports are gone,
   * and packets sent to it are lost. Its peers see what real peers see:
   * nothing, until their writes go unanswered (TCP retransmits, then
   * `ETIMEDOUT`) or their own timers give up; a connect to it is not
   * answered. Its reactors' polls reject with `ERR_SIM_HOST_CRASHED` (an
   * `EventLoop` on it stops with that error), and their backends serve
   * nothing more. Timers of the program that are not a reactor's cannot
   * be told apart by host and go on. A crashed host stays down until
   * `restart()`. Its program is gone: `loop.close()` rejects as its polls
   * do (a graceful close needs them); `reactor.close()` releases it.
   */
  crash(): void {
    if (!this.#up) return;
    this.#up = false;
    this.#incarnation++;
    this.world.record(() => `crash ${this.name}`);
    this.listeners.vanishAll();
    this.datagrams.vanishAll();
    this.refuseNext.clear();
    this.blackholed.clear();
    const error = new ReactorError('ERR_SIM_HOST_CRASHED', `the simulated host ${this.name} crashed`, { syscall: 'poll' });
    for (const backend of this.#backends) backend.hostCrashed(error);
    this.#backends.clear();
  }

  /**
   * A crashed host boots again, with nothing open: a connect to it is
   * refused until something listens, and a packet of a connection from
   * before the crash is answered with RST. Start its programs again on
   * fresh reactors (`host.backend()`).
   */
  restart(): void {
    if (this.#up) return;
    this.#up = true;
    this.world.record(() => `restart ${this.name}`);
  }

  /**
   * Opens a simulated client on this host to `port` on `host` (default
   * 127.0.0.1: this host). It connects after the link's latency each way;
   * `peer.connected` says when, or rejects with ECONNREFUSED if nothing
   * listens. Given a path instead of a port, it connects to the Unix
   * socket there, on this host (see {@link SimulatedHost.dialPath}).
   */
  connect(port: number | string, options: { host?: string; localAddress?: string } = {}): SimulatedPeer {
    if (typeof port === 'string') {
      const socket = this.openUnixClient(port);
      const peer = new SimulatedPeer(socket, this.world.peerNetwork);
      this.dialPath(socket, port);
      return peer;
    }
    const address = normalizeHost(options.host ?? '127.0.0.1');
    const socket = this.openClient(address, port, options.localAddress);
    const peer = new SimulatedPeer(socket, this.world.peerNetwork);
    this.dial(socket, address, port);
    return peer;
  }

  /** Opens a listening peer on this host for `reactor.connect` to reach (port 0: any free port; a string: a Unix socket's path). */
  listen(port: number | string = 0, options: { host?: string } = {}): SimulatedPeerServer {
    const listener =
      typeof port === 'string'
        ? this.listeners.bindPath(port, 511, false)
        : this.listeners.bind(normalizeHost(options.host ?? '127.0.0.1'), port, false, false, 511);
    const state: PeerServerState = { peers: [], takers: [] };
    listener.peerServer = state;
    return {
      port: listener.port,
      path: listener.path,
      accepted: () => {
        const peer = state.peers.shift();
        return peer !== undefined ? Promise.resolve(peer) : new Promise((resolve) => state.takers.push(resolve));
      },
      close: () => this.listeners.unbind(listener),
    };
  }

  /**
   * Opens a test's UDP socket on this host (port 0: any free port; host
   * default 127.0.0.1), to send datagrams to a reactor's and collect its
   * answers. Its queue bounds are generous (it reads at once).
   */
  udp(options: { port?: number; host?: string } = {}): SimulatedDatagramPeer {
    const address = normalizeHost(options.host ?? '127.0.0.1');
    const socket = this.datagrams.bind({
      host: address,
      port: options.port ?? 0,
      type: isIPv6(address) ? 'udp6' : 'udp4',
      ipv6Only: false,
      reuseAddr: false,
      receiveQueueDatagrams: Infinity,
      receiveQueueBytes: Infinity,
      sendQueueBytes: Infinity,
    });
    return new SimulatedDatagramPeer(socket, this);
  }

  /**
   * Leaves a socket file at `path` on this host that nothing listens on,
   * as a server killed without closing its listener leaves one (a crash
   * of the host leaves its listeners' files so too): a connect there is
   * refused, a listen fails with `EADDRINUSE` unless `removeStale`.
   */
  leaveStaleSocket(path: string): void {
    this.listeners.leaveStale(path);
  }

  /** A port on which nothing listens on this host (connecting to it is refused). */
  freePort(): number {
    return this.listeners.freePort();
  }

  /** The next connection attempt to `port` on this host is refused (ECONNREFUSED). */
  refuseNextConnection(port: number): void {
    this.refuseNext.add(port);
  }

  /**
   * From now on, connections to `port` on this host go unanswered, as
   * toward a host that is down or a firewall that drops: the SYN is lost,
   * and a connect stays in progress until its timeout (`connectTimeoutMs`)
   * gives up on it, or, without one, until its SYN retries run out
   * (`ETIMEDOUT` about 127 s later, see "Full backlogs" on `SimulatedBackend`).
   */
  blackhole(port: number): void {
    this.blackholed.add(port);
  }

  /* ---- Connecting (internal) ------------------------------------------ */

  /** @internal A new client socket of this host toward `address`:`port`, not yet dialled. */
  openClient(address: string, port: number, localAddress?: string): SimSocket {
    const world = this.world;
    const target = world.destination(address, this);
    const connection = world.nextConnection();
    return new SimSocket(
      world.context,
      this,
      world.buffers,
      world.path(this, target ?? this),
      connection,
      'client',
      { address: localAddress ?? this.#sourceFor(address, target), port: this.#nextClientPort++ },
      { address, port },
      newLane(),
    );
  }

  /** @internal A new Unix socket client of this host toward `path`, not yet dialled. */
  openUnixClient(path: string): SimSocket {
    const world = this.world;
    const socket = new SimSocket(
      world.context,
      this,
      world.buffers,
      world.path(this, this),
      world.nextConnection(),
      'client',
      { address: path, port: 0 },
      { address: path, port: 0 },
      newLane(),
    );
    socket.unix = true;
    return socket;
  }

  /**
   * @internal A Unix socket's connect: on this host's file system, at once
   * (connect(2) on a path needs no packets; the outcome is an event of the
   * same instant): queued on the listener at `path`, or failed with
   * `ENOENT` (no socket file), `ECONNREFUSED` (a stale file: nothing
   * listens) or `EAGAIN` (its backlog is full, as Linux answers a
   * non-blocking connect to a Unix socket then).
   */
  dialPath(client: SimSocket, path: string): void {
    const world = this.world;
    world.record(() => `connect c${client.connection} -> ${path}`);
    world.at(
      world.clock.now(),
      () => {
        if (client.state !== 'connecting' || client.error !== undefined) return;
        const listener = this.listeners.listenerForPath(path);
        if (listener === undefined || listener === 'stale') {
          client.connectFailed(listener === 'stale' ? 'ECONNREFUSED' : 'ENOENT');
          return;
        }
        if (listener.queue.length > listener.backlog) {
          listener.dropped++;
          world.stats.dropped++;
          client.connectFailed('EAGAIN');
          return;
        }
        this.#queue(client, listener, path, 0, client.wire.path);
      },
      client.lane,
    );
  }

  /**
   * @internal One datagram from `from` (a UDP socket of this host) to
   * `address`:`port`: copied at once (the sender may reuse its buffer), then
   * carried over the link, each copy on its own: lost by the link's `loss`
   * or a partition, or by the fault `datagramLoss`; sent twice by
   * `datagramDuplicate`; late by the link's jitter or the fault `delay`, so
   * later datagrams may overtake it (UDP keeps no order). It reaches the
   * socket bound there, whose full queue may still drop it; with none
   * there, it is gone, and the sender is not told (an unconnected UDP
   * socket does not hear of ICMP port unreachable).
   */
  sendDatagram(from: SimDatagramSocket, data: Uint8Array, address: string, port: number): void {
    const world = this.world;
    const chance = world.chance;
    // A udp6 socket reaches IPv4 hosts through mapped addresses.
    const destination = mappedIPv4(address) ?? address;
    const target = world.destination(destination, this);
    const source = from.address === '::' || from.address === '0.0.0.0' ? this.#sourceFor(destination, target) : from.address;
    const payload = Buffer.from(data);
    from.holding(payload.length);
    world.at(world.clock.now(), () => from.left(payload.length), from.lane);
    const copies = chance.decide('datagramDuplicate') !== undefined ? 2 : 1;
    world.record(() => `udp ${source}:${from.port} -> ${destination}:${port} ${payload.length}${copies > 1 ? ' (duplicated)' : ''}`);
    for (let copy = 0; copy < copies; copy++) {
      if (target === undefined || chance.decide('datagramLoss') !== undefined) {
        world.record(() => `udp lost ${source}:${from.port} -> ${destination}:${port}`);
        continue;
      }
      const path = world.path(this, target);
      let arrival = world.clock.now() + path.delayMs();
      const late = chance.decide('delay');
      if (late !== undefined) arrival += late * world.faults.delayMs;
      path.carry(
        arrival,
        () => {
          const socket = target.datagrams.socketFor(destination, port);
          // Each copy is a buffer of its own, as each recvfrom(2) fills its own.
          const bytes = copy === 0 ? payload : Buffer.from(payload);
          if (socket === undefined) world.record(() => `udp nobody at ${destination}:${port}`);
          else if (!socket.deliver(bytes, source, from.port)) world.record(() => `udp dropped at ${destination}:${port}: queue full`);
        },
        from.lane,
        () => world.record(() => `udp lost on the link ${source}:${from.port} -> ${destination}:${port}`),
      );
    }
  }

  /** The address a connection to `address` on `target` comes from. */
  #sourceFor(address: string, target: SimulatedHost | undefined): string {
    const v6 = isIPv6(address);
    const loopback = v6 ? '::1' : '127.0.0.1';
    if (target === this) return this.#own.includes(address) ? address : loopback;
    return this.#own.find((own) => isIPv6(own) === v6) ?? loopback;
  }

  /**
   * @internal The handshake: SYN now, the listener's queue one latency
   * later, established one more later. A SYN that finds no room (a full
   * backlog), no answer (a blackholed port, an address no host has) or a
   * link that loses it is sent again as Linux does (see "Full backlogs" on
   * `SimulatedBackend`): `attempt` counts the retransmissions.
   */
  dial(client: SimSocket, address: string, port: number, attempt = 0): void {
    const world = this.world;
    const path = client.wire.path;
    const sentAt = world.clock.now();
    world.record(
      () =>
        `syn${attempt > 0 ? ` (retry ${attempt})` : ''} c${client.connection} ${client.localAddress}:${client.localPort} -> ${address}:${port}`,
    );
    const target = world.destination(address, this);
    path.carry(
      sentAt + path.delayMs(),
      () => {
        if (client.state !== 'connecting' || client.error !== undefined) return;
        if (target === undefined) {
          world.record(() => `syn lost c${client.connection} (no host has ${address})`);
          this.#retransmitSyn(client, address, port, attempt, sentAt);
          return;
        }
        target.#answerSyn(client, address, port, this, () => this.#retransmitSyn(client, address, port, attempt, sentAt));
      },
      client.lane,
      () => {
        if (client.state !== 'connecting' || client.error !== undefined) return;
        world.record(() => `syn lost c${client.connection} (on ${path.link.name})`);
        this.#retransmitSyn(client, address, port, attempt, sentAt);
      },
    );
  }

  /** A SYN from `from` arrived here: queue the connection, refuse it, or lose it (`lost` sends it again). */
  #answerSyn(client: SimSocket, address: string, port: number, from: SimulatedHost, lost: () => void): void {
    const world = this.world;
    if (this.blackholed.has(port)) {
      world.record(() => `syn lost c${client.connection} (${port} is unanswered)`);
      lost();
      return;
    }
    const listener = this.listeners.listenerFor(address, port);
    const refuse = this.refuseNext.delete(port) || world.chance.decide('refuse') !== undefined;
    const back = world.path(this, from);
    if (listener === undefined || refuse) {
      world.stats.refused++;
      if (refuse) world.record(() => `fault refuse c${client.connection}`);
      back.carry(world.clock.now() + back.delayMs(), () => client.receiveReset('ECONNREFUSED'), client.lane, lost);
      return;
    }
    if (listener.queue.length > listener.backlog) {
      // Linux holds backlog + 1 (sk_acceptq_is_full)
      listener.dropped++;
      world.stats.dropped++;
      world.record(() => `syn dropped c${client.connection} (backlog of ${listener.backlog} full on port ${port})`);
      lost();
      return;
    }
    this.#queue(client, listener, address, port, back);
  }

  /** A connection reached `listener`: the server's socket is made and waits for accept (or a test's peer server takes it). */
  #queue(client: SimSocket, listener: SimListener, address: string, port: number, back: SimPath): void {
    const world = this.world;
    const server = new SimSocket(
      world.context,
      this,
      world.buffers,
      back,
      client.connection,
      'server',
      { address, port },
      { address: client.localAddress, port: client.localPort },
      client.lane,
    );
    server.unix = client.unix;
    server.state = 'open';
    server.other = client;
    client.other = server;
    client.partner = server;
    server.partner = client;
    const arrival = world.clock.now() + back.delayMs();
    server.lastArrival = arrival; // nothing overtakes the SYN-ACK
    server.wire.send(arrival, () => client.established(), true);
    world.record(() => `queued c${client.connection} on ${client.unix ? address : `port ${port}`}`);
    if (listener.peerServer !== undefined) {
      const peer = new SimulatedPeer(server, world.peerNetwork);
      const taker = listener.peerServer.takers.shift();
      if (taker !== undefined) taker(peer);
      else listener.peerServer.peers.push(peer);
      world.wakeTest();
      return;
    }
    listener.queue.push(server);
    listener.onQueued?.();
  }

  /** A SYN sent at `sentAt` was lost: send it again after the retransmission timeout, or give up. */
  #retransmitSyn(client: SimSocket, address: string, port: number, attempt: number, sentAt: number): void {
    const rtoMs = SYN_RTO_MS * 2 ** attempt;
    this.world.at(
      sentAt + rtoMs,
      () => {
        if (client.state !== 'connecting' || client.error !== undefined) return;
        if (attempt < SYN_RETRIES) this.dial(client, address, port, attempt + 1);
        else client.timeOut();
      },
      client.lane,
    );
  }
}
