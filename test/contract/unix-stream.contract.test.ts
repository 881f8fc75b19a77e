import { existsSync, writeFileSync } from 'node:fs';
import { Events, Interest, RawHandleBackend, Reactor } from '../../src';
import { leakedSince, resourceCounts, settleHandles } from '../helpers/resources';
import type { Peer } from './harness';
import { codeOf, E, pollUntil, quietEventsFor, R, RC, readTextExactly, W, WC } from './polling';
import { realUnixHarness, simulatedUnixHarness, type UnixHarness } from './unix-harness';

/**
 * Unix domain stream sockets keep the stream contract of TCP, on every
 * backend: the same readiness, half-close, backpressure and connect
 * failures; where a Unix socket differs from TCP (it has no RST), every
 * backend differs alike. And what a path adds: `info` gives it, a stale
 * socket file fails a listen with a message that says so (or is removed
 * with `removeStale`), and closing the listener removes its file.
 */
const harnesses: UnixHarness[] = [realUnixHarness('libuv'), simulatedUnixHarness()];
if (RawHandleBackend.available()) harnesses.push(realUnixHarness('raw'));
else describe.skip(`raw: skipped, Node ${process.version} lacks the bindings it needs`, () => test.todo('needs pipe_wrap'));

const { READABLE, WRITABLE } = Interest;

describe.each(harnesses)('Unix stream contract: $name', (harness) => {
  let reactor: Reactor<string>;
  let events: Events<string>;
  let before: Record<string, number>;

  beforeEach(() => {
    before = resourceCounts();
    reactor = new Reactor<string>({ backend: harness.makeBackend() });
    events = new Events<string>();
  });

  afterEach(async () => {
    await reactor.close();
    await harness.dispose();
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  /** A listener at a fresh path, an accepted connection and its peer. */
  async function connection(): Promise<{ fd: number; peer: Peer; path: string; listener: number }> {
    const path = harness.path();
    const listener = await reactor.listen({ path });
    const peer = await harness.connectPeer(path);
    reactor.register(listener, READABLE);
    await pollUntil(reactor, events, (e) => e.fd === listener);
    const fd = reactor.accept(listener) as number;
    expect(fd).not.toBeNull();
    reactor.unregister(listener);
    return { fd, peer, path, listener };
  }

  const readExactly = (fd: number, bytes: number): Promise<string> => readTextExactly(reactor, events, fd, bytes);

  test('a listener at a path accepts, bytes go both ways, and info gives the path with family unix and no addresses', async () => {
    const { fd, peer, path, listener } = await connection();
    await peer.write('ping');
    reactor.register(fd, READABLE);
    expect(await readExactly(fd, 4)).toBe('ping');
    expect(reactor.write(fd, Buffer.from('pong'))).toBe(4);
    expect((await peer.waitFor(4)).toString()).toBe('pong');
    for (const info of [reactor.info(listener), reactor.info(fd)]) {
      expect(info).toMatchObject({ family: 'unix', path, localAddress: undefined, localPort: undefined, remoteAddress: undefined });
    }
    expect(reactor.info(listener).kind).toBe('listener');
    expect(reactor.info(fd)).toMatchObject({ kind: 'stream', bytesRead: 4, bytesWritten: 4 });
  });

  test('reactor.connect({ path }) reports writable once connected, and the stream is the same as an accepted one', async () => {
    const path = harness.path();
    const server = await harness.listenPeer(path);
    const fd = reactor.connect({ path });
    reactor.register(fd, WRITABLE, { token: 'dialer' });
    const seen = await pollUntil(reactor, events, (e) => e.fd === fd);
    expect(seen.flags & (W | E)).toBe(W);
    expect(reactor.info(fd)).toMatchObject({ family: 'unix', path });
    const peer = await server.accepted();
    reactor.write(fd, Buffer.from('hello'));
    expect((await peer.waitFor(5)).toString()).toBe('hello');
    await peer.write('back');
    reactor.modify(fd, READABLE);
    expect(await readExactly(fd, 4)).toBe('back');
  });

  test('rule 20 on a path: the peer half-closes; its data comes first, then readClosed and a zero-length read; writing still works', async () => {
    const { fd, peer } = await connection();
    await peer.write('last words');
    peer.end();
    reactor.register(fd, READABLE);
    let text = '';
    for (let closed = false; !closed;) {
      await pollUntil(reactor, events, (e) => e.fd === fd);
      for (let chunk = reactor.read(fd); chunk !== null && !closed; chunk = reactor.read(fd)) {
        closed = chunk.length === 0;
        text += chunk.toString();
      }
    }
    expect(text).toBe('last words');
    const after = await pollUntil(reactor, events, (e) => e.fd === fd); // level: the ended stream stays readable
    expect(after.flags & (R | RC)).toBe(R | RC);
    expect(reactor.write(fd, Buffer.from('still here'))).toBe(10);
    expect((await peer.waitFor(10)).toString()).toBe('still here');
  });

  test('a write after the peer closed fails with EPIPE at once (no byte is taken), even while its data waits unread; the error is reported', async () => {
    const { fd, peer } = await connection();
    await peer.write('unread');
    reactor.register(fd, READABLE);
    await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & R) !== 0);
    await peer.close(); // 'unread' is still ahead of the end of stream: no readClosed yet (rule 20)
    expect(codeOf(() => reactor.write(fd, Buffer.from('too late')))).toBe('EPIPE');
    const after = await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & E) !== 0);
    expect(after.flags & WC).toBe(WC);
  });

  test('rule 22 on a path: toward a peer that does not read, writes stop; one writable edge when it reads again, and every byte arrives in order', async () => {
    const { fd, peer } = await connection();
    peer.pause();
    const data = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    let sent = 0;
    const fill = () => {
      for (let n = -1; n !== 0 && sent < data.length;) {
        n = reactor.write(fd, data.subarray(sent));
        sent += n;
      }
    };
    reactor.register(fd, WRITABLE, { trigger: 'edge' });
    // Fill until the buffers stay full: each writable edge while the peer does not read (room as bytes move toward it) is filled again.
    fill();
    while ((await quietEventsFor(reactor, events, fd)).length > 0) fill();
    expect(sent).toBeLessThan(data.length); // it would block, and no edge comes while the peer does not read
    peer.resume();
    while (sent < data.length) {
      await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & W) !== 0);
      for (let n = -1; n !== 0 && sent < data.length;) {
        n = reactor.write(fd, data.subarray(sent));
        sent += n;
      }
    }
    expect((await peer.waitFor(data.length)).equals(data)).toBe(true);
  });

  test('rule 26 on a path: close with nothing unread sends what was written, then end of stream', async () => {
    const { fd, peer } = await connection();
    expect(reactor.write(fd, Buffer.from('goodbye'))).toBe(7);
    reactor.close(fd);
    expect(await peer.waitOutcome()).toBe('fin');
    expect(peer.received().toString()).toBe('goodbye');
  });

  test('rule 26 on a path: close with a mebibyte unread resets the peer (ECONNRESET), as Linux does for a Unix socket', async () => {
    const { fd, peer } = await connection();
    void peer.write(Buffer.alloc(1024 * 1024, 1)).catch(() => undefined); // far past what the backend reads ahead: the kernel holds the rest
    reactor.register(fd, READABLE);
    await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & R) !== 0);
    reactor.close(fd);
    expect(await peer.waitOutcome()).toBe('reset');
  });

  test('rule 27 on a path: abort has no RST to send: the peer reads end of stream', async () => {
    const { fd, peer } = await connection();
    reactor.abort(fd);
    expect(await peer.waitOutcome()).toBe('fin');
    expect(codeOf(() => reactor.read(fd))).toBe('EBADF');
  });

  test('rule 24 on a path: a connect where no socket file is fails with ENOENT, to a stale one with ECONNREFUSED', async () => {
    const missing = reactor.connect({ path: harness.path() });
    const stalePath = harness.path();
    await harness.leaveStale(stalePath);
    const stale = reactor.connect({ path: stalePath });
    for (const [fd, code] of [
      [missing, 'ENOENT'],
      [stale, 'ECONNREFUSED'],
    ] as const) {
      reactor.register(fd, WRITABLE);
      const seen = await pollUntil(reactor, events, (e) => e.fd === fd);
      expect(seen.flags & E).toBe(E);
      expect(seen.flags & W).toBe(0);
      expect(codeOf(() => reactor.read(fd))).toBe(code);
      expect(codeOf(() => reactor.write(fd, Buffer.from('x')))).toBe(code);
    }
  });

  test('a path a listener holds fails a second listen with EADDRINUSE that says a server is listening', async () => {
    const path = harness.path();
    await reactor.listen({ path });
    await expect(reactor.listen({ path })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await expect(reactor.listen({ path })).rejects.toThrow('a server is listening');
    await expect(reactor.listen({ path, removeStale: true })).rejects.toMatchObject({ code: 'EADDRINUSE' }); // a live one is never removed
  });

  test('a stale socket file fails a listen with EADDRINUSE naming it and removeStale; with removeStale: true the listen takes its place', async () => {
    const path = harness.path();
    await harness.leaveStale(path);
    await expect(reactor.listen({ path })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await expect(reactor.listen({ path })).rejects.toThrow(/nothing listens on.*removeStale: true/);
    const fd = await reactor.listen({ path, removeStale: true });
    const peer = await harness.connectPeer(path);
    reactor.register(fd, READABLE);
    await pollUntil(reactor, events, (e) => e.fd === fd);
    const conn = reactor.accept(fd) as number;
    await peer.write('served');
    reactor.register(conn, READABLE);
    expect(await readExactly(conn, 6)).toBe('served');
  });

  test('closing the listener removes its socket file: a connect there afterwards fails with ENOENT, and the path can be listened on again', async () => {
    const path = harness.path();
    const fd = await reactor.listen({ path });
    reactor.close(fd);
    await settleHandles();
    const dialer = reactor.connect({ path });
    reactor.register(dialer, WRITABLE);
    await pollUntil(reactor, events, (e) => e.fd === dialer);
    expect(codeOf(() => reactor.read(dialer))).toBe('ENOENT');
    reactor.close(dialer);
    const again = await reactor.listen({ path });
    expect(reactor.info(again).path).toBe(path);
  });
});

describe('Unix sockets on real backends: the file system', () => {
  const harness = realUnixHarness('libuv');
  afterEach(() => harness.dispose());

  test('the socket file exists while the listener is open and is gone once it closed', async () => {
    const reactor = new Reactor();
    const path = harness.path();
    const fd = await reactor.listen({ path });
    expect(existsSync(path)).toBe(true);
    reactor.close(fd);
    await reactor.close();
    expect(existsSync(path)).toBe(false);
  });

  test('a file that is not a socket is never removed: EADDRINUSE says so, removeStale or not', async () => {
    const reactor = new Reactor();
    const path = harness.path();
    writeFileSync(path, 'precious');
    await expect(reactor.listen({ path, removeStale: true })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await expect(reactor.listen({ path, removeStale: true })).rejects.toThrow('is not a socket');
    expect(existsSync(path)).toBe(true);
    await reactor.close();
  });
});

describe('Unix socket options at the public boundary', () => {
  test("a path with a host or port, an empty one or one past 107 bytes is a RangeError naming 'path'; nothing is opened", async () => {
    const reactor = new Reactor();
    await expect(reactor.listen({ path: '/tmp/x.sock', port: 80 })).rejects.toThrow(/'path' and 'port'/);
    await expect(reactor.listen({ path: '' })).rejects.toThrow(RangeError);
    await expect(reactor.listen({ path: `/tmp/${'x'.repeat(120)}` })).rejects.toThrow(/'path' must be at most 107 bytes/);
    expect(() => reactor.connect({ path: '/tmp/x.sock', host: 'localhost' })).toThrow(/'path' and 'host'/);
    expect(() => reactor.connect({ path: 'a\0b' })).toThrow(/NUL/);
    expect(reactor.size).toBe(0);
    await reactor.close();
  });
});
