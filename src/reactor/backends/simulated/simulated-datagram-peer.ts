import { canonicalAddress } from '../../bind-options';
import type { Datagram } from '../backend';
import type { SimDatagramSocket } from './sim-datagram-socket';
import type { SimulatedHost } from './simulated-host';

/**
 * A test's UDP socket on a simulated host (`sim.udp()`, `host.udp()`): it
 * sends datagrams to a reactor's datagram socket and keeps every datagram
 * it receives, in arrival order. It reads at once whatever arrives, so its
 * own queue never fills. The link's loss, jitter and partitions and the
 * faults `datagramLoss`, `datagramDuplicate` and `delay` act on its
 * datagrams as on the reactor's.
 *
 * @example
 * ```ts
 * import { Interest, Reactor, SimulatedBackend } from 'tsreactor';
 *
 * const sim = new SimulatedBackend();
 * const reactor = new Reactor({ backend: sim });
 * const fd = await reactor.bind({ host: '127.0.0.1', port: 5353 });
 * const peer = sim.udp();
 * peer.send('query', 5353);
 * reactor.register(fd, Interest.READABLE);
 * // ... poll; reactor.recvFrom(fd) gives { data, address: '127.0.0.1', port: peer.port }
 * ```
 */
export class SimulatedDatagramPeer {
  /** Every datagram received so far, oldest first. */
  readonly received: Datagram[] = [];
  readonly #socket: SimDatagramSocket;
  readonly #host: SimulatedHost;
  #taken = 0;

  /** @internal Made by `host.udp()`. */
  constructor(socket: SimDatagramSocket, host: SimulatedHost) {
    this.#socket = socket;
    this.#host = host;
    socket.onQueued = () => {
      for (let d = socket.take(Infinity); d !== null; d = socket.take(Infinity)) this.received.push(d);
    };
  }

  /** Its address (as bound) and port. */
  get address(): string {
    return this.#socket.address;
  }

  get port(): number {
    return this.#socket.port;
  }

  /** Sends one datagram to `port` on `address` (default 127.0.0.1: its own host). */
  send(data: Buffer | string, port: number, address = '127.0.0.1'): void {
    if (this.#socket.closed) throw new Error('this datagram peer is closed');
    this.#host.sendDatagram(this.#socket, typeof data === 'string' ? Buffer.from(data) : data, canonicalAddress(address), port);
  }

  /** The next datagram not yet taken by `next`, once it has arrived (in simulated time). */
  async next(): Promise<Datagram> {
    await this.#host.world.waitUntil(() => this.received.length > this.#taken, `a datagram for the peer at port ${this.port}`);
    return this.received[this.#taken++];
  }

  close(): void {
    this.#host.datagrams.unbind(this.#socket);
  }
}
