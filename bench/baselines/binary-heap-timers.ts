import { type Clock, SystemClock } from '../../src';

/** One timer of the heap baseline; the object is its own handle. */
export interface HeapTimer {
  deadline: number;
  seq: number;
  /** Position in the heap array, or -1 once fired or cancelled. */
  index: number;
  callback: (context: unknown) => void;
  context: unknown;
}

/**
 * The textbook alternative to a timer wheel, as a benchmark baseline: a
 * binary min-heap of timer objects ordered by (deadline, scheduling order),
 * each knowing its index so cancel is O(log n). Schedule and cancel are
 * O(log n); firing pops the minimum.
 */
export class BinaryHeapTimers {
  readonly #heap: HeapTimer[] = [];
  readonly #clock: Clock;
  #seq = 0;

  constructor(clock: Clock = SystemClock.instance) {
    this.#clock = clock;
  }

  get size(): number {
    return this.#heap.length;
  }

  schedule(delayMs: number, callback: (context: unknown) => void, context?: unknown): HeapTimer {
    const timer: HeapTimer = {
      deadline: Math.ceil(this.#clock.now() + delayMs),
      seq: ++this.#seq,
      index: this.#heap.length,
      callback,
      context,
    };
    this.#heap.push(timer);
    this.#up(timer.index);
    return timer;
  }

  cancel(timer: HeapTimer): boolean {
    const i = timer.index;
    if (i < 0) return false;
    this.#removeAt(i);
    return true;
  }

  /** Fires every timer due at or before now; returns how many. */
  advance(nowMs: number = this.#clock.now()): number {
    const heap = this.#heap;
    const now = Math.floor(nowMs);
    let fired = 0;
    while (heap.length > 0 && heap[0].deadline <= now) {
      const timer = heap[0];
      this.#removeAt(0);
      fired++;
      timer.callback(timer.context);
    }
    return fired;
  }

  #removeAt(i: number): void {
    const heap = this.#heap;
    const removed = heap[i];
    removed.index = -1;
    const last = heap.pop() as HeapTimer;
    if (i === heap.length) return;
    heap[i] = last;
    last.index = i;
    this.#down(i);
    this.#up(i);
  }

  #less(a: HeapTimer, b: HeapTimer): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
  }

  #up(i: number): void {
    const heap = this.#heap;
    const timer = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(timer, heap[parent])) break;
      heap[i] = heap[parent];
      heap[i].index = i;
      i = parent;
    }
    heap[i] = timer;
    timer.index = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const timer = heap[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.#less(heap[child + 1], heap[child])) child++;
      if (!this.#less(heap[child], timer)) break;
      heap[i] = heap[child];
      heap[i].index = i;
      i = child;
    }
    heap[i] = timer;
    timer.index = i;
  }
}
