import fc from 'fast-check';
import { ManualClock, TimerWheel } from '../../src';

/**
 * The naive model: a list of pending timers. `advance` takes every timer due
 * at or before the current whole millisecond, sorts by (deadline, scheduling
 * order) and fires the first `budget` of them. The wheel must agree with it
 * on what fires, in what order, in which advance call, and on its answers to
 * size, nextExpiration, has and deadlineOf along the way.
 */
class NaiveTimers {
  readonly #pending = new Map<number, { deadline: number; order: number }>();
  #order = 0;

  schedule(id: number, deadline: number): void {
    this.#pending.set(id, { deadline, order: ++this.#order });
  }

  cancel(id: number): boolean {
    return this.#pending.delete(id);
  }

  reschedule(id: number, deadline: number): boolean {
    if (!this.#pending.has(id)) return false;
    this.schedule(id, deadline);
    return true;
  }

  advance(nowMs: number, budget: number): number[] {
    const due = [...this.#pending]
      .filter(([, t]) => t.deadline <= Math.floor(nowMs))
      .sort(([, a], [, b]) => a.deadline - b.deadline || a.order - b.order)
      .slice(0, budget)
      .map(([id]) => id);
    for (const id of due) this.#pending.delete(id);
    return due;
  }

  get size(): number {
    return this.#pending.size;
  }

  nextExpiration(): number | undefined {
    let min: number | undefined;
    for (const { deadline } of this.#pending.values()) if (min === undefined || deadline < min) min = deadline;
    return min;
  }

  deadlineOf(id: number): number | undefined {
    return this.#pending.get(id)?.deadline;
  }
}

type Op =
  | { kind: 'schedule'; delayMs: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'reschedule'; pick: number; delayMs: number }
  | { kind: 'advance'; stepMs: number; budget: number };

const boundary = fc.constantFrom(63, 64, 65, 4095, 4096, 4097, 262_143, 262_144, 262_145, 2 ** 24, 2 ** 30, 2 ** 36, 2 ** 36 + 5);
const delayMs = fc.oneof(
  fc.integer({ min: 0, max: 70 }),
  fc.integer({ min: 0, max: 5_000 }),
  fc.integer({ min: 0, max: 400_000 }),
  fc.double({ min: 0, max: 100, noNaN: true }),
  boundary,
);
const stepMs = fc.oneof(
  fc.integer({ min: 0, max: 10 }),
  fc.double({ min: 0, max: 3, noNaN: true }),
  fc.integer({ min: 0, max: 5_000 }),
  fc.integer({ min: 0, max: 500_000 }),
  boundary,
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: delayMs.map((d) => ({ kind: 'schedule' as const, delayMs: d })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'cancel' as const, pick })) },
  {
    weight: 2,
    arbitrary: fc.record({ pick: fc.nat(), delayMs }).map((r) => ({ kind: 'reschedule' as const, ...r })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({ stepMs, budget: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 1, max: 4 })) })
      .map((r) => ({ kind: 'advance' as const, ...r })),
  },
);

describe('TimerWheel against a naive sorted-list model', () => {
  test('random schedule / cancel / reschedule / advance sequences fire the same timers, in the same order, in the same calls', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 10_000, noNaN: true }), fc.array(op, { maxLength: 80 }), (startMs, ops) => {
        const clock = new ManualClock(startMs);
        const wheel = new TimerWheel({ clock });
        const model = new NaiveTimers();
        const handles: number[] = []; // by id; fired and cancelled ones stay, to test stale handles
        let fired: number[] = [];
        const onFire = (id: number) => fired.push(id);

        for (const o of ops) {
          if (o.kind === 'schedule') {
            const id = handles.length;
            handles.push(wheel.schedule(o.delayMs, onFire, id));
            model.schedule(id, Math.ceil(clock.now() + o.delayMs));
          } else if (o.kind === 'cancel' && handles.length > 0) {
            const id = o.pick % handles.length;
            expect(wheel.cancel(handles[id])).toBe(model.cancel(id));
          } else if (o.kind === 'reschedule' && handles.length > 0) {
            const id = o.pick % handles.length;
            const deadline = Math.ceil(clock.now() + o.delayMs);
            expect(wheel.reschedule(handles[id], o.delayMs)).toBe(model.reschedule(id, deadline));
          } else if (o.kind === 'advance') {
            clock.advance(o.stepMs);
            fired = [];
            const count = wheel.advance(undefined, o.budget);
            expect(fired).toEqual(model.advance(clock.now(), o.budget));
            expect(count).toBe(fired.length);
          }
          expect(wheel.size).toBe(model.size);
          expect(wheel.nextExpiration()).toBe(model.nextExpiration());
        }
        handles.forEach((h, id) => {
          expect(wheel.deadlineOf(h)).toBe(model.deadlineOf(id));
        });
      }),
      { numRuns: 400 },
    );
  });
});
