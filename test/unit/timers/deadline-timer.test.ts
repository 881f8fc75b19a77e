import { ManualClock } from '../../../src';
import { DeadlineTimer } from '../../../src/timers/deadline-timer';
import { OncePerBurst } from '../../../src/timers/once-per-burst';

describe('DeadlineTimer: one Node timer for a deadline on a clock, never early', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('a Node timer that fires before the clock reaches the deadline is armed again for the rest', () => {
    const clock = new ManualClock();
    const timer = new DeadlineTimer(clock);
    const fired = jest.fn();
    timer.arm(10, fired);
    jest.advanceTimersByTime(10); // Node's timer fired, but the clock says 0: early
    expect(fired).not.toHaveBeenCalled();
    clock.set(10);
    jest.advanceTimersByTime(10);
    expect(fired).toHaveBeenCalledTimes(1);
    expect(timer.deadline).toBe(Infinity);
  });

  test('arming the same deadline again only replaces the callback; cancel and an infinite deadline arm nothing', () => {
    const clock = new ManualClock();
    const timer = new DeadlineTimer(clock);
    const first = jest.fn();
    const second = jest.fn();
    timer.arm(5, first);
    timer.arm(5, second);
    expect(jest.getTimerCount()).toBe(1);
    clock.set(5);
    jest.advanceTimersByTime(5);
    expect([first.mock.calls.length, second.mock.calls.length]).toEqual([0, 1]);
    timer.arm(Infinity, first);
    expect(jest.getTimerCount()).toBe(0);
    timer.arm(20, first);
    timer.cancel();
    expect(jest.getTimerCount()).toBe(0);
  });

  test("a deadline past setTimeout's range is reached in steps", () => {
    const clock = new ManualClock();
    const timer = new DeadlineTimer(clock);
    const fired = jest.fn();
    const far = 2 ** 31 + 1_000;
    timer.arm(far, fired);
    clock.set(2 ** 31 - 1);
    jest.advanceTimersByTime(2 ** 31 - 1); // the longest a Node timer waits: not there yet
    expect(fired).not.toHaveBeenCalled();
    clock.set(far);
    jest.advanceTimersByTime(1_001);
    expect(fired).toHaveBeenCalledTimes(1);
  });
});

describe('OncePerBurst: a task requested many times in one synchronous burst runs once', () => {
  test('once per burst, and again for the next burst', async () => {
    const task = jest.fn();
    const once = new OncePerBurst(task);
    for (let i = 0; i < 1_000; i++) once.request();
    expect(task).not.toHaveBeenCalled(); // not inside the burst
    await Promise.resolve();
    expect(task).toHaveBeenCalledTimes(1);
    once.request();
    await Promise.resolve();
    expect(task).toHaveBeenCalledTimes(2);
  });
});
