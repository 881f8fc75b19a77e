import type { DescriptorKind, HandleInfo } from './backend';

/** `info` of a descriptor of `kind` with no addresses, no bytes and no counts yet (a backend's, or a test stub's, starting point). */
export function emptyInfo(kind: DescriptorKind): HandleInfo {
  return { ...NOTHING, kind };
}

/** What `info` says of a signal descriptor, on any backend: no addresses, no bytes. Internal to the backends. */
export function signalInfo(): HandleInfo {
  return emptyInfo('signal');
}

/** What a datagram socket's `info` is made of, on any backend. */
export interface DatagramCounts {
  localAddress: string | undefined;
  localPort: number | undefined;
  type: 'udp4' | 'udp6';
  bytesRead: number;
  bytesWritten: number;
  /** Payload bytes in the receive queue. */
  readBuffered: number;
  /** Bytes handed over for sending, not yet sent. */
  writeBuffered: number;
  droppedDatagrams: number;
}

/** `info` of a datagram socket, on any backend: no remote end (it is not connected). Internal to the backends. */
export function datagramInfo(counts: DatagramCounts): HandleInfo {
  const { type, ...rest } = counts;
  return { ...NOTHING, ...rest, kind: 'datagram', family: type === 'udp6' ? 'IPv6' : 'IPv4' };
}

const NOTHING: Omit<HandleInfo, 'kind'> = {
  localAddress: undefined,
  localPort: undefined,
  remoteAddress: undefined,
  remotePort: undefined,
  family: undefined,
  path: undefined,
  bytesRead: 0,
  bytesWritten: 0,
  readBuffered: 0,
  writeBuffered: 0,
  osFd: undefined,
  droppedConnections: 0,
  droppedDatagrams: 0,
};
