import { compactFront } from '../compact-front';
import type { Datagram } from './backend';

/**
 * A datagram socket's receive queue, bounded in datagrams and in payload
 * bytes as a kernel bounds one by `SO_RCVBUF`: `offer` refuses (and
 * counts) a datagram past either bound, so a flood costs a bounded amount
 * of memory whatever the sender does. First in, first out; `take` is O(1)
 * amortised (a head index, see `compactFront`).
 * Internal to the backends.
 */
export class DatagramQueue {
  readonly maxDatagrams: number;
  readonly maxBytes: number;
  readonly #items: (Datagram | undefined)[] = [];
  #head = 0;
  /** Payload bytes queued. */
  bytes = 0;
  /** Datagrams refused because the queue was full. */
  dropped = 0;

  constructor(maxDatagrams: number, maxBytes: number) {
    this.maxDatagrams = maxDatagrams;
    this.maxBytes = maxBytes;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Queues `datagram`: `true`, or `false` (dropped, counted) if it would pass a bound. */
  offer(datagram: Datagram): boolean {
    if (this.length >= this.maxDatagrams || this.bytes + datagram.data.length > this.maxBytes) {
      this.dropped++;
      return false;
    }
    this.#items.push(datagram);
    this.bytes += datagram.data.length;
    return true;
  }

  /** The oldest datagram, its payload cut to `maxBytes` (the rest is lost, as recvfrom(2) truncates), or `null`. */
  take(maxBytes: number): Datagram | null {
    if (this.#head === this.#items.length) return null;
    const datagram = this.#items[this.#head] as Datagram;
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else {
      this.#head = compactFront(this.#items, this.#head); // a reader that always leaves a datagram behind
    }
    this.bytes -= datagram.data.length;
    if (datagram.data.length > maxBytes) datagram.data = datagram.data.subarray(0, maxBytes);
    return datagram;
  }

  clear(): void {
    this.#items.length = 0;
    this.#head = 0;
    this.bytes = 0;
  }
}
