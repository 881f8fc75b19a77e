import fc from 'fast-check';
import { type ConnectionHandlers, simulate, type Simulation } from '../../src';
import { scheduleArbitrary } from '../../src/fast-check';
import { answer, startKvServer } from '../../examples/kv-server';

/** Two clients talk to the server at once; each checks every answer. */
const conversation = (handlers?: ConnectionHandlers<string>) => async ({ sim, reactor }: Simulation) => {
  const { loop, running } = await startKvServer({ reactor, port: 7200, handlers });
  const alice = sim.connect(7200);
  const bob = sim.connect(7200);
  alice.write('SET colour blue\nGET colour\n');
  bob.write('SET size 42\nGET size\nDEL size\nGET size\n');
  expect([await alice.readLine(), await alice.readLine()]).toEqual(['OK', 'VALUE blue']);
  expect([await bob.readLine(), await bob.readLine(), await bob.readLine(), await bob.readLine()]).toEqual(['OK', 'VALUE 42', 'OK', 'NONE']);
  await loop.close();
  await running;
};

/** The chance decisions to explore: every fault that a correct server must survive. */
const decisions = scheduleArbitrary({ kinds: ['shortWrite', 'delay', 'stall', 'reorder'], maxNth: 20 });
const sizes = { delayMs: 5, stallMs: 50 };

describe('the key-value server, on a simulated network', () => {
  test('answers every command, in order, even when a command arrives in pieces', () =>
    simulate(async ({ sim, reactor }) => {
      const { loop, running } = await startKvServer({ reactor, port: 7200 });
      const client = sim.connect(7200);
      client.write('SET colour blue\nGET col');
      client.write('our\nDEL colour\nGET colour\nHELLO\n');
      expect(await client.readLine()).toBe('OK');
      expect(await client.readLine()).toBe('VALUE blue');
      expect((await client.readBytes(5)).toString()).toBe('OK\nNO');
      expect(await client.readUntil('\n')).toEqual(Buffer.from('NE\n'));
      expect(await client.readLine()).toBe('ERR');
      await loop.close();
      await running;
    }));

  test('cuts a connection silent for 30 s, in simulated time; waitUntil sees the server side', () =>
    simulate(async ({ sim, reactor }) => {
      const { loop, running } = await startKvServer({ reactor, port: 7200, idleTimeoutMs: 30_000 });
      const client = sim.connect(7200);
      await sim.waitUntil(() => loop.registry.size === 1, 'the server to hold the connection');
      const connectedAt = sim.clock.now();
      expect((await client.waitError()).code).toBe('ECONNRESET'); // the EventLoop cuts an idle connection with a reset
      expect(sim.clock.now() - connectedAt).toBeGreaterThanOrEqual(30_000);
      expect(loop.registry.size).toBe(0);
      await loop.close();
      await running;
    }));

  test('gives the same answers under any schedule of short writes, delays, stalls and reorderings', () =>
    fc.assert(fc.asyncProperty(decisions, (schedule) => simulate(conversation(), { schedule, faults: sizes })), { numRuns: 50 }));

  test('a planted bug (a command split across two reads is lost) is found, and shrunk to the one short write that shows it', async () => {
    // The same server with the most common bug of line protocols: each chunk is taken as whole lines.
    const forgetful = (store = new Map<string, string>()): ConnectionHandlers<string> => ({
      onData(conn, chunk) {
        for (const line of chunk.toString().split('\n').slice(0, -1)) conn.send(`${answer(store, line)}\n`);
      },
    });
    const run = await fc.check(
      fc.asyncProperty(decisions, (schedule) => simulate(conversation(forgetful()), { schedule, faults: sizes })),
      { seed: 42, numRuns: 200 },
    );
    expect(run.failed).toBe(true);
    const [smallest] = run.counterexample ?? [[]];
    expect(smallest).toEqual([{ kind: 'shortWrite', nth: expect.any(Number) as number, value: expect.any(Number) as number }]);
  });
});
