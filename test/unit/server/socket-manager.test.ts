import { type Backend, Reactor, ReactorError, SimulatedBackend, SocketManager } from '../../../src';
import { FaultyBackend } from '../../contract/faulty-backend';

function failing(code: string, onPort: number): Backend {
  const backend = new FaultyBackend(new SimulatedBackend());
  const open = backend.openListener.bind(backend);
  backend.openListener = (fd, options) =>
    options.port === onPort
      ? Promise.reject(new ReactorError(code, `listen ${code}`, { syscall: 'listen', address: options.host, port: options.port }))
      : open(fd, options);
  return backend;
}

async function failure(manager: SocketManager, configs: { host?: string; port: number }[]): Promise<ReactorError> {
  return manager.setupServerSockets(configs).then(
    () => {
      throw new Error('expected the bind to fail');
    },
    (err: unknown) => err as ReactorError,
  );
}

describe('SocketManager (simulated network)', () => {
  test('binds several addresses at once and reports what it bound', async () => {
    const reactor = new Reactor({ backend: new SimulatedBackend() });
    const manager = new SocketManager(reactor);
    const servers = await manager.setupServerSockets([
      { host: '127.0.0.1', port: 8080 },
      { host: '::1', port: 8080 },
      { host: '127.0.0.1', port: 0 },
    ]);
    expect(servers.map((s) => [s.host, s.port === 0, s.family])).toEqual([
      ['127.0.0.1', false, 'IPv4'],
      ['::1', false, 'IPv6'],
      ['127.0.0.1', false, 'IPv4'],
    ]);
    expect(manager.serverSockets).toHaveLength(3);
    await reactor.close();
  });

  test('all or nothing: a port in use closes what was bound, and says what to do', async () => {
    const reactor = new Reactor({ backend: new SimulatedBackend() });
    await reactor.listen({ host: '127.0.0.1', port: 9000 }); // someone else
    const manager = new SocketManager(reactor);
    const err = await failure(manager, [
      { host: '127.0.0.1', port: 8081 },
      { host: '127.0.0.1', port: 8082 },
      { host: '127.0.0.1', port: 9000 },
    ]);
    expect(err).toBeInstanceOf(ReactorError);
    expect(err.code).toBe('EADDRINUSE');
    expect(err.message).toMatch(/cannot listen on 127\.0\.0\.1:9000 \(EADDRINUSE\): port 9000 on 127\.0\.0\.1 is already in use/);
    expect(err.message).toMatch(/choose another port/);
    expect(manager.serverSockets).toHaveLength(0);
    expect(reactor.descriptors()).toHaveLength(1); // only the other listener
    // The ports it had bound are free again.
    await expect(manager.setupServerSockets([{ host: '127.0.0.1', port: 8081 }])).resolves.toHaveLength(1);
    await reactor.close();
  });

  test('an address that is not on this machine: EADDRNOTAVAIL, with advice', async () => {
    const reactor = new Reactor({ backend: new SimulatedBackend() });
    const err = await failure(new SocketManager(reactor), [{ host: '10.1.2.3', port: 80 }]);
    expect(err.code).toBe('EADDRNOTAVAIL');
    expect(err.message).toMatch(/10\.1\.2\.3 is not an address of this machine/);
    await reactor.close();
  });

  test('a privileged port: EACCES, with advice', async () => {
    const reactor = new Reactor({ backend: failing('EACCES', 80) });
    const err = await failure(new SocketManager(reactor), [{ host: '0.0.0.0', port: 80 }]);
    expect(err.code).toBe('EACCES');
    expect(err.message).toMatch(/ports below 1024 need privileges; use a port of 1024 or above/);
    await reactor.close();
  });

  test("'::' falls back to '0.0.0.0' on a machine without IPv6", async () => {
    const sim = new SimulatedBackend({ ipv6: false });
    const reactor = new Reactor({ backend: sim });
    const [server] = await new SocketManager(reactor).setupServerSockets([{ port: 7000 }]);
    expect(server).toMatchObject({ host: '0.0.0.0', port: 7000, family: 'IPv4' });
    await reactor.close();
  });

  test('acceptConnection applies the options and refuses an fd it does not manage', async () => {
    const sim = new SimulatedBackend();
    const reactor = new Reactor({ backend: sim });
    const manager = new SocketManager(reactor);
    const [server] = await manager.setupServerSockets([{ host: '127.0.0.1', port: 7000, noDelay: true, keepAlive: true }]);
    expect(manager.acceptConnection(server.fd)).toBeNull();
    sim.connect(7000);
    sim.run();
    const fd = manager.acceptConnection(server.fd) as number;
    expect(reactor.info(fd).kind).toBe('stream');
    manager.closeConnection(fd);
    expect(() => manager.acceptConnection(fd)).toThrow(/not a server socket/);
    await reactor.close();
  });

  test('bad configs are RangeErrors naming the field', async () => {
    const manager = new SocketManager(new Reactor({ backend: new SimulatedBackend() }));
    await expect(manager.setupServerSockets([])).rejects.toThrow(/'configs'/);
    await expect(manager.setupServerSockets([{ port: 70000 }])).rejects.toThrow(/'configs\[0\]\.port'/);
    await expect(manager.setupServerSockets([{ port: 1, host: '' }])).rejects.toThrow(/'configs\[0\]\.host'/);
    await expect(manager.setupServerSockets([{ path: '/run/a.sock', port: 80 }])).rejects.toThrow(
      /'configs\[0\]\.path' and 'configs\[0\]\.port'/,
    );
  });

  test('a path config binds a Unix socket beside TCP ones; its accepted connections say family unix and the path', async () => {
    const sim = new SimulatedBackend();
    const reactor = new Reactor({ backend: sim });
    const manager = new SocketManager(reactor);
    const [tcp, unix] = await manager.setupServerSockets([{ host: '127.0.0.1', port: 0 }, { path: '/run/app.sock' }]);
    expect(tcp.family).toBe('IPv4');
    expect(unix).toMatchObject({ host: '/run/app.sock', port: 0, family: 'unix', path: '/run/app.sock' });
    const peer = sim.connect('/run/app.sock');
    let fd: number | null = null;
    await sim.waitUntil(() => (fd = manager.acceptConnection(unix.fd)) !== null, 'an accept');
    await peer.connected;
    expect(reactor.info(fd as unknown as number)).toMatchObject({ family: 'unix', path: '/run/app.sock', remoteAddress: undefined });
    await reactor.close();
  });

  test('a stale socket file: the error says so and how to proceed; removeStale: true binds in its place', async () => {
    const sim = new SimulatedBackend();
    const reactor = new Reactor({ backend: sim });
    const manager = new SocketManager(reactor);
    sim.leaveStaleSocket('/run/app.sock');
    const err = await manager.setupServerSockets([{ path: '/run/app.sock' }]).catch((e: unknown) => e as ReactorError);
    expect(err).toMatchObject({ code: 'EADDRINUSE', address: '/run/app.sock' });
    expect((err as ReactorError).message).toMatch(
      /^cannot listen on \/run\/app\.sock \(EADDRINUSE\): .*nothing listens on.*removeStale: true/,
    );
    const [server] = await manager.setupServerSockets([{ path: '/run/app.sock', removeStale: true }]);
    expect(reactor.info(server.fd).path).toBe('/run/app.sock');
    await reactor.close();
  });
});
