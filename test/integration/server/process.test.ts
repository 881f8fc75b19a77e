import { type ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

/** Starts the fixture server in a shell with `prelude` run first (a ulimit, say); resolves with its port. */
async function startServer(
  prelude = '',
): Promise<{ child: ChildProcess; port: number; output: () => string; exited: Promise<number | null> }> {
  const command = `${prelude} exec "${process.execPath}" -r ts-node/register/transpile-only test/fixtures/echo-loop-server.ts`;
  const child = spawn('bash', ['-c', command], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const check = setInterval(() => {
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (match) {
        clearInterval(check);
        resolve(Number(match[1]));
      }
    }, 10);
    void exited.then(() => {
      clearInterval(check);
      reject(new Error(`server exited early: ${out}`));
    });
  });
  return { child, port, output: () => out, exited };
}

function echoOnce(port: number, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= message.length) socket.end();
    });
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(message));
  });
}

describe('the server in a child process', () => {
  test('under a hard limit of 64 open files: keeps running while excess connections are dropped, and serves again once they close', async () => {
    const server = await startServer('ulimit -Sn 64 && ulimit -Hn 64 &&');
    try {
      const clients: net.Socket[] = [];
      let droppedEarly = 0;
      const settled: Promise<void>[] = [];
      for (let i = 0; i < 150; i++) {
        const socket = net.connect(server.port, '127.0.0.1');
        clients.push(socket);
        settled.push(
          new Promise<void>((resolve) => {
            socket.once('close', () => {
              droppedEarly++;
              resolve();
            });
            socket.once('error', () => resolve());
            socket.setTimeout(1_000, () => resolve()); // still open: it got a descriptor
          }),
        );
      }
      await Promise.all(settled);
      expect(droppedEarly).toBeGreaterThan(0); // beyond the limit: accepted and closed at once
      expect(server.child.exitCode).toBeNull(); // still running
      await Promise.all(clients.map((c) => new Promise((r) => (c.closed ? r(undefined) : (c.once('close', r), c.destroy())))));
      await new Promise((r) => setTimeout(r, 100));
      expect(await echoOnce(server.port, 'serving again')).toBe('serving again');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 30_000);

  test('SIGTERM ends it cleanly: open connections get FIN, exit code 0', async () => {
    const server = await startServer();
    expect(await echoOnce(server.port, 'before')).toBe('before');
    const open = net.connect(server.port, '127.0.0.1');
    open.on('error', () => {});
    open.write('accepted?');
    await new Promise((r) => open.once('data', r)); // the server has it: an echo came back
    const ended = new Promise((r) => open.once('end', r));
    server.child.kill('SIGTERM');
    await ended; // the server half-closed it
    open.end(); // and we close our side: a graceful close
    expect(await server.exited).toBe(0);
    expect(server.output()).toMatch(/closed \{"accepts":2,"drops":0\}/);
  }, 30_000);
});
