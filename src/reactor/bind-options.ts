import { isIP } from 'node:net';
import type { DatagramOptions } from './backends/backend';
import { checkPort, describe, requiredOptions } from './options-object';
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

/** What `sendTo` checks a destination against: how the socket was bound. */
export interface DatagramBinding {
  type: 'udp4' | 'udp6';
  host: string;
  ipv6Only: boolean;
}

/**
 * An IP address in the one form every backend compares: IPv4 as given
 * (dotted decimal is already canonical), IPv6 compressed and in lower case
 * (`0:0:0:0:0:0:0:1` is `::1`), an IPv4-mapped one in its dotted form
 * (`::ffff:127.0.0.1`, as Linux reports a mapped sender). A scoped address
 * (`fe80::1%eth0`) is only lower-cased.
 */
export function canonicalAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  let hostname: string;
  try {
    hostname = new URL(`http://[${address}]`).hostname.slice(1, -1);
  } catch {
    return address.toLowerCase(); // scoped: URL does not take a zone
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(hostname);
  if (mapped === null) return hostname;
  const high = parseInt(mapped[1], 16);
  const low = parseInt(mapped[2], 16);
  return `::ffff:${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** The IPv4 address inside an IPv4-mapped IPv6 one (`::ffff:a.b.c.d`, canonical), or undefined. */
export function mappedIPv4(address: string): string | undefined {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : undefined;
}

const isLoopbackIPv4 = (address: string) => address.startsWith('127.');

/** Checks `reactor.bind`'s options (a RangeError naming the option) and fills in the defaults. */
export function bindOptions(options: ReactorBindOptions | undefined): DatagramOptions {
  const given = requiredOptions(options);
  const { host, port, ipv6Only = false, reuseAddr = false } = given;
  const type: unknown = given.type ?? (host !== undefined && isIP(host) === 6 ? 'udp6' : 'udp4');
  if (type !== 'udp4' && type !== 'udp6') throw new RangeError(`'type' must be 'udp4' or 'udp6', got ${describe(type)}`);
  const family = type === 'udp4' ? 4 : 6;
  const givenHost = host ?? (family === 4 ? '0.0.0.0' : '::');
  if (typeof givenHost !== 'string' || isIP(givenHost) !== family) {
    throw new RangeError(`'host' must be an IPv${family} address for type '${type}', got ${describe(host)}`);
  }
  const address = canonicalAddress(givenHost);
  if (mappedIPv4(address) !== undefined) {
    throw new RangeError(
      `'host' must not be an IPv4-mapped address (${address}): bind the IPv4 address with type 'udp4', or '::' for both families`,
    );
  }
  checkPort(port, 0);
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
 * Checks one `sendTo` and returns its destination in canonical form: an IP
 * address of the socket's family (a udp6 socket reaches IPv4 peers at
 * their mapped addresses, `::ffff:a.b.c.d`) and a port from 1 to 65535
 * (RangeErrors naming them); then what sendto(2) on Linux refuses, checked
 * here so that every backend refuses it alike and at once: a payload past
 * one datagram (`EMSGSIZE`: 65,507 bytes toward IPv4, mapped or not;
 * 65,527 toward IPv6), an IPv4 destination from a socket that cannot reach
 * one (`ENETUNREACH` for an IPv6-only socket, `EINVAL` for one bound to a
 * particular IPv6 address), and a destination off the loopback from a
 * socket bound to 127.x (`EINVAL`: no route from there).
 */
export function checkDestination(binding: DatagramBinding, data: Uint8Array, address: string, port: number, fd: number): string {
  const { type, host, ipv6Only } = binding;
  const family = isIP(typeof address === 'string' ? address : '');
  if (type === 'udp4' ? family !== 4 : family !== 6) {
    throw new RangeError(`'address' must be an IPv${type === 'udp4' ? 4 : 6} address for a ${type} socket, got ${describe(address)}`);
  }
  checkPort(port, 1);
  const destination = canonicalAddress(address);
  const ipv4 = type === 'udp4' ? destination : mappedIPv4(destination);
  const fail = (code: string, message: string) => new ReactorError(code, message, { fd, syscall: 'sendto', address: destination, port });
  const max = ipv4 !== undefined ? MAX_PAYLOAD.udp4 : MAX_PAYLOAD.udp6;
  if (data.length > max) throw fail('EMSGSIZE', `a datagram to ${destination} carries at most ${max} bytes, got ${data.length}`);
  if (type === 'udp6' && ipv4 !== undefined) {
    if (ipv6Only) throw fail('ENETUNREACH', `an IPv6-only socket cannot reach the IPv4 address ${destination}`);
    if (host !== '::') throw fail('EINVAL', `a socket bound to ${host} cannot reach the IPv4 address ${destination}`);
  }
  if (type === 'udp4' && isLoopbackIPv4(host) && !isLoopbackIPv4(destination)) {
    throw fail('EINVAL', `a socket bound to ${host} cannot reach ${destination}: there is no route off the loopback from it`);
  }
  return destination;
}

function positive(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < 1)
    throw new RangeError(`'${name}' must be a whole number >= 1, got ${describe(value)}`);
  return value as number;
}
