import type { Clock } from '../../../timers';

/** One lingering stream in a {@link LingerList}: an intrusive list node kept by the backend's handle. */
export interface LingerEntry<H> {
  readonly handle: H;
  /** The descriptor it had. */
  readonly fd: number;
  readonly closedAtMs: number;
  prev: LingerEntry<H> | undefined;
  next: LingerEntry<H> | undefined;
  /** Still in the list (removing twice is a no-op). */
  listed: boolean;
}

/** `setTimeout`'s longest delay; a longer one would fire at once. */
const MAX_HOST_DELAY_MS = 2 ** 31 - 1;

/**
 * The streams a backend on real sockets closed gracefully and that still
 * send what they held (contract rule 28), oldest first. Every one gets the
 * same `lingerMs`, so deadlines come in the order of closing: the list is a
 * FIFO, insert and remove are O(1), and one Node timer, armed for the
 * oldest, serves them all (none while the list is empty; unref'd, since a
 * lingering socket keeps the process alive by itself). When a deadline
 * passes, `onExpired` aborts that stream.
 * Internal to the backends.
 */
export class LingerList<H> {
  readonly #onExpired: (handle: H) => void;
  #clock: Clock | undefined;
  #lingerMs = Infinity;
  #head: LingerEntry<H> | undefined;
  #tail: LingerEntry<H> | undefined;
  #size = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(onExpired: (handle: H) => void) {
    this.#onExpired = onExpired;
  }

  configure(clock: Clock, lingerMs: number): void {
    this.#clock = clock;
    this.#lingerMs = lingerMs;
  }

  get size(): number {
    return this.#size;
  }

  /** Starts lingering `handle` (closed as descriptor `fd`) from now. */
  add(handle: H, fd: number): LingerEntry<H> {
    const entry: LingerEntry<H> = { handle, fd, closedAtMs: (this.#clock as Clock).now(), prev: this.#tail, next: undefined, listed: true };
    if (this.#tail === undefined) this.#head = entry;
    else this.#tail.next = entry;
    this.#tail = entry;
    this.#size++;
    this.#arm();
    return entry;
  }

  /** Its writes are done (or it was cut): no longer lingering. Idempotent. */
  remove(entry: LingerEntry<H>): void {
    if (!entry.listed) return;
    entry.listed = false;
    if (entry.prev === undefined) this.#head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.#tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = entry.next = undefined;
    this.#size--;
    if (this.#size === 0) this.#disarm();
  }

  /** Oldest first. */
  *[Symbol.iterator](): IterableIterator<LingerEntry<H>> {
    for (let entry = this.#head; entry !== undefined; entry = entry.next) yield entry;
  }

  /** Empties the list without calling `onExpired`; returns what lingered (for a backend's dispose). */
  drain(): H[] {
    const handles: H[] = [];
    for (let entry = this.#head; entry !== undefined; entry = this.#head) {
      handles.push(entry.handle);
      this.remove(entry);
    }
    return handles;
  }

  readonly #expire = (): void => {
    this.#timer = undefined;
    const now = (this.#clock as Clock).now();
    for (let entry = this.#head; entry !== undefined && entry.closedAtMs + this.#lingerMs <= now; entry = this.#head) {
      this.remove(entry);
      this.#onExpired(entry.handle);
    }
    this.#arm();
  };

  /** Arms the timer for the oldest entry, unless it is armed already (or nothing has a deadline). */
  #arm(): void {
    const head = this.#head;
    if (this.#timer !== undefined || head === undefined || this.#lingerMs === Infinity) return;
    const delayMs = head.closedAtMs + this.#lingerMs - (this.#clock as Clock).now();
    // Host timers run on libuv's coarse clock: one that fires a little early finds nothing due and re-arms.
    this.#timer = setTimeout(this.#expire, Math.min(Math.max(Math.ceil(delayMs), 1), MAX_HOST_DELAY_MS));
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
