import fc from 'fast-check';
import { type Backend, Events, Reactor, ReactorError, type Trigger } from '../../src';
import { interestName } from './scenario';

/** The signals the scenarios raise: neither ends a process that has no listener (SIGWINCH) or is raised unwatched (SIGUSR2 only while watched). */
const SIGNALS: NodeJS.Signals[] = ['SIGWINCH', 'SIGUSR2'];

/**
 * The language of the signal differential suite: two signal descriptors
 * (s0 watches both signals, s1 only SIGWINCH), signals raised, reads and
 * registrations of every trigger. A step on a descriptor the scenario
 * closed is skipped by the runner, the same way everywhere.
 */
export type SignalStep =
  | { op: 'raise'; signal: NodeJS.Signals; times: number }
  | { op: 'read' | 'unregister' | 'close'; slot: number }
  | { op: 'register' | 'modify'; slot: number; interest: number; trigger: Trigger };

const slot = fc.constantFrom(0, 0, 1);
const TRIGGERS: Trigger[] = ['level', 'edge', 'oneshot', 'edge-oneshot'];

export const signalStepArbitrary: fc.Arbitrary<SignalStep> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('raise' as const), signal: fc.constantFrom(...SIGNALS), times: fc.constantFrom(1, 1, 3) }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('read' as const), slot }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('unregister' as const, 'close' as const), slot }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constantFrom('register' as const, 'modify' as const),
      slot,
      interest: fc.constantFrom(1, 2, 3),
      trigger: fc.constantFrom(...TRIGGERS),
    }),
  },
);

export function describeSignalStep(step: SignalStep): string {
  switch (step.op) {
    case 'raise':
      return `raise ${step.signal}${step.times > 1 ? ` x${step.times}` : ''}`;
    case 'register':
    case 'modify':
      return `s${step.slot} ${step.op} ${interestName(step.interest)} ${step.trigger}`;
    default:
      return `s${step.slot} ${step.op}`;
  }
}

/** Scenarios of up to 12 steps, printed one per line. */
export const signalScenarioArbitrary: fc.Arbitrary<SignalStep[]> = fc.array(signalStepArbitrary, { maxLength: 12 }).map((steps) =>
  Object.assign(steps, {
    [fc.toStringMethod]: () => `\n${steps.map((s, i) => `  ${String(i).padStart(2)}  ${describeSignalStep(s)}`).join('\n')}\n`,
  }),
);

/**
 * Runs a signal scenario on one backend, raising with `raise`, and returns
 * its normal form: per step, its outcome and the events of one poll once
 * the signal has landed. Nothing is normalised.
 */
export async function runSignalScenario(
  makeBackend: () => Backend,
  raise: (signal: NodeJS.Signals) => void,
  settle: () => Promise<void>,
  steps: readonly SignalStep[],
): Promise<string[]> {
  const reactor = new Reactor<string>({ backend: makeBackend() });
  const events = new Events<string>();
  const lines: string[] = [];
  try {
    const fds = [reactor.signal(SIGNALS), reactor.signal(['SIGWINCH'])];
    const open = [true, true];
    for (const [index, step] of steps.entries()) {
      let outcome: string;
      if (step.op === 'raise') {
        for (let i = 0; i < step.times; i++) raise(step.signal);
        outcome = 'ok';
      } else if (!open[step.slot]) {
        lines.push(`${index} ${describeSignalStep(step)}: skipped`);
        continue;
      } else {
        outcome = act(reactor, fds[step.slot], step);
        if (step.op === 'close') open[step.slot] = false;
      }
      for (let i = 0; i < 5; i++) await settle();
      await reactor.poll(events, 0);
      const seen = [...events].map((e) => `s${fds.indexOf(e.fd)} ${e.readable ? 'R' : ''}${e.writable ? 'W' : ''}`);
      lines.push(`${index} ${describeSignalStep(step)} -> ${outcome} | events: ${seen.sort().join(', ') || 'none'}`);
    }
    return lines;
  } finally {
    await reactor.close();
  }
}

function act(reactor: Reactor<string>, fd: number, step: Exclude<SignalStep, { op: 'raise' }>): string {
  try {
    switch (step.op) {
      case 'read':
        return JSON.stringify(reactor.readSignals(fd));
      case 'register':
        reactor.register(fd, step.interest, { trigger: step.trigger });
        return 'ok';
      case 'modify':
        reactor.modify(fd, step.interest, { trigger: step.trigger });
        return 'ok';
      case 'unregister':
        reactor.unregister(fd);
        return 'ok';
      case 'close':
        reactor.close(fd);
        return 'ok';
    }
  } catch (err) {
    if (err instanceof ReactorError) return err.code;
    throw err;
  }
}
