import { Reactor } from '../reactor/reactor';
import { SimulatedBackend, type SimulatedBackendOptions } from '../reactor/backends/simulated/simulated-backend';
import { seedFromEnvironment } from '../reactor/backends/simulated/seed-from-environment';

/** What a scenario run by {@link simulate} gets: the network, a reactor on it, and the seed chosen. */
export interface Simulation<T = unknown> {
  readonly sim: SimulatedBackend;
  readonly reactor: Reactor<T>;
  readonly seed: number;
}

/**
 * Runs `scenario` on a fresh simulated network and a reactor on it, and
 * closes the reactor afterwards, whatever happened. The seed is
 * `options.seed`, else `TSREACTOR_SEED`, else 1. When the scenario fails,
 * its error says how to run it again: the seed and the command (under jest,
 * `TSREACTOR_SEED=<seed> npx jest <file> -t '<test>'`), or, for a run
 * driven by a schedule, the schedule itself; the error also carries
 * `seed` and `schedule` (every chance decision the run took).
 *
 * @example
 * ```ts
 * import { EventLoop, simulate } from 'tsreactor';
 *
 * await simulate(async ({ sim, reactor }) => {
 *   const loop = new EventLoop({ reactor });
 *   await loop.listen([{ host: '127.0.0.1', port: 7000 }], { onData: (conn, data) => conn.send(data) });
 *   const running = loop.run();
 *   const client = sim.connect(7000);
 *   client.write('ping\n');
 *   await client.readLine(); // 'ping'
 *   await loop.close();
 *   await running;
 * }, { faults: { shortWrite: 0.2 } });
 * ```
 */
export async function simulate<R, T = unknown>(
  scenario: (simulation: Simulation<T>) => Promise<R> | R,
  options: SimulatedBackendOptions = {},
): Promise<R> {
  if (typeof scenario !== 'function') throw new TypeError(`'scenario' must be a function`);
  const seed = options.seed ?? seedFromEnvironment() ?? 1;
  const sim = new SimulatedBackend({ ...options, seed });
  const reactor = new Reactor<T>({ backend: sim });
  try {
    return await scenario({ sim, reactor, seed });
  } catch (err) {
    throw explain(err, seed, options.schedule, sim);
  } finally {
    await reactor.close();
  }
}

/** The scenario's error, told how to replay it. */
function explain(err: unknown, seed: number, schedule: SimulatedBackendOptions['schedule'], sim: SimulatedBackend): unknown {
  if (!(err instanceof Error)) return err;
  const how =
    schedule !== undefined ? `replay: the same options with schedule: ${JSON.stringify(schedule)}` : `replay: ${replayCommand(seed)}`;
  const note = `\n\n(simulation seed ${seed}; ${how})`;
  const original = err.message;
  if (original.includes('\n\n(simulation seed ')) return err; // told already (one error object thrown twice)
  err.message = original + note; // (the stack keeps the message it was made with: runners print both)
  Object.assign(err, { seed, schedule: sim.schedule });
  return err;
}

/** The command that runs the failing test again with its seed. */
function replayCommand(seed: number): string {
  // Under jest, name the file and the test; elsewhere, the command line that ran.
  const state = (globalThis as { expect?: { getState?: () => { testPath?: string; currentTestName?: string } } }).expect?.getState?.();
  if (state?.testPath !== undefined) {
    const file = relativeToCwd(state.testPath);
    // -t takes a pattern: the name's own parentheses and dots must match themselves.
    const name =
      state.currentTestName === undefined ? '' : ` -t ${shellQuote(state.currentTestName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))}`;
    return `TSREACTOR_SEED=${seed} npx jest ${shellQuote(file)}${name}`;
  }
  return `TSREACTOR_SEED=${seed} ${process.argv.map((arg) => shellQuote(relativeToCwd(arg))).join(' ')}`;
}

function relativeToCwd(path: string): string {
  const cwd = process.cwd() + '/';
  return path.startsWith(cwd) ? path.slice(cwd.length) : path;
}

function shellQuote(text: string): string {
  return /^[\w./:=@-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
