import fc from 'fast-check';
import { type Backend, LibuvBackend, RawHandleBackend, SimulatedBackend } from '../../src';
import { hasIPv6Loopback, realSocketHarness, simulatedHarness } from '../contract/harness';
import { type DatagramHarness, realDatagramHarness, simulatedDatagramHarness } from '../contract/datagram-harness';
import { realUnixHarness, simulatedUnixHarness } from '../contract/unix-harness';
import { type DatagramScenario, datagramScenarioArbitrary } from './datagram-scenario';
import { runDatagramScenario } from './run-datagram-scenario';
import { runSignalScenario, signalScenarioArbitrary, type SignalStep } from './signal-scenario';
import { leakedSince, resourceCounts, settleHandles } from '../helpers/resources';
import { ResetAsEndBackend } from './reset-as-end-backend';
import { DEFAULT_RUN_OPTIONS, runScenario } from './run-scenario';
import { type Scenario, scenarioArbitrary } from './scenario';
import { type ScenarioWorld, tcpWorld, unixWorld } from './world';

/**
 * Contract rule 29: one scenario, one behaviour. Generated scenarios (see
 * scenario.ts) run on the simulator and on every real backend over
 * loopback, and each must give the same normal form (see run-scenario.ts
 * for what is compared and what is normalised, and why): TCP streams,
 * Unix domain streams (scenarios without resets), and UDP datagrams (their
 * own language, datagram-scenario.ts, compared with nothing normalised), and
 * signal descriptors (signal-scenario.ts). A failure prints
 * fast-check's seed and the shrunk scenario, one step per line.
 *
 * `npm test` runs a bounded number; for a longer hunt:
 *   DIFF_RUNS=500 npx jest test/differential
 * and to replay a failure, its seed (and path):
 *   DIFF_SEED=-123 DIFF_PATH="17:0:3" npx jest test/differential
 */
const runs = Number(process.env.DIFF_RUNS ?? 20);
const seed = process.env.DIFF_SEED === undefined ? undefined : Number(process.env.DIFF_SEED);
const path = process.env.DIFF_PATH;

/** The references: the simulator, stepped by the runner (its clock never runs ahead of the steps). */
const reference = tcpWorld(simulatedHarness(1, { autoAdvance: false }));
const unixReference = unixWorld(simulatedUnixHarness(1, { autoAdvance: false }));

/** Every scenario agrees with the reference on every world, or the property fails naming the world. */
function sameEverywhere(worlds: readonly ScenarioWorld[], expectedWorld = reference) {
  return fc.asyncProperty(scenarioArbitrary({ resets: expectedWorld.resets }), async (scenario: Scenario) => {
    const expected = await runScenario(expectedWorld, scenario, DEFAULT_RUN_OPTIONS);
    for (const world of worlds) {
      const got = await runScenario(world, scenario, DEFAULT_RUN_OPTIONS);
      expect({ world: world.name, form: got }).toEqual({ world: world.name, form: expected });
    }
  });
}

describe('differential: every backend alike', () => {
  let before: Record<string, number>;

  beforeEach(() => {
    before = resourceCounts();
  });

  afterEach(async () => {
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  test(
    'one scenario, one behaviour: the simulator, LibuvBackend and RawHandleBackend on 127.0.0.1 and ::1 give the same normal form',
    async () => {
      const worlds = [realSocketHarness('127.0.0.1', 'libuv')];
      const raw = RawHandleBackend.available();
      if (raw) worlds.push(realSocketHarness('127.0.0.1', 'raw'));
      if (await hasIPv6Loopback()) {
        worlds.push(realSocketHarness('::1', 'libuv'));
        if (raw) worlds.push(realSocketHarness('::1', 'raw'));
      }
      await fc.assert(sameEverywhere(worlds.map(tcpWorld)), { numRuns: runs, seed, path });
    },
    Math.max(600_000, runs * 3_000),
  ); // a long hunt gets the time it needs

  test(
    'one scenario, one behaviour on Unix domain sockets: the simulator, LibuvBackend and RawHandleBackend at paths give the same normal form (no resets: a Unix socket has no RST)',
    async () => {
      const worlds = [realUnixHarness('libuv')];
      if (RawHandleBackend.available()) worlds.push(realUnixHarness('raw'));
      await fc.assert(sameEverywhere(worlds.map(unixWorld), unixReference), { numRuns: runs, seed, path });
    },
    Math.max(600_000, runs * 3_000),
  );

  test(
    'one scenario, one behaviour on UDP: the simulator, LibuvBackend and RawHandleBackend give the same datagrams, drops and events',
    async () => {
      const worlds: DatagramHarness[] = [realDatagramHarness('libuv')];
      if (RawHandleBackend.available()) worlds.push(realDatagramHarness('raw'));
      const udpReference = simulatedDatagramHarness(1, { autoAdvance: false });
      const property = fc.asyncProperty(datagramScenarioArbitrary(), async (scenario: DatagramScenario) => {
        const expected = await runDatagramScenario(udpReference, scenario);
        for (const world of worlds) {
          expect({ world: world.name, form: await runDatagramScenario(world, scenario) }).toEqual({ world: world.name, form: expected });
        }
      });
      await fc.assert(property, { numRuns: runs, seed, path });
    },
    Math.max(600_000, runs * 3_000),
  );

  test('one scenario, one behaviour on signal descriptors: the simulator, LibuvBackend and RawHandleBackend give the same reads and events', async () => {
    // Real backends hear signals emitted on this file's process (Jest's copy: no real kill reaches its listeners).
    const emit = (signal: NodeJS.Signals) => process.emit(signal, signal);
    const realSettle = () => new Promise<void>((resolve) => setImmediate(resolve));
    const worlds: [string, () => Backend][] = [['libuv', () => new LibuvBackend()]];
    if (RawHandleBackend.available()) worlds.push(['raw', () => new RawHandleBackend()]);
    let sim: SimulatedBackend | undefined;
    const property = fc.asyncProperty(signalScenarioArbitrary, async (steps: SignalStep[]) => {
      const expected = await runSignalScenario(
        () => (sim = new SimulatedBackend({ autoAdvance: false })),
        (signal) => sim?.raise(signal),
        async () => {
          sim?.settle();
          await realSettle();
        },
        steps,
      );
      for (const [name, make] of worlds) {
        expect({ world: name, form: await runSignalScenario(make, emit, realSettle, steps) }).toEqual({ world: name, form: expected });
      }
    });
    await fc.assert(property, { numRuns: runs * 5, seed, path });
  });

  test('a backend that takes a reset for an end of stream is caught, and the scenario shrinks to a few steps', async () => {
    const broken: ScenarioWorld = {
      ...reference,
      name: 'reset taken for an end of stream',
      makeBackend: () => new ResetAsEndBackend(reference.makeBackend()),
    };
    const result = await fc.check(sameEverywhere([broken]), { numRuns: 200, seed: 29 });
    expect(result.failed).toBe(true);
    const [scenario] = result.counterexample as [Scenario];
    const resets = scenario.steps.filter(
      (step) =>
        (step.side === 'peer' && (step.op === 'reset' || step.op === 'close' || (step.op === 'write' && step.then === 'reset'))) ||
        (step.side === 'reactor' && step.op === 'abort'),
    );
    expect(resets.length).toBeGreaterThan(0); // the divergence needs a reset...
    expect(scenario.steps.length).toBeLessThanOrEqual(6); // ...and little else: shrunk
    expect(String(result.errorInstance)).toContain('reset taken for an end of stream');
  }, 120_000);
});
