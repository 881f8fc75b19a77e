import fc from 'fast-check';
import type { Trigger } from '../../src';
import { interestName } from './scenario';

/**
 * The language of the datagram differential suite: one reactor socket, one
 * peer socket, and steps on either side. Bursts stay far under the
 * kernel's receive buffer on loopback (so only the reactor's own queue
 * bound, small here, drops anything: deterministically), and loopback
 * neither loses nor reorders, so every backend must agree datagram for
 * datagram.
 */
export type DatagramStep =
  | { op: 'register' | 'modify'; interest: number; trigger: Trigger }
  | { op: 'unregister' | 'drain' | 'oversize' }
  | { op: 'recv'; maxBytes: number }
  | { op: 'send'; bytes: number }
  | { op: 'peer-send'; count: number; bytes: number };

/** The reactor socket's queue bounds in the scenarios: small, so bursts overflow them. */
export const SCENARIO_QUEUE = { receiveQueueDatagrams: 8, receiveQueueBytes: 8 * 1024 };

const TRIGGERS: Trigger[] = ['level', 'edge', 'oneshot', 'edge-oneshot'];
const SIZES = [0, 1, 100, 1400, 4000];

const registration = (op: 'register' | 'modify') =>
  fc.record({
    op: fc.constant(op),
    interest: fc.constantFrom(1, 2, 3),
    trigger: fc.constantFrom(...TRIGGERS),
  }) as fc.Arbitrary<DatagramStep>;

export const datagramStepArbitrary: fc.Arbitrary<DatagramStep> = fc.oneof(
  { weight: 2, arbitrary: registration('register') },
  { weight: 2, arbitrary: registration('modify') },
  { weight: 1, arbitrary: fc.constant({ op: 'unregister' }) },
  { weight: 3, arbitrary: fc.constant({ op: 'drain' }) },
  { weight: 1, arbitrary: fc.constant({ op: 'oversize' }) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('recv'), maxBytes: fc.constantFrom(1, 50, Infinity) }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('send'), bytes: fc.constantFrom(...SIZES) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('peer-send'),
      count: fc.constantFrom(1, 3, 12),
      bytes: fc.constantFrom(...SIZES),
    }),
  },
);

/** A datagram scenario, printed one step per line (as fast-check shows a counterexample). */
export class DatagramScenario {
  readonly steps: readonly DatagramStep[];

  constructor(steps: readonly DatagramStep[]) {
    this.steps = steps;
  }

  toString(): string {
    return `\n${this.steps.map((step, i) => `  ${String(i).padStart(2)}  ${describeDatagramStep(step)}`).join('\n')}\n`;
  }

  [fc.toStringMethod](): string {
    return this.toString();
  }
}

/** Up to `maxSteps` steps after a first registration, so that most scenarios have events to compare. */
export function datagramScenarioArbitrary(maxSteps = 12): fc.Arbitrary<DatagramScenario> {
  return fc
    .tuple(registration('register'), fc.array(datagramStepArbitrary, { maxLength: maxSteps }))
    .map(([first, rest]) => new DatagramScenario([first, ...rest]));
}

export function describeDatagramStep(step: DatagramStep): string {
  switch (step.op) {
    case 'register':
    case 'modify':
      return `reactor ${step.op} ${interestName(step.interest)} ${step.trigger}`;
    case 'recv':
      return `reactor recvFrom ${step.maxBytes === Infinity ? '' : `<= ${step.maxBytes} B`}`.trimEnd();
    case 'send':
      return `reactor sendTo the peer ${step.bytes} B`;
    case 'peer-send':
      return `peer sends ${step.count} x ${step.bytes} B`;
    case 'oversize':
      return 'reactor sendTo 65508 B (too big for one datagram)';
    default:
      return `reactor ${step.op}`;
  }
}
