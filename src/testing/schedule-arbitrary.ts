import * as fc from 'fast-check';
import { CHANCE_KINDS, type ChanceKind, type Schedule } from '../reactor/backends/simulated/chance';

/** Options of {@link scheduleArbitrary}. */
export interface ScheduleArbitraryOptions {
  /** The decisions to try. Default: every kind (the faults and `'reorder'`). */
  kinds?: readonly ChanceKind[];
  /** The most decisions in one schedule. Default 4. */
  maxDecisions?: number;
  /** The latest question a decision answers (`nth`), per kind. Default 50. */
  maxNth?: number;
}

/**
 * A fast-check arbitrary of simulation schedules: lists of chance
 * decisions ({@link Schedule}) to run a scenario under
 * (`new SimulatedBackend({ schedule })`, or `simulate(..., { schedule })`).
 * When a property fails, fast-check shrinks the schedule it found (fewer
 * decisions, earlier ones, smaller values), so `fc.assert` reports the
 * smallest schedule that still fails: often a single fault, at the first
 * moment it can strike.
 *
 * This module is the package's `tsreactor/fast-check` entry point; it needs
 * `fast-check` (4.x) installed beside tsreactor (an optional peer
 * dependency: the main entry point has none).
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 * import { simulate } from 'tsreactor';
 * import { scheduleArbitrary } from 'tsreactor/fast-check';
 *
 * await fc.assert(
 *   fc.asyncProperty(scheduleArbitrary({ kinds: ['shortWrite', 'delay'] }), (schedule) =>
 *     simulate(async ({ sim, reactor }) => {
 *       // ... start the server on reactor, drive clients from sim, assert ...
 *     }, { schedule }),
 *   ),
 * );
 * ```
 */
export function scheduleArbitrary(options: ScheduleArbitraryOptions = {}): fc.Arbitrary<Schedule> {
  const { kinds = CHANCE_KINDS, maxDecisions = 4, maxNth = 50 } = options;
  if (kinds.length === 0 || kinds.some((kind) => !CHANCE_KINDS.includes(kind))) {
    throw new RangeError(`'kinds' must be a non-empty list of ${CHANCE_KINDS.join(', ')}`);
  }
  if (!Number.isInteger(maxDecisions) || maxDecisions < 0)
    throw new RangeError(`'maxDecisions' must be a whole number >= 0, got ${String(maxDecisions)}`);
  if (!Number.isInteger(maxNth) || maxNth < 0) throw new RangeError(`'maxNth' must be a whole number >= 0, got ${String(maxNth)}`);
  const decision = fc.record({
    kind: fc.constantFrom(...kinds),
    nth: fc.nat({ max: maxNth }),
    value: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  });
  return fc.array(decision, { maxLength: maxDecisions });
}
