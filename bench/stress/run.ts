/**
 * The stress suite: `npm run stress` runs every scenario, one after another,
 * each against a server in its own process (or, for the fuzz and the API
 * misuse, in this one on the simulator), bounded in count and time, on
 * loopback only. It shows progress, prints one table and writes it to
 * RELIABILITY.md (`--no-write`: print only). `--quick` runs small versions
 * (what `npm test` runs a part of); `--only <name>[,<name>]` some of them;
 * `--seed N` the seed of the fuzz and the misuse run (printed either way).
 *
 * Each row says what load ran, which faults and bad inputs it survived, and
 * what was lost (bytes, answers) or leaked (connections or handles left
 * open afterwards): zero is the target of those two columns.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { RawHandleBackend } from '../../src';
import { apiMisuse } from './api-misuse';
import { churnWithResets, concurrentClients } from './echo-load';
import { descriptorExhaustion, sigtermUnderLoad, slowPeers } from './hostile-peers';
import { httpFuzz } from './http-fuzz';
import { stressTable, type StressRow } from './stress-row';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = flag('quick');
const seed = Number(value('seed') ?? Date.now() % 100_000);
const only = value('only')?.split(',');
const backends: ('libuv' | 'raw')[] = RawHandleBackend.available() ? ['libuv', 'raw'] : ['libuv'];

const SCENARIOS: { name: string; run: () => Promise<StressRow[]> }[] = [
  { name: 'concurrent', run: () => each(backends, (backend) => concurrentClients({ backend, quick })) },
  { name: 'churn', run: () => each(backends, (backend) => churnWithResets({ backend, quick })) },
  { name: 'slow-peers', run: () => each(backends, (backend) => slowPeers({ backend, quick })) },
  { name: 'exhaustion', run: () => each(backends, (backend) => descriptorExhaustion({ backend, quick })) },
  { name: 'sigterm', run: () => each(backends, (backend) => sigtermUnderLoad({ backend, quick })) },
  { name: 'fuzz', run: async () => [await httpFuzz({ inputs: quick ? 2_000 : 20_000, seed })] },
  {
    name: 'misuse',
    run: () => each(['simulator', 'libuv', 'raw'] as const, (backend) => apiMisuse({ backend, calls: quick ? 2_000 : 20_000, seed })),
  },
];

async function each<B>(list: readonly B[], run: (item: B) => Promise<StressRow>): Promise<StressRow[]> {
  const rows: StressRow[] = [];
  for (const item of list) rows.push(await run(item));
  return rows;
}

async function main(): Promise<void> {
  const chosen = SCENARIOS.filter((s) => only === undefined || only.includes(s.name));
  console.log(`stress: ${chosen.length} scenarios${quick ? ' (quick)' : ''}, seed ${seed}`);
  const rows: StressRow[] = [];
  const started = Date.now();
  for (const [i, scenario] of chosen.entries()) {
    const t0 = Date.now();
    process.stdout.write(`[${i + 1}/${chosen.length}] ${scenario.name} ... `);
    const got = await scenario.run();
    rows.push(...got);
    console.log(
      `${((Date.now() - t0) / 1000).toFixed(1)} s: ${got.map((r) => `${r.met ? 'met' : 'MISSED'} (lost ${r.lost}, leaked ${r.leaked})`).join(', ')}`,
    );
  }
  const table = stressTable(rows);
  console.log(`\n${table}\n\nall done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (!flag('no-write')) writeReliability(table, seed);
  process.exitCode = rows.every((r) => r.met) ? 0 : 1;
}

const START = '<!-- stress:summary:start -->';
const END = '<!-- stress:summary:end -->';

function writeReliability(table: string, usedSeed: number): void {
  const file = join(__dirname, '..', '..', 'RELIABILITY.md');
  const machine = `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}`;
  const summary = `${START}\nRun ${new Date().toISOString().slice(0, 10)} on ${machine}: \`npm run stress${quick ? ' -- --quick' : ''}\` (seed ${usedSeed}).\n\n${table}\n${END}`;
  const text = readFileSync(file, 'utf8');
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  writeFileSync(
    file,
    from >= 0 && to > from ? text.slice(0, from) + summary + text.slice(to + END.length) : `${text.trimEnd()}\n\n${summary}\n`,
  );
}

void main();
