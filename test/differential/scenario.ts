import fc from 'fast-check';
import type { Trigger } from '../../src';

/**
 * The language of the differential suite: what a scenario does, step by
 * step, to a few connections (slots c0..c2). Either side acts: the reactor
 * (register, read, write, shut down, close...) or the scripted peer at the
 * far end (write, pause, half-close, reset...). A step that does not apply
 * when it comes (a read on a slot whose descriptor is closed, a peer write
 * after the peer reset) is skipped, by the runner's own model of the
 * scenario, the same way on every backend; so any list of steps is a
 * scenario, and shrinking can drop any step.
 */
export type Step =
  | { side: 'reactor'; op: 'open'; slot: number; direction: 'in' | 'out' }
  | { side: 'reactor'; op: 'register' | 'modify'; slot: number; interest: number; trigger: Trigger }
  | { side: 'reactor'; op: 'unregister' | 'drain' | 'fill' | 'shutdown' | 'close' | 'abort'; slot: number }
  | { side: 'reactor'; op: 'read'; slot: number; maxBytes: number }
  | { side: 'reactor'; op: 'write'; slot: number; bytes: number }
  /** `then`: the peer resets or half-closes right after writing, with no pause between: the data and the RST or FIN arrive together. */
  | { side: 'peer'; op: 'write'; slot: number; bytes: number; then?: 'reset' | 'end' }
  | { side: 'peer'; op: 'pause' | 'resume' | 'end' | 'reset' | 'close'; slot: number };

export const SLOTS = 3;

/** What the reactor writes at once: well under any send buffer, so a write is all or nothing on every backend (filling is `fill`). */
const REACTOR_WRITES = [1, 100, 1000, 16 * 1024];
/** What the peer writes at once: from a byte to a mebibyte, far past the reactor's inbox. */
const PEER_WRITES = [1, 100, 5000, 64 * 1024, 200 * 1024, 1024 * 1024];
const TRIGGERS: Trigger[] = ['level', 'edge', 'oneshot', 'edge-oneshot'];

/** Mostly the first two slots, so that most steps find a connection to act on. */
const slot: fc.Arbitrary<number> = fc.constantFrom(0, 0, 0, 1, 1, 2);
const open = (slots: fc.Arbitrary<number>) =>
  fc.record({
    side: fc.constant('reactor'),
    op: fc.constant('open'),
    slot: slots,
    direction: fc.constantFrom('in', 'out'),
  }) as fc.Arbitrary<Step>;
const register = (slots: fc.Arbitrary<number>) =>
  fc.record({
    side: fc.constant('reactor'),
    op: fc.constant('register'),
    slot: slots,
    interest: fc.constantFrom(1, 2, 3),
    trigger: fc.constantFrom(...TRIGGERS),
  }) as fc.Arbitrary<Step>;

const reactorOp = (op: 'unregister' | 'drain' | 'fill' | 'shutdown' | 'close' | 'abort', slots = slot) =>
  fc.record({ side: fc.constant('reactor'), op: fc.constant(op), slot: slots }) as fc.Arbitrary<Step>;
const peerOp = (op: 'pause' | 'resume' | 'end' | 'reset' | 'close', slots = slot) =>
  fc.record({ side: fc.constant('peer'), op: fc.constant(op), slot: slots }) as fc.Arbitrary<Step>;
const single = (arbitrary: fc.Arbitrary<Step>) => arbitrary.map((step) => [step]);
/** Steps that only mean something together: a peer pauses and the reactor fills toward it. */
const pair = (first: (s: fc.Arbitrary<number>) => fc.Arbitrary<Step>, second: (s: fc.Arbitrary<number>) => fc.Arbitrary<Step>) =>
  slot.chain((n) => fc.tuple(first(fc.constant(n)), second(fc.constant(n))).map(([a, b]) => [a, b]));

/** What a scenario may contain: `resets: false` for a Unix domain socket, where a peer has no RST to send. */
export interface ScenarioOptions {
  maxSteps?: number;
  resets?: boolean;
}

/** One step (or a pair that belongs together), weighted toward the ones that move bytes and change state. */
export function stepsArbitrary({ resets = true }: ScenarioOptions = {}): fc.Arbitrary<Step[]> {
  return fc.oneof(
    { weight: 2, arbitrary: single(open(slot)) },
    {
      weight: 4,
      arbitrary: single(
        fc.oneof(
          register(slot),
          register(slot).map((step) => ({ ...step, op: 'modify' }) as Step),
        ),
      ),
    },
    { weight: 4, arbitrary: single(reactorOp('drain')) },
    { weight: 1, arbitrary: single(reactorOp('unregister')) },
    {
      weight: 3,
      arbitrary: single(
        fc.record({
          side: fc.constant('reactor'),
          op: fc.constant('read'),
          slot,
          maxBytes: fc.constantFrom(1, 100, Infinity),
        }) as fc.Arbitrary<Step>,
      ),
    },
    {
      weight: 5,
      arbitrary: single(
        fc.record({
          side: fc.constant('reactor'),
          op: fc.constant('write'),
          slot,
          bytes: fc.constantFrom(...REACTOR_WRITES),
        }) as fc.Arbitrary<Step>,
      ),
    },
    {
      weight: 2,
      arbitrary: pair(
        (n) => peerOp('pause', n),
        (n) => reactorOp('fill', n),
      ),
    },
    { weight: 2, arbitrary: single(fc.oneof(reactorOp('shutdown'), reactorOp('close'), reactorOp('abort'))) },
    {
      weight: 5,
      arbitrary: single(
        fc.record({
          side: fc.constant('peer'),
          op: fc.constant('write'),
          slot,
          bytes: fc.constantFrom(...PEER_WRITES),
        }) as fc.Arbitrary<Step>,
      ),
    },
    {
      weight: 2,
      arbitrary: single(
        fc.record({
          side: fc.constant('peer'),
          op: fc.constant('write'),
          slot,
          bytes: fc.constantFrom(...PEER_WRITES),
          then: resets ? fc.constantFrom('reset', 'end') : fc.constant('end'),
        }) as fc.Arbitrary<Step>,
      ),
    },
    { weight: 3, arbitrary: single(fc.oneof(peerOp('pause'), peerOp('resume'))) },
    {
      weight: 3,
      arbitrary: single(resets ? fc.oneof(peerOp('end'), peerOp('reset'), peerOp('close')) : fc.oneof(peerOp('end'), peerOp('close'))),
    },
  );
}

/** A scenario: a list of steps, printed one per line (as fast-check shows a counterexample). */
export class Scenario {
  readonly steps: readonly Step[];

  constructor(steps: readonly Step[]) {
    this.steps = steps;
  }

  toString(): string {
    return `\n${this.steps.map((step, i) => `  ${String(i).padStart(2)}  ${describeStep(step)}`).join('\n')}\n`;
  }

  [fc.toStringMethod](): string {
    return this.toString();
  }
}

/**
 * Scenarios of up to `maxSteps` (12) steps after an opening that connects
 * and registers c0 (and often c1), so that the rest has something to act on.
 */
export function scenarioArbitrary(options: ScenarioOptions = {}): fc.Arbitrary<Scenario> {
  const { maxSteps = 12 } = options;
  const c0 = fc.constant(0);
  const c1 = fc.constant(1);
  const opening = fc.tuple(open(c0), register(c0), fc.option(fc.tuple(open(c1), register(c1)), { freq: 2 }));
  return fc
    .tuple(opening, fc.array(stepsArbitrary(options), { maxLength: maxSteps }))
    .map(([[o0, r0, more], rest]) => new Scenario([o0, r0, ...(more ?? []), ...rest.flat()]));
}

export function describeStep(step: Step): string {
  const who = `${step.side} c${step.slot}`;
  switch (step.op) {
    case 'open':
      return `${who} open (${step.direction === 'in' ? 'peer connects, reactor accepts' : 'reactor connects to the peer'})`;
    case 'register':
    case 'modify':
      return `${who} ${step.op} ${interestName(step.interest)} ${step.trigger}`;
    case 'read':
      return `${who} read ${step.maxBytes === Infinity ? 'a chunk' : `<= ${step.maxBytes} B`}`;
    case 'write':
      return `${who} write ${step.bytes} B${step.side === 'peer' && step.then !== undefined ? `, then ${step.then} at once` : ''}`;
    default:
      return `${who} ${step.op}`;
  }
}

export function interestName(interest: number): string {
  return [interest & 1 ? 'R' : '', interest & 2 ? 'W' : ''].filter(Boolean).join('|');
}
