/**
 * The benchmark harness: `npm run bench` runs every bench/*.bench.ts,
 * `npm run bench -- <name> [<name>...]` the ones named. Each runs in its own
 * Node process with --expose-gc, one after another, so none disturbs
 * another; their progress is shown as they go (indented), with the time each
 * took.
 *
 * Each benchmark prints its tables and also hands them to the harness (see
 * `printTable` in lib/report.ts). At the end the harness prints one summary
 * table (every figure, its baseline from the same run, the ratio, the target)
 * and writes:
 * - docs/bench-results.json: the latest results of every benchmark, with the
 *   machine and the date (a run of some benchmarks replaces only theirs);
 * - docs/bench.svg: the chart of every ratio against its target;
 * - BENCHMARKS.md: the summary between its `bench:summary` markers.
 * `--no-write` prints only; `--report` runs nothing and rewrites the three
 * from docs/bench-results.json (after a change to how they are drawn).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { renderChart } from './lib/chart';
import { format, RESULTS_ENV, ratioOf, type Row, verdict } from './lib/report';

const dir = __dirname;
const root = join(dir, '..');
const RESULTS_FILE = join(root, 'docs', 'bench-results.json');
const CHART_FILE = join(root, 'docs', 'bench.svg');
const BENCHMARKS_FILE = join(root, 'BENCHMARKS.md');
const SUMMARY_START = '<!-- bench:summary:start -->';
const SUMMARY_END = '<!-- bench:summary:end -->';

/** Roughly how long each takes on the reference machine (2 cores), for the progress line. */
const EXPECTED_SECONDS: Record<string, number> = {
  'beyond-tcp': 115,
  echo: 160,
  http: 130,
  'idle-connections': 35,
  'multi-core': 60,
  simulator: 30,
  'timer-wheel': 130,
};

interface Table {
  title: string;
  rows: Row[];
}

interface BenchResult {
  ranAt: string;
  node: string;
  machine: string;
  seconds: number;
  tables: Table[];
}

interface ResultsFile {
  benches: Record<string, BenchResult>;
}

function machine(): string {
  const cpu = cpus();
  return `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform} ${release()}`;
}

/** Runs one benchmark, its output indented; resolves with its tables and how long it took. */
function runOne(name: string, resultsPath: string): Promise<{ code: number; seconds: number }> {
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '-r', 'ts-node/register/transpile-only', join(dir, `${name}.bench.ts`)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, [RESULTS_ENV]: resultsPath },
    });
    const indent = (stream: NodeJS.WritableStream) => {
      let partial = '';
      return (data: Buffer) => {
        partial += data.toString();
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) stream.write(`    ${line}\n`);
      };
    };
    child.stdout.on('data', indent(process.stdout));
    child.stderr.on('data', indent(process.stderr));
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal === null ? 1 : 128), seconds: (performance.now() - start) / 1000 }));
  });
}

function readTables(path: string): Table[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Table);
}

function readResults(): ResultsFile {
  try {
    return JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as ResultsFile;
  } catch {
    return { benches: {} };
  }
}

/** A markdown table of every benchmark's rows: the summary. */
function summaryMarkdown(results: ResultsFile): string {
  const names = Object.keys(results.benches).sort();
  const lines: string[] = [];
  const machines = [...new Set(names.map((n) => `${results.benches[n].machine}, Node ${results.benches[n].node}`))];
  lines.push(`Machine: ${machines.join('; ')}.`);
  lines.push('');
  lines.push('| benchmark | figure | value | baseline (same run) | ratio | target |');
  lines.push('|---|---|---|---|---|---|');
  for (const name of names) {
    for (const table of results.benches[name].tables) {
      for (const row of table.rows) {
        const ratio = ratioOf(row);
        const v = verdict(row);
        const baseline = row.baselineName === undefined ? '' : `${row.baselineName}: ${format(row.baselineValue ?? NaN)} ${row.unit}`;
        lines.push(
          `| ${name} | ${row.name} | ${format(row.value)} ${row.unit} | ${baseline} | ${ratio === undefined ? '' : `**${ratio.toFixed(2)}x**`} | ${v === undefined ? '' : `${v.text}: ${v.met ? 'met' : 'MISSED'}`} |`,
        );
      }
    }
  }
  const dates = names.map((n) => `${n} ${results.benches[n].ranAt.slice(0, 10)}`);
  lines.push('');
  lines.push(`Last run of each: ${dates.join(', ')}. Ratios above 1 mean tsreactor does better than the baseline.`);
  lines.push('');
  lines.push('![Every ratio against its target](docs/bench.svg)');
  return lines.join('\n');
}

function printSummary(results: ResultsFile, names: string[]): void {
  const rows = names
    .filter((name) => name in results.benches)
    .flatMap((name) => results.benches[name].tables.flatMap((t) => t.rows.map((row) => ({ name, row }))));
  const cells = rows.map(({ name, row }) => {
    const ratio = ratioOf(row);
    const v = verdict(row);
    return [
      name,
      row.name,
      `${format(row.value)} ${row.unit}`,
      row.baselineName === undefined ? '' : `${row.baselineName}: ${format(row.baselineValue ?? NaN)}`,
      ratio === undefined ? '' : `${ratio.toFixed(2)}x`,
      v === undefined ? '' : `${v.text} ${v.met ? 'met' : 'MISSED'}`,
    ];
  });
  const header = ['benchmark', 'figure', 'value', 'baseline (same run)', 'ratio', 'target'];
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c].length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd();
  console.log(`\nSummary\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of cells) console.log(line(r));
}

/** Writes docs/bench-results.json, docs/bench.svg and the summary in BENCHMARKS.md. */
function writeReports(results: ResultsFile): void {
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  const names = Object.keys(results.benches).sort();
  const sections = names.map((name) => ({ name, rows: results.benches[name].tables.flatMap((t) => t.rows) }));
  const machines = [...new Set(names.map((n) => `${results.benches[n].machine}, Node ${results.benches[n].node}`))];
  writeFileSync(CHART_FILE, renderChart(sections, `${machines.join('; ')}; npm run bench`));
  const doc = readFileSync(BENCHMARKS_FILE, 'utf8');
  const start = doc.indexOf(SUMMARY_START);
  const end = doc.indexOf(SUMMARY_END);
  if (start >= 0 && end > start) {
    writeFileSync(BENCHMARKS_FILE, `${doc.slice(0, start + SUMMARY_START.length)}\n${summaryMarkdown(results)}\n${doc.slice(end)}`);
  }
  console.log('wrote docs/bench-results.json, docs/bench.svg and the summary in BENCHMARKS.md');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const write = !args.includes('--no-write');
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => f.slice(0, -'.bench.ts'.length))
    .sort();
  const wanted = args.filter((a) => !a.startsWith('--'));
  const unknown = wanted.filter((w) => !all.includes(w));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(', ')}; available: ${all.join(', ')}`);
    process.exit(2);
  }
  const results = readResults();
  if (args.includes('--report')) {
    writeReports(results);
    return;
  }
  const names = wanted.length > 0 ? wanted : all;
  const expected = names.reduce((s, n) => s + (EXPECTED_SECONDS[n] ?? 60), 0);
  console.log(`tsreactor benchmarks: ${names.join(', ')} (about ${Math.ceil(expected / 60)} min on 2 cores)`);

  const scratch = mkdtempSync(join(tmpdir(), 'tsreactor-bench-'));
  let failed = 0;
  const started = performance.now();
  try {
    for (const [i, name] of names.entries()) {
      console.log(`\n[${i + 1}/${names.length}] ${name} (about ${EXPECTED_SECONDS[name] ?? '?'} s)`);
      const out = join(scratch, `${name}.jsonl`);
      const { code, seconds } = await runOne(name, out);
      const tables = readTables(out);
      if (code !== 0 || tables.length === 0) {
        failed++;
        console.error(`[${i + 1}/${names.length}] ${name} FAILED (exit ${code}) after ${seconds.toFixed(0)} s`);
        continue;
      }
      console.log(`[${i + 1}/${names.length}] ${name} done in ${seconds.toFixed(0)} s`);
      results.benches[name] = { ranAt: new Date().toISOString(), node: process.version, machine: machine(), seconds, tables };
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  printSummary(results, names);
  console.log(`\nall done in ${((performance.now() - started) / 1000).toFixed(0)} s${failed > 0 ? `; ${failed} failed` : ''}`);
  if (write && names.some((n) => n in results.benches)) writeReports(results);
  process.exit(failed > 0 ? 1 : 0);
}

void main();
