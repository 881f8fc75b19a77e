import { createHash, randomBytes } from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import * as net from 'node:net';
import { type CloseReason, type ConnectionHandlers, EventLoop, type EventLoopOptions } from '../../../src';
import { leakedSince, resourceCounts, settleHandles } from '../../helpers/resources';

/**
 * The event loop on real sockets, on 127.0.0.1, each test bounded and
 * closing what it opened.
 */
const echo: ConnectionHandlers = {
  onData(conn, chunk) {
    conn.send(chunk);
  },
};

interface Closed {
  id: number;
  reason: CloseReason;
  code: string | undefined;
}

async function serve(handlers: ConnectionHandlers, options: EventLoopOptions = {}) {
  const loop = new EventLoop(options);
  const closed: Closed[] = [];
  const [server] = await loop.listen([{ host: '127.0.0.1', port: 0, backlog: 4096 }], {
    ...handlers,
    onClose(conn, reason, error) {
      closed.push({ id: conn.id, reason, code: (error as { code?: string } | undefined)?.code });
      handlers.onClose?.(conn, reason, error);
    },
  });
  const running = loop.run();
  return { loop, port: server.port, closed, running };
}

const sockets = new Set<net.Socket>();
function client(port: number): net.Socket {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {}); // resets are part of some tests
  sockets.add(socket);
  return socket;
}

/** Sends `payload`, half-closes, and resolves with everything echoed back. */
function echoThrough(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = client(port);
    const parts: Buffer[] = [];
    socket.on('data', (d: Buffer) => parts.push(d));
    socket.on('end', () => resolve(Buffer.concat(parts)));
    socket.on('error', reject);
    socket.on('connect', () => socket.end(payload));
  });
}

const until = async (condition: () => boolean, limitMs = 10_000) => {
  const start = Date.now();
  while (!condition() && Date.now() - start < limitMs) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
};

const digest = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('EventLoop on real sockets', () => {
  let before: Record<string, number>;
  let current: { loop: EventLoop; running: Promise<void> } | undefined;

  beforeEach(() => {
    before = resourceCounts();
  });

  afterEach(async () => {
    await Promise.all(
      [...sockets].map((s) => new Promise((resolve) => (s.closed ? resolve(undefined) : (s.once('close', resolve), s.destroy())))),
    );
    sockets.clear();
    if (current !== undefined) {
      await current.loop.close({ timeoutMs: 100 });
      await current.running;
      current = undefined;
    }
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  test('2,000 concurrent clients each send and receive checksummed data: every byte arrives', async () => {
    const server = await serve(echo);
    current = server;
    const payloads = Array.from({ length: 2000 }, (_, i) => randomBytes(1024 + (i % 16) * 512));
    const echoed = await Promise.all(payloads.map((p) => echoThrough(server.port, p)));
    const mismatches = echoed.filter((e, i) => digest(e) !== digest(payloads[i]));
    expect(mismatches).toHaveLength(0);
    expect(server.loop.metrics.accepts).toBe(2000);
  }, 60_000);

  test('a client that never reads does not hold up the others, and the server queues at most its high-water mark for it', async () => {
    const highWaterMark = 256 * 1024;
    const server = await serve(echo, { connectionHighWaterMark: highWaterMark });
    current = server;
    // The hog: writes 64 MiB and reads nothing.
    const hog = client(server.port);
    hog.pause();
    let hogBlocked = false;
    hog.on('connect', () => {
      const block = Buffer.alloc(1024 * 1024, 1);
      for (let i = 0; i < 64; i++) if (!hog.write(block)) hogBlocked = true;
    });
    await until(() => hogBlocked && server.loop.registry.size === 1);
    // Meanwhile, 50 polite clients are served in full.
    const payloads = Array.from({ length: 50 }, () => randomBytes(64 * 1024));
    const echoed = await Promise.all(payloads.map((p) => echoThrough(server.port, p)));
    expect(echoed.every((e, i) => e.equals(payloads[i]))).toBe(true);
    // The hog's connection: reading paused, its queue bounded, the rest held back by TCP on its side.
    const [hogConn] = [...server.loop.registry.values()];
    await until(() => !hogConn.reading);
    expect(hogConn.buffered).toBeLessThanOrEqual(highWaterMark + 64 * 1024);
    expect(hogConn.bytesRead).toBeLessThan(16 * 1024 * 1024);
    expect(hog.writableLength).toBeGreaterThan(32 * 1024 * 1024);
  }, 30_000);

  test('slow-drip clients (a byte a second) are cut at the idle timeout while normal clients are served', async () => {
    const server = await serve(echo, { idleTimeoutMs: 300 });
    current = server;
    const drips = Array.from({ length: 3 }, () => client(server.port));
    const drip = setInterval(() => {
      for (const d of drips) if (!d.destroyed) d.write('.');
    }, 1000);
    drip.unref();
    drips.forEach((d) => d.on('connect', () => d.write('.')));
    try {
      // A normal client talks every 100 ms for a second and a half: never idle long enough.
      const normal = client(server.port);
      let answers = 0;
      normal.on('data', () => answers++);
      for (let i = 0; i < 15; i++) {
        normal.write('ping');
        await new Promise((r) => setTimeout(r, 100));
      }
      await until(() => server.closed.filter((c) => c.reason === 'idle-timeout').length === 3);
      expect(answers).toBeGreaterThan(0);
      expect(server.closed.every((c) => c.reason === 'idle-timeout')).toBe(true); // only the drips
      expect(server.loop.registry.size).toBe(1);
    } finally {
      clearInterval(drip);
    }
  }, 20_000);

  test('a reset in the middle of a write, a write to a closed peer, a peer half-close: the right closes, no crash, others unaffected', async () => {
    const server = await serve({
      onData(conn, chunk) {
        const request = chunk.toString();
        if (request === 'big') for (let i = 0; i < 64; i++) conn.send(Buffer.alloc(128 * 1024, 2));
        else conn.send(chunk);
      },
      onEnd(conn) {
        conn.send('goodbye');
      },
    });
    current = server;
    // 1. Reset while the server is sending 8 MiB.
    const resetter = client(server.port);
    let got = 0;
    resetter.on('data', (d: Buffer) => {
      got += d.length;
      if (got > 100_000 && !resetter.destroyed) resetter.resetAndDestroy();
    });
    resetter.on('connect', () => resetter.write('big'));
    await until(() => server.closed.length === 1);
    expect(server.closed[0].reason).toBe('error');
    expect(['ECONNRESET', 'EPIPE']).toContain(server.closed[0].code);
    // 2. Half-close: the server still answers, then closes.
    const halfCloser = client(server.port);
    const answer: Buffer[] = [];
    halfCloser.on('data', (d: Buffer) => answer.push(d));
    const ended = new Promise((r) => halfCloser.on('end', r));
    halfCloser.on('connect', () => halfCloser.end('last words'));
    await ended;
    expect(Buffer.concat(answer).toString()).toBe('last wordsgoodbye');
    await until(() => server.closed.length === 2);
    expect(server.closed[1].reason).toBe('closed');
    // 3. A peer that closed before the server's write arrives.
    const quitter = client(server.port);
    quitter.on('connect', () => {
      quitter.write('big');
      quitter.destroy();
    });
    await until(() => server.closed.length === 3);
    expect(['error', 'closed']).toContain(server.closed[2].reason);
    // The loop serves on (this server says goodbye on every half-close).
    const payload = randomBytes(10_000);
    expect((await echoThrough(server.port, payload)).equals(Buffer.concat([payload, Buffer.from('goodbye')]))).toBe(true);
  }, 20_000);

  test('a callback that throws: isolated, reported, and the loop serves on', async () => {
    const errors: unknown[] = [];
    const server = await serve(
      {
        onData(conn, chunk) {
          if (chunk.toString() === 'throw') throw new Error('bad handler');
          conn.send(chunk);
        },
      },
      { onError: (err) => errors.push(err) },
    );
    current = server;
    const victim = client(server.port);
    const victimClosed = new Promise((r) => victim.on('close', r));
    victim.on('connect', () => victim.write('throw'));
    await victimClosed;
    expect(errors).toEqual([new Error('bad handler')]);
    expect(server.closed).toEqual([{ id: expect.any(Number) as number, reason: 'callback-error', code: undefined }]);
    const payload = randomBytes(5_000);
    expect((await echoThrough(server.port, payload)).equals(payload)).toBe(true);
  });

  test('graceful shutdown drains in-flight writes to a slow reader; a client that never reads is forced at the deadline', async () => {
    const size = 4 * 1024 * 1024;
    const server = await serve({
      onData(conn) {
        conn.send(Buffer.alloc(size, 3));
      },
    });
    // The slow reader takes its time, but does read.
    const slow = client(server.port);
    let received = 0;
    slow.on('data', (d: Buffer) => {
      received += d.length;
      slow.pause();
      setTimeout(() => slow.resume(), 1);
    });
    const slowEnded = new Promise((r) => slow.on('end', r));
    slow.on('connect', () => slow.write('go'));
    // The stuck one never reads.
    const stuck = client(server.port);
    stuck.pause();
    stuck.on('connect', () => stuck.write('go'));
    await until(() => server.loop.registry.size === 2 && [...server.loop.registry.values()].every((c) => c.bytesWritten > 0));
    const report = await server.loop.close({ timeoutMs: 1_500 });
    await server.running;
    await slowEnded;
    expect(received).toBe(size);
    expect(report).toMatchObject({ graceful: 1, forced: 1 });
    expect(server.closed.map((c) => c.reason).sort()).toEqual(['closed', 'shutdown-forced']);
  }, 20_000);

  test('diagnostics channels publish what they promise', async () => {
    const seen: Record<string, object[]> = {};
    const subscriptions = [
      'tsreactor:server:listen',
      'tsreactor:server:accept',
      'tsreactor:connection:close',
      'tsreactor:reactor:poll',
    ].map((name) => {
      const listener = (message: unknown) => (seen[name] ??= []).push(message as object);
      diagnosticsChannel.subscribe(name, listener);
      return () => diagnosticsChannel.unsubscribe(name, listener);
    });
    try {
      const server = await serve(echo);
      current = server;
      await echoThrough(server.port, Buffer.from('observed'));
      await until(() => (seen['tsreactor:connection:close'] ?? []).length === 1);
      expect(seen['tsreactor:server:listen']).toEqual([
        { fd: expect.any(Number) as number, host: '127.0.0.1', port: server.port, family: 'IPv4' },
      ]);
      expect(seen['tsreactor:server:accept']).toEqual([
        {
          fd: expect.any(Number) as number,
          id: expect.any(Number) as number,
          remoteAddress: '127.0.0.1',
          remotePort: expect.any(Number) as number,
        },
      ]);
      expect(seen['tsreactor:connection:close'][0]).toMatchObject({ reason: 'closed', bytesRead: 8, bytesWritten: 8 });
      expect(seen['tsreactor:reactor:poll'][0]).toMatchObject({ events: expect.any(Number) as number, timersFired: 0, woken: false });
    } finally {
      for (const unsubscribe of subscriptions) unsubscribe();
    }
  });
});
