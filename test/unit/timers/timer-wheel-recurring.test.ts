import { getEventListeners } from 'node:events';
import { TimerWheel, ManualClock } from '../../../src';
import { recordingWheel, seededRandom } from '../../helpers/timer-harness';

describe('TimerWheel.every: on time', () => {
  test('fires every interval with no missed ticks, keeping one handle', () => {
    const { wheel, record, fired, runTo } = recordingWheel();
    const h = wheel.every(100, record, { context: 'tick' });
    for (let t = 100; t <= 500; t += 100) {
      expect(runTo(t - 1)).toEqual([]);
      expect(runTo(t)).toEqual(['tick']);
      expect(wheel.has(h)).toBe(true);
    }
    expect(fired.map((f) => [f.atMs, f.missed])).toEqual([
      [100, 0],
      [200, 0],
      [300, 0],
      [400, 0],
      [500, 0],
    ]);
    expect(wheel.size).toBe(1);
  });

  test('keeps a fixed rate from a fractional start: ticks do not drift', () => {
    const { wheel, record, fired, clock } = recordingWheel({ startMs: 0.5 });
    wheel.every(10, record, { context: 'tick' });
    for (let step = 1; step <= 1010; step++) {
      clock.set(0.5 + step / 10);
      wheel.advance();
    }
    expect(fired.map((f) => f.atMs)).toEqual([11, 21, 31, 41, 51, 61, 71, 81, 91, 101]);
  });

  test('cancel stops it, also from inside its own callback', () => {
    const { wheel, stepTo } = recordingWheel();
    let calls = 0;
    const h = wheel.every(10, () => {
      calls++;
      if (calls === 3) wheel.cancel(h);
    });
    stepTo(1000);
    expect(calls).toBe(3);
    expect(wheel.has(h)).toBe(false);
    expect(wheel.size).toBe(0);
  });

  test('reschedule moves the next tick and restarts the schedule from there', () => {
    const { wheel, record, runTo, stepTo, fired } = recordingWheel();
    const h = wheel.every(100, record, { context: 'tick' });
    runTo(100);
    wheel.reschedule(h, 30); // next at 130, then 230, 330
    stepTo(350);
    expect(fired.map((f) => f.atMs)).toEqual([100, 130, 230, 330]);
  });
});

describe('TimerWheel.every: missed ticks after a stall', () => {
  test("'skip' fires once, reports the missed ticks, and resumes on the original schedule", () => {
    const { wheel, record, fired, clock } = recordingWheel();
    const h = wheel.every(100, record, { context: 'skip', missed: 'skip' });
    clock.set(350);
    expect(wheel.advance()).toBe(1);
    expect(fired).toEqual([{ name: 'skip', atMs: 350, missed: 2 }]);
    expect(wheel.deadlineOf(h)).toBe(400);
  });

  test("'delay' fires once, reports the missed ticks, and restarts one interval after now", () => {
    const { wheel, record, fired, clock } = recordingWheel();
    const h = wheel.every(100, record, { context: 'delay', missed: 'delay' });
    clock.set(350);
    expect(wheel.advance()).toBe(1);
    expect(fired).toEqual([{ name: 'delay', atMs: 350, missed: 2 }]);
    expect(wheel.deadlineOf(h)).toBe(450);
  });

  test("'burst' fires every missed tick, each reporting how many are still behind", () => {
    const { wheel, record, fired, clock } = recordingWheel();
    const h = wheel.every(100, record, { context: 'burst', missed: 'burst' });
    clock.set(350);
    expect(wheel.advance()).toBe(3);
    expect(fired.map((f) => f.missed)).toEqual([2, 1, 0]);
    expect(wheel.deadlineOf(h)).toBe(400);
  });

  test("'burst' respects the advance budget and catches up across calls", () => {
    const { wheel, record, fired, clock } = recordingWheel();
    wheel.every(10, record, { context: 'burst', missed: 'burst' });
    clock.set(1005);
    expect(wheel.advance(undefined, 40)).toBe(40);
    expect(wheel.advance(undefined, 40)).toBe(40);
    expect(wheel.advance(undefined, 40)).toBe(20);
    expect(fired.map((f) => f.missed)).toEqual(Array.from({ length: 100 }, (_, i) => 99 - i));
  });

  test('a tick a little late (less than one interval) misses nothing', () => {
    const { wheel, record, fired, clock } = recordingWheel();
    const h = wheel.every(100, record, { context: 'late', missed: 'delay' });
    clock.set(199);
    wheel.advance();
    expect(fired).toEqual([{ name: 'late', atMs: 199, missed: 0 }]);
    expect(wheel.deadlineOf(h)).toBe(200);
  });

  test('the missed count is against the time given to advance', () => {
    const clock = new ManualClock();
    const wheel = new TimerWheel({ clock });
    const missed: number[] = [];
    wheel.every(100, (_c, m) => missed.push(m));
    wheel.advance(1_000); // clock still reads 0: the time passed in is what counts
    expect(missed).toEqual([9]);
  });
});

describe('TimerWheel.every: jitter', () => {
  test('each tick fires within [nominal, nominal + jitter], never early, without drifting', () => {
    const random = seededRandom(7);
    const { wheel, clock } = recordingWheel({ random });
    const firedAt: number[] = [];
    wheel.every(100, () => firedAt.push(clock.now()), { jitterMs: 30 });
    for (let t = 1; t <= 100_030; t++) {
      clock.set(t);
      wheel.advance();
    }
    expect(firedAt).toHaveLength(1000);
    firedAt.forEach((at, k) => {
      const nominal = (k + 1) * 100;
      expect(at).toBeGreaterThanOrEqual(nominal);
      expect(at).toBeLessThanOrEqual(nominal + 30);
    });
    // Spread, not a constant offset.
    const offsets = new Set(firedAt.map((at, k) => at - (k + 1) * 100));
    expect(offsets.size).toBeGreaterThan(20);
  });

  test('jitter chosen at the top of its range still lands within the bound', () => {
    const { wheel, record, runTo } = recordingWheel({ random: () => 0.999_999 });
    wheel.every(100, record, { context: 'x', jitterMs: 5 });
    expect(runTo(104)).toEqual([]);
    expect(runTo(105)).toEqual(['x']);
  });
});

describe('AbortSignal cancellation', () => {
  test('aborting cancels a pending one-shot timer and removes the listener', () => {
    const { wheel, record, runTo } = recordingWheel();
    const controller = new AbortController();
    const h = wheel.schedule(10, record, 'a', { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    expect(wheel.has(h)).toBe(false);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(runTo(100)).toEqual([]);
  });

  test('aborting cancels a recurring timer', () => {
    const { wheel, record, runTo } = recordingWheel();
    const controller = new AbortController();
    wheel.every(10, record, { context: 'r', signal: controller.signal });
    expect(runTo(25)).toEqual(['r']);
    controller.abort();
    expect(runTo(100)).toEqual([]);
    expect(wheel.size).toBe(0);
  });

  test('an already aborted signal schedules nothing and returns a handle that is never pending', () => {
    const { wheel, record } = recordingWheel();
    const signal = AbortSignal.abort();
    const one = wheel.schedule(10, record, 'a', { signal });
    const every = wheel.every(10, record, { context: 'b', signal });
    expect(wheel.size).toBe(0);
    expect(wheel.has(one) || wheel.has(every)).toBe(false);
  });

  test('firing or cancelling removes the abort listener; aborting later is harmless', () => {
    const { wheel, record, runTo } = recordingWheel();
    const controller = new AbortController();
    wheel.schedule(10, record, 'fires', { signal: controller.signal });
    const h = wheel.schedule(20, record, 'cancelled', { signal: controller.signal });
    const keep = wheel.schedule(30, record, 'unrelated');
    expect(runTo(10)).toEqual(['fires']);
    wheel.cancel(h);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort();
    expect(wheel.has(keep)).toBe(true);
  });
});
