/**
 * TimerWheel against its baselines, side by side in one process:
 *
 * 1. schedule + cancel of 1,000,000 timers with distinct durations:
 *    TimerWheel vs setTimeout/clearTimeout vs a binary-heap queue.
 * 2. firing 100,000 due timers: TimerWheel vs the binary heap.
 * 3. memory per pending timer with 1,000,000 pending (needs --expose-gc):
 *    TimerWheel vs Node's Timeout vs the binary heap.
 *
 * Timings are mitata measurements, repeated in interleaved rounds; each
 * figure is the median of the rounds' medians. Run: npm run bench -- timer-wheel
 */
import { spawnSync } from 'node:child_process';
import { measure } from 'mitata';
import { ManualClock, TimerWheel } from '../src';
import { BinaryHeapTimers, type HeapTimer } from './baselines/binary-heap-timers';
import { median, printTable, type Row } from './lib/report';

const SCHEDULED = 1_000_000;
const FIRED = 100_000;
const ROUNDS = 3;

// Distinct durations in a scrambled order, and a second scrambled order for
// cancelling: i -> (i * A) mod N is a permutation when A is coprime with N.
const durationOf = (i: number, n: number) => ((i * 2_654_435_761) % n) + 1;
const cancelOrder = (i: number, n: number) => (i * 40_503) % n;

const noop = (): void => {};

// ---- 1. schedule + cancel --------------------------------------------------

const wheelHandles = new Float64Array(SCHEDULED);
const warmWheel = new TimerWheel({ initialCapacity: SCHEDULED });
function scheduleCancelWheel(wheel: TimerWheel): void {
  for (let i = 0; i < SCHEDULED; i++) wheelHandles[i] = wheel.schedule(durationOf(i, SCHEDULED), noop);
  for (let i = 0; i < SCHEDULED; i++) wheel.cancel(wheelHandles[cancelOrder(i, SCHEDULED)]);
}

const timeouts: NodeJS.Timeout[] = new Array<NodeJS.Timeout>(SCHEDULED);
function scheduleCancelSetTimeout(): void {
  for (let i = 0; i < SCHEDULED; i++) timeouts[i] = setTimeout(noop, durationOf(i, SCHEDULED));
  for (let i = 0; i < SCHEDULED; i++) clearTimeout(timeouts[cancelOrder(i, SCHEDULED)]);
  timeouts.fill(undefined as unknown as NodeJS.Timeout); // ~1 ms: let the Timeouts be collected
}

const heapHandles: HeapTimer[] = new Array<HeapTimer>(SCHEDULED);
const warmHeap = new BinaryHeapTimers();
function scheduleCancelHeap(): void {
  for (let i = 0; i < SCHEDULED; i++) heapHandles[i] = warmHeap.schedule(durationOf(i, SCHEDULED), noop);
  for (let i = 0; i < SCHEDULED; i++) warmHeap.cancel(heapHandles[cancelOrder(i, SCHEDULED)]);
  heapHandles.fill(undefined as unknown as HeapTimer);
}

// ---- 2. firing due timers ----------------------------------------------------

function dueWheel(): TimerWheel {
  const clock = new ManualClock();
  const wheel = new TimerWheel({ clock, initialCapacity: FIRED });
  for (let i = 0; i < FIRED; i++) wheel.schedule(durationOf(i, FIRED), noop);
  clock.set(FIRED);
  return wheel;
}

function dueHeap(): { heap: BinaryHeapTimers; clock: ManualClock } {
  const clock = new ManualClock();
  const heap = new BinaryHeapTimers(clock);
  for (let i = 0; i < FIRED; i++) heap.schedule(durationOf(i, FIRED), noop);
  clock.set(FIRED);
  return { heap, clock };
}

// ---- 3. memory ---------------------------------------------------------------
// Each subject is measured in a fresh process (this file, re-run with
// --memory <subject>), so garbage left by the timing runs cannot be freed in
// the middle of a measurement and hide what the subject holds.

function retainedBytes(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench does)');
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers; // the slab's typed arrays live outside the JS heap
}

const memorySubjects: Record<string, (count: number) => unknown> = {
  wheel(count) {
    const wheel = new TimerWheel();
    for (let i = 0; i < count; i++) wheel.schedule(durationOf(i, count) + 60_000, noop);
    return wheel;
  },
  timeoutDistinct(count) {
    const list = new Array<NodeJS.Timeout>(count);
    for (let i = 0; i < count; i++) list[i] = setTimeout(noop, durationOf(i, count) + 60_000);
    return list;
  },
  timeoutSame(count) {
    const list = new Array<NodeJS.Timeout>(count);
    for (let i = 0; i < count; i++) list[i] = setTimeout(noop, 600_000);
    return list;
  },
  heap(count) {
    const heap = new BinaryHeapTimers();
    for (let i = 0; i < count; i++) heap.schedule(durationOf(i, count) + 60_000, noop);
    return heap;
  },
};

/** In the child: bytes that stay allocated per pending timer of `subject`, printed as JSON. */
function measureMemoryHere(subject: string): void {
  const before = retainedBytes();
  const held = memorySubjects[subject](SCHEDULED);
  const bytes = (retainedBytes() - before) / SCHEDULED;
  console.log(JSON.stringify({ bytes, held: held !== undefined }));
  process.exit(0); // leaves the pending setTimeouts behind
}

/** In the parent: the median of three fresh processes' answers. */
function bytesPerTimer(subject: string): number {
  const samples: number[] = [];
  for (let run = 0; run < 3; run++) {
    const child = spawnSync(process.execPath, [...process.execArgv, __filename, '--memory', subject], {
      encoding: 'utf8',
    });
    if (child.status !== 0) throw new Error(`memory run for ${subject} failed: ${child.stderr}`);
    samples.push((JSON.parse(child.stdout) as { bytes: number }).bytes);
  }
  return median(samples);
}

// ---- run ---------------------------------------------------------------------

/** A collection between samples, outside the timed region, so one sample's garbage is not billed to the next. */
function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench does)');
  gc();
}
const timingOptions = { min_samples: 5, max_samples: 15, min_cpu_time: 1_000 * 1e6, gc: collectGarbage, inner_gc: true };

async function medianNs(fn: () => void): Promise<number> {
  return (await measure(fn, timingOptions)).p50;
}

async function medianNsWithSetup<T>(setup: () => T, run: (input: T) => void): Promise<number> {
  const stats = await measure(function* () {
    yield { [0]: setup, bench: run };
  }, timingOptions);
  return stats.p50;
}

async function main(): Promise<void> {
  const rounds: Record<string, number[]> = {};
  const record = (name: string, ns: number) => (rounds[name] ??= []).push(ns);

  for (let round = 1; round <= ROUNDS; round++) {
    process.stdout.write(`round ${round}/${ROUNDS}: schedule+cancel`);
    record('wheel', await medianNs(() => scheduleCancelWheel(warmWheel)));
    record('wheel (new each run)', await medianNs(() => scheduleCancelWheel(new TimerWheel())));
    record('setTimeout', await medianNs(scheduleCancelSetTimeout));
    record('heap', await medianNs(scheduleCancelHeap));
    process.stdout.write(', fire');
    record('fire wheel', await medianNsWithSetup(dueWheel, (w) => w.advance(undefined, Infinity)));
    record('fire heap', await medianNsWithSetup(dueHeap, ({ heap, clock }) => heap.advance(clock.now())));
    process.stdout.write('\n');
  }
  const perOp = (name: string, n: number) => median(rounds[name]) / n;

  process.stdout.write('memory: 1,000,000 pending timers each way\n');
  const memory = {
    wheel: bytesPerTimer('wheel'),
    timeoutDistinct: bytesPerTimer('timeoutDistinct'),
    timeoutSame: bytesPerTimer('timeoutSame'),
    heap: bytesPerTimer('heap'),
  };

  const rows: Row[] = [
    {
      name: 'schedule+cancel, 1M distinct durations: TimerWheel',
      value: perOp('wheel', SCHEDULED),
      unit: 'ns/timer',
      baselineName: 'setTimeout+clearTimeout',
      baselineValue: perOp('setTimeout', SCHEDULED),
      better: 'lower',
      target: 5,
    },
    {
      name: 'schedule+cancel, 1M distinct durations: TimerWheel',
      value: perOp('wheel', SCHEDULED),
      unit: 'ns/timer',
      baselineName: 'binary heap',
      baselineValue: perOp('heap', SCHEDULED),
      better: 'lower',
    },
    {
      name: 'schedule+cancel, same, a new wheel each run (slab grows)',
      value: perOp('wheel (new each run)', SCHEDULED),
      unit: 'ns/timer',
      baselineName: 'setTimeout+clearTimeout',
      baselineValue: perOp('setTimeout', SCHEDULED),
      better: 'lower',
    },
    {
      name: 'fire 100k due timers: TimerWheel',
      value: perOp('fire wheel', FIRED),
      unit: 'ns/timer',
      baselineName: 'binary heap',
      baselineValue: perOp('fire heap', FIRED),
      better: 'lower',
    },
    {
      name: 'memory, 1M pending: TimerWheel',
      value: memory.wheel,
      unit: 'B/timer',
      baselineName: 'Node Timeout, distinct durations',
      baselineValue: memory.timeoutDistinct,
      better: 'lower',
      limit: 48,
    },
    {
      name: 'memory, 1M pending: TimerWheel',
      value: memory.wheel,
      unit: 'B/timer',
      baselineName: 'Node Timeout, one duration',
      baselineValue: memory.timeoutSame,
      better: 'lower',
    },
    {
      name: 'memory, 1M pending: TimerWheel',
      value: memory.wheel,
      unit: 'B/timer',
      baselineName: 'binary heap',
      baselineValue: memory.heap,
      better: 'lower',
    },
  ];
  printTable(`TimerWheel (Node ${process.version}, median of ${ROUNDS} interleaved rounds)`, rows);
}

if (process.argv[2] === '--memory') measureMemoryHere(process.argv[3]);
else void main();
