/** One row of the stress summary: what was thrown at the server, and what it lost or leaked. */
export interface StressRow {
  name: string;
  /** The load that ran, in words with counts ("10,000 clients x 64 KiB"). */
  load: string;
  /** Faults survived ("2,500 resets mid-write"), or "-". */
  faults: string;
  /** Bad inputs tried ("20,000 fuzzed requests"), or "-". */
  badInputs: string;
  /** Bytes or answers lost or corrupted, and what was left holding memory afterwards: both should be 0. */
  lost: number;
  leaked: number;
  /** What the row must show to pass, in words. */
  target: string;
  /** Whether it did. */
  met: boolean;
  /** Anything else worth reading (latencies, counts), or "". */
  notes: string;
}

/** The rows as a Markdown table, with a line saying how they were made. */
export function stressTable(rows: readonly StressRow[]): string {
  const lines = [
    '| scenario | load | faults survived | bad inputs | lost | leaked | target | notes |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.name} | ${row.load} | ${row.faults} | ${row.badInputs} | **${row.lost}** | **${row.leaked}** | ${row.target}: ${row.met ? 'met' : 'MISSED'} | ${row.notes} |`,
    );
  }
  return lines.join('\n');
}

/** 12345 -> "12,345". */
export const count = (n: number): string => n.toLocaleString('en-US');
