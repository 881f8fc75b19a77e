import { appendFileSync } from 'node:fs';

/** One line of a benchmark's result table: a figure, and optionally its baseline from the same run. */
export interface Row {
  name: string;
  value: number;
  unit: string;
  baselineName?: string;
  baselineValue?: number;
  /** `'lower'` when a smaller value is better (time, bytes); the ratio is then baseline / value. */
  better: 'lower' | 'higher';
  /** The ratio the project aims for, if any. */
  target?: number;
  /** An absolute bound the project aims for, in `unit` (at most for 'lower', at least for 'higher'). */
  limit?: number;
  /** The ratio, where it is not value / baseline: the median of paired rounds' ratios (see `pairedRow`). */
  ratio?: number;
}

/** Where the harness (bench/run.ts) collects results: each table is appended as one JSON line. */
export const RESULTS_ENV = 'TSREACTOR_BENCH_RESULTS';

/** A target, met or not: the ratio against `target`, or the value against `limit`. */
export function verdict(row: Row): { met: boolean; text: string } | undefined {
  const ratio = ratioOf(row);
  if (row.target !== undefined && ratio !== undefined) {
    return { met: ratio >= row.target, text: `${Number(row.target.toFixed(2))}x` };
  }
  if (row.target !== undefined) return { met: false, text: `${Number(row.target.toFixed(2))}x (no figure)` };
  if (row.limit !== undefined && isFigure(row.value)) {
    const met = row.better === 'lower' ? row.value <= row.limit : row.value >= row.limit;
    return { met, text: `${row.better === 'lower' ? '<=' : '>='} ${format(row.limit)} ${row.unit}` };
  }
  return undefined;
}

/**
 * `better` is built in: a ratio above 1 always means this beats the
 * baseline. `undefined` without a baseline, or when either figure is
 * missing (a measurement that failed is NaN, and null once in JSON).
 */
export function ratioOf(row: Row): number | undefined {
  if (isFigure(row.ratio)) return row.ratio;
  if (row.baselineValue === undefined || !isFigure(row.value) || !isFigure(row.baselineValue)) return undefined;
  const ratio = row.better === 'lower' ? row.baselineValue / row.value : row.value / row.baselineValue;
  return Number.isFinite(ratio) ? ratio : undefined;
}

/** A measured number (not NaN, not null from JSON, not infinite). */
export function isFigure(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A number as the tables show it: thousands separated, else one or two decimals. */
export function format(value: number): string {
  if (!isFigure(value)) return 'n/a';
  if (value >= 1000) return value.toLocaleString('en-US', { maximumFractionDigits: 0 });
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Prints rows as an aligned table: figure, baseline, ratio (higher is better), target. */
export function printTable(title: string, rows: Row[]): void {
  const cells = rows.map((row) => {
    const ratio = ratioOf(row);
    return [
      row.name,
      `${format(row.value)} ${row.unit}`,
      row.baselineName === undefined ? '' : `${row.baselineName}: ${format(row.baselineValue ?? 0)} ${row.unit}`,
      ratio === undefined ? '' : `${ratio.toFixed(2)}x`,
      targetCell(row),
    ];
  });
  const header = ['figure', 'value', 'baseline (same run)', 'ratio', 'target'];
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c].length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd();
  console.log(`\n${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of cells) console.log(line(r));
  const out = process.env[RESULTS_ENV];
  if (out !== undefined && out !== '') appendFileSync(out, `${JSON.stringify({ title, rows })}\n`);
}

function targetCell(row: Row): string {
  const v = verdict(row);
  return v === undefined ? '' : `${v.text} ${v.met ? 'met' : 'MISSED'}`;
}

/**
 * A row from figures measured in pairs, one of each per round (the subject
 * and its baseline in the same round, a few seconds apart): value and
 * baseline are the medians of their rounds, and the ratio is the median of
 * the rounds' own ratios. This machine's speed drifts by 20% from one minute
 * to the next; a ratio within a round is untouched by that drift, while the
 * ratio of two medians may set a fast round against a slow one.
 */
export function pairedRow(
  row: Omit<Row, 'value' | 'baselineValue' | 'ratio'>,
  values: readonly number[],
  baselines: readonly number[],
): Row {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(values.length, baselines.length); i++) {
    const ratio = ratioOf({ ...row, value: values[i], baselineValue: baselines[i] });
    if (ratio !== undefined) ratios.push(ratio);
  }
  return { ...row, value: medianOf(values), baselineValue: medianOf(baselines), ratio: ratios.length === 0 ? undefined : median(ratios) };
}

/** The median of the measured numbers in a list (NaN if there are none). */
export function medianOf(values: readonly number[]): number {
  const measured = values.filter(isFigure);
  return measured.length === 0 ? NaN : median(measured);
}

/** The median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
