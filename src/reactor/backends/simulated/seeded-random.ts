/**
 * A small, fast, seeded pseudo-random generator (mulberry32): the same seed
 * gives the same sequence on every run and every machine. Not for
 * cryptography; for simulations, tests and jitter that must repeat.
 *
 * @example
 * ```ts
 * import { SeededRandom, TimerWheel } from 'tsreactor';
 *
 * const random = new SeededRandom(42);
 * const wheel = new TimerWheel({ random: random.next }); // repeatable jitter
 * console.log(random.int(6) + 1); // a die roll, the same one every run
 * ```
 */
export class SeededRandom {
  #state: number;

  /** @param seed any integer; only its low 32 bits count. */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`'seed' must be an integer, got ${String(seed)}`);
    this.#state = seed >>> 0;
  }

  /** A number in [0, 1). Bound to the instance, so it can be passed around as a function. */
  readonly next = (): number => {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** `true` with probability `p` (0 never draws, so a fault rate of 0 costs nothing). */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }
}
