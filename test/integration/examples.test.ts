import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/** Runs an example the way a reader would (ts-node from source) and returns its standard output. */
async function runExample(file: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['-r', 'ts-node/register/transpile-only', join('examples', file)], {
    cwd: root,
    timeout: 20_000,
  });
  return stdout;
}

describe('examples/timers-demo.ts (npm start)', () => {
  let output = '';
  beforeAll(async () => {
    output = await runExample('timers-demo.ts');
  });

  test('real-time timers fire in deadline order, none before it is due, the cancelled one never', () => {
    const lines = output.split('\n').filter((l) => /^\s+\+\s*\d+ ms/.test(l));
    const fired = lines.map((l) => {
      const [, actual, name, due] = /\+\s*(\d+) ms\s+(.*?)\s+\(due at \+(\d+) ms\)/.exec(l) ?? [];
      return { actual: Number(actual), name, due: Number(due) };
    });
    expect(fired.map((f) => f.name)).toEqual([
      'first keep-alive probe',
      'heartbeat #1',
      'retry the connection',
      'moved earlier: 500 -> 200',
      'heartbeat #2',
      'flush the write buffer',
      'heartbeat #3',
      'moved later: 100 -> 350',
      'last timer: closing the driver',
    ]);
    // Printed rounded to whole ms; a timer is never early.
    for (const f of fired) expect(f.actual).toBeGreaterThanOrEqual(f.due);
    expect(output).not.toContain('never fires');
  });

  test('the stall section reports each missed-tick policy', () => {
    expect(output).toMatch(/skip\s+callbacks:\s+1\s+first reported 599 missed\s+next tick at 601 s/);
    expect(output).toMatch(/delay\s+callbacks:\s+1\s+first reported 599 missed\s+next tick at 601.5 s/);
    expect(output).toMatch(/burst\s+callbacks:\s+600\s+first reported 599 missed\s+next tick at 601 s/);
  });
});
