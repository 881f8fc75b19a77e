import { ManualClock, SystemClock } from '../../../src';

describe('ManualClock', () => {
  test('starts at 0 by default, or at the given time', () => {
    expect(new ManualClock().now()).toBe(0);
    expect(new ManualClock(-250.5).now()).toBe(-250.5);
  });

  test('advance moves forward by the step and returns the new time', () => {
    const clock = new ManualClock(10);
    expect(clock.advance(5.5)).toBe(15.5);
    expect(clock.advance(0)).toBe(15.5);
    expect(clock.now()).toBe(15.5);
  });

  test('set moves to a later or equal time', () => {
    const clock = new ManualClock(10);
    expect(clock.set(10)).toBe(10);
    expect(clock.set(1e12)).toBe(1e12);
  });

  test('never goes backwards: a negative step or an earlier time is a RangeError and changes nothing', () => {
    const clock = new ManualClock(100);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.set(99.9)).toThrow(/never goes backwards/);
    expect(clock.now()).toBe(100);
  });

  test('rejects non-finite input, naming the argument', () => {
    expect(() => new ManualClock(Number.NaN)).toThrow(/'startMs'/);
    const clock = new ManualClock();
    expect(() => clock.advance(Number.POSITIVE_INFINITY)).toThrow(/'ms'/);
    expect(() => clock.set(Number.NaN)).toThrow(/'ms'/);
    expect(() => clock.advance('5' as unknown as number)).toThrow(RangeError);
    expect(clock.now()).toBe(0);
  });
});

describe('SystemClock', () => {
  test('reads a monotonic, non-decreasing time', () => {
    const clock = SystemClock.instance;
    let last = clock.now();
    for (let i = 0; i < 1000; i++) {
      const now = clock.now();
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
    }
  });
});
