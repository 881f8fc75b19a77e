/**
 * Runs `task` once, in a microtask, however many times it was requested in
 * one synchronous burst: a loop that schedules ten thousand timers, each
 * earlier than the last, re-arms the sleep once, after the loop, rather
 * than ten thousand times. Shared by the reactor and {@link TimerDriver}
 * for the timer wheel's waker. Internal; not exported from the package.
 */
export class OncePerBurst {
  readonly #task: () => void;
  #queued = false;

  constructor(task: () => void) {
    this.#task = task;
  }

  request(): void {
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(this.#run);
  }

  readonly #run = (): void => {
    this.#queued = false;
    this.#task();
  };
}
