import { Events, Interest, Reactor, type Schedule, SimulatedBackend, type SimulatedBackendOptions } from '../../../src';
import { acceptedClient } from '../../helpers/sim-harness';

/**
 * An echo server and a few clients whose writes and ends are all due at
 * the same simulated moments: the runs differ only where the chance
 * decisions (faults, same-time orders) differ. Returns the trace, the
 * order in which the server first heard from each client, and what each
 * client got back.
 */
async function echoScenario(
  options: SimulatedBackendOptions,
): Promise<{ sim: SimulatedBackend; trace: readonly string[]; order: number[]; echoed: string[] }> {
  const sim = new SimulatedBackend({ latencyMs: 1, trace: true, sendBufferSize: 64, receiveBufferSize: 64, ...options });
  const reactor = new Reactor<number>({ backend: sim });
  const listener = await reactor.listen({ host: '127.0.0.1', port: 7000 });
  reactor.register(listener, Interest.READABLE, { token: -1 });
  const clients = Array.from({ length: 4 }, (_, i) => {
    const client = sim.connect(7000);
    client.write(`client ${i} says ${'x'.repeat(100 + i)}`);
    client.end();
    return client;
  });
  const order: number[] = [];
  const events = new Events<number>();
  const owners = new Map<number, number>();
  const pending = new Map<number, Buffer[]>();
  while (clients.some((client) => !client.ended && client.error === undefined)) {
    await reactor.poll(events, 1_000);
    for (const event of events) {
      if (event.token === -1) {
        for (let fd = reactor.accept(listener); fd !== null; fd = reactor.accept(listener)) {
          reactor.register(fd, Interest.READABLE | Interest.WRITABLE, { token: fd });
          pending.set(fd, []);
        }
        continue;
      }
      const fd = event.fd;
      const out = pending.get(fd) as Buffer[];
      if (event.readable) {
        for (let chunk = reactor.read(fd); chunk !== null; chunk = reactor.read(fd)) {
          if (chunk.length === 0) {
            out.push(Buffer.alloc(0)); // then shutdown, once written
            break;
          }
          if (!owners.has(fd)) {
            owners.set(fd, Number(/client (\d)/.exec(chunk.toString())?.[1]));
            order.push(owners.get(fd) as number);
          }
          out.push(Buffer.from(chunk));
        }
      }
      while (out.length > 0) {
        const head = out[0];
        if (head.length === 0) {
          reactor.shutdown(fd);
          out.shift();
          break;
        }
        const n = reactor.write(fd, head);
        if (n < head.length) {
          out[0] = head.subarray(n);
          break;
        }
        out.shift();
      }
    }
  }
  const echoed = clients.map((client) => client.received().toString());
  const trace = sim.trace;
  await reactor.close();
  return { sim, trace, order, echoed };
}

const sent = (i: number) => `client ${i} says ${'x'.repeat(100 + i)}`;

describe('schedules: every chance decision written out, replayed without the seed, explored by seed', () => {
  test('a seeded run with faults writes out its decisions; replaying them without the seed gives the same trace', async () => {
    const faults = { shortWrite: 0.3, delay: 0.3, delayMs: 4 };
    const first = await echoScenario({ seed: 11, faults });
    const schedule = first.sim.schedule;
    expect(schedule.length).toBeGreaterThan(0);
    expect(schedule.every((d) => d.kind === 'shortWrite' || d.kind === 'delay')).toBe(true);
    const replay = await echoScenario({ schedule, faults }); // the same options (the delay's size is delayMs), the seed aside
    expect(replay.trace).toEqual(first.trace);
    expect(replay.sim.schedule).toEqual(schedule);
    expect(await echoScenario({ seed: 12, faults })).not.toEqual(expect.objectContaining({ trace: first.trace }));
  });

  test('one decision, placed by hand: the first write of more than a byte is short, and the rest follows on a writable edge', async () => {
    const schedule: Schedule = [{ kind: 'shortWrite', nth: 0, value: 0 }];
    const run = await echoScenario({ schedule });
    expect(run.trace.filter((line) => line.includes('fault short-write'))).toEqual([
      expect.stringMatching(/fault short-write c1 c>s 1\/\d+/),
    ]);
    expect(run.echoed).toEqual([0, 1, 2, 3].map(sent));
  });

  test('exploring, two seeds order same-time events differently; each connection keeps its bytes in order', async () => {
    const orders = new Set<string>();
    for (let seed = 1; seed <= 8; seed++) {
      const run = await echoScenario({ seed, explore: true });
      expect(run.echoed).toEqual([0, 1, 2, 3].map(sent));
      orders.add(run.order.join(''));
      expect(run.sim.schedule.every((d) => d.kind === 'reorder')).toBe(true);
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  test('not exploring, the seed does not change a fault-free run (same-time events run in the order they were scheduled)', async () => {
    const a = await echoScenario({ seed: 1 });
    const b = await echoScenario({ seed: 99 });
    expect(b.trace).toEqual(a.trace);
    expect(a.order).toEqual([0, 1, 2, 3]);
    expect(a.sim.schedule).toEqual([]);
  });

  test('an exploring run replays from its schedule', async () => {
    const first = await echoScenario({ seed: 5, explore: true, faults: { shortWrite: 0.2 } });
    const replay = await echoScenario({ schedule: first.sim.schedule, faults: { shortWrite: 0.2 } });
    expect(replay.trace).toEqual(first.trace);
    expect(replay.order).toEqual(first.order);
  });

  test('a bad schedule is refused, naming the entry and the field', () => {
    expect(() => new SimulatedBackend({ schedule: [{ kind: 'reset', nth: -1, value: 0 }] })).toThrow(
      "'schedule[0].nth' must be a whole number >= 0, got -1",
    );
    expect(
      () =>
        new SimulatedBackend({
          schedule: [
            { kind: 'reset', nth: 0, value: 0 },
            { kind: 'reset', nth: 1, value: 1 },
          ],
        }),
    ).toThrow("'schedule[1].value' must be a number in [0, 1), got 1");
    expect(() => new SimulatedBackend({ schedule: [{ kind: 'flood' as 'reset', nth: 0, value: 0 }] })).toThrow(
      /'schedule\[0\]\.kind' must be one of reset, /,
    );
  });

  test('the stall fault: a peer stops reading for stallMs when data reaches it', async () => {
    const { sim, reactor, client, fd } = await acceptedClient({
      latencyMs: 1,
      schedule: [{ kind: 'stall', nth: 0, value: 0 }],
      faults: { stallMs: 100 },
    });
    reactor.write(fd, Buffer.from('first'));
    const sentAt = sim.clock.now();
    await client.waitFor(5);
    expect(sim.clock.now() - sentAt).toBeGreaterThanOrEqual(100);
    expect(sim.schedule).toEqual([{ kind: 'stall', nth: 0, value: 0 }]);
    await reactor.close();
  });
});
