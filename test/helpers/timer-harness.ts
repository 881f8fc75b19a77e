import { ManualClock, TimerWheel, type TimerWheelOptions } from '../../src';

/** One firing as a test sees it: the timer's name, the clock at that moment, and the missed ticks. */
export interface Firing {
  name: string;
  atMs: number;
  missed: number;
}

/**
 * A wheel on a ManualClock with a recording callback: `wheel.schedule(d,
 * record, 'name')` appends `{ name, atMs, missed }` to `fired`.
 */
export function recordingWheel(options: TimerWheelOptions & { startMs?: number } = {}) {
  const clock = new ManualClock(options.startMs ?? 0);
  const wheel = new TimerWheel({ clock, ...options });
  const fired: Firing[] = [];
  const record = (name: string, missed: number): void => {
    fired.push({ name, atMs: clock.now(), missed });
  };
  /** Moves the clock to `ms` and advances the wheel with no budget limit; returns the names fired. */
  const runTo = (ms: number): string[] => {
    const before = fired.length;
    clock.set(ms);
    wheel.advance(undefined, Infinity);
    return fired.slice(before).map((f) => f.name);
  };
  /** Walks the clock to `ms` one millisecond at a time (no stall), advancing at each step; returns the names fired. */
  const stepTo = (ms: number): string[] => {
    const before = fired.length;
    for (let t = Math.floor(clock.now()) + 1; t <= ms; t++) runTo(t);
    return fired.slice(before).map((f) => f.name);
  };
  return { clock, wheel, fired, record, runTo, stepTo, names: () => fired.map((f) => f.name) };
}

/** A small deterministic generator (mulberry32), so tests with "random" data repeat exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
