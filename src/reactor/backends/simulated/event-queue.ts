/**
 * The events of one connection: among events due at the same time, a lane's
 * keep the order it scheduled them in, however the queue reorders the rest
 * (bytes of one TCP connection never overtake each other).
 */
export interface Lane {
  /** Its events still in the queue. */
  pending: number;
  /** The rank its next event gets at least: never lower while any of its events waits. */
  rank: number;
}

export function newLane(): Lane {
  return { pending: 0, rank: 0 };
}

/** One scheduled happening of the simulation; `EventQueue.cancel` takes it back. */
export interface Scheduled {
  time: number;
  /** Among events due at one time, lower ranks run first (0 unless reordered). */
  rank: number;
  seq: number;
  run: () => void;
  lane: Lane;
  cancelled: boolean;
}

/**
 * The simulator's agenda: actions ordered by time (fractional milliseconds),
 * then by rank, then in the order they were scheduled. Ranks are 0 unless the
 * simulation explores orders: then `push` takes a rank (a chance decision of
 * the caller's), and a lane's rank never falls while one of its events waits,
 * so each lane keeps its order. A run is fully determined by what was
 * scheduled and the ranks given.
 *
 * A binary min-heap of its own, not shared with DescriptorTable's free list
 * (numbers there, objects here): each heap's comparisons stay monomorphic.
 */
export class EventQueue {
  readonly #heap: Scheduled[] = [];
  #seq = 0;
  /** Ranks in use (exploring): lanes are kept. Otherwise every rank is 0 and lanes are left alone. */
  readonly #ranked: boolean;

  constructor(ranked: boolean) {
    this.#ranked = ranked;
  }

  /** Events cancelled but still in the heap (dropped as they reach its top). */
  #cancelled = 0;

  /** Events waiting to run (cancelled ones not counted). */
  get size(): number {
    return this.#heap.length - this.#cancelled;
  }

  /** The time of the earliest action, or Infinity when empty. */
  peekTime(): number {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0].cancelled) {
      this.#removeTop();
      this.#cancelled--;
    }
    return heap.length > 0 ? heap[0].time : Infinity;
  }

  /** Takes back an event not run yet (a timer cleared): it will not run, and no longer counts. */
  cancel(item: Scheduled): void {
    if (item.cancelled) return;
    item.cancelled = true;
    item.run = NOTHING;
    this.#cancelled++;
  }

  /** Schedules `run` at `time` in `lane`; `rank` (>= 0) postpones it behind events due with it that rank lower. */
  push(time: number, run: () => void, lane: Lane, rank = 0): Scheduled {
    if (this.#ranked) {
      if (rank < lane.rank) rank = lane.rank;
      lane.rank = rank;
      lane.pending++;
    }
    const heap = this.#heap;
    const item: Scheduled = { time, rank, seq: ++this.#seq, run, lane, cancelled: false };
    let i = heap.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = item;
    return item;
  }

  /** Removes and returns the earliest action; undefined when empty. */
  pop(): (() => void) | undefined {
    if (this.peekTime() === Infinity) return undefined;
    return this.#removeTop().run;
  }

  #removeTop(): Scheduled {
    const heap = this.#heap;
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
    if (this.#ranked && --top.lane.pending === 0) top.lane.rank = 0;
    return top;
  }

  clear(): void {
    for (const item of this.#heap) {
      item.lane.pending = 0;
      item.lane.rank = 0;
    }
    this.#heap.length = 0;
    this.#cancelled = 0;
  }
}

const NOTHING = (): void => {};

function before(a: Scheduled, b: Scheduled): boolean {
  return a.time < b.time || (a.time === b.time && (a.rank < b.rank || (a.rank === b.rank && a.seq < b.seq)));
}
