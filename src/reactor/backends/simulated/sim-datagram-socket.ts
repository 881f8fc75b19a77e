import { DatagramQueue } from '../datagram-queue';
import type { Datagram } from '../backend';
import { type Lane, newLane } from './event-queue';
import { isIPv6 } from './sim-listeners';

/** How a simulated datagram socket is bound, and the bounds of its receive queue. */
export interface SimDatagramBinding {
  address: string;
  port: number;
  type: 'udp4' | 'udp6';
  ipv6Only: boolean;
  reuseAddr: boolean;
  receiveQueueDatagrams: number;
  receiveQueueBytes: number;
  sendQueueBytes: number;
}

/**
 * A datagram (UDP) socket of a simulated host: a reactor fd or a test's
 * datagram peer. Its receive queue is bounded as a kernel's is by
 * `SO_RCVBUF`: a datagram that finds it full is dropped and counted.
 * Sending: a datagram is held from `sendTo` until the simulation's next
 * event (as a real backend holds it until Node's next tick), so a program
 * that sends past `sendQueueBytes` in one go meets `0` (would block) as it
 * does on real sockets, and a writable edge once the queue is under half.
 */
export class SimDatagramSocket {
  readonly address: string;
  readonly port: number;
  readonly binding: SimDatagramBinding;
  /** Its datagrams' place among the simulation's events of one instant. */
  readonly lane: Lane = newLane();
  readonly queue: DatagramQueue;
  bytesRead = 0;
  bytesWritten = 0;
  closed = false;
  /** Bytes sent and not yet on their way (see the class comment). */
  unsent = 0;
  writable = true;
  /** Hears of each datagram queued: the backend of a reactor fd, or a test's peer. */
  onQueued: (() => void) | undefined;
  /** Hears that the send queue is back under half: the backend of a reactor fd. */
  onWritable: (() => void) | undefined;

  constructor(binding: SimDatagramBinding) {
    this.binding = binding;
    this.address = binding.address;
    this.port = binding.port;
    this.queue = new DatagramQueue(binding.receiveQueueDatagrams, binding.receiveQueueBytes);
  }

  /** Does a datagram to `address` reach this socket (its address, or the wildcard of its family)? */
  covers(address: string): boolean {
    if (this.address === '::') return this.binding.ipv6Only ? isIPv6(address) : true;
    if (this.address === '0.0.0.0') return !isIPv6(address);
    return this.address === address;
  }

  /** A datagram arrived: queued (`true`), or dropped and counted because the queue is full. */
  deliver(data: Buffer, address: string, port: number): boolean {
    if (this.closed) return false;
    // A udp6 socket hears an IPv4 sender at its mapped address, as Linux reports it.
    const from = this.binding.type === 'udp6' && !isIPv6(address) ? `::ffff:${address}` : address;
    if (!this.queue.offer({ data, address: from, port })) return false;
    this.bytesRead += data.length;
    this.onQueued?.();
    return true;
  }

  take(maxBytes: number): Datagram | null {
    return this.queue.take(maxBytes);
  }

  /** `bytes` were handed over for sending: held until `left`. */
  holding(bytes: number): void {
    this.unsent += bytes;
    if (this.unsent >= this.binding.sendQueueBytes) this.writable = false;
  }

  /** `bytes` held by `holding` are on their way: room again, and a writable edge once under half. */
  left(bytes: number): void {
    this.unsent -= bytes;
    if (!this.writable && !this.closed && this.unsent <= this.binding.sendQueueBytes / 2) {
      this.writable = true;
      this.onWritable?.();
    }
  }

  close(): void {
    this.closed = true;
    this.queue.clear();
    this.onQueued = undefined;
    this.onWritable = undefined;
  }
}
