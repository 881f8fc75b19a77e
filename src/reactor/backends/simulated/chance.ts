import type { SeededRandom } from './seeded-random';

/**
 * The chance decisions a simulation takes: the faults of {@link FaultRates}
 * by name; `'reorder'`, which postpones an event behind others due at
 * the same simulated time (with `explore: true`); and the draws of links
 * between hosts (see `SimulatedWorld.link`): `'jitter'`, how much later than
 * its latency a packet arrives, and `'loss'`, a packet the link lost (TCP
 * sends it again).
 */
export type ChanceKind =
  | 'reset'
  | 'refuse'
  | 'acceptEmfile'
  | 'shortWrite'
  | 'delay'
  | 'stall'
  | 'reorder'
  | 'jitter'
  | 'loss'
  | 'datagramLoss'
  | 'datagramDuplicate';

/** Every kind, in a fixed order. */
export const CHANCE_KINDS: readonly ChanceKind[] = [
  'reset',
  'refuse',
  'acceptEmfile',
  'shortWrite',
  'delay',
  'stall',
  'reorder',
  'jitter',
  'loss',
  'datagramLoss',
  'datagramDuplicate',
];

/**
 * One decision that went the unusual way: the `nth` time (counting from 0)
 * the simulation asked whether `kind` happens, it did, and `value` (in
 * [0, 1)) chose how: how short the short write (a fraction of the bytes),
 * how late the delay (a fraction of `delayMs`), how far back the reordered
 * event goes among those due with it. Kinds that have no "how" carry 0.
 */
export interface ScheduledChance {
  readonly kind: ChanceKind;
  readonly nth: number;
  readonly value: number;
}

/**
 * Every chance decision of a run, as data: what a seed decided, written
 * out. Decisions not listed did not happen. A schedule replays a run
 * without its seed (`new SimulatedBackend({ ...sameOptions, schedule })`), and since it is
 * a plain list, a property-based test can generate and shrink it (see
 * `scheduleArbitrary` in `tsreactor/fast-check`): the smallest failing
 * schedule is the fault that matters. A scenario that draws numbers of its
 * own should take them from a `SeededRandom` of its own, not `sim.random`:
 * a replay by schedule draws nothing from `sim.random` for the faults, so
 * the scenario's own draws would come out differently.
 *
 * @example
 * ```ts
 * import { SimulatedBackend, type Schedule } from 'tsreactor';
 *
 * const first = new SimulatedBackend({ seed: 7, faults: { shortWrite: 0.2 } });
 * // ... run a scenario on it ...
 * const schedule: Schedule = first.schedule;        // the faults the seed chose
 * const replay = new SimulatedBackend({ schedule }); // the same run, no seed needed
 * ```
 */
export type Schedule = readonly ScheduledChance[];

/** Kinds whose decision draws a second number (the "how"), once it happens; the others record 0. */
const HAS_VALUE: Readonly<Record<ChanceKind, boolean>> = {
  reset: false,
  refuse: false,
  acceptEmfile: false,
  shortWrite: true,
  delay: true,
  stall: false,
  reorder: true,
  jitter: true,
  loss: false,
  datagramLoss: false,
  datagramDuplicate: false,
};

/**
 * Where a simulation's chance decisions come from: a seeded generator and
 * the rates of each kind, or an explicit {@link Schedule}. Either way each
 * question is counted per kind, and every decision that happened is
 * recorded, so a seeded run can be written out as a schedule and replayed
 * by it: asking is the same in both modes, only the answer's source differs.
 */
export class Chance {
  readonly #random: SeededRandom;
  readonly #rates: Readonly<Partial<Record<ChanceKind, number>>>;
  /** For a scheduled run: the decisions, by kind then by question number. */
  readonly #planned: Map<ChanceKind, Map<number, number>> | undefined;
  readonly #asked: Record<ChanceKind, number> = {
    reset: 0,
    refuse: 0,
    acceptEmfile: 0,
    shortWrite: 0,
    delay: 0,
    stall: 0,
    reorder: 0,
    jitter: 0,
    loss: 0,
    datagramLoss: 0,
    datagramDuplicate: 0,
  };
  readonly #taken: ScheduledChance[] = [];
  /** Seeded with every rate 0: nothing can happen, and nothing need be counted (no schedule will name it). */
  readonly #never: boolean;

  constructor(random: SeededRandom, rates: Readonly<Partial<Record<ChanceKind, number>>>, schedule?: Schedule) {
    this.#random = random;
    this.#rates = rates;
    this.#never = schedule === undefined && CHANCE_KINDS.every((kind) => !((rates[kind] ?? 0) > 0));
    if (schedule === undefined) return;
    this.#planned = new Map();
    for (const [i, entry] of schedule.entries()) {
      const { kind, nth, value } = entry;
      if (!CHANCE_KINDS.includes(kind))
        throw new RangeError(`'schedule[${i}].kind' must be one of ${CHANCE_KINDS.join(', ')}, got ${String(kind)}`);
      if (!Number.isInteger(nth) || nth < 0) throw new RangeError(`'schedule[${i}].nth' must be a whole number >= 0, got ${String(nth)}`);
      if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
        throw new RangeError(`'schedule[${i}].value' must be a number in [0, 1), got ${String(value)}`);
      }
      let byNth = this.#planned.get(kind);
      if (byNth === undefined) this.#planned.set(kind, (byNth = new Map<number, number>()));
      byNth.set(nth, value);
    }
  }

  /** Is this run driven by a schedule (rather than a seed)? */
  get scheduled(): boolean {
    return this.#planned !== undefined;
  }

  /**
   * Does `kind` happen this time? `undefined` if not; otherwise its value in
   * [0, 1), which the caller uses to choose how. `rate` overrides the kind's
   * rate for this question (a link's own jitter or loss).
   */
  decide(kind: ChanceKind, rate?: number): number | undefined {
    if (this.#never && rate === undefined) return undefined;
    let value: number | undefined;
    if (this.#planned !== undefined) {
      value = this.#planned.get(kind)?.get(this.#asked[kind]);
    } else {
      // A kind whose rate is 0 is never recorded, so its questions need no numbers: the schedule of this run
      // names none of them, and a replay (which counts every question) finds none.
      rate ??= this.#rates[kind] ?? 0;
      if (!(rate > 0)) return undefined;
      if (this.#random.next() < rate) value = HAS_VALUE[kind] ? this.#random.next() : 0;
    }
    const nth = this.#asked[kind]++;
    if (value !== undefined) this.#taken.push({ kind, nth, value });
    return value;
  }

  /** The decisions that happened so far, in the order they were taken. */
  get taken(): Schedule {
    return [...this.#taken]; // a copy: the run goes on deciding
  }
}
