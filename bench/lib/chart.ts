/**
 * The benchmark chart (docs/bench.svg): every ratio against its baseline,
 * on a logarithmic axis centred on 1x (as good as the baseline), with each
 * target marked. Green: target met; red: missed; grey: no target (shown
 * for context). A row with an absolute limit instead of a target is drawn
 * as its headroom (limit / value, or value / limit), against 1x.
 *
 * Plain SVG written by hand: no dependencies, stable output for the same
 * results (so the file only changes when the numbers do).
 */
import { format, ratioOf, type Row } from './report';

export interface ChartSection {
  /** The benchmark's name (`npm run bench -- <name>`). */
  name: string;
  rows: Row[];
}

interface Bar {
  label: string;
  ratio: number;
  target: number | undefined;
  note: string;
}

const WIDTH = 980;
const LABEL_WIDTH = 470;
const NOTE_WIDTH = 150;
const ROW_HEIGHT = 22;
const SECTION_GAP = 26;
const MIN_RATIO = 0.25;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The bars a row gives: one for its ratio against its baseline (with its
 * target, if any), and one for its limit's headroom (against 1x); none if
 * it has neither.
 */
export function barsOf(row: Row): Bar[] {
  const bars: Bar[] = [];
  const ratio = ratioOf(row);
  if (ratio !== undefined && ratio > 0) {
    bars.push({
      label: `${row.name} vs ${row.baselineName ?? 'baseline'}`,
      ratio,
      target: row.target,
      note: `${ratio.toFixed(2)}x${row.target === undefined ? '' : ` (target ${Number(row.target.toFixed(2))}x)`}`,
    });
  }
  if (row.limit !== undefined && row.value > 0) {
    bars.push({
      label: `${row.name} (limit ${row.better === 'lower' ? '<=' : '>='} ${format(row.limit)} ${row.unit})`,
      ratio: row.better === 'lower' ? row.limit / row.value : row.value / row.limit,
      target: 1,
      note: `${format(row.value)} ${row.unit}`,
    });
  }
  return bars;
}

/** Renders the chart for `sections` (benchmarks in order), titled with `subtitle` (machine, date). */
export function renderChart(sections: ChartSection[], subtitle: string): string {
  const groups = sections.map((s) => ({ name: s.name, bars: s.rows.flatMap(barsOf) })).filter((g) => g.bars.length > 0);
  const allRatios = groups.flatMap((g) => g.bars.flatMap((b) => [b.ratio, b.target ?? 1]));
  const maxRatio = 2 ** Math.max(2, Math.ceil(Math.log2(Math.max(...allRatios, 1))));
  const minRatio = Math.min(MIN_RATIO, 2 ** Math.floor(Math.log2(Math.min(...allRatios, 1))));
  const plotLeft = LABEL_WIDTH + 10;
  const plotWidth = WIDTH - plotLeft - NOTE_WIDTH;
  const x = (ratio: number) =>
    plotLeft + ((Math.log2(ratio) - Math.log2(minRatio)) / (Math.log2(maxRatio) - Math.log2(minRatio))) * plotWidth;

  const top = 64;
  const rowCount = groups.reduce((n, g) => n + g.bars.length, 0);
  const height = top + rowCount * ROW_HEIGHT + groups.length * SECTION_GAP + 56;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="16" font-weight="600">tsreactor benchmarks: each figure against its baseline, same run</text>`,
    `<text x="12" y="40" fill="#555">${escape(subtitle)}</text>`,
  );
  // Grid: powers of two, 1x (the baseline) in bold.
  const bottom = height - 44;
  for (let r = minRatio; r <= maxRatio; r *= 2) {
    const gx = x(r).toFixed(1);
    out.push(
      `<line x1="${gx}" y1="${top - 8}" x2="${gx}" y2="${bottom}" stroke="${r === 1 ? '#333' : '#ddd'}" stroke-width="${r === 1 ? 1.5 : 1}"/>`,
      `<text x="${gx}" y="${bottom + 14}" text-anchor="middle" fill="#555">${r >= 1 ? r : `1/${1 / r}`}x</text>`,
    );
  }
  out.push(`<text x="${x(1).toFixed(1)}" y="${top - 12}" text-anchor="middle" fill="#333">baseline</text>`);

  let y = top;
  for (const group of groups) {
    y += SECTION_GAP - 8;
    out.push(`<text x="12" y="${y}" font-weight="600">${escape(group.name)}</text>`);
    y += 8;
    for (const bar of group.bars) {
      const colour = bar.target === undefined ? '#9e9e9e' : bar.ratio >= bar.target ? '#2e7d32' : '#c62828';
      const from = x(1);
      const to = x(Math.min(Math.max(bar.ratio, minRatio), maxRatio));
      const left = Math.min(from, to);
      const mid = y + ROW_HEIGHT / 2;
      out.push(
        `<text x="20" y="${mid + 4}" fill="#222">${escape(shorten(bar.label, 78))}</text>`,
        `<rect x="${left.toFixed(1)}" y="${y + 4}" width="${Math.max(Math.abs(to - from), 1.5).toFixed(1)}" height="${ROW_HEIGHT - 8}" fill="${colour}" rx="2"/>`,
      );
      if (bar.target !== undefined) {
        const tx = x(bar.target).toFixed(1);
        out.push(
          `<line x1="${tx}" y1="${y + 1}" x2="${tx}" y2="${y + ROW_HEIGHT - 1}" stroke="#000" stroke-width="2" stroke-dasharray="3,2"/>`,
        );
      }
      out.push(`<text x="${WIDTH - NOTE_WIDTH + 8}" y="${mid + 4}" fill="${colour}">${escape(bar.note)}</text>`);
      y += ROW_HEIGHT;
    }
  }
  out.push(
    `<text x="12" y="${height - 8}" fill="#555">bars: ratio (above 1x: better than the baseline); dashed: target; green met, red missed, grey no target</text>`,
    '</svg>',
    '',
  );
  return out.join('\n');
}
