import { ManualClock, TimerWheel } from '../../../src';
import { recordingWheel } from '../../helpers/timer-harness';

/** Regressions for bugs found in review: each once broke the wheel. */
describe('TimerWheel: callbacks that grow the slab while advance runs', () => {
  test('every due timer fires once, in order, and the slab stays consistent', () => {
    const { wheel, record, clock, names } = recordingWheel({ initialCapacity: 1 });
    // Fill the slab to the brim, then make two due callbacks grow it.
    const filler: number[] = [];
    for (let i = 0; i < 120; i++) filler.push(wheel.schedule(60_000, record, `filler${i}`));
    wheel.schedule(10, () => {
      record('grower', 0);
      for (let i = 0; i < 2000; i++) wheel.schedule(1000, record, `later${i}`);
    });
    wheel.schedule(10, record, 'second');
    for (let d = 2; d <= 6; d++) wheel.schedule(d, record, `d${d}`);
    clock.set(10);
    expect(wheel.advance(undefined, Infinity)).toBe(7);
    expect(names()).toEqual(['d2', 'd3', 'd4', 'd5', 'd6', 'grower', 'second']);
    expect(wheel.size).toBe(120 + 2000);
    // Handles stay distinct and the free list sound.
    const fresh = new Set<number>();
    for (let i = 0; i < 3000; i++) fresh.add(wheel.schedule(5, () => {}));
    expect(fresh.size).toBe(3000);
    for (const h of filler) expect(wheel.cancel(h)).toBe(true);
    clock.set(2000);
    expect(wheel.advance(undefined, Infinity)).toBe(5000);
    expect(wheel.size).toBe(0);
  });
});

describe('TimerWheel: a burst catching up with jitter', () => {
  test('fires every due tick in deadline order within one advance', () => {
    const clock = new ManualClock(0.8);
    let calls = 0;
    const random = () => (calls++ % 2 === 0 ? 0.9 : 0.1); // jitter 0.45, 0.05, 0.45, ...
    const wheel = new TimerWheel({ clock, random });
    const fired: string[] = [];
    let ticks = 0;
    wheel.every(1, () => fired.push(`tick${++ticks}`), { jitterMs: 0.5, missed: 'burst' });
    wheel.schedule(10, () => fired.push('one-shot')); // due at ceil(10.8) = 11
    clock.advance(20);
    wheel.advance(undefined, Infinity);
    // Tick k is nominally due at 0.8 + k, plus its jitter: deadlines 3, 3, 5, 5, ... 19, 19, 21, 21.
    // The one-shot (11) goes before ticks 9 and 10 (also 11): it was scheduled first.
    const ticksUpTo = (n: number, from = 1) => Array.from({ length: n - from + 1 }, (_, i) => `tick${from + i}`);
    expect(fired).toEqual([...ticksUpTo(8), 'one-shot', ...ticksUpTo(18, 9)]);
    expect(wheel.advance(undefined, Infinity)).toBe(0); // caught up in one call
  });
});

describe('TimerWheel: nextExpiration inside a callback', () => {
  test('no longer reports the timer that is firing', () => {
    const { wheel, clock } = recordingWheel();
    let seen: number | undefined;
    wheel.schedule(10, () => (seen = wheel.nextExpiration()));
    wheel.schedule(50, () => {});
    expect(wheel.nextExpiration()).toBe(10);
    clock.set(10);
    wheel.advance();
    expect(seen).toBe(50);
  });
});

describe('TimerWheel: advance given a time ahead of its clock', () => {
  test('timers scheduled afterwards still fire in deadline order, and nextExpiration sees the earliest', () => {
    const clock = new ManualClock();
    const wheel = new TimerWheel({ clock });
    const fired: string[] = [];
    wheel.advance(1000);
    wheel.schedule(500, () => fired.push('500'));
    wheel.schedule(100, () => fired.push('100'));
    wheel.schedule(100, () => fired.push('100 later'));
    expect(wheel.nextExpiration()).toBe(100);
    wheel.advance(1000);
    expect(fired).toEqual(['100', '100 later', '500']);
  });
});

describe('TimerWheel: the waker runs last', () => {
  test('a waker that throws leaves the timer scheduled with its handle usable', () => {
    const { wheel, clock } = recordingWheel();
    const controller = new AbortController();
    wheel.setWaker(Infinity, () => {
      throw new Error('waker failed');
    });
    let fired = false;
    expect(() => wheel.schedule(5, () => (fired = true), undefined, { signal: controller.signal })).toThrow('waker failed');
    expect(wheel.size).toBe(1);
    controller.abort(); // the abort link was made before the waker ran
    expect(wheel.size).toBe(0);
    clock.set(5);
    wheel.advance();
    expect(fired).toBe(false);
  });

  test('a waker that schedules from inside sees a consistent wheel', () => {
    const { wheel, record, runTo } = recordingWheel();
    wheel.setWaker(Infinity, () => wheel.schedule(3, record, 'from waker'));
    wheel.schedule(7, record, 'first');
    expect(runTo(10)).toEqual(['from waker', 'first']);
  });
});
