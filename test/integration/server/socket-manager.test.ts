import * as net from 'node:net';
import { Events, Interest, Reactor, ReactorError, SocketManager } from '../../../src';
import { pollUntil } from '../../contract/polling';
import { leakedSince, resourceCounts, settleHandles } from '../../helpers/resources';
import { hasIPv6Loopback } from '../../contract/harness';

function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('SocketManager on real sockets', () => {
  let reactor: Reactor;
  let manager: SocketManager;
  let before: Record<string, number>;
  const clients: net.Socket[] = [];

  beforeEach(() => {
    before = resourceCounts();
    reactor = new Reactor();
    manager = new SocketManager(reactor);
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => new Promise((r) => (c.destroyed ? r(undefined) : (c.once('close', r), c.destroy())))));
    clients.length = 0;
    await reactor.close();
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  test('binds several ports at once; each accepts', async () => {
    const servers = await manager.setupServerSockets([
      { host: '127.0.0.1', port: 0 },
      { host: '127.0.0.1', port: 0 },
      { host: '127.0.0.1', port: 0, noDelay: false, keepAlive: true, keepAliveInitialDelayMs: 1000 },
    ]);
    expect(new Set(servers.map((s) => s.port)).size).toBe(3);
    const events = new Events();
    for (const server of servers) {
      reactor.register(server.fd, Interest.READABLE);
      clients.push(await connect('127.0.0.1', server.port));
      await pollUntil(reactor, events, (e) => e.fd === server.fd);
      expect(manager.acceptConnection(server.fd)).not.toBeNull();
    }
  });

  test('a port in use: the error names it and what to do, and nothing stays bound', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const attempt = manager.setupServerSockets([
        { host: '127.0.0.1', port: 0 },
        { host: '127.0.0.1', port: taken },
      ]);
      await expect(attempt).rejects.toBeInstanceOf(ReactorError);
      await attempt.catch((caught: unknown) => {
        const err = caught as ReactorError;
        expect(err.code).toBe('EADDRINUSE');
        expect(err.message).toContain(`cannot listen on 127.0.0.1:${taken} (EADDRINUSE)`);
        expect(err.message).toContain('choose another port');
      });
      expect(reactor.descriptors()).toEqual([]);
      expect(manager.serverSockets).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  test('an address not on this machine: EADDRNOTAVAIL, with advice', async () => {
    await expect(manager.setupServerSockets([{ host: '192.0.2.1', port: 0 }])).rejects.toMatchObject({
      code: 'EADDRNOTAVAIL',
      message: expect.stringContaining('is not an address of this machine') as string,
    });
  });

  test('reusePort where Node cannot: a clear ENOTSUP', async () => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    const supported = major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
    const attempt = manager.setupServerSockets([{ host: '127.0.0.1', port: 0, reusePort: true }]);
    if (supported) {
      await expect(attempt).resolves.toHaveLength(1);
    } else {
      await expect(attempt).rejects.toMatchObject({
        code: 'ENOTSUP',
        message: expect.stringContaining('reusePort needs Node 22.12') as string,
      });
    }
  });

  test("IPv4 and IPv6 clients both reach a '::' listener", async () => {
    if (!(await hasIPv6Loopback())) {
      console.warn('skipped: this machine has no IPv6 loopback');
      return;
    }
    const [server] = await manager.setupServerSockets([{ port: 0 }]);
    expect(server.host).toBe('::');
    reactor.register(server.fd, Interest.READABLE);
    clients.push(await connect('127.0.0.1', server.port), await connect('::1', server.port));
    const events = new Events();
    const remotes: string[] = [];
    while (remotes.length < 2) {
      await pollUntil(reactor, events, (e) => e.fd === server.fd);
      for (let fd = manager.acceptConnection(server.fd); fd !== null; fd = manager.acceptConnection(server.fd)) {
        remotes.push(reactor.info(fd).remoteAddress as string);
      }
    }
    expect(remotes.sort()).toEqual(['::1', '::ffff:127.0.0.1']);
  });
});
