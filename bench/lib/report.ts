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
}

/** `better` is built in: a ratio above 1 always means this beats the baseline. */
export function ratioOf(row: Row): number | undefined {
  if (row.baselineValue === undefined) return undefined;
  return row.better === 'lower' ? row.baselineValue / row.value : row.value / row.baselineValue;
}

function format(value: number): string {
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
      row.target === undefined ? "" : `${Number(row.target.toFixed(2))}x ${ratio !== undefined && ratio >= row.target ? "met" : "MISSED"}`,
    ];
  });
  const header = ['figure', 'value', 'baseline (same run)', 'ratio', 'target'];
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();
  console.log(`\n${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of cells) console.log(line(r));
}

/** The median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
