import { TimerDriver, TimerWheel } from '../../../src';

/**
 * Jest's fake timers replace setTimeout, setImmediate and performance.now()
 * together, so the driver's host timer and the wheel's SystemClock move in
 * step and nothing here sleeps. Microtasks stay real: the driver re-arms in
 * one.
 */
beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
});
afterEach(() => {
  jest.useRealTimers();
});

/** Lets the driver's queued re-arm (a microtask) run. */
const settle = () => Promise.resolve();

describe('TimerDriver', () => {
  test('arms nothing while the wheel is empty', () => {
    const driver = new TimerDriver(new TimerWheel());
    expect(jest.getTimerCount()).toBe(0);
    driver.close();
  });

  test('fires timers on time with one host timer, armed for the next expiration only', async () => {
    const wheel = new TimerWheel();
    const driver = new TimerDriver(wheel);
    const fired: string[] = [];
    wheel.schedule(100, (name: string) => fired.push(name), 'late');
    await settle();
    expect(jest.getTimerCount()).toBe(1);
    wheel.schedule(30, (name: string) => fired.push(name), 'early');
    await settle();
    expect(jest.getTimerCount()).toBe(1);

    jest.advanceTimersByTime(29);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual(['early']);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(70);
    expect(fired).toEqual(['early', 'late']);
    expect(jest.getTimerCount()).toBe(0);
    driver.close();
  });

  test('a burst of scheduling re-arms once, for the earliest', async () => {
    const wheel = new TimerWheel();
    const driver = new TimerDriver(wheel);
    const armed = jest.spyOn(globalThis, 'setTimeout');
    for (let d = 1000; d > 0; d -= 10) wheel.schedule(d, () => {});
    await settle();
    expect(armed).toHaveBeenCalledTimes(1);
    expect(armed.mock.calls[0][1]).toBe(10);
    armed.mockRestore();
    driver.close();
  });

  test('a recurring timer keeps exactly one host timer armed', async () => {
    const wheel = new TimerWheel();
    const driver = new TimerDriver(wheel);
    let ticks = 0;
    wheel.every(50, () => ticks++);
    await settle();
    for (let i = 0; i < 10; i++) {
      jest.advanceTimersByTime(50);
      expect(jest.getTimerCount()).toBe(1);
    }
    expect(ticks).toBe(10);
    driver.close();
    expect(jest.getTimerCount()).toBe(0);
  });

  test('after a stall, continues past the advance budget with setImmediate', async () => {
    const wheel = new TimerWheel({ advanceBudget: 2 });
    const driver = new TimerDriver(wheel);
    let fired = 0;
    for (let i = 0; i < 7; i++) wheel.schedule(10, () => fired++);
    await settle();
    jest.advanceTimersByTime(10);
    expect(fired).toBe(2); // one budget, then an immediate is queued
    jest.runAllTicks();
    jest.runOnlyPendingTimers();
    jest.runOnlyPendingTimers();
    jest.runOnlyPendingTimers();
    expect(fired).toBe(7);
    expect(jest.getTimerCount()).toBe(0);
    driver.close();
  });

  test('close releases the host timer; the wheel keeps its timers', async () => {
    const wheel = new TimerWheel();
    const driver = new TimerDriver(wheel);
    wheel.schedule(10, () => {});
    await settle();
    driver.close();
    driver.close();
    expect(driver.running).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
    expect(wheel.size).toBe(1);
    wheel.schedule(1, () => {}); // no waker left behind
    await settle();
    expect(jest.getTimerCount()).toBe(0);
  });

  test('an exception from a callback propagates, and the driver stays armed for the rest', async () => {
    const wheel = new TimerWheel();
    const driver = new TimerDriver(wheel);
    let after = false;
    wheel.schedule(5, () => {
      throw new Error('boom');
    });
    wheel.schedule(20, () => (after = true));
    await settle();
    expect(() => jest.advanceTimersByTime(5)).toThrow('boom');
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(15);
    expect(after).toBe(true);
    driver.close();
  });
});

describe('TimerDriver with real host timers', () => {
  beforeEach(() => {
    jest.useRealTimers();
  });

  const ourTimeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  test("holds one ref'd Timeout while a timer is pending, none when unref'd or closed", async () => {
    const base = ourTimeouts();
    const wheel = new TimerWheel();
    const driver = new TimerDriver(wheel);
    wheel.schedule(60_000, () => {});
    await settle();
    expect(ourTimeouts()).toBe(base + 1);
    driver.unref();
    expect(ourTimeouts()).toBe(base);
    driver.ref();
    expect(ourTimeouts()).toBe(base + 1);
    driver.close();
    expect(ourTimeouts()).toBe(base);
  });

  test("the unref option starts unref'd", async () => {
    const base = ourTimeouts();
    const wheel = new TimerWheel();
    const driver = new TimerDriver(wheel, { unref: true });
    wheel.schedule(60_000, () => {});
    await settle();
    expect(ourTimeouts()).toBe(base);
    driver.close();
  });
});
