import { type ChildProcess, execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RawHandleBackend } from '../../src';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/** Port numbers change from run to run: `port 41447` and `127.0.0.1:41447` become `<port>`. */
function normalize(text: string): string {
  return text
    .replace(/port \d+/g, 'port <port>')
    .replace(/([\d\]]):\d{1,5}\b/g, '$1:<port>')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim();
}

/** Runs an example the way a reader would (ts-node from source) and returns its standard output. */
async function runExample(file: string, args: string[] = []): Promise<string> {
  const { stdout } = await run(process.execPath, ['-r', 'ts-node/register/transpile-only', file, ...args], {
    cwd: root,
    timeout: 30_000,
  });
  return stdout;
}

/** Programs started by a test; whatever a failing test leaves running is ended after it. */
const started: ChildProcess[] = [];
afterEach(async () => {
  for (const child of started.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
});

/** A program started in the background: its output so far, a way to wait for a line, and its exit. */
function startProgram(file: string, args: string[]) {
  return startCommand(process.execPath, ['-r', 'ts-node/register/transpile-only', file, ...args]);
}

/** Runs `command` in the repository, collecting its output; `waitFor` resolves once stdout matches. */
function startCommand(command: string, args: string[]) {
  const child: ChildProcess = spawn(command, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const waitFor = async (pattern: RegExp): Promise<RegExpExecArray> => {
    for (;;) {
      const match = pattern.exec(stdout);
      if (match !== null) return match;
      if (child.exitCode !== null) throw new Error(`exited before printing ${String(pattern)}:\n${stdout}${stderr}`);
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), exited]);
    }
  };
  return { child, waitFor, exited, output: () => stdout, errors: () => stderr };
}

/** Starts a server example, waits for `lines` lines of output, stops it with SIGTERM; resolves with the output and exit code. */
async function runServerExample(file: string, args: string[], lines: number): Promise<{ output: string; code: number | null }> {
  const server = startProgram(file, args);
  await server.waitFor(new RegExp(`^(?:.*\\n){${lines}}`));
  server.child.kill('SIGTERM'); // once: a second SIGTERM would mean "force"
  const code = await server.exited;
  return { output: server.output(), code };
}

/** The walkthrough's "<!-- output: program args -->" blocks: what each step should print. */
const walkthrough = readFileSync(join(root, 'docs', 'WALKTHROUGH.md'), 'utf8');
const steps = [...walkthrough.matchAll(/<!-- output: (\S+)((?: \S+)*) -->\n```text\n([\s\S]*?)```/g)].map((m) => ({
  file: m[1],
  args: m[2].trim() === '' ? [] : m[2].trim().split(' '),
  expected: m[3],
}));

describe('docs/WALKTHROUGH.md: every step prints what the page says', () => {
  test('the page has a block for each of the ten steps', () => {
    expect(steps.map((s) => s.file)).toEqual([
      'examples/01-listen-and-accept.ts',
      'examples/02-read-and-write.ts',
      'examples/03-level-edge-oneshot.ts',
      'examples/04-timers-and-idle-timeouts.ts',
      'examples/05-backpressure.ts',
      'examples/06-several-listeners.ts',
      'examples/07-graceful-shutdown.ts',
      'examples/http-server.ts',
      'examples/09-past-one-core.ts',
      'examples/10-beyond-tcp.ts',
    ]);
  });

  test.each(steps)('$file', async ({ file, args, expected }) => {
    if (args.includes('--port')) {
      // A server: it runs until stopped; SIGTERM ends it cleanly.
      const { output, code } = await runServerExample(file, args, expected.trim().split('\n').length);
      expect(normalize(output)).toBe(normalize(expected));
      expect(code).toBe(0);
      return;
    }
    expect(normalize(await runExample(file, args))).toBe(normalize(expected));
  });
});

describe('examples/timers-demo.ts', () => {
  let output = '';
  beforeAll(async () => {
    output = await runExample('examples/timers-demo.ts');
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

describe('examples/uppercase-server.ts and echo-server.ts run as programs', () => {
  test.each([
    ['examples/uppercase-server.ts', /uppercase server listening on 127\.0\.0\.1:([1-9]\d*)/],
    ['examples/echo-server.ts', /echo server listening on 127\.0\.0\.1:([1-9]\d*)/],
  ])('%s starts, says which port it got, and stops on SIGTERM with exit code 0', async (file, pattern) => {
    const { output, code } = await runServerExample(file, ['--port', '0'], 1);
    expect(output).toMatch(pattern); // a real port, not the 0 it was asked for
    expect(code).toBe(0);
  });
});

describe('examples/udp-echo-server.ts runs as a program', () => {
  test.each(['libuv', 'raw'])(
    'on %s: echoes each datagram to its sender whole, and SIGTERM (read from a signal descriptor) stops it',
    async (backend) => {
      if (backend === 'raw' && !RawHandleBackend.available()) return; // this Node lacks the raw bindings
      const server = startProgram('examples/udp-echo-server.ts', ['--port', '0', '--backend', backend]);
      const port = Number((await server.waitFor(/udp echo server listening on 127\.0\.0\.1:([1-9]\d*)/))[1]);
      const client = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
      const answers: string[] = [];
      client.on('message', (data) => answers.push(data.toString()));
      for (const text of ['one', 'and two']) client.send(text, port, '127.0.0.1');
      while (answers.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(answers.sort()).toEqual(['and two', 'one']);
      await new Promise<void>((resolve) => client.close(() => resolve()));
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(server.output()).toContain('stopped; dropped: 0 datagrams for a full receive queue, 0 answers for a full send queue');
    },
  );
});

/** GETs `path` on a new connection (to a port, or to a Unix socket's file) that closes after the response: nothing stays open in the test. */
function get(to: number | { socketPath: string }, path: string): Promise<{ status: number; body: string }> {
  const address = typeof to === 'number' ? { host: '127.0.0.1', port: to } : to;
  return new Promise((resolve, reject) => {
    http
      .get({ ...address, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** Sends `text` to an echo server and resolves with what came back once it is all there. */
function echoRoundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.on('data', (d) => {
      got += d.toString();
      if (got.length >= text.length) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
  });
}

describe('examples/demo.ts (npm start)', () => {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  test('under a process manager: a SIGTERM to the npm process reaches the demo, which stops gracefully', async () => {
    const npm = startCommand('npm', ['start', '--', '--host', '127.0.0.1', '--http-port', '0', '--echo-port', '0']);
    const [, pid] = await npm.waitFor(/pid (\d+)\)/);
    const demoPid = Number(pid);
    await npm.waitFor(/echo: listening/);
    try {
      npm.child.kill('SIGTERM');
      await npm.exited;
      expect(npm.output()).toMatch(/stopped: \d+ requests served/);
      expect(alive(demoPid)).toBe(false); // not left running behind a shell that the signal killed
    } finally {
      if (alive(demoPid)) process.kill(demoPid, 'SIGKILL'); // the demo this test started
    }
  }, 60_000);

  test('serves HTTP and echo, says where, and stops gracefully on SIGINT', async () => {
    const demo = startProgram('examples/demo.ts', ['--host', '127.0.0.1', '--http-port', '0', '--echo-port', '0']);
    const [, httpPort] = await demo.waitFor(/http: listening on 127\.0\.0\.1:(\d+)/);
    const [, echoPort] = await demo.waitFor(/echo: listening on 127\.0\.0\.1:(\d+)/);
    expect(Number(httpPort)).toBeGreaterThan(0);

    const hello = await get(Number(httpPort), '/');
    expect(hello).toEqual({ status: 200, body: expect.stringMatching(/hello/i) as string });
    const stats = await get(Number(httpPort), '/stats');
    // The first connection may still be closing (its FIN in flight): count accepts and requests, not open connections.
    expect(JSON.parse(stats.body)).toEqual(expect.objectContaining({ accepts: 2, requests: 2 }));
    expect(await echoRoundTrip(Number(echoPort), 'ping over tcp')).toBe('ping over tcp');

    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
    expect(demo.output()).toMatch(/stopped: [1-9]\d* requests served/);
  });

  test('--workers 2: two worker processes share the ports, /stats says which one answered, SIGINT stops them all', async () => {
    const demo = startProgram('examples/demo.ts', ['--host', '127.0.0.1', '--http-port', '0', '--echo-port', '0', '--workers', '2']);
    const [, httpPort] = await demo.waitFor(/http: listening on 127\.0\.0\.1:(\d+)/);
    const [, echoPort] = await demo.waitFor(/echo: listening on 127\.0\.0\.1:(\d+)/);
    expect(demo.output()).toMatch(/on 2 workers \(cluster\)/);
    const answers = [];
    for (let i = 0; i < 2; i++) answers.push(JSON.parse((await get(Number(httpPort), '/stats')).body) as { worker: number; pid: number });
    expect(answers.map((a) => a.worker).sort()).toEqual([1, 2]); // handed out in turn: one connection each
    expect(new Set(answers.map((a) => a.pid)).size).toBe(2);
    expect(await echoRoundTrip(Number(echoPort), 'ping a worker')).toBe('ping a worker');
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
    expect(demo.output()).toMatch(/stopped: 3 connections accepted by 2 workers \(0 restarts\)/);
  }, 60_000);

  test('--http-socket PATH: HTTP on a Unix domain socket instead of a port; the file is gone after SIGINT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsreactor-demo-'));
    const socketPath = join(dir, 'http.sock');
    try {
      const demo = startProgram('examples/demo.ts', ['--host', '127.0.0.1', '--http-socket', socketPath, '--echo-port', '0']);
      await demo.waitFor(/echo: listening/);
      expect(demo.output()).toContain(`http: listening on unix:${socketPath}   try: curl --unix-socket ${socketPath} http://localhost/`);
      expect(await get({ socketPath }, '/')).toEqual({ status: 200, body: expect.stringMatching(/hello/i) as string });
      const stats = JSON.parse((await get({ socketPath }, '/stats')).body) as { requests: number };
      expect(stats.requests).toBe(2);
      demo.child.kill('SIGINT');
      expect(await demo.exited).toBe(0);
      expect(existsSync(socketPath)).toBe(false); // the listener removed its file
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--help explains the flags and exits 0', async () => {
    const help = startProgram('examples/demo.ts', ['--help']);
    expect(await help.exited).toBe(0);
    for (const flag of ['--host', '--http-port', '--http-socket', '--echo-port', '--workers', '--sharing', '--no-status'])
      expect(help.output()).toContain(flag);
  });

  test('a bad port is refused with a message naming the flag, exit code 1', async () => {
    const bad = startProgram('examples/demo.ts', ['--http-port', 'eighty']);
    expect(await bad.exited).toBe(1);
    expect(bad.errors()).toContain('--http-port must be a port number');
  });
});
