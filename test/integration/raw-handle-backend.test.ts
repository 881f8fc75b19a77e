import dns from 'node:dns';
import * as net from 'node:net';
import { Events, Interest, RawHandleBackend, Reactor, ReactorError, Readiness } from '../../src';
import { pollUntil, R, W } from '../contract/polling';
import { leakedSince, resourceCounts, settleHandles } from '../helpers/resources';

/** What only the raw-handle backend does (the reactor contract runs on it too, in test/contract). */
const suite = RawHandleBackend.available() ? describe : describe.skip;

suite('RawHandleBackend on real sockets', () => {
  let reactor: Reactor;
  let backend: RawHandleBackend;
  let events: Events;
  let before: Record<string, number>;
  const sockets: net.Socket[] = [];

  beforeEach(() => {
    before = resourceCounts();
    backend = new RawHandleBackend();
    reactor = new Reactor({ backend });
    events = new Events();
  });

  afterEach(async () => {
    await Promise.all(
      sockets.splice(0).map(
        (s) =>
          new Promise((resolve) => {
            if (s.closed) resolve(undefined);
            else s.once('close', resolve).destroy();
          }),
      ),
    );
    await reactor.close();
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
    const socket = net.connect(port, host);
    sockets.push(socket);
    socket.on('error', () => {});
    return new Promise((resolve) => socket.once('connect', () => resolve(socket)));
  }

  async function accepted(lfd: number): Promise<number> {
    for (;;) {
      const fd = reactor.accept(lfd);
      if (fd !== null) return fd;
      await pollUntil(reactor, events, (e) => e.fd === lfd);
    }
  }

  test('close is close(2): what was written still arrives, then end of stream, even to a slow reader', async () => {
    const lfd = await reactor.listen({ host: '127.0.0.1', port: 0 });
    reactor.register(lfd, Interest.READABLE);
    const peer = await connect(reactor.info(lfd).localPort as number);
    peer.pause(); // reads nothing yet: the kernel buffers fill and libuv holds the rest
    const fd = await accepted(lfd);
    const data = Buffer.alloc(4 * 1024 * 1024, 7);
    const sent = reactor.write(fd, data); // the kernel fills; libuv holds the rest of the last slice
    expect(sent).toBeLessThan(data.length);
    expect(backend.readiness(fd) & Readiness.WRITABLE).toBe(0); // a write is pending in libuv
    reactor.close(fd);
    let received = 0;
    peer.on('data', (chunk: Buffer) => (received += chunk.length));
    const ended = new Promise((resolve) => peer.once('end', resolve));
    peer.resume();
    await ended;
    expect(received).toBe(sent);
  });

  test('connections beyond the backlog are closed and counted as dropped', async () => {
    const lfd = await reactor.listen({ host: '127.0.0.1', port: 0, backlog: 2 });
    reactor.register(lfd, Interest.READABLE);
    const port = reactor.info(lfd).localPort as number;
    const peers = await Promise.all(Array.from({ length: 5 }, () => connect(port)));
    const closedByServer = peers.map((p) => new Promise((resolve) => p.once('close', resolve)));
    await pollUntil(reactor, events, () => backend.droppedConnections(lfd) === 3);
    expect(backend.pendingConnections(lfd)).toBe(2);
    await Promise.race(closedByServer); // the dropped ones were closed, not left hanging
  });

  test('reusePort where libuv has no UV_TCP_REUSEPORT (before Node 22.12): ENOTSUP, naming the address', async () => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    if (major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)) return; // supported: the contract suite proves it works
    const error = await reactor.listen({ host: '127.0.0.1', port: 0, reusePort: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReactorError);
    expect(error).toMatchObject({ code: 'ENOTSUP', address: '127.0.0.1' });
  });

  test('a failed listen leaves nothing behind once reactor.close() resolves', async () => {
    const taken = await reactor.listen({ host: '127.0.0.1', port: 0 });
    const port = reactor.info(taken).localPort as number;
    await expect(reactor.listen({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'EADDRINUSE', port });
    await reactor.close();
    expect(leakedSince(before)).toEqual({}); // no settling needed: close() waited for every libuv handle
  });

  test('names are resolved first: listen and connect on localhost', async () => {
    const lfd = await reactor.listen({ host: 'localhost', port: 0 });
    const { localAddress, localPort, osFd } = reactor.info(lfd);
    expect(['127.0.0.1', '::1']).toContain(localAddress);
    expect(typeof osFd).toBe('number');
    reactor.register(lfd, Interest.READABLE);
    const dialer = reactor.connect({ host: 'localhost', port: localPort as number });
    reactor.register(dialer, Interest.WRITABLE);
    await pollUntil(reactor, events, (e) => e.fd === dialer && (e.flags & W) !== 0);
    const fd = await accepted(lfd);
    expect(reactor.info(fd)).toMatchObject({ kind: 'stream', remotePort: reactor.info(dialer).localPort });
    expect(reactor.write(dialer, Buffer.from('ping'))).toBe(4);
    reactor.register(fd, Interest.READABLE);
    await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & R) !== 0);
    expect(reactor.read(fd)?.toString()).toBe('ping');
    expect(reactor.info(fd)).toMatchObject({ bytesRead: 4 });
    expect(reactor.info(dialer)).toMatchObject({ bytesWritten: 4 });
  });

  test('a name with several addresses: each is tried in turn until one connects', async () => {
    const lfd = await reactor.listen({ host: '127.0.0.1', port: 0 });
    const port = reactor.info(lfd).localPort as number;
    // 'two.test' resolves to 127.0.0.2 (nothing listens there: refused), then 127.0.0.1.
    const realLookup = dns.lookup;
    const lookup = jest.spyOn(dns, 'lookup').mockImplementation(((host: string, options: unknown, callback: unknown) => {
      if (host !== 'two.test') {
        (realLookup as (...args: unknown[]) => void)(host, options, callback);
        return;
      }
      const addresses = [
        { address: '127.0.0.2', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ];
      process.nextTick(callback as (err: null, found: typeof addresses) => void, null, addresses);
    }) as unknown as typeof dns.lookup);
    try {
      const dialer = reactor.connect({ host: 'two.test', port });
      reactor.register(dialer, Interest.WRITABLE);
      const event = await pollUntil(reactor, events, (e) => e.fd === dialer);
      expect(event.flags & Readiness.ERROR).toBe(0);
      expect(event.flags & W).toBe(W);
      expect(reactor.info(dialer)).toMatchObject({ remoteAddress: '127.0.0.1', remotePort: port });
      expect(lookup).toHaveBeenCalledWith('two.test', { all: true }, expect.any(Function));

      // None connects: the last address's error.
      const refused = reactor.connect({ host: 'two.test', port: 1 });
      reactor.register(refused, Interest.WRITABLE);
      await pollUntil(reactor, events, (e) => e.fd === refused && (e.flags & Readiness.ERROR) !== 0);
      let error: unknown;
      try {
        reactor.read(refused);
      } catch (err) {
        error = err;
      }
      expect(error).toMatchObject({ code: 'ECONNREFUSED', address: '127.0.0.1' });
    } finally {
      lookup.mockRestore();
    }
  });
});
