import type { Clock } from './clock';

/** `setTimeout`'s longest delay; a longer one would fire after 1 ms. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * One Node timer (`setTimeout`) armed for an absolute deadline on a
 * {@link Clock}, and never before it: Node's timers run on libuv's loop
 * time, which is coarser than `performance.now()`, so a timer may fire a
 * little early; it is then armed again for the remainder. Deadlines past
 * `setTimeout`'s range (about 24.8 days) are reached in steps. An infinite
 * deadline arms nothing.
 *
 * This is how everything in tsreactor sleeps on real time: a reactor's
 * poll on the real backends (one timer for the poll's deadline or the next
 * timer, whichever is first) and a {@link TimerDriver}. Internal; not
 * exported from the package.
 */
export class DeadlineTimer {
  #clock: Clock | undefined;
  #timer: NodeJS.Timeout | undefined;
  #deadline = Infinity;
  #onDeadline: (() => void) | undefined;
  #refed = true;

  constructor(clock?: Clock) {
    this.#clock = clock;
  }

  /** The clock deadlines are read on (a backend learns it when attached). */
  set clock(clock: Clock) {
    this.#clock = clock;
  }

  /** The deadline armed for; Infinity when none. */
  get deadline(): number {
    return this.#deadline;
  }

  /**
   * Calls `onDeadline` once the clock reaches `deadlineMs` (never before),
   * unless cancelled or armed again first. Arming the same deadline again
   * only replaces the callback: the Node timer stays.
   */
  arm(deadlineMs: number, onDeadline: () => void): void {
    this.#onDeadline = onDeadline;
    if (deadlineMs === this.#deadline && this.#timer !== undefined) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#deadline = deadlineMs;
    if (deadlineMs !== Infinity) this.#start();
  }

  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#deadline = Infinity;
    this.#onDeadline = undefined;
  }

  /** While unref'd, the pending timer does not keep the process alive. */
  unref(): void {
    this.#refed = false;
    this.#timer?.unref();
  }

  ref(): void {
    this.#refed = true;
    this.#timer?.ref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    if ((this.#clock as Clock).now() < this.#deadline) {
      this.#start(); // early (or a deadline past setTimeout's range): the rest
      return;
    }
    const onDeadline = this.#onDeadline;
    this.#deadline = Infinity;
    this.#onDeadline = undefined;
    onDeadline?.();
  };

  #start(): void {
    const delayMs = this.#deadline - (this.#clock as Clock).now();
    this.#timer = setTimeout(this.#fire, Math.min(Math.max(Math.ceil(delayMs), 1), MAX_TIMEOUT_MS));
    if (!this.#refed) this.#timer.unref();
  }
}
