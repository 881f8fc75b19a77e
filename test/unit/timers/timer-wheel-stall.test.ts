import { recordingWheel, seededRandom } from '../../helpers/timer-harness';

const TEN_MINUTES = 600_000;

describe('TimerWheel: a ten-minute stall', () => {
  function stalledWheel(count: number) {
    const harness = recordingWheel({ advanceBudget: 1000 });
    const random = seededRandom(42);
    const expected: { name: string; deadline: number; order: number }[] = [];
    for (let i = 0; i < count; i++) {
      // Spread over every level the ten minutes touch, with plenty of ties.
      const delay = random() < 0.3 ? Math.floor(random() * 64) * 1000 : Math.floor(random() * TEN_MINUTES);
      const name = `t${i}`;
      harness.wheel.schedule(delay, harness.record, name);
      expected.push({ name, deadline: delay, order: i });
    }
    expected.sort((a, b) => a.deadline - b.deadline || a.order - b.order);
    return { ...harness, expected };
  }

  test('fires everything due, in deadline order, at most one budget per call', () => {
    const { wheel, clock, fired, expected } = stalledWheel(10_000);
    clock.advance(TEN_MINUTES);
    const perCall: number[] = [];
    for (let n = wheel.advance(); n > 0; n = wheel.advance()) perCall.push(n);
    expect(perCall.every((n) => n <= 1000)).toBe(true);
    expect(perCall).toHaveLength(10);
    expect(fired.map((f) => f.name)).toEqual(expected.map((e) => e.name));
    expect(wheel.size).toBe(0);
  });

  test('between calls, what is left is already due and the order survives new timers', () => {
    const { wheel, clock, record, fired, expected } = stalledWheel(3_000);
    clock.advance(TEN_MINUTES);
    expect(wheel.advance()).toBe(1000);
    expect(wheel.nextExpiration()).toBeLessThanOrEqual(clock.now());
    // Scheduled mid catch-up: due after everything that was already due.
    wheel.schedule(0, record, 'late arrival');
    let total = 1000;
    for (let n = wheel.advance(); n > 0; n = wheel.advance()) total += n;
    expect(total).toBe(3_001);
    expect(fired.map((f) => f.name)).toEqual([...expected.map((e) => e.name), 'late arrival']);
  });

  test('a budget passed to advance overrides the default', () => {
    const { wheel, clock } = stalledWheel(100);
    clock.advance(TEN_MINUTES);
    expect(wheel.advance(undefined, 7)).toBe(7);
    expect(wheel.advance(undefined, Number.POSITIVE_INFINITY)).toBe(93);
  });

  test('a budget of zero fires nothing but loses nothing', () => {
    const { wheel, clock } = stalledWheel(50);
    clock.advance(TEN_MINUTES);
    expect(wheel.advance(undefined, 0)).toBe(0);
    expect(wheel.size).toBe(50);
    expect(wheel.advance(undefined, Number.POSITIVE_INFINITY)).toBe(50);
  });
});
