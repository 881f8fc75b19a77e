import { ReactorError } from './reactor-error';

/** Options of {@link DescriptorTable}. */
export interface DescriptorTableOptions {
  /**
   * How many descriptors may be open at once, like `RLIMIT_NOFILE`; past it,
   * `allocate` throws `EMFILE`. Default 1,048,576.
   */
  limit?: number;
}

const DEFAULT_LIMIT = 1 << 20;

/**
 * File-descriptor numbers, as POSIX hands them out: small non-negative
 * integers, the lowest free one first, reused after release. Each number
 * carries a generation that changes on every release, so a holder of an old
 * (fd, generation) pair can tell that the number now names something else.
 *
 * Allocation is O(log n): released numbers wait in a min-heap; numbers never
 * used start at `#next`, above all of them.
 *
 * @example
 * ```ts
 * import { DescriptorTable } from 'tsreactor';
 *
 * const table = new DescriptorTable<string>();
 * const a = table.allocate('first');  // 0
 * const b = table.allocate('second'); // 1
 * table.release(a);
 * table.allocate('third');            // 0 again: lowest free first
 * console.log(table.get(b));          // 'second'
 * ```
 */
export class DescriptorTable<T> {
  readonly #limit: number;
  readonly #values: (T | undefined)[] = [];
  readonly #generations: number[] = [];
  /** Released numbers below #next, as a binary min-heap. */
  readonly #free: number[] = [];
  #next = 0;
  #size = 0;

  constructor(options: DescriptorTableOptions = {}) {
    const { limit = DEFAULT_LIMIT } = options;
    if (!Number.isInteger(limit) || limit < 1 || limit > 2 ** 31 - 1) {
      throw new RangeError(`'limit' must be an integer from 1 to 2147483647, got ${String(limit)}`);
    }
    this.#limit = limit;
  }

  /** How many descriptors are open. */
  get size(): number {
    return this.#size;
  }

  /** The most that may be open at once. */
  get limit(): number {
    return this.#limit;
  }

  /** Takes the lowest free number for `value`. @throws ReactorError `EMFILE` at the limit. */
  allocate(value: T): number {
    if (this.#size >= this.#limit) {
      throw new ReactorError('EMFILE', `too many open descriptors (the limit is ${this.#limit})`);
    }
    const fd = this.#free.length > 0 ? this.#popFree() : this.#next++;
    if (fd === this.#generations.length) this.#generations.push(0);
    this.#values[fd] = value;
    this.#size++;
    return fd;
  }

  /** What `fd` holds, or `undefined` if it is not open. */
  get(fd: number): T | undefined {
    return this.#values[fd];
  }

  /** `true` if `fd` is open. */
  has(fd: number): boolean {
    return this.#values[fd] !== undefined;
  }

  /** The generation of `fd`: it changes each time the number is released. */
  generation(fd: number): number {
    return this.#generations[fd] ?? 0;
  }

  /** Frees `fd` for reuse and returns what it held, or `undefined` if it was not open. */
  release(fd: number): T | undefined {
    const value = this.#values[fd];
    if (value === undefined) return undefined;
    this.#values[fd] = undefined;
    this.#generations[fd]++;
    this.#size--;
    this.#pushFree(fd);
    return value;
  }

  /** The open descriptors, lowest first. */
  *entries(): IterableIterator<[number, T]> {
    for (let fd = 0; fd < this.#next; fd++) {
      const value = this.#values[fd];
      if (value !== undefined) yield [fd, value];
    }
  }

  #pushFree(fd: number): void {
    const heap = this.#free;
    let i = heap.push(fd) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent] <= fd) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = fd;
  }

  #popFree(): number {
    const heap = this.#free;
    const top = heap[0];
    const last = heap.pop() as number;
    const n = heap.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && heap[child + 1] < heap[child]) child++;
        if (heap[child] >= last) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
