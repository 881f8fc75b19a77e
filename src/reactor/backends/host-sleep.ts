import type { Clock } from '../../timers';

/** `setTimeout`'s longest delay; a longer one would fire at once. */
const MAX_HOST_DELAY_MS = 2 ** 31 - 1;

/**
 * A poll's sleep on a real backend: one host timer armed for the deadline,
 * re-armed if it fires early (host timers run on libuv's coarse loop time,
 * the clock may be finer), none at all for an infinite deadline. The
 * `sleep`/`cancelSleep` half of the Backend contract, shared by the backends
 * on real sockets.
 * Internal to the backends.
 */
export class HostSleep {
  #clock: Clock | undefined;
  #timer: NodeJS.Timeout | undefined;
  #deadline = Infinity;
  #onDeadline: (() => void) | undefined;

  attach(clock: Clock): void {
    this.#clock = clock;
  }

  /** Calls `onDeadline` once the clock reaches `deadlineMs` (never before), unless cancelled or replaced first. */
  sleep(deadlineMs: number, onDeadline: () => void): void {
    this.#onDeadline = onDeadline;
    if (deadlineMs === this.#deadline && this.#timer !== undefined) return;
    this.cancel();
    this.#onDeadline = onDeadline;
    this.#deadline = deadlineMs;
    if (deadlineMs !== Infinity) this.#arm(); // no deadline: readiness alone ends the wait
  }

  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#deadline = Infinity;
    this.#onDeadline = undefined;
  }

  readonly #wake = (): void => {
    this.#timer = undefined;
    if ((this.#clock as Clock).now() < this.#deadline) {
      this.#arm(); // fired a little early
      return;
    }
    const onDeadline = this.#onDeadline;
    this.#deadline = Infinity;
    this.#onDeadline = undefined;
    onDeadline?.();
  };

  #arm(): void {
    const delayMs = this.#deadline - (this.#clock as Clock).now();
    this.#timer = setTimeout(this.#wake, Math.min(Math.max(Math.ceil(delayMs), 1), MAX_HOST_DELAY_MS));
  }
}
