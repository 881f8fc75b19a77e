import { recordingWheel } from '../../helpers/timer-harness';

describe('TimerWheel: cancel', () => {
  test('cancelling a pending timer returns true and it never fires', () => {
    const { wheel, record, runTo } = recordingWheel();
    const h = wheel.schedule(10, record, 'a');
    expect(wheel.cancel(h)).toBe(true);
    expect(wheel.size).toBe(0);
    expect(runTo(100)).toEqual([]);
  });

  test('cancelling twice, or after firing, returns false', () => {
    const { wheel, record, runTo } = recordingWheel();
    const cancelled = wheel.schedule(10, record, 'a');
    const fired = wheel.schedule(10, record, 'b');
    wheel.cancel(cancelled);
    expect(wheel.cancel(cancelled)).toBe(false);
    expect(runTo(10)).toEqual(['b']);
    expect(wheel.cancel(fired)).toBe(false);
  });

  test('a stale handle does not touch the timer that reused its slab entry', () => {
    const { wheel, record, runTo } = recordingWheel();
    const stale = wheel.schedule(10, record, 'old');
    wheel.cancel(stale);
    const fresh = wheel.schedule(10, record, 'new'); // takes the freed entry
    expect(fresh).not.toBe(stale);
    expect(fresh & (2 ** 26 - 1)).toBe(stale & (2 ** 26 - 1));
    expect(wheel.cancel(stale)).toBe(false);
    expect(wheel.reschedule(stale, 500)).toBe(false);
    expect(wheel.has(stale)).toBe(false);
    expect(wheel.deadlineOf(stale)).toBeUndefined();
    expect(runTo(10)).toEqual(['new']);
  });

  test.each([0, -1, 1.5, Number.NaN, 2 ** 60, 385, 'abc', undefined])('handle %p that was never issued is a harmless no-op', (h) => {
    const { wheel, record } = recordingWheel();
    wheel.schedule(10, record, 'a');
    expect(wheel.cancel(h as number)).toBe(false);
    expect(wheel.reschedule(h as number, 5)).toBe(false);
    expect(wheel.size).toBe(1);
  });

  test('cancelling timers at every level leaves the wheel empty and quiet', () => {
    const { wheel, record, runTo } = recordingWheel();
    const handles = [1, 63, 64, 4095, 4096, 262_144, 16_777_216, 1_073_741_824, 2 ** 36, 2 ** 40].map((d) =>
      wheel.schedule(d, record, String(d)),
    );
    for (const h of handles) expect(wheel.cancel(h)).toBe(true);
    expect(wheel.size).toBe(0);
    expect(wheel.nextExpiration()).toBeUndefined();
    expect(runTo(2 ** 41)).toEqual([]);
  });

  test('cancelling a timer that is due but not yet fired (budget ran out) stops it', () => {
    const { wheel, record, clock, names } = recordingWheel();
    wheel.schedule(5, record, 'a');
    const b = wheel.schedule(5, record, 'b');
    wheel.schedule(5, record, 'c');
    clock.set(5);
    expect(wheel.advance(undefined, 1)).toBe(1);
    expect(wheel.cancel(b)).toBe(true);
    expect(wheel.advance()).toBe(1);
    expect(names()).toEqual(['a', 'c']);
  });
});

describe('TimerWheel: reschedule', () => {
  test('moving a deadline later fires it at the new time, not the old one', () => {
    const { wheel, record, runTo } = recordingWheel();
    const h = wheel.schedule(10, record, 'moved');
    expect(wheel.reschedule(h, 5_000)).toBe(true);
    expect(wheel.deadlineOf(h)).toBe(5_000);
    expect(runTo(10)).toEqual([]);
    expect(runTo(4_999)).toEqual([]);
    expect(runTo(5_000)).toEqual(['moved']);
  });

  test('moving a deadline earlier fires it at the new time', () => {
    const { wheel, record, runTo } = recordingWheel();
    const h = wheel.schedule(300_000, record, 'moved');
    expect(wheel.reschedule(h, 70)).toBe(true);
    expect(wheel.nextExpiration()).toBe(70);
    expect(runTo(69)).toEqual([]);
    expect(runTo(70)).toEqual(['moved']);
  });

  test('moving later many times (an idle timeout re-armed on activity) fires once, at the last deadline', () => {
    const { wheel, record, runTo, clock } = recordingWheel();
    const h = wheel.schedule(30_000, record, 'idle');
    for (let t = 1_000; t <= 100_000; t += 1_000) {
      expect(runTo(t)).toEqual([]);
      wheel.reschedule(h, 30_000);
    }
    expect(clock.now()).toBe(100_000);
    expect(runTo(129_999)).toEqual([]);
    expect(runTo(130_000)).toEqual(['idle']);
  });

  test('moving to zero delay makes it due on the next advance', () => {
    const { wheel, record, clock } = recordingWheel();
    const h = wheel.schedule(10_000, record, 'now');
    wheel.reschedule(h, 0);
    expect(wheel.advance()).toBe(1);
    expect(clock.now()).toBe(0);
  });

  test('a rescheduled timer orders after timers scheduled before the reschedule, in the same tick', () => {
    const { wheel, record, runTo } = recordingWheel();
    const x = wheel.schedule(10, record, 'x');
    wheel.schedule(50, record, 'y');
    wheel.reschedule(x, 50); // later, lazily recorded
    wheel.schedule(50, record, 'z');
    expect(runTo(50)).toEqual(['y', 'x', 'z']);
  });

  test('a lazily moved timer still orders before timers scheduled after the move', () => {
    const { wheel, record, runTo } = recordingWheel();
    const x = wheel.schedule(10, record, 'x');
    wheel.reschedule(x, 50); // x stays in slot 10 until tick 10 re-files it
    wheel.schedule(50, record, 'y'); // filed straight into slot 50, ahead of x in the list
    expect(runTo(50)).toEqual(['x', 'y']);
  });

  test('rescheduling a fired or cancelled timer returns false and changes nothing', () => {
    const { wheel, record, runTo } = recordingWheel();
    const fired = wheel.schedule(1, record, 'a');
    const cancelled = wheel.schedule(100, record, 'b');
    runTo(1);
    wheel.cancel(cancelled);
    expect(wheel.reschedule(fired, 10)).toBe(false);
    expect(wheel.reschedule(cancelled, 10)).toBe(false);
    expect(wheel.size).toBe(0);
    expect(runTo(1_000)).toEqual([]);
  });

  test('moving between levels in both directions keeps it exact', () => {
    const { wheel, record, runTo } = recordingWheel();
    const h = wheel.schedule(20_000_000, record, 'x'); // level 4
    wheel.reschedule(h, 3); // level 0
    wheel.reschedule(h, 300_000); // level 3 (lazy: stays at level 0 for now)
    expect(wheel.nextExpiration()).toBe(300_000);
    expect(runTo(3)).toEqual([]);
    wheel.reschedule(h, 4_100); // earlier again, from t=3: 4,103
    expect(runTo(4_102)).toEqual([]);
    expect(runTo(4_103)).toEqual(['x']);
  });
});
