import { isIP } from 'node:net';
import type { DatagramOptions } from './backends/backend';
import { describe, optionsObject } from './options-object';
import { ReactorError } from './reactor-error';

/**
 * Options of {@link Reactor.bind}: a datagram (UDP) socket, as
 * `socket(AF_INET or AF_INET6, SOCK_DGRAM)` and `bind(2)`.
 * @example
 * ```ts
 * import { Reactor } from 'tsreactor';
 * const reactor = new Reactor();
 * const fd = await reactor.bind({ host: '127.0.0.1', port: 0, receiveQueueDatagrams: 256 });
 * ```
 */
export interface ReactorBindOptions {
  /**
   * The address to bind: an IP address (no host names: a datagram socket
   * binds one address). Default `'0.0.0.0'` for `'udp4'`, `'::'` for `'udp6'`.
   */
  host?: string;
  /** The port, 0 to 65535; 0 lets the system choose (`info(fd).localPort` tells which). */
  port: number;
  /** `'udp4'` or `'udp6'`. Default: `'udp6'` for an IPv6 `host`, else `'udp4'`. */
  type?: 'udp4' | 'udp6';
  /** For `'udp6'` on `'::'`: IPv6 senders only. Default `false` (IPv4 senders appear as `::ffff:a.b.c.d`). */
  ipv6Only?: boolean;
  /** SO_REUSEADDR: other sockets may bind the same address and port. Default `false`. */
  reuseAddr?: boolean;
  /**
   * The bound of the receive queue in datagrams. A datagram that arrives
   * while the queue is full (in datagrams or in bytes) is dropped and
   * counted (`info(fd).droppedDatagrams`), as a kernel drops one past
   * `SO_RCVBUF`. Default 1024.
   */
  receiveQueueDatagrams?: number;
  /** The bound of the receive queue in payload bytes. Default 1 MiB. */
  receiveQueueBytes?: number;
  /** Bytes accepted by `sendTo` and not yet sent past which it would block (returns 0). Default 1 MiB. */
  sendQueueBytes?: number;
}

/** The largest UDP payload: 65535 less the IPv4 and UDP headers (20 + 8); IPv6's header is outside its length field. */
const MAX_PAYLOAD = { udp4: 65_507, udp6: 65_527 } as const;

/** Checks `reactor.bind`'s options (a RangeError naming the option) and fills in the defaults. */
export function bindOptions(options: ReactorBindOptions | undefined): DatagramOptions {
  if (options === undefined) throw new TypeError(`'options' must be an object, got undefined`);
  const given = optionsObject(options, 'options');
  const { host, port, ipv6Only = false, reuseAddr = false } = given;
  const type: unknown = given.type ?? (host !== undefined && isIP(host) === 6 ? 'udp6' : 'udp4');
  if (type !== 'udp4' && type !== 'udp6') throw new RangeError(`'type' must be 'udp4' or 'udp6', got ${describe(type)}`);
  const family = type === 'udp4' ? 4 : 6;
  const address = host ?? (family === 4 ? '0.0.0.0' : '::');
  if (typeof address !== 'string' || isIP(address) !== family) {
    throw new RangeError(`'host' must be an IPv${family} address for type '${type}', got ${describe(host)}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`'port' must be an integer from 0 to 65535, got ${describe(port)}`);
  }
  return {
    host: address,
    port,
    type,
    ipv6Only: Boolean(ipv6Only),
    reuseAddr: Boolean(reuseAddr),
    receiveQueueDatagrams: positive(given.receiveQueueDatagrams, 1024, 'receiveQueueDatagrams'),
    receiveQueueBytes: positive(given.receiveQueueBytes, 1024 * 1024, 'receiveQueueBytes'),
    sendQueueBytes: positive(given.sendQueueBytes, 1024 * 1024, 'sendQueueBytes'),
  };
}

/**
 * Checks one `sendTo`: an IP address of the socket's family, a port from 1
 * to 65535 (RangeErrors naming them), and a payload that fits in one
 * datagram (`EMSGSIZE`, as sendto(2) fails).
 */
export function checkDestination(type: 'udp4' | 'udp6', data: Uint8Array, address: string, port: number, fd: number): void {
  const family = isIP(typeof address === 'string' ? address : '');
  // A udp6 socket reaches IPv4 peers through mapped addresses (::ffff:a.b.c.d), as sendto(2) on AF_INET6 does.
  if (type === 'udp4' ? family !== 4 : family !== 6) {
    throw new RangeError(`'address' must be an IPv${type === 'udp4' ? 4 : 6} address for a ${type} socket, got ${describe(address)}`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new RangeError(`'port' must be an integer from 1 to 65535, got ${describe(port)}`);
  }
  if (data.length > MAX_PAYLOAD[type]) {
    throw new ReactorError('EMSGSIZE', `a ${type} datagram carries at most ${MAX_PAYLOAD[type]} bytes, got ${data.length}`, {
      fd,
      syscall: 'sendto',
      address,
      port,
    });
  }
}

function positive(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < 1)
    throw new RangeError(`'${name}' must be a whole number >= 1, got ${describe(value)}`);
  return value as number;
}
