import * as timers from 'node:timers';
import * as timersPromises from 'node:timers/promises';
import { EventLoop, Reactor, SimulatedBackend, SimulatedWorld, simulate } from '../../../src';

// eslint-disable-next-line @typescript-eslint/unbound-method -- compared, never called unbound
const original = { setTimeout, setInterval, setImmediate, Date, now: performance.now, hrtime: process.hrtime };
const originalModules = { timers: timers.setTimeout, promises: timersPromises.setTimeout };

function expectRestored(): void {
  expect(globalThis.setTimeout).toBe(original.setTimeout);
  expect(globalThis.setInterval).toBe(original.setInterval);
  expect(globalThis.setImmediate).toBe(original.setImmediate);
  expect(globalThis.Date).toBe(original.Date);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- compared, never called
  expect(performance.now).toBe(original.now);
  expect(process.hrtime).toBe(original.hrtime);
  expect(timers.setTimeout).toBe(originalModules.timers);
  expect(timersPromises.setTimeout).toBe(originalModules.promises);
}

/** A server that answers each chunk after `delayMs`, with the time it answered at. */
async function slowServer(sim: SimulatedBackend, delayMs: number) {
  const loop = new EventLoop({ reactor: new Reactor({ backend: sim }) });
  await loop.listen([{ host: '127.0.0.1', port: 80 }], {
    onData: (conn) => {
      setTimeout(() => conn.send(`${Date.now()} ${performance.now()}\n`), delayMs);
    },
  });
  return { loop, running: loop.run() };
}

describe('virtual time: the program’s timers and clocks follow the simulation', () => {
  afterEach(expectRestored);

  test('a handler’s setTimeout(1000) fires after exactly 1000 ms of simulated time, and Date.now() agrees', async () => {
    const sim = new SimulatedBackend({ virtualTime: { epochMs: 1_000_000 }, latencyMs: 1 });
    const { loop, running } = await slowServer(sim, 1_000);
    const client = sim.connect(80);
    await client.connected; // 2 ms
    client.write('x'); // arrives at 3 ms; answered at 1003 ms
    const line = await client.readLine();
    expect(line).toBe(`${1_000_000 + 1003} 1003`);
    expect(sim.clock.now()).toBe(1004);
    await loop.close();
    await running;
    await sim.world.close();
  });

  test('await setTimeout(60_000) of timers/promises runs the world to it at once, with no reactor and no heartbeat', async () => {
    const world = new SimulatedWorld({ virtualTime: true });
    const started = Date.now();
    await timersPromises.setTimeout(60_000);
    expect(world.clock.now()).toBe(60_000);
    expect(Date.now() - started).toBe(60_000);
    expect(new Date().toISOString()).toBe('2026-01-01T00:01:00.000Z');
    await world.close();
  });

  test('timers keep Node’s order and semantics: same deadline in scheduling order, interval, clear, refresh, clamped delays', async () => {
    const world = new SimulatedWorld({ virtualTime: true });
    const fired: string[] = [];
    const at = (name: string) => () => fired.push(`${name}@${performance.now()}`);
    setTimeout(at('a'), 10);
    setTimeout(at('b'), 10);
    const cleared = setTimeout(at('never'), 5);
    clearTimeout(cleared);
    const byId = setTimeout(at('never by id'), 5);
    clearTimeout(Number(byId));
    setTimeout(at('zero'), 0); // Node makes it 1 ms
    setTimeout(at('huge'), 2 ** 31); // past Node's range: 1 ms
    const refreshed = setTimeout(at('refreshed'), 20);
    setTimeout(() => refreshed.refresh(), 15); // starts its 20 ms again at 15
    let ticks = 0;
    const interval = setInterval(() => {
      fired.push(`tick@${performance.now()}`);
      if (++ticks === 3) clearInterval(interval);
    }, 7);
    await timersPromises.setTimeout(100);
    expect(fired).toEqual(['zero@1', 'huge@1', 'tick@7', 'a@10', 'b@10', 'tick@14', 'tick@21', 'refreshed@35']);
    await world.close();
  });

  test('an aborted timers/promises wait rejects with AbortError; setImmediate runs before the clock moves on', async () => {
    const world = new SimulatedWorld({ virtualTime: true });
    const controller = new AbortController();
    const waiting = timersPromises.setTimeout(1_000, 'value', { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(world.clock.now()).toBe(10);
    const seen: number[] = [];
    setTimeout(() => setImmediate(() => seen.push(performance.now())), 5);
    setTimeout(() => seen.push(performance.now()), 6);
    await timersPromises.setTimeout(20);
    expect(seen).toEqual([15, 16]);
    const ticks: number[] = [];
    for await (const value of timersPromises.setInterval(50, 'tick')) {
      expect(value).toBe('tick');
      ticks.push(performance.now());
      if (ticks.length === 3) break;
    }
    expect(ticks).toEqual([80, 130, 180]);
    await world.close();
  });

  test('an unref’d timer does not keep the simulation going, but fires while something else does', async () => {
    const world = new SimulatedWorld({ virtualTime: true });
    let fired = false;
    setTimeout(() => (fired = true), 1_000).unref();
    for (let i = 0; i < 50; i++) await new Promise<void>((resolve) => original.setImmediate(resolve));
    expect([fired, world.clock.now()]).toEqual([false, 0]);
    await timersPromises.setTimeout(2_000); // a ref'd wait keeps it going: the unref'd one fires on the way
    expect(fired).toBe(true);
    await world.close();
  });

  test('one seed, one trace: a program with timers runs the same twice', async () => {
    const runOnce = async () => {
      const sim = new SimulatedBackend({ virtualTime: true, trace: true, seed: 3, latencyMs: 0.5 });
      const { loop, running } = await slowServer(sim, 250);
      const clients = [sim.connect(80), sim.connect(80)];
      for (const client of clients) client.write('go');
      const lines = await Promise.all(clients.map((client) => client.readLine()));
      await loop.close();
      await running;
      await sim.world.close();
      return { lines, trace: sim.trace };
    };
    const first = await runOnce();
    expect(await runOnce()).toEqual(first);
  });

  test('one world at a time; everything is put back when the world closes, also when a simulated test fails', async () => {
    const world = new SimulatedWorld({ virtualTime: true });
    const second = (() => {
      try {
        return new SimulatedWorld({ virtualTime: true });
      } catch (err) {
        return err;
      }
    })();
    expect(second).toMatchObject({ code: 'ERR_SIM_VIRTUAL_TIME', message: expect.stringMatching(/close that world first/) as unknown });
    expect(globalThis.setTimeout).not.toBe(original.setTimeout);
    await world.close();
    expectRestored();
    await expect(
      simulate(
        async () => {
          await timersPromises.setTimeout(10);
          throw new Error('the scenario failed');
        },
        { virtualTime: true },
      ),
    ).rejects.toThrow(/the scenario failed/);
    expectRestored();
    expect(() => new SimulatedWorld({ virtualTime: { epochMs: Number.NaN } })).toThrow(/'epochMs'/);
    expectRestored();
  });
});
