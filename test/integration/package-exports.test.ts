import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/**
 * The published shape: after `npm run build`, `require('tsreactor')` and
 * `import ... from 'tsreactor'` both work, give the same classes, and carry
 * types for TypeScript consumers of either module system.
 */
describe('the package as a consumer sees it', () => {
  let consumer = '';

  beforeAll(async () => {
    await run(process.execPath, [join(root, 'scripts', 'build.js')], { cwd: root, timeout: 120_000 });
    // A consumer project with tsreactor installed (as a link to this checkout).
    consumer = mkdtempSync(join(tmpdir(), 'tsreactor-consumer-'));
    mkdirSync(join(consumer, 'node_modules'));
    symlinkSync(root, join(consumer, 'node_modules', 'tsreactor'), 'dir');
  }, 120_000);

  afterAll(() => {
    if (consumer !== '') rmSync(consumer, { recursive: true, force: true });
  });

  test('require() and import give the same classes', async () => {
    const script = `
      import { TimerWheel, ManualClock } from 'tsreactor';
      import { createRequire } from 'node:module';
      const required = createRequire(import.meta.url)('tsreactor');
      const wheel = new TimerWheel({ clock: new ManualClock() });
      console.log(JSON.stringify({ same: required.TimerWheel === TimerWheel, size: wheel.size }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer });
    expect(JSON.parse(stdout)).toEqual({ same: true, size: 0 });
  });

  test('the published types hold no member marked @internal', () => {
    const declarations = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? declarations(join(dir, entry.name)) : entry.name.endsWith('.d.ts') ? [join(dir, entry.name)] : [],
      );
    const files = declarations(join(root, 'dist', 'cjs'));
    expect(files.length).toBeGreaterThan(20);
    expect(files.filter((file) => readFileSync(file, 'utf8').includes('@internal'))).toEqual([]);
    const connection = readFileSync(join(root, 'dist', 'cjs', 'server', 'connection.d.ts'), 'utf8');
    for (const member of ['markClosed', 'idleTimer', 'newer', 'readAvailable', 'flush(']) expect(connection).not.toContain(member);
    expect(connection).toContain('send(data');
  });

  test('tsreactor/fast-check gives a schedule arbitrary to both module systems', async () => {
    const script = `
      import { scheduleArbitrary } from 'tsreactor/fast-check';
      import { createRequire } from 'node:module';
      const required = createRequire(import.meta.url)('tsreactor/fast-check');
      const arbitrary = scheduleArbitrary({ kinds: ['reset'], maxDecisions: 2 });
      console.log(JSON.stringify({ same: required.scheduleArbitrary === scheduleArbitrary, canGenerate: typeof arbitrary.generate }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer });
    expect(JSON.parse(stdout)).toEqual({ same: true, canGenerate: 'function' });
  });

  test('types resolve for both an ES module and a CommonJS consumer', async () => {
    const body = `
      const clock = new ManualClock();
      const wheel = new TimerWheel({ clock });
      const handle: TimerHandle = wheel.schedule(5, (n: number) => n + 1, 41);
      export const pending: boolean = wheel.has(handle);
    `;
    writeFileSync(join(consumer, 'esm.mts'), `import { ManualClock, TimerWheel, type TimerHandle } from 'tsreactor';\n${body}`);
    writeFileSync(join(consumer, 'cjs.cts'), `import { ManualClock, TimerWheel, type TimerHandle } from 'tsreactor';\n${body}`);
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'node16',
          moduleResolution: 'node16',
          target: 'es2022',
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
        },
        files: ['esm.mts', 'cjs.cts'],
      }),
    );
    const tsc = require.resolve('typescript/bin/tsc');
    await expect(run(process.execPath, [tsc, '-p', consumer], { cwd: consumer })).resolves.toBeDefined();
  }, 60_000);
});
