import { DatagramQueue } from '../datagram-queue';
import type { Datagram, DatagramOptions } from '../backend';
import { type Lane, newLane } from './event-queue';
import { bindingCovers, isIPv6 } from './sim-listeners';

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
  readonly binding: DatagramOptions;
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

  constructor(binding: DatagramOptions) {
    this.binding = binding;
    this.queue = new DatagramQueue(binding.receiveQueueDatagrams, binding.receiveQueueBytes);
  }

  /** The address it is bound to (a wildcard for every address of its family). */
  get address(): string {
    return this.binding.host;
  }

  get port(): number {
    return this.binding.port;
  }

  /** Does a datagram to `address` reach this socket (its address, or the wildcard of its family)? */
  covers(address: string): boolean {
    return bindingCovers(this.address, this.binding.ipv6Only, address);
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
