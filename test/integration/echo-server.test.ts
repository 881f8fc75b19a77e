import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { join } from 'node:path';
import { startEchoServer } from '../../examples/echo-server';
import { leakedSince, resourceCounts, settleHandles } from '../helpers/resources';

/** Sends `payload` in pieces of `pieceSize`, half-closes, and resolves with everything echoed back. */
function echoThrough(port: number, payload: Buffer, pieceSize: number, readSlowly = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (readSlowly) {
        socket.pause();
        setTimeout(() => socket.resume(), 1);
      }
    });
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('connect', () => {
      for (let at = 0; at < payload.length; at += pieceSize) socket.write(payload.subarray(at, at + pieceSize));
      socket.end();
    });
  });
}

describe('examples/echo-server.ts', () => {
  let before: Record<string, number>;
  beforeEach(() => {
    before = resourceCounts();
  });
  afterEach(async () => {
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  test.each(['edge', 'level', 'oneshot'] as const)(
    '%s-triggered: echoes every byte back to many clients at once, small and large, fast and slow readers',
    async (trigger) => {
      const server = await startEchoServer({ port: 0, trigger });
      try {
        const payloads = Array.from({ length: 24 }, (_, i) => randomBytes(i % 4 === 0 ? 3 * 1024 * 1024 : 1 + i * 997));
        const echoed = await Promise.all(
          // One-byte pieces for the small payloads; large ones in 64 KiB writes, some read slowly.
          payloads.map((p, i) => echoThrough(server.port, p, p.length < 32 * 1024 ? 1 : 64 * 1024, i % 5 === 0)),
        );
        echoed.forEach((e, i) => {
          expect(e.length).toBe(payloads[i].length);
          expect(e.equals(payloads[i])).toBe(true);
        });
      } finally {
        await server.stop();
      }
    },
  );

  test("an unknown trigger is refused with a RangeError naming 'trigger'", async () => {
    await expect(startEchoServer({ port: 0, trigger: 'sideways' as 'edge' })).rejects.toThrow(/'trigger' must be/);
  });

  test('runs as a program: prints its port, echoes, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join('examples', 'echo-server.ts'), '--port', '0'], {
      cwd: join(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const match = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        });
        child.once('exit', () => reject(new Error(`exited early: ${out}`)));
      });
      const payload = randomBytes(200_000);
      expect((await echoThrough(port, payload, 4096)).equals(payload)).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 30_000);
});
