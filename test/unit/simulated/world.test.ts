import { EventLoop, Reactor, ReactorError, SimulatedWorld, type SimulatedWorldOptions } from '../../../src';

/** An echo server on `host`'s port 80 (every address), run by an EventLoop of its own. */
async function echoOn(host: ReturnType<SimulatedWorld['host']>) {
  const loop = new EventLoop({ reactor: new Reactor({ backend: host.backend() }) });
  await loop.listen([{ host: '0.0.0.0', port: 80 }], { onData: (conn, chunk) => conn.send(chunk) });
  const running = loop.run();
  return {
    loop,
    close: async () => {
      await loop.close();
      await running;
    },
  };
}

describe('SimulatedWorld: hosts and links', () => {
  test('a connection between hosts takes the latency of their link each way, and comes from the client host’s address', async () => {
    const world = new SimulatedWorld({ seed: 1 });
    const server = world.host('10.0.0.2');
    const client = world.host('10.0.0.3');
    world.link(server, client, { latencyMs: 10 });
    const echo = await echoOn(server);
    const peer = client.connect(80, { host: '10.0.0.2' });
    await peer.connected;
    expect(world.clock.now()).toBe(20);
    const start = world.clock.now();
    peer.write('ping');
    await peer.waitFor(4);
    expect(world.clock.now() - start).toBe(20);
    const [conn] = [...echo.loop.registry.values()];
    expect([conn.remoteAddress, conn.localAddress]).toEqual(['10.0.0.3', '10.0.0.2']);
    await echo.close();
    await world.close();
  });

  test('each host has its own loopback and its own ports: 127.0.0.1:80 on one host is not on the other', async () => {
    const world = new SimulatedWorld();
    const a = world.host('10.0.0.1');
    const b = world.host('10.0.0.2');
    const echo = await echoOn(a);
    const onB = b.connect(80); // b's own loopback: nothing listens there
    await expect(onB.waitError()).resolves.toMatchObject({ code: 'ECONNREFUSED' });
    const onA = a.connect(80);
    onA.write('x');
    await expect(onA.waitFor(1)).resolves.toEqual(Buffer.from('x'));
    await expect(new Reactor({ backend: b.backend() }).listen({ host: '10.0.0.1', port: 81 })).rejects.toMatchObject({
      code: 'EADDRNOTAVAIL',
    });
    await echo.close();
    await world.close();
  });

  test('two reactors in one world: a client reactor on one host talks to a server reactor on another', async () => {
    const world = new SimulatedWorld({ latencyMs: 3 });
    const echo = await echoOn(world.host('10.0.0.2'));
    const loop = new EventLoop({ reactor: new Reactor({ backend: world.host('10.0.0.3').backend() }) });
    const running = loop.run();
    const got: string[] = [];
    const fd = loop.reactor.connect({ host: '10.0.0.2', port: 80 });
    const conn = loop.addClient(fd, {
      onData: (conn, chunk) => {
        got.push(chunk.toString());
        conn.end();
      },
    });
    conn.send('hello'); // held until the connection is up
    await world.waitUntil(() => got.length > 0, 'the echo');
    expect(got).toEqual(['hello']);
    expect(world.clock.now()).toBe(12); // handshake (6), request and answer (3 + 3)
    await loop.close();
    await running;
    await echo.close();
    await world.close();
  });

  test('a connect to an address no host has goes unanswered: its SYNs are sent again, then ETIMEDOUT', async () => {
    const world = new SimulatedWorld();
    const peer = world.host('10.0.0.3').connect(80, { host: '10.9.9.9' });
    await expect(peer.waitError()).resolves.toMatchObject({ code: 'ETIMEDOUT' });
    expect(world.clock.now()).toBeGreaterThanOrEqual(127_000);
    await world.close();
  });

  test('bandwidth is the link’s, shared by the connections crossing it in one direction', async () => {
    const world = new SimulatedWorld({ latencyMs: 1, sendBufferSize: 1 << 20, receiveBufferSize: 1 << 20 });
    const server = world.host('10.0.0.2');
    const client = world.host('10.0.0.3');
    world.link(server, client, { bandwidth: 1_000 }); // 1 MB/s
    const echo = await echoOn(server);
    const [one, two] = [client.connect(80, { host: '10.0.0.2' }), client.connect(80, { host: '10.0.0.2' })];
    await Promise.all([one.connected, two.connected]);
    const start = world.clock.now();
    one.write(Buffer.alloc(50_000));
    two.write(Buffer.alloc(50_000));
    await Promise.all([one.waitFor(50_000), two.waitFor(50_000)]);
    // 100 kB each way over 1 kB/ms: 100 ms there; the echo streams back while the rest still arrives.
    expect(world.clock.now() - start).toBeGreaterThanOrEqual(100);
    await echo.close();
    await world.close();
  });
});

describe('SimulatedWorld: partitions, holds and loss', () => {
  async function pair(options: SimulatedWorldOptions = {}) {
    const world = new SimulatedWorld({ seed: 5, trace: true, ...options });
    const server = world.host('10.0.0.2');
    const client = world.host('10.0.0.3');
    const echo = await echoOn(server);
    const peer = client.connect(80, { host: '10.0.0.2' });
    await peer.connected;
    return { world, server, client, echo, peer };
  }

  test('during a partition nothing crosses; after heal the retransmissions deliver it, in order', async () => {
    const { world, server, client, echo, peer } = await pair();
    world.partition(server, client);
    const cutAt = world.clock.now();
    peer.write('one ');
    peer.write('two');
    world.run(cutAt + 1_000); // a second of simulated time, nothing crosses
    expect(peer.receivedBytes).toBe(0);
    world.heal(server, client);
    await expect(peer.waitFor(7)).resolves.toEqual(Buffer.from('one two'));
    expect(world.clock.now()).toBeGreaterThan(cutAt + 1_000); // at a retransmission after the heal
    expect(world.trace.some((line) => line.includes('retransmit'))).toBe(true);
    expect(peer.error).toBeUndefined();
    await echo.close();
    await world.close();
  });

  test('a partition that outlasts TCP’s retries fails the sender with ETIMEDOUT; the other side hears nothing', async () => {
    const { world, server, client, echo, peer } = await pair();
    world.partition(server, client);
    peer.write('lost');
    await expect(peer.waitError()).resolves.toMatchObject({ code: 'ETIMEDOUT' });
    // 15 retransmissions, 200 ms doubling up to 120 s: about 15 minutes, as Linux
    expect(world.clock.now()).toBeGreaterThan(800_000);
    expect(echo.loop.registry.size).toBe(1); // the server's connection is still open: nothing told it
    await echo.close();
    await world.close();
  });

  test('a held link keeps every packet and delivers them in order on release, nothing lost', async () => {
    const { world, server, client, echo, peer } = await pair();
    world.hold(client, server);
    peer.write('a');
    peer.write('b');
    world.run(world.clock.now() + 60_000);
    expect(peer.receivedBytes).toBe(0);
    const releasedAt = world.clock.now();
    world.release(client, server);
    await expect(peer.waitFor(2)).resolves.toEqual(Buffer.from('ab'));
    expect(world.clock.now() - releasedAt).toBeCloseTo(0.1, 6); // the echo's way back, once
    expect(world.trace.some((line) => line.includes('retransmit'))).toBe(false);
    await echo.close();
    await world.close();
  });

  test('a lossy, jittery link still delivers every byte in order, later than a clean one', async () => {
    const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    const timeFor = async (link: { loss: number; jitterMs: number }) => {
      const { world, server, client, echo, peer } = await pair({ latencyMs: 1 });
      world.link(server, client, link);
      const start = world.clock.now();
      peer.write(payload);
      const got = await peer.waitFor(payload.length);
      expect(got.equals(payload)).toBe(true);
      const took = world.clock.now() - start;
      await echo.close();
      await world.close();
      return took;
    };
    const clean = await timeFor({ loss: 0, jitterMs: 0 });
    const lossy = await timeFor({ loss: 0.2, jitterMs: 2 });
    expect(lossy).toBeGreaterThan(clean + 200); // at least one retransmission timeout
  });

  test('the same seed gives the whole world the same trace, link draws included, and its schedule replays it', async () => {
    const runOnce = async (options: SimulatedWorldOptions) => {
      const { world, server, client, echo, peer } = await pair({ latencyMs: 1, ...options });
      world.link(server, client, { loss: 0.1, jitterMs: 3 });
      for (let i = 0; i < 20; i++) peer.write(`message ${i}\n`);
      await peer.waitFor(200);
      await echo.close();
      await world.close();
      return { trace: world.trace, schedule: world.schedule };
    };
    const first = await runOnce({ seed: 9 });
    const second = await runOnce({ seed: 9 });
    expect(second.trace).toEqual(first.trace);
    expect(first.schedule.some((decision) => decision.kind === 'loss')).toBe(true);
    expect(first.schedule.some((decision) => decision.kind === 'jitter')).toBe(true);
    const replay = await runOnce({ seed: 12345, schedule: first.schedule });
    expect(replay.trace).toEqual(first.trace);
  });
});

describe('SimulatedWorld: bad input and lifetimes', () => {
  test('bad link options, unknown hosts and taken addresses are refused, naming what is wrong', () => {
    const world = new SimulatedWorld();
    const a = world.host('10.0.0.1');
    expect(() => world.link(a, a, { loss: 1 })).toThrow(/'loss' must be a number in \[0, 1\)/);
    expect(() => world.link(a, a, { jitterMs: -1 })).toThrow(/'jitterMs'/);
    expect(() => world.partition(a, '10.9.9.9')).toThrow(/'b' must be a host of this world/);
    expect(() => world.host('10.0.0.1')).toThrow(ReactorError);
    expect(() => world.host({ name: '10.0.0.1', addresses: ['10.0.0.7'] })).toThrow(/'name' must be unique/);
    expect(() => new SimulatedWorld().partition(a, a)).toThrow(/'a' must be a host of this world/);
    // Nothing was half-made: the link still has its options, the host list is unchanged.
    expect(world.hosts.map((host) => host.name)).toEqual(['10.0.0.1']);
  });

  test('a reactor leaving a shared world does not end it; closing the world rejects what still waits', async () => {
    const world = new SimulatedWorld();
    const a = world.host('10.0.0.1');
    const reactor = new Reactor({ backend: a.backend() });
    await reactor.listen({ host: '0.0.0.0', port: 80 });
    await reactor.close();
    const server = a.listen(90, { host: '0.0.0.0' });
    const peer = world.host('10.0.0.2').connect(90, { host: '10.0.0.1' });
    await peer.connected; // the world still runs
    const accepted = await server.accepted();
    const waiting = accepted.waitFor(1);
    await world.close();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
  });
});

describe('SimulatedWorld: crashes and restarts', () => {
  async function served() {
    const world = new SimulatedWorld({ seed: 2, trace: true });
    const server = world.host('10.0.0.2');
    const client = world.host('10.0.0.3');
    const loop = new EventLoop({ reactor: new Reactor({ backend: server.backend() }) });
    await loop.listen([{ host: '0.0.0.0', port: 80 }], { onData: (conn, chunk) => conn.send(chunk) });
    const running = loop.run();
    running.catch(() => {}); // awaited in the tests
    const peer = client.connect(80, { host: '10.0.0.2' });
    peer.write('before');
    await peer.waitFor(6);
    return { world, server, client, loop, running, peer };
  }

  test('a crashed server says nothing: an idle client hears nothing, a writing one times out; the server’s loop stops', async () => {
    const { world, server, client, loop, running, peer } = await served();
    const idle = client.connect(80, { host: '10.0.0.2' });
    await idle.connected;
    world.crash(server);
    expect(server.up).toBe(false);
    await expect(running).rejects.toMatchObject({ code: 'ERR_SIM_HOST_CRASHED' });
    peer.write('after');
    await expect(peer.waitError()).resolves.toMatchObject({ code: 'ETIMEDOUT' });
    expect([idle.error, idle.ended]).toEqual([undefined, false]); // no FIN, no RST: it never heard
    const late = client.connect(80, { host: '10.0.0.2' });
    await expect(late.waitError()).resolves.toMatchObject({ code: 'ETIMEDOUT' }); // SYNs to a host that is down
    expect(world.trace.some((line) => /^\S+ (fin|rst) c\d+ s>c/.test(line))).toBe(false); // the server never said a word
    await expect(loop.close()).rejects.toMatchObject({ code: 'ERR_SIM_HOST_CRASHED' }); // a graceful close needs polls
    await loop.reactor.close(); // what releases a crashed program
    await world.close();
  });

  test('after a restart, a connection from before the crash is answered with RST and a fresh server serves', async () => {
    const { world, server, client, loop, peer } = await served();
    world.crash(server);
    world.restart('10.0.0.2');
    const refused = client.connect(80, { host: '10.0.0.2' });
    await expect(refused.waitError()).resolves.toMatchObject({ code: 'ECONNREFUSED' }); // nothing listens yet
    peer.write('after');
    await expect(peer.waitError()).resolves.toMatchObject({ code: 'ECONNRESET' }); // the new kernel knows no such connection
    const fresh = new EventLoop({ reactor: new Reactor({ backend: server.backend() }) });
    await fresh.listen([{ host: '0.0.0.0', port: 80 }], { onData: (conn, chunk) => conn.send(chunk) });
    const running = fresh.run();
    const again = client.connect(80, { host: '10.0.0.2' });
    again.write('hello again');
    await expect(again.waitFor(11)).resolves.toEqual(Buffer.from('hello again'));
    await fresh.close();
    await running;
    await loop.reactor.close();
    await world.close();
  });
});
