import type { MissedTickPolicy } from './timer-wheel';

/**
 * The arithmetic of a fixed-rate recurring timer, as pure functions. A tick
 * is due at `nominalMs` (before jitter); it fires at `nowMs`, which may be
 * later (a stall). Internal; not exported from the package.
 *
 * | nominal | interval | fires at | missed | next nominal: skip / delay / burst |
 * |---------|----------|----------|--------|------------------------------------|
 * | 1000    | 1000     | 1000     | 0      | 2000 / 2000 / 2000                 |
 * | 1000    | 1000     | 1999     | 0      | 2000 / 2000 / 2000                 |
 * | 1000    | 1000     | 3500     | 2      | 4000 / 4500 / 2000                 |
 */

/** How many whole intervals passed after the tick due at `nominalMs` before it fired at `nowMs`. */
export function missedTicks(nominalMs: number, intervalMs: number, nowMs: number): number {
  return nowMs >= nominalMs + intervalMs ? Math.floor((nowMs - nominalMs) / intervalMs) : 0;
}

/**
 * When the next tick is due, by the policy: `'skip'` the next one on the
 * original grid after now (the missed ones are dropped, and counted);
 * `'delay'` one interval after now (the grid moves); `'burst'` the next on
 * the grid, even if already due (every missed tick fires, catching up).
 * With nothing missed, all three are the next on the grid.
 */
export function nextNominal(policy: MissedTickPolicy, nominalMs: number, intervalMs: number, missed: number, nowMs: number): number {
  if (missed === 0 || policy === 'burst') return nominalMs + intervalMs;
  if (policy === 'skip') return nominalMs + (missed + 1) * intervalMs;
  return nowMs + intervalMs;
}
