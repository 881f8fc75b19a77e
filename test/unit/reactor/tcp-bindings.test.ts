import { RawHandleBackend, ReactorError } from '../../../src';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadTcpBindings, processRefusal } from '../../../src/reactor/backends/raw/tcp-bindings';

/** The real bindings, reached the way the backend reaches them. */
const real = (name: string): unknown => (process as unknown as { binding(name: string): unknown }).binding(name);

/** The real bindings with one member taken away (or replaced). */
function without(bindingName: string, member: string, replacement?: unknown) {
  return (name: string): unknown => {
    const binding = real(name) as Record<string, unknown>;
    if (name !== bindingName) return binding;
    return Object.fromEntries(
      Object.entries({ ...binding, [member]: replacement }).filter(([key, value]) => key !== member || value !== undefined),
    );
  };
}

function refusal(load: () => unknown): ReactorError {
  try {
    load();
  } catch (err) {
    return err as ReactorError;
  }
  throw new Error('it loaded');
}

describe('the raw-handle backend finds out whether it can run', () => {
  test('on this Node it can', () => {
    expect(RawHandleBackend.available()).toBe(true);
    expect(() => new RawHandleBackend()).not.toThrow();
  });

  test.each([
    ['no process.binding at all', null, /process\.binding is not available/],
    [
      'process.binding refused (a permission model)',
      () => {
        throw new Error('Access to this API has been restricted');
      },
      /process\.binding refused \(Access to this API has been restricted\)/,
    ],
    ['a class that is not there', without('tcp_wrap', 'TCPConnectWrap'), /tcp_wrap\.TCPConnectWrap is missing/],
    ['a constant that is not there', without('stream_wrap', 'kLastWriteWasAsync'), /stream_wrap\.kLastWriteWasAsync is missing/],
    ['shared state of another type', without('stream_wrap', 'streamBaseState', new Float64Array(4)), /streamBaseState is missing/],
    [
      'a write convention it does not know: a new state field',
      without('stream_wrap', 'kLastWriteFlags', 9),
      /laid out in a way this backend does not know/,
    ],
    [
      'a write convention it does not know: the state grew',
      without('stream_wrap', 'streamBaseState', new Int32Array(7)),
      /laid out in a way this backend does not know \(.*; 7 fields\)/,
    ],
  ])('%s: ERR_BACKEND_UNAVAILABLE, saying what and what to use instead', (_what, source, message) => {
    const error = refusal(() => loadTcpBindings(source));
    expect(error).toBeInstanceOf(ReactorError);
    expect(error.code).toBe('ERR_BACKEND_UNAVAILABLE');
    expect(error.message).toMatch(message);
    expect(error.message).toContain('Use the default LibuvBackend');
  });

  test.each([
    ['--throw-deprecation', { throwDeprecation: true, execArgv: ['--throw-deprecation'], env: {} }, /--throw-deprecation/],
    [
      '--throw-deprecation in NODE_OPTIONS',
      { execArgv: [], env: { NODE_OPTIONS: '--max-old-space-size=100 --throw-deprecation' } },
      /--throw-deprecation/,
    ],
    ['--pending-deprecation', { execArgv: ['--pending-deprecation'], env: {} }, /--pending-deprecation/],
    ['NODE_PENDING_DEPRECATION=1', { execArgv: [], env: { NODE_PENDING_DEPRECATION: '1' } }, /--pending-deprecation/],
    [
      'the permission model',
      { execArgv: ['--permission'], env: {}, permission: { has: () => false } },
      /permission model \(--permission\) refuses internal bindings/,
    ],
  ])('%s: refused before process.binding is touched, saying why', (_what, flags, message) => {
    expect(processRefusal(flags)).toMatch(message);
  });

  test('no such flag: nothing to refuse', () => {
    expect(processRefusal({ execArgv: ['--expose-gc'], env: { NODE_OPTIONS: '--max-old-space-size=100' } })).toBeUndefined();
  });

  test('under --throw-deprecation a real process asks, is told no, and does not crash', () => {
    const script =
      "const { RawHandleBackend } = require('./src'); console.log(RawHandleBackend.available()); setTimeout(() => console.log('still alive'), 20);";
    const run = spawnSync(process.execPath, ['--throw-deprecation', '-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: join(__dirname, '../../..'),
      encoding: 'utf8',
    });
    expect({ status: run.status, stdout: run.stdout }).toEqual({ status: 0, stdout: 'false\nstill alive\n' });
  }, 30_000);

  test('under the permission model a real process is refused, and told why', () => {
    const flag = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
    const script =
      "const { RawHandleBackend } = require('./src'); try { new RawHandleBackend(); console.log('constructed') } catch (e) { console.log(e.code, e.message) }";
    const run = spawnSync(process.execPath, [flag, '--allow-fs-read=*', '-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: join(__dirname, '../../..'),
      encoding: 'utf8',
    });
    expect(run.stdout).toMatch(/^ERR_BACKEND_UNAVAILABLE .*permission model \(--permission\) refuses internal bindings/);
  }, 30_000);

  test('a refusal is not remembered: the real bindings still load afterwards', () => {
    expect(() => loadTcpBindings(null)).toThrow();
    expect(loadTcpBindings().TCP).toBeDefined();
  });

  test('bad options are RangeErrors naming the option', () => {
    expect(() => new RawHandleBackend({ inboxLimit: 0 })).toThrow("'inboxLimit' must be a whole number of bytes >= 1, got 0");
    expect(() => new RawHandleBackend({ highWaterMark: 1.5 })).toThrow("'highWaterMark' must be a whole number");
  });
});
