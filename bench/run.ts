/**
 * Runs the benchmarks: every bench/*.bench.ts, or the ones named on the
 * command line (`npm run bench -- timer-wheel`). Each runs in its own Node
 * process with --expose-gc, one after another, so none disturbs another.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = __dirname;
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : all) {
  console.log(`\n=== ${name} ===`);
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', '-r', 'ts-node/register/transpile-only', join(dir, `${name}.bench.ts`)],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) {
    failed++;
    console.error(`${name} failed (exit ${String(result.status ?? result.signal)})`);
  }
}
process.exit(failed > 0 ? 1 : 0);
