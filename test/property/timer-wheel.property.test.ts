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
  /** The wheel's current tick: everything due at or before it has been taken. */
  #elapsed: number;
  /** Scheduled during the running advance at or before its current tick: waits for the next call. */
  readonly #deferred = new Set<number>();
  #advancing = false;

  constructor(startMs: number) {
    this.#elapsed = Math.floor(startMs);
  }

  schedule(id: number, deadline: number): void {
    this.#pending.set(id, { deadline, order: ++this.#order });
    if (this.#advancing && deadline <= this.#elapsed) this.#deferred.add(id);
    else this.#deferred.delete(id);
  }

  cancel(id: number): boolean {
    this.#deferred.delete(id);
    return this.#pending.delete(id);
  }

  reschedule(id: number, deadline: number): boolean {
    if (!this.#pending.has(id)) return false;
    this.schedule(id, deadline);
    return true;
  }

  /** Fires what is due, in order, calling `onFire` (which may schedule, cancel, reschedule) for each. */
  advance(nowMs: number, budget: number, onFire: (id: number) => void): number[] {
    const target = Math.floor(nowMs);
    const fired: number[] = [];
    this.#advancing = true;
    for (;;) {
      let next: [number, { deadline: number; order: number }] | undefined;
      for (const entry of this.#pending) {
        const [id, t] = entry;
        if (t.deadline > target || this.#deferred.has(id)) continue;
        if (next === undefined || t.deadline < next[1].deadline || (t.deadline === next[1].deadline && t.order < next[1].order)) {
          next = entry;
        }
      }
      if (next === undefined) {
        this.#elapsed = Math.max(this.#elapsed, target);
        break;
      }
      // The wheel reaches the next due tick before it checks the budget.
      this.#elapsed = Math.max(this.#elapsed, next[1].deadline);
      if (fired.length >= budget) break;
      this.#pending.delete(next[0]);
      fired.push(next[0]);
      onFire(next[0]);
    }
    this.#advancing = false;
    this.#deferred.clear();
    return fired;
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

/** What a timer's callback does when it fires. */
type Action =
  | { kind: 'none' }
  | { kind: 'schedule'; delayMs: number; count: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'reschedule'; pick: number; delayMs: number };

type Op =
  | { kind: 'schedule'; delayMs: number; action: Action }
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
const smallDelay = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 5, noNaN: true }), delayMs);
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 2,
    // Sometimes a batch big enough to grow the slab in the middle of advance.
    arbitrary: fc
      .record({ delayMs: smallDelay, count: fc.oneof(fc.constant(1), fc.integer({ min: 100, max: 300 })) })
      .map((r) => ({ kind: 'schedule' as const, ...r })),
  },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'cancel' as const, pick })) },
  { weight: 1, arbitrary: fc.record({ pick: fc.nat(), delayMs: smallDelay }).map((r) => ({ kind: 'reschedule' as const, ...r })) },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ delayMs, action }).map((r) => ({ kind: 'schedule' as const, ...r })) },
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
  test('random schedule / cancel / reschedule / advance sequences, with callbacks that do the same, fire the same timers in the same order in the same calls', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 10_000, noNaN: true }), fc.array(op, { maxLength: 80 }), (startMs, ops) => {
        const clock = new ManualClock(startMs);
        // A slab that starts tiny, so callbacks grow it in the middle of advance.
        const wheel = new TimerWheel({ clock, initialCapacity: 1 });
        const model = new NaiveTimers(startMs);
        const handles: number[] = []; // by id; fired and cancelled ones stay, to test stale handles
        const actions: Action[] = [];
        let fired: number[] = [];
        /** What each callback did, resolved to ids and deadlines, for the model to do the same. */
        let effects = new Map<number, ((m: NaiveTimers) => void)[]>();

        const schedule = (delay: number, act: Action): number => {
          const id = handles.length;
          actions.push(act);
          handles.push(wheel.schedule(delay, onFire, id));
          return id;
        };
        function onFire(id: number): void {
          fired.push(id);
          const a = actions[id];
          const done: ((m: NaiveTimers) => void)[] = [];
          const deadline = Math.ceil(clock.now() + ('delayMs' in a ? a.delayMs : 0));
          if (a.kind === 'schedule') {
            for (let n = 0; n < a.count; n++) {
              const newId = schedule(a.delayMs, { kind: 'none' });
              done.push((m) => m.schedule(newId, deadline));
            }
          } else if (a.kind === 'cancel') {
            const target = a.pick % handles.length;
            wheel.cancel(handles[target]);
            done.push((m) => m.cancel(target));
          } else if (a.kind === 'reschedule') {
            const target = a.pick % handles.length;
            wheel.reschedule(handles[target], a.delayMs);
            done.push((m) => m.reschedule(target, deadline));
          }
          effects.set(id, done);
        }

        for (const o of ops) {
          if (o.kind === 'schedule') {
            const id = schedule(o.delayMs, o.action);
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
            effects = new Map();
            const count = wheel.advance(undefined, o.budget);
            expect(count).toBe(fired.length);
            const expected = model.advance(clock.now(), o.budget, (id) => {
              for (const effect of effects.get(id) ?? []) effect(model);
            });
            expect(fired).toEqual(expected);
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
