import { type Clock, ManualClock, TimerWheel } from '../../../src';
import { recordingWheel } from '../../helpers/timer-harness';

const SPAN = [1, 64, 4096, 262_144, 16_777_216, 1_073_741_824, 68_719_476_736];

describe('TimerWheel: firing', () => {
  test('a timer fires at its deadline and not a millisecond before', () => {
    const { wheel, record, runTo } = recordingWheel();
    wheel.schedule(10, record, 'a');
    expect(runTo(9)).toEqual([]);
    expect(runTo(10)).toEqual(['a']);
    expect(wheel.size).toBe(0);
  });

  test('a zero delay fires on the next advance', () => {
    const { wheel, record, fired } = recordingWheel();
    wheel.schedule(0, record, 'now');
    expect(wheel.nextExpiration()).toBe(0);
    expect(wheel.advance()).toBe(1);
    expect(fired.map((f) => f.name)).toEqual(['now']);
  });

  test('advance returns how many callbacks it fired', () => {
    const { wheel, record, clock } = recordingWheel();
    for (let i = 0; i < 5; i++) wheel.schedule(i * 10, record, `t${i}`);
    clock.set(25);
    expect(wheel.advance()).toBe(3);
    expect(wheel.advance()).toBe(0);
  });

  test.each([0.1, 0.5, 0.999])('never early with a fractional clock (start %p)', (startMs) => {
    const delays = [0, 0.2, 0.5, 1, 1.5, 10.7, 63.5, 64.01, 4095.9, 4096.2];
    const { wheel, clock } = recordingWheel({ startMs });
    const dueAt = new Map<string, number>();
    const firedAt = new Map<string, number>();
    for (const delay of delays) {
      const name = `d${delay}`;
      dueAt.set(name, startMs + delay);
      wheel.schedule(delay, (n: string) => firedAt.set(n, clock.now()), name);
    }
    // Walk the clock in 0.1 ms steps past the last deadline.
    for (let step = 1; step <= 42_000; step++) {
      clock.set(startMs + step / 10);
      wheel.advance();
    }
    expect(firedAt.size).toBe(delays.length);
    for (const [name, at] of firedAt) {
      const due = dueAt.get(name) as number;
      expect(at).toBeGreaterThanOrEqual(due);
      // ...and on the first whole millisecond at or after the due time.
      expect(at).toBeLessThan(Math.ceil(due) + 0.1 + 1e-9);
    }
  });

  test('timers of one tick fire in the order they were scheduled', () => {
    const { wheel, record, runTo } = recordingWheel();
    for (const name of ['a', 'b', 'c', 'd', 'e']) wheel.schedule(100, record, name);
    expect(runTo(100)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  test('timers of one tick keep scheduling order when filed at different levels', () => {
    const { wheel, record, runTo, clock } = recordingWheel();
    wheel.schedule(300_000, record, 'filed at level 3'); // due at 300,000
    clock.set(299_000);
    wheel.advance();
    wheel.schedule(1_000, record, 'filed at level 1'); // also due at 300,000
    wheel.schedule(1_000, record, 'filed at level 1, later');
    expect(runTo(300_000)).toEqual(['filed at level 3', 'filed at level 1', 'filed at level 1, later']);
  });

  test('timers fire in deadline order across levels within one advance', () => {
    const { wheel, record, runTo } = recordingWheel();
    const delays = [262_145, 5, 4097, 64, 63, 300_000, 65, 4096, 1];
    for (const d of delays) wheel.schedule(d, record, String(d));
    expect(runTo(400_000)).toEqual([...delays].sort((a, b) => a - b).map(String));
  });
});

describe('TimerWheel: slot and level boundaries', () => {
  const boundaries: number[] = [];
  for (let level = 1; level < 6; level++) {
    boundaries.push(SPAN[level] - 1, SPAN[level], SPAN[level] + 1);
  }
  boundaries.push(SPAN[6] - 1);

  test.each(boundaries)('a %p ms timer fires exactly on time from an aligned start', (delay) => {
    const { wheel, record, runTo } = recordingWheel();
    wheel.schedule(delay, record, 'x');
    expect(wheel.nextExpiration()).toBe(delay);
    expect(runTo(delay - 1)).toEqual([]);
    expect(runTo(delay)).toEqual(['x']);
  });

  test.each(boundaries)('a %p ms timer fires exactly on time from a misaligned start, stepping through every cascade', (delay) => {
    const start = 37_123; // not aligned to any slot above level 0
    const { wheel, record, runTo } = recordingWheel({ startMs: start });
    wheel.schedule(delay, record, 'x');
    // Double the elapsed time at each step: every level's cascade is crossed on the way.
    for (let offset = 1; offset < delay; offset *= 2) {
      expect(runTo(start + offset)).toEqual([]);
    }
    expect(runTo(start + delay - 1)).toEqual([]);
    expect(runTo(start + delay)).toEqual(['x']);
  });

  test('timers just either side of each boundary fire in order, one per advance', () => {
    const { wheel, record, runTo } = recordingWheel();
    for (const d of boundaries) wheel.schedule(d, record, String(d));
    for (const d of boundaries) {
      expect(runTo(d - 1)).toEqual([]);
      expect(runTo(d)).toEqual([String(d)]);
    }
  });

  test('works the same once ticks pass 2^31 (the arithmetic leaves its 32-bit fast path)', () => {
    const { wheel, record, runTo, clock } = recordingWheel();
    clock.set(2 ** 31 + 1234.5);
    wheel.advance();
    const now = clock.now();
    for (const d of [63, 64, 65, 4095, 4096, 4097, 262_144]) wheel.schedule(d, record, String(d));
    for (const d of [63, 64, 65, 4095, 4096, 4097, 262_144]) {
      const due = Math.ceil(now + d);
      expect(runTo(due - 1)).toEqual([]);
      expect(runTo(due)).toEqual([String(d)]);
    }
  });

  test('accepts a clock with a negative origin', () => {
    const { wheel, record, runTo } = recordingWheel({ startMs: -10_000.25 });
    wheel.schedule(100, record, 'x');
    expect(wheel.nextExpiration()).toBe(-9_900);
    expect(runTo(-9_901)).toEqual([]);
    expect(runTo(-9_900)).toEqual(['x']);
  });
});

describe('TimerWheel: the far end of the range and beyond', () => {
  test.each([SPAN[6], SPAN[6] + 1, 2 ** 37 + 12_345, 2000 * 86_400_000, TimerWheel.MAX_DELAY_MS])(
    'a %p ms timer, past the wheel span of 2^36 ms, still fires exactly at its deadline',
    (delay) => {
      const { wheel, record, runTo } = recordingWheel({ startMs: 5 });
      wheel.schedule(delay, record, 'far');
      wheel.schedule(SPAN[5] * 10, record, 'near');
      expect(wheel.nextExpiration()).toBe(5 + SPAN[5] * 10);
      expect(runTo(5 + SPAN[5] * 10)).toEqual(['near']);
      expect(wheel.nextExpiration()).toBe(5 + delay);
      // Cross the wheel's span in coarse jumps: the far timer is re-filed, never fired early.
      for (let t = 5 + SPAN[5] * 10; t < 5 + delay - 1; t = Math.min(5 + delay - 1, t + SPAN[5] * 7 + 3)) {
        expect(runTo(t)).toEqual([]);
      }
      expect(runTo(5 + delay - 1)).toEqual([]);
      expect(wheel.nextExpiration()).toBe(5 + delay);
      expect(runTo(5 + delay)).toEqual(['far']);
    },
  );

  test('a timer more than a lap beyond the top level does not hide a nearer one', () => {
    const { wheel, record, runTo } = recordingWheel();
    // 67 top-level slots away: taken modulo 64 it would land in slot 3, ahead of slot 10.
    wheel.schedule(1, record, 'first');
    wheel.schedule(SPAN[5] * 67, record, 'beyond a lap');
    wheel.schedule(SPAN[5] * 10, record, 'within the lap');
    expect(runTo(1)).toEqual(['first']); // the earliest is gone: the next answer comes from a scan
    expect(wheel.nextExpiration()).toBe(SPAN[5] * 10);
    expect(runTo(SPAN[5] * 10)).toEqual(['within the lap']);
    expect(wheel.nextExpiration()).toBe(SPAN[5] * 67);
    expect(runTo(SPAN[5] * 67)).toEqual(['beyond a lap']);
  });

  test('a delay above MAX_DELAY_MS is a RangeError and schedules nothing', () => {
    const wheel = new TimerWheel({ clock: new ManualClock() });
    expect(() => wheel.schedule(TimerWheel.MAX_DELAY_MS + 1, () => {})).toThrow(/'delayMs'/);
    expect(wheel.size).toBe(0);
  });
});

describe('TimerWheel: nextExpiration', () => {
  test('is undefined while empty', () => {
    const { wheel } = recordingWheel();
    expect(wheel.nextExpiration()).toBeUndefined();
  });

  test('is the exact earliest deadline, even inside a coarse slot', () => {
    const { wheel, record } = recordingWheel({ startMs: 1000.5 });
    wheel.schedule(30_000, record, 'idle'); // level 2: slots 4,096 ms wide
    wheel.schedule(29_999.2, record, 'earlier');
    expect(wheel.nextExpiration()).toBe(31_000);
  });

  test('follows cancellation and a move later of the earliest timer', () => {
    const { wheel, record } = recordingWheel();
    const a = wheel.schedule(100, record, 'a');
    const b = wheel.schedule(5_000, record, 'b');
    wheel.schedule(70_000, record, 'c');
    expect(wheel.nextExpiration()).toBe(100);
    wheel.reschedule(a, 6_000); // lazily moved: still sits in its old slot
    expect(wheel.nextExpiration()).toBe(5_000);
    wheel.cancel(b);
    expect(wheel.nextExpiration()).toBe(6_000);
    wheel.cancel(a);
    expect(wheel.nextExpiration()).toBe(70_000);
  });

  test('is already due when the budget left timers unfired', () => {
    const { wheel, record, clock } = recordingWheel();
    for (let i = 1; i <= 3; i++) wheel.schedule(i, record, `t${i}`);
    clock.set(10);
    expect(wheel.advance(undefined, 1)).toBe(1);
    expect(wheel.nextExpiration()).toBeLessThanOrEqual(clock.now());
  });
});

describe('TimerWheel: callbacks that change the wheel while it advances', () => {
  test('a timer scheduled with no delay from a callback fires on the next advance, not this one', () => {
    const { wheel, record, fired } = recordingWheel();
    wheel.schedule(0, () => {
      record('first', 0);
      wheel.schedule(0, record, 'rescheduled itself');
    });
    expect(wheel.advance()).toBe(1);
    expect(fired.map((f) => f.name)).toEqual(['first']);
    expect(wheel.advance()).toBe(1);
    expect(fired.map((f) => f.name)).toEqual(['first', 'rescheduled itself']);
  });

  test('a timer scheduled from a callback and due within the advance fires in this advance, in deadline order', () => {
    const clock = new ManualClock();
    const wheel = new TimerWheel({ clock });
    const order: string[] = [];
    wheel.schedule(10, () => {
      order.push('a@10');
      wheel.schedule(20, () => order.push('c@20')); // clock still reads 0: due at 20
    });
    wheel.schedule(30, () => order.push('b@30'));
    expect(wheel.advance(100)).toBe(3);
    expect(order).toEqual(['a@10', 'c@20', 'b@30']);
  });

  test('a callback can cancel a timer due in the same tick', () => {
    const { wheel, record, runTo } = recordingWheel();
    let victim = 0;
    wheel.schedule(50, () => {
      record('killer', 0);
      expect(wheel.cancel(victim)).toBe(true);
    });
    victim = wheel.schedule(50, record, 'victim');
    wheel.schedule(50, record, 'bystander');
    expect(runTo(50)).toEqual(['killer', 'bystander']);
    expect(wheel.size).toBe(0);
  });

  test('a callback can move a timer of the same tick later', () => {
    const { wheel, record, runTo, clock } = recordingWheel();
    let other = 0;
    wheel.schedule(50, () => {
      record('mover', 0);
      wheel.reschedule(other, 25); // from the clock at 50: due at 75
    });
    other = wheel.schedule(50, record, 'moved');
    expect(runTo(50)).toEqual(['mover']);
    expect(wheel.deadlineOf(other)).toBe(75);
    expect(clock.now()).toBe(50);
    expect(runTo(75)).toEqual(['moved']);
  });

  test('a one-shot handle is already stale inside its own callback', () => {
    const { wheel, runTo } = recordingWheel();
    let seen: boolean | undefined;
    const handle = wheel.schedule(5, () => {
      seen = wheel.cancel(handle);
    });
    runTo(5);
    expect(seen).toBe(false);
  });

  test('advance called from a callback returns 0 and the outer call goes on', () => {
    const { wheel, record, runTo } = recordingWheel();
    let inner: number | undefined;
    wheel.schedule(5, () => {
      inner = wheel.advance();
    });
    wheel.schedule(5, record, 'after');
    expect(runTo(5)).toEqual(['after']);
    expect(inner).toBe(0);
  });

  test('a callback that throws: the error propagates, the timer counts as fired, the next advance carries on', () => {
    const { wheel, record, clock, names } = recordingWheel();
    wheel.schedule(5, record, 'before');
    wheel.schedule(5, () => {
      throw new Error('boom');
    });
    wheel.schedule(5, record, 'after');
    wheel.schedule(9, record, 'later');
    clock.set(10);
    expect(() => wheel.advance()).toThrow('boom');
    expect(names()).toEqual(['before']);
    expect(wheel.size).toBe(2);
    expect(wheel.advance()).toBe(2);
    expect(names()).toEqual(['before', 'after', 'later']);
  });
});

describe('TimerWheel: setWaker', () => {
  test('calls the waker once, with the absolute deadline, when a timer is scheduled before the threshold', () => {
    const { wheel } = recordingWheel({ startMs: 1000 });
    const wakes: number[] = [];
    wheel.setWaker(1500, (d) => wakes.push(d));
    wheel.schedule(600, () => {}); // 1600: not before 1500
    expect(wakes).toEqual([]);
    wheel.schedule(200, () => {}); // 1200
    wheel.schedule(100, () => {}); // disarmed after the first wake
    expect(wakes).toEqual([1200]);
  });

  test('sees a timer moved earlier, and is disarmed by setWaker(-Infinity)', () => {
    const { wheel } = recordingWheel();
    const wakes: number[] = [];
    const h = wheel.schedule(1000, () => {});
    wheel.setWaker(1000, (d) => wakes.push(d));
    wheel.reschedule(h, 10);
    expect(wakes).toEqual([10]);
    wheel.setWaker(-Infinity);
    wheel.schedule(0, () => {});
    expect(wakes).toEqual([10]);
  });
});

describe('TimerWheel: input checks', () => {
  const wheel = new TimerWheel({ clock: new ManualClock() });
  const noop = () => {};

  test.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '5', undefined])('schedule rejects delay %p, naming delayMs', (d) => {
    expect(() => wheel.schedule(d as number, noop)).toThrow(RangeError);
    expect(() => wheel.schedule(d as number, noop)).toThrow(/'delayMs'/);
    expect(wheel.size).toBe(0);
  });

  test('schedule rejects a callback that is not a function', () => {
    expect(() => wheel.schedule(1, 'nope' as unknown as () => void)).toThrow(TypeError);
    expect(wheel.size).toBe(0);
  });

  test('every rejects bad intervals, jitter and policies, naming each', () => {
    expect(() => wheel.every(0.5, noop)).toThrow(/'intervalMs'/);
    expect(() => wheel.every(Number.NaN, noop)).toThrow(/'intervalMs'/);
    expect(() => wheel.every(10, noop, { jitterMs: -1 })).toThrow(/'jitterMs'/);
    expect(() => wheel.every(10, noop, { missed: 'catch-up' as 'skip' })).toThrow(/'missed'/);
    expect(wheel.size).toBe(0);
  });

  test('reschedule rejects a bad delay even for a stale handle', () => {
    expect(() => wheel.reschedule(12345, -5)).toThrow(/'delayMs'/);
  });

  test('advance rejects a time or budget that is not a number', () => {
    expect(() => wheel.advance(Number.NaN)).toThrow(/'nowMs'/);
    expect(() => wheel.advance(0, -1)).toThrow(/'budget'/);
  });

  test('the constructor checks its options', () => {
    expect(() => new TimerWheel({ advanceBudget: 0 })).toThrow(/'advanceBudget'/);
    expect(() => new TimerWheel({ initialCapacity: -3 })).toThrow(/'initialCapacity'/);
    expect(() => new TimerWheel({ clock: {} as Clock })).toThrow(/'clock'/);
    expect(() => new TimerWheel({ random: 4 as unknown as () => number })).toThrow(/'random'/);
  });
});

describe('TimerWheel: capacity', () => {
  test('grows its slab as timers are added and reuses freed entries', () => {
    const { wheel, record, runTo } = recordingWheel({ initialCapacity: 1 });
    const handles: number[] = [];
    for (let i = 0; i < 5000; i++) handles.push(wheel.schedule(i % 700, record, `t${i}`));
    expect(wheel.size).toBe(5000);
    expect(runTo(700)).toHaveLength(5000);
    expect(handles.every((h) => !wheel.has(h))).toBe(true);
    const reused = wheel.schedule(1, record, 'reused');
    expect(handles).not.toContain(reused);
    expect(wheel.has(reused)).toBe(true);
  });
});
