import { type ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import { join } from 'node:path';
import { RawHandleBackend } from '../../../src';
import { nodeSupportsReusePort } from '../../../src/reactor/backends/libuv-backend';

const root = join(__dirname, '..', '..', '..');

interface FixtureEvent {
  event: string;
  id?: number;
  pid?: number;
  code?: number | null;
  signal?: string | null;
  restart?: number;
  listening?: { host: string; port: number }[];
  report?: Record<string, unknown> & { workers: { id: number; exitCode: number | null }[] };
}

/** The fixture's primary in a child process, and what it has printed. */
function startWorkers(...args: string[]) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'test/fixtures/workers-server.ts', ...args],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const events: FixtureEvent[] = [];
  let stderr = '';
  let waiters: (() => void)[] = [];
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('{')) events.push(JSON.parse(line) as FixtureEvent);
    for (const w of waiters) w();
  });
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  /** Resolves with the events once `predicate` holds of them (checked as lines arrive). */
  const until = (predicate: (all: FixtureEvent[]) => boolean, what: string): Promise<FixtureEvent[]> =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (predicate(events)) {
          waiters = waiters.filter((w) => w !== check);
          resolve(events);
        }
      };
      waiters.push(check);
      void exited.then(() => {
        if (!predicate(events)) reject(new Error(`the primary exited before ${what}: ${JSON.stringify(events)} ${stderr}`));
      });
      check();
    });
  return { child, events, until, exited, stderr: () => stderr };
}

const ready = (events: FixtureEvent[]) => events.filter((e) => e.event === 'ready');

type Client = Awaited<ReturnType<typeof client>>;

/** A client: connected, greeted by the worker that took it ("worker <id> pid <pid>"). */
async function client(port: number): Promise<{ socket: net.Socket; worker: number; pid: number; ended: Promise<string> }> {
  const socket = net.connect(port, '127.0.0.1');
  let buffered = '';
  const ended = new Promise<string>((resolve) => {
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    socket.on('end', () => resolve('end'));
    socket.on('close', () => resolve('close'));
  });
  const greeting = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      buffered += d.toString();
      const nl = buffered.indexOf('\n');
      if (nl >= 0) {
        socket.off('data', onData);
        resolve(buffered.slice(0, nl));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  const [, worker, pid] = /^worker (\d+) pid (\d+)$/.exec(greeting) ?? [];
  return { socket, worker: Number(worker), pid: Number(pid), ended };
}

function echo(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(text);
  });
}

/** Echoes 256 bytes again and again on `socket` until `stop()`; `rounds` counts the round trips completed. */
function pump(socket: net.Socket) {
  const message = 'x'.repeat(256);
  let received = 0;
  let running = true;
  const state = { rounds: 0, failed: undefined as string | undefined, stop: () => (running = false) };
  socket.on('data', (d: Buffer) => {
    received += d.length;
    if (received < message.length) return;
    received -= message.length;
    state.rounds++;
    if (running) socket.write(message);
  });
  socket.on('error', (err: NodeJS.ErrnoException) => (state.failed = err.code));
  socket.write(message);
  return state;
}

/** Resolves once `condition` holds (checked every 10 ms, at most `ms`). */
async function eventually(condition: () => boolean, ms = 10_000): Promise<void> {
  for (const start = Date.now(); !condition() && Date.now() - start < ms;) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

function destroyAll(sockets: net.Socket[]): Promise<unknown> {
  return Promise.all(sockets.map((s) => new Promise((r) => (s.closed ? r(undefined) : (s.once('close', r), s.destroy())))));
}

/** A port that was free a moment ago (bound on port 0, then closed): for reusePort, where every worker must be told the same port. */
async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('runWorkers: one event loop per worker process', () => {
  test('cluster sharing: two workers share the port; one killed loses its connections, the other serves on, it is restarted; SIGTERM closes all with one report', async () => {
    const fixture = startWorkers('--workers', '2', '--sharing', 'cluster');
    const sockets: net.Socket[] = [];
    try {
      await fixture.until((all) => ready(all).length === 2, 'two workers were ready');
      const [first, second] = ready(fixture.events);
      const port = first.listening?.[0].port as number;
      expect(second.listening?.[0].port).toBe(port); // port 0, chosen once by the primary, shared

      const clients: Client[] = [];
      for (let i = 0; i < 4; i++) clients.push(await client(port));
      sockets.push(...clients.map((c) => c.socket));
      expect(new Set(clients.map((c) => c.worker))).toEqual(new Set([1, 2])); // round-robin: both serve

      const victim = clients[0];
      const survivors = clients.filter((c) => c.worker !== victim.worker);
      const pumps = clients.map((c) => pump(c.socket)); // every connection busy: the kill lands under load
      await eventually(() => pumps.every((p) => p.rounds >= 20));
      process.kill(victim.pid, 'SIGKILL');
      for (const c of clients.filter((c) => c.worker === victim.worker)) expect(await c.ended).toMatch(/^(ECONNRESET|end|close)$/);
      // The other worker's connections go on echoing, round after round, past the kill.
      const atKill = pumps.map((p) => p.rounds);
      await eventually(() => clients.every((c, i) => c.worker === victim.worker || pumps[i].rounds >= atKill[i] + 100));
      for (const [i, c] of clients.entries()) if (c.worker !== victim.worker) expect(pumps[i].failed).toBeUndefined();
      for (const p of pumps) p.stop();
      await new Promise((r) => setTimeout(r, 50)); // the last round trips in flight come back
      for (const c of survivors) {
        c.socket.removeAllListeners('data');
        expect(await echo(c.socket, 'still here')).toBe('still here');
      }

      const restarted = await fixture.until(
        (all) => ready(all).some((e) => e.id === victim.worker && e.pid !== victim.pid),
        'the killed worker was restarted',
      );
      const exit = restarted.find((e) => e.event === 'exit');
      expect(exit).toMatchObject({ id: victim.worker, pid: victim.pid, signal: 'SIGKILL' });
      // At once, or after 100 ms if the kill came within 2 s of its serving (it might have been crashing at start).
      expect([0, 100]).toContain(exit?.restart);

      const later = [];
      for (let i = 0; i < 4; i++) later.push(await client(port));
      sockets.push(...later.map((c) => c.socket));
      expect(new Set(later.map((c) => c.worker))).toEqual(new Set([1, 2]));

      // Graceful shutdown of all: every open connection gets our FIN, one combined report.
      const open = [...survivors, ...later];
      fixture.child.kill('SIGTERM');
      for (const c of open) expect(await c.ended).toBe('end');
      await fixture.until((all) => all.some((e) => e.event === 'closed'), 'the closed report');
      expect(await fixture.exited).toBe(0);
      const { report } = fixture.events.find((e) => e.event === 'closed') as FixtureEvent;
      expect(report).toMatchObject({ graceful: open.length, forced: 0, restarts: 1, killed: 0, gaveUp: 0 });
      expect(report?.workers.map((w) => [w.id, w.exitCode])).toEqual([
        [1, 0],
        [2, 0],
      ]);
    } finally {
      await destroyAll(sockets);
      if (fixture.child.exitCode === null) fixture.child.kill('SIGKILL');
      await fixture.exited;
    }
  }, 60_000);

  (nodeSupportsReusePort() ? test : test.skip)(
    'reusePort sharing: each worker binds the port itself and the kernel spreads connections over them',
    async () => {
      const port = await freePort();
      const fixture = startWorkers('--workers', '2', '--sharing', 'reusePort', '--port', String(port));
      const sockets: net.Socket[] = [];
      try {
        await fixture.until((all) => ready(all).length === 2, 'two workers were ready');
        expect(ready(fixture.events).map((e) => e.listening?.[0].port)).toEqual([port, port]);
        const clients = [];
        for (let i = 0; i < 24; i++) clients.push(await client(port)); // hashed by address and port: all 24 on one worker is a 1 in 2^23 chance
        sockets.push(...clients.map((c) => c.socket));
        expect(new Set(clients.map((c) => c.worker))).toEqual(new Set([1, 2]));
        fixture.child.kill('SIGTERM');
        await fixture.until((all) => all.some((e) => e.event === 'closed'), 'the closed report');
        expect(await fixture.exited).toBe(0);
      } finally {
        await destroyAll(sockets);
        if (fixture.child.exitCode === null) fixture.child.kill('SIGKILL');
        await fixture.exited;
      }
    },
    60_000,
  );

  (RawHandleBackend.available() ? test : test.skip)(
    "a worker that cannot start (raw handles cannot share the primary's socket) is given up after maxRestarts, with the reason",
    async () => {
      const fixture = startWorkers('--workers', '1', '--sharing', 'cluster', '--backend', 'raw', '--max-restarts', '1');
      try {
        const events = await fixture.until((all) => all.some((e) => e.event === 'closed'), 'the primary gave up');
        expect(events.filter((e) => e.event === 'exit').map((e) => e.restart)).toEqual([100, undefined]); // once more after 100 ms, then no more
        expect((events.find((e) => e.event === 'closed') as FixtureEvent).report).toMatchObject({ gaveUp: 1, restarts: 1 });
        expect(fixture.stderr()).toMatch(/cannot share the node:cluster primary's socket/);
        await fixture.exited;
      } finally {
        if (fixture.child.exitCode === null) fixture.child.kill('SIGKILL');
        await fixture.exited;
      }
    },
    60_000,
  );
});
