/** One scheduled happening of the simulated network. */
interface Scheduled {
  time: number;
  seq: number;
  run: () => void;
}

/**
 * The simulator's agenda: actions ordered by time (fractional milliseconds),
 * ties in the order they were scheduled, so a run is fully determined by
 * what was scheduled. A binary min-heap of its own: one heap class serving
 * this and DescriptorTable's free list (objects and numbers, two orders)
 * made the simulator benchmark about 6% slower, its call sites no longer
 * monomorphic.
 */
export class EventQueue {
  readonly #heap: Scheduled[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  /** The time of the earliest action, or Infinity when empty. */
  peekTime(): number {
    return this.#heap.length > 0 ? this.#heap[0].time : Infinity;
  }

  push(time: number, run: () => void): void {
    const heap = this.#heap;
    const item: Scheduled = { time, seq: ++this.#seq, run };
    let i = heap.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = item;
  }

  /** Removes and returns the earliest action; undefined when empty. */
  pop(): (() => void) | undefined {
    const heap = this.#heap;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop() as Scheduled;
    const n = heap.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && before(heap[child + 1], heap[child])) child++;
        if (!before(heap[child], last)) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
    }
    return top.run;
  }

  clear(): void {
    this.#heap.length = 0;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
