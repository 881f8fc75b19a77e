import { ReactorError } from '../../reactor-error';
import type { DatagramOptions } from '../backend';
import { SimDatagramSocket } from './sim-datagram-socket';
import type { SimListeners } from './sim-listeners';

/**
 * A simulated host's UDP ports: its own namespace beside TCP's (a UDP and
 * a TCP socket may share a port number), with the rules of bind(2): the
 * address checks of TCP (`EADDRNOTAVAIL`, `EAFNOSUPPORT`), an overlap
 * fails with `EADDRINUSE` unless every socket on it asked for
 * `reuseAddr` (as SO_REUSEADDR lets UDP sockets share; the newest then
 * receives, as Linux delivers unicast to one of them); port 0 picks a free
 * port from 32768 up.
 */
export class SimDatagramPorts {
  readonly #byPort = new Map<number, SimDatagramSocket[]>();
  readonly #listeners: SimListeners;
  readonly #record: (line: () => string) => void;
  #nextPort = 32_768;

  constructor(listeners: SimListeners, record: (line: () => string) => void) {
    this.#listeners = listeners;
    this.#record = record;
  }

  bind(binding: DatagramOptions): SimDatagramSocket {
    const { host: address, port } = binding;
    this.#listeners.checkAddress(address, port, 'bind');
    const chosen = port === 0 ? this.#freePort() : port;
    const socket = new SimDatagramSocket({ ...binding, port: chosen });
    const existing = this.#byPort.get(chosen) ?? [];
    const overlaps = existing.filter((other) => overlap(other, socket));
    if (overlaps.length > 0 && !(binding.reuseAddr && overlaps.every((other) => other.binding.reuseAddr))) {
      throw new ReactorError('EADDRINUSE', `bind EADDRINUSE: address already in use ${address}:${chosen}`, {
        syscall: 'bind',
        address,
        port: chosen,
      });
    }
    existing.push(socket);
    this.#byPort.set(chosen, existing);
    this.#record(() => `udp bind ${address}:${chosen}`);
    return socket;
  }

  /** The socket a datagram to `address`:`port` reaches: one bound to that address before a wildcard; the newest among equals. */
  socketFor(address: string, port: number): SimDatagramSocket | undefined {
    const sockets = this.#byPort.get(port);
    if (sockets === undefined) return undefined;
    let wildcard: SimDatagramSocket | undefined;
    for (let i = sockets.length - 1; i >= 0; i--) {
      const socket = sockets[i];
      if (socket.address === address) return socket;
      if (wildcard === undefined && socket.covers(address)) wildcard = socket;
    }
    return wildcard;
  }

  unbind(socket: SimDatagramSocket): void {
    if (socket.closed) return;
    socket.close();
    const rest = (this.#byPort.get(socket.port) ?? []).filter((s) => s !== socket);
    if (rest.length > 0) this.#byPort.set(socket.port, rest);
    else this.#byPort.delete(socket.port);
    this.#record(() => `udp close ${socket.address}:${socket.port}`);
  }

  /** The host crashed: every UDP socket is gone, and what waited in it. */
  vanishAll(): void {
    for (const sockets of this.#byPort.values()) for (const socket of sockets) socket.close();
    this.#byPort.clear();
  }

  #freePort(): number {
    while (this.#byPort.has(this.#nextPort)) this.#nextPort++;
    return this.#nextPort++;
  }
}

/** Could a datagram reach both? Each is probed with an address the other covers. */
function overlap(a: SimDatagramSocket, b: SimDatagramSocket): boolean {
  return a.covers(probe(b)) || b.covers(probe(a));
}

/** An address `socket` receives on: its own, or for a wildcard one of the family it covers (IPv4 if it covers both). */
function probe(socket: SimDatagramSocket): string {
  if (socket.address === '::') return socket.binding.ipv6Only ? '::1' : '127.0.0.1';
  return socket.address === '0.0.0.0' ? '127.0.0.1' : socket.address;
}
