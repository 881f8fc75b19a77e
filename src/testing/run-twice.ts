import { ReactorError } from '../reactor/reactor-error';
import type { SimulatedBackendOptions } from '../reactor/backends/simulated/simulated-backend';
import { simulate, type Simulation } from './simulate';

/** What {@link runTwice} found: the (identical) trace, and each run's result. */
export interface TwiceRun<R> {
  readonly trace: readonly string[];
  readonly results: readonly [R, R];
}

/**
 * Runs `scenario` twice with the same options (through {@link simulate},
 * tracing on) and checks that both runs left a byte-identical trace: the
 * scenario is deterministic, so a failing seed will replay. A difference
 * throws `ERR_SIM_NONDETERMINISTIC` with the first line that differs; its
 * usual causes are code that reads the real clock (`Date.now`,
 * `setTimeout`) or `Math.random`, or state kept between runs.
 *
 * @example
 * ```ts
 * import { runTwice } from 'tsreactor';
 *
 * const { trace } = await runTwice(async ({ sim, reactor }) => {
 *   await reactor.listen({ port: 7000 });
 *   sim.connect(7000).write('hi');
 *   sim.run();
 * }, { seed: 3, explore: true, trace: { payloads: 'hash' } });
 * console.log(trace.length);
 * ```
 */
export async function runTwice<R, T = unknown>(
  scenario: (simulation: Simulation<T>) => Promise<R> | R,
  options: SimulatedBackendOptions = {},
): Promise<TwiceRun<R>> {
  const traced: SimulatedBackendOptions = {
    ...options,
    trace: options.trace === undefined || options.trace === false ? true : options.trace,
  };
  const runs: { trace: readonly string[]; result: R }[] = [];
  for (let i = 0; i < 2; i++) {
    let trace: readonly string[] = [];
    const result = await simulate<R, T>(async (simulation) => {
      try {
        return await scenario(simulation);
      } finally {
        trace = simulation.sim.trace;
      }
    }, traced);
    runs.push({ trace, result });
  }
  const [first, second] = runs;
  const length = Math.max(first.trace.length, second.trace.length);
  for (let line = 0; line < length; line++) {
    if (first.trace[line] === second.trace[line]) continue;
    throw new ReactorError(
      'ERR_SIM_NONDETERMINISTIC',
      `two runs of one scenario differ at trace line ${line + 1}:\n  first:  ${first.trace[line] ?? '(ended)'}\n  second: ${second.trace[line] ?? '(ended)'}\n` +
        `(something outside the simulation decides: the real clock, Math.random, or state kept between runs)`,
    );
  }
  return { trace: first.trace, results: [first.result, second.result] };
}
