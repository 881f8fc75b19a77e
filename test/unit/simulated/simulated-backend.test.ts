import { descriptorReport, Events, Interest, ManualClock, Reactor, ReactorError, Readiness, SimulatedBackend } from '../../../src';
import { simulatedServer } from '../../helpers/sim-harness';

describe('SimulatedBackend: time', () => {
  test('a handshake takes two latencies, a message one, a round trip two more', async () => {
    const { sim, reactor, acceptNext, until, drain } = await simulatedServer({ latencyMs: 5 });
    const peer = sim.connect(7000);
    const fd = await acceptNext('conn');
    expect(sim.clock.now()).toBe(5); // SYN arrived: the connection waits to be accepted
    await peer.connected;
    expect(sim.clock.now()).toBe(10); // SYN-ACK back at the client
    peer.write('ping');
    await until((e) => e.fd === fd);
    expect(sim.clock.now()).toBe(15);
    reactor.write(fd, drain(fd));
    await peer.waitFor(4);
    expect(sim.clock.now()).toBe(20);
    await reactor.close();
  });

  test('bandwidth spreads a large transfer over time: bytes / (bytes per ms) + latency', async () => {
    const { sim, reactor, acceptNext, until, drain } = await simulatedServer({
      latencyMs: 1,
      bandwidth: 1000, // 1 MB/s
      receiveBufferSize: 1 << 20,
      sendBufferSize: 1 << 20,
    });
    const peer = sim.connect(7000);
    const fd = await acceptNext('conn');
    await peer.connected;
    const start = sim.clock.now();
    peer.write(Buffer.alloc(100_000, 9));
    let got = 0;
    while (got < 100_000) {
      await until((e) => e.fd === fd);
      got += drain(fd).length;
    }
    expect(sim.clock.now() - start).toBeCloseTo(100 + 1, 6);
    await reactor.close();
  });

  test('a poll with nothing ready jumps the clock straight to the next timer: a 30 s idle timeout, at once', async () => {
    const { sim, reactor, events } = await simulatedServer();
    let idle = false;
    reactor.timers.schedule(30_000, () => (idle = true));
    const polls: number[] = [];
    while (!idle) {
      await reactor.poll(events);
      polls.push(sim.clock.now());
    }
    expect(polls).toEqual([30_000]);
    await reactor.close();
  });

  test('without any poll, time moves one event at a time for a test awaiting a peer', async () => {
    const sim = new SimulatedBackend({ latencyMs: 2 });
    const server = sim.listen(5000);
    const client = sim.connect(5000);
    const accepted = await server.accepted();
    client.write('over the wire');
    expect((await accepted.waitFor(13)).toString()).toBe('over the wire');
    expect(sim.clock.now()).toBe(6); // SYN-ACK at 4 lets the data go; it lands 2 ms later
    await sim.dispose();
  });

  test('run() drives the network by hand, to a time or until idle', async () => {
    const sim = new SimulatedBackend({ latencyMs: 1 });
    const server = sim.listen(5000);
    const client = sim.connect(5000);
    expect(sim.run(0.5)).toBe(0);
    expect(sim.clock.now()).toBe(0.5);
    sim.run();
    const accepted = await server.accepted();
    client.write('abc');
    accepted.write('xyz');
    sim.run();
    expect(client.received().toString()).toBe('xyz');
    expect(accepted.received().toString()).toBe('abc');
    expect(sim.pendingEvents).toBe(0);
    await sim.dispose();
  });
});

describe('SimulatedBackend: flow control and closing', () => {
  test('a peer that stops reading fills its receive buffer, then our send buffer, then writes block', async () => {
    const { sim, reactor, acceptNext, events } = await simulatedServer({ sendBufferSize: 1000, receiveBufferSize: 3000 });
    const peer = sim.connect(7000);
    const fd = await acceptNext('conn', Interest.WRITABLE);
    await peer.connected;
    peer.pause();
    let written = 0;
    for (let round = 0; round < 100; round++) {
      written += reactor.write(fd, Buffer.alloc(500, 1));
      await reactor.poll(events, 5);
    }
    expect(written).toBe(3000 + 1000);
    expect(reactor.write(fd, Buffer.alloc(1))).toBe(0);
    peer.resume();
    expect((await peer.waitFor(4000)).length).toBe(4000);
    await reactor.close();
  });

  test('writable has hysteresis: off when the send buffer fills, on again only at half', async () => {
    const { sim, reactor, acceptNext, until } = await simulatedServer({ sendBufferSize: 1000, receiveBufferSize: 100 });
    const peer = sim.connect(7000);
    const fd = await acceptNext('conn', Interest.WRITABLE);
    reactor.modify(fd, Interest.WRITABLE, { trigger: 'edge', token: 'conn' });
    await peer.connected;
    peer.pause();
    expect(reactor.write(fd, Buffer.alloc(2000))).toBe(1000); // partial: the buffer is full
    expect(reactor.write(fd, Buffer.alloc(10))).toBe(0);
    peer.resume();
    await until((e) => e.fd === fd);
    // Writable again with the send buffer at or below half.
    expect(reactor.write(fd, Buffer.alloc(2000))).toBeGreaterThanOrEqual(500);
    await reactor.close();
  });

  test('closing with unread data resets the connection, as Linux does', async () => {
    const { sim, reactor, acceptNext, until } = await simulatedServer();
    const peer = sim.connect(7000);
    const fd = await acceptNext('conn');
    peer.write('never read');
    await until((e) => e.fd === fd);
    reactor.close(fd);
    expect((await peer.waitError()).code).toBe('ECONNRESET');
    await reactor.close();
  });

  test('closing cleanly sends what was written, then FIN', async () => {
    const { sim, reactor, acceptNext } = await simulatedServer();
    const peer = sim.connect(7000);
    const fd = await acceptNext('conn', Interest.WRITABLE);
    await peer.connected;
    reactor.write(fd, Buffer.from('goodbye'));
    reactor.close(fd);
    await peer.waitEnd();
    expect(peer.received().toString()).toBe('goodbye');
    expect(peer.error).toBeUndefined();
    await reactor.close();
  });

  test('data sent to a socket that was closed is answered with a reset, which the peer, having read our FIN, meets at its next write', async () => {
    const { sim, reactor, acceptNext } = await simulatedServer();
    const peer = sim.connect(7000);
    const fd = await acceptNext('conn');
    await peer.connected;
    reactor.close(fd);
    await peer.waitEnd();
    peer.write('anyone there?');
    sim.run(); // the data reaches the closed socket; its reset comes back
    expect(peer.error).toBeUndefined(); // as on a real socket: after end of stream nothing reads it any more
    peer.write('still there?');
    expect(peer.error?.code).toBe('EPIPE');
    await reactor.close();
  });

  test('a peer still reading sees a reset at once: abort', async () => {
    const { sim, reactor, acceptNext } = await simulatedServer();
    const peer = sim.connect(7000);
    const fd = await acceptNext('conn');
    await peer.connected;
    reactor.abort(fd);
    expect((await peer.waitError()).code).toBe('ECONNRESET');
    await reactor.close();
  });
});

describe('SimulatedBackend: resets where real sockets see them', () => {
  test('a reset that reaches a full receive buffer is held behind the data until the owner reads', async () => {
    const { sim, reactor, acceptNext, events } = await simulatedServer({ receiveBufferSize: 4096 });
    const peer = sim.connect(7000);
    const fd = await acceptNext('conn');
    peer.write(Buffer.alloc(10_000, 1)); // more than the receive buffer holds
    sim.run();
    expect(reactor.info(fd).readBuffered).toBe(4096);
    peer.reset();
    sim.run();
    await reactor.poll(events, 0);
    expect([...events].map((e) => e.flags)).toEqual([Readiness.READABLE]); // data, no error yet: as a real backend that stopped reading
    expect(reactor.read(fd)?.length).toBe(4096); // the data first
    sim.run();
    await reactor.poll(events, 0);
    expect([...events].map((e) => e.flags)).toEqual([Readiness.READABLE | Readiness.ERROR | Readiness.WRITE_CLOSED]);
    expect(() => reactor.read(fd)).toThrow(expect.objectContaining({ code: 'ECONNRESET' }) as Error);
    await reactor.close();
  });

  test("a reset after the peer's FIN is held until the next write, which fails with EPIPE", async () => {
    const { sim, reactor, acceptNext, events } = await simulatedServer();
    const peer = sim.connect(7000);
    const fd = await acceptNext('conn');
    peer.end();
    sim.run();
    peer.reset();
    sim.run();
    await reactor.poll(events, 0);
    expect([...events].map((e) => e.flags)).toEqual([Readiness.READABLE | Readiness.READ_CLOSED]);
    expect(() => reactor.write(fd, Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'EPIPE' }) as Error);
    await reactor.poll(events, 0);
    expect([...events][0].error).toBe(true);
    await reactor.close();
  });
});

describe('SimulatedBackend: lingering and stepping by hand', () => {
  test('a graceful close toward a peer that never reads lingers for lingerMs of simulated time, listed in the report, then resets', async () => {
    const sim = new SimulatedBackend({ seed: 1 });
    const reactor = new Reactor({ backend: sim, lingerMs: 10_000 });
    const listener = await reactor.listen({ host: '127.0.0.1', port: 7000 });
    const peer = sim.connect(7000);
    sim.run();
    const fd = reactor.accept(listener) as number;
    peer.pause();
    // The peer's receive buffer fills, then our send buffer: 64 KiB each.
    let written = 0;
    for (let n = -1; n !== 0; sim.run(sim.clock.now() + 1)) written += n = reactor.write(fd, Buffer.alloc(200_000, 2));
    expect(written).toBe(2 * 64 * 1024);
    reactor.close(fd);
    expect(descriptorReport(reactor).filter((d) => d.state === 'lingering')).toEqual([
      expect.objectContaining({ fd, kind: 'stream', writeBuffered: expect.any(Number) as number }),
    ]);
    expect(reactor.lingering()[0].queuedBytes).toBeGreaterThan(0);
    sim.run(sim.clock.now() + 9_000);
    expect(reactor.lingering()).toHaveLength(1);
    sim.run(sim.clock.now() + 2_000);
    expect(reactor.lingering()).toEqual([]);
    peer.resume();
    expect((await peer.waitError()).code).toBe('ECONNRESET');
    await reactor.close();
  });

  test('autoAdvance: false holds time still without a poll; settle() lets the network land but not a far timer', async () => {
    const sim = new SimulatedBackend({ seed: 1, autoAdvance: false, latencyMs: 5 });
    const reactor = new Reactor({ backend: sim, lingerMs: 60_000 });
    const listener = await reactor.listen({ host: '127.0.0.1', port: 7000 });
    const peer = sim.connect(7000);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(sim.clock.now()).toBe(0); // nobody stepped it
    expect(sim.settle()).toBeGreaterThan(0);
    expect(sim.clock.now()).toBe(10); // SYN, then SYN-ACK: the handshake, and no further
    const fd = reactor.accept(listener) as number;
    peer.pause();
    for (let n = -1; n !== 0; sim.settle()) n = reactor.write(fd, Buffer.alloc(200_000, 3));
    reactor.close(fd); // lingers: its deadline is a minute away
    sim.settle();
    expect(sim.clock.now()).toBeLessThan(1_000);
    expect(reactor.lingering()).toHaveLength(1);
    sim.run(); // by hand, to the end: the deadline passes
    expect(reactor.lingering()).toEqual([]);
    await reactor.close();
  });
});

describe('SimulatedBackend: addresses and listeners', () => {
  const codeOf = async (p: Promise<unknown>) =>
    (
      (await p.then(
        () => undefined,
        (e: unknown) => e,
      )) as ReactorError | undefined
    )?.code;

  test('a port in use gives EADDRINUSE; an address this host lacks, EADDRNOTAVAIL', async () => {
    const { reactor } = await simulatedServer();
    expect(await codeOf(reactor.listen({ host: '127.0.0.1', port: 7000 }))).toBe('EADDRINUSE');
    expect(await codeOf(reactor.listen({ host: '::', port: 7000 }))).toBe('EADDRINUSE'); // dual stack covers 127.0.0.1
    expect(await codeOf(reactor.listen({ host: '10.9.8.7', port: 7001 }))).toBe('EADDRNOTAVAIL');
    await reactor.close();
  });

  test("'::' is dual stack unless ipv6Only; then IPv4 needs its own listener", async () => {
    const sim = new SimulatedBackend();
    const reactor = new Reactor({ backend: sim });
    const v6 = await reactor.listen({ host: '::', port: 8080, ipv6Only: true });
    const v4 = await reactor.listen({ host: '0.0.0.0', port: 8080 });
    reactor.register(v6, Interest.READABLE);
    reactor.register(v4, Interest.READABLE);
    sim.connect(8080, { host: '::1' });
    sim.connect(8080, { host: '127.0.0.1' });
    const events = new Events();
    const ready = new Set<number>();
    while (ready.size < 2) {
      await reactor.poll(events);
      for (const e of events) ready.add(e.fd);
    }
    expect(reactor.info(reactor.accept(v6) as number).family).toBe('IPv6');
    expect(reactor.info(reactor.accept(v4) as number).family).toBe('IPv4');
    await reactor.close();
  });

  test('a full backlog drops the SYN and counts it; the client sends it again 1 s later and is served once there is room', async () => {
    const sim = new SimulatedBackend({ latencyMs: 1 });
    const reactor = new Reactor({ backend: sim });
    const fd = await reactor.listen({ host: '127.0.0.1', port: 7000, backlog: 1 }); // Linux holds backlog + 1
    const peers = [sim.connect(7000), sim.connect(7000), sim.connect(7000)];
    await Promise.all([peers[0].connected, peers[1].connected]);
    sim.run(sim.clock.now() + 500);
    expect(sim.droppedConnections(fd)).toBe(1);
    expect(peers[2].error).toBeUndefined(); // not refused: still connecting
    expect(reactor.accept(fd)).not.toBeNull(); // room for one
    await peers[2].connected;
    expect(sim.clock.now()).toBeGreaterThanOrEqual(1_000 + 2); // the retransmission, one second after the first SYN
    expect(sim.stats.refused).toBe(0);
    await reactor.close();
  });

  test('a Unix connect to a full backlog fails at once with EAGAIN, as Linux answers a non-blocking connect; the drop is counted for the listener and the world', async () => {
    const sim = new SimulatedBackend();
    const reactor = new Reactor({ backend: sim });
    const fd = await reactor.listen({ path: '/run/app.sock', backlog: 1 });
    const peers = [sim.connect('/run/app.sock'), sim.connect('/run/app.sock'), sim.connect('/run/app.sock')];
    await Promise.all([peers[0].connected, peers[1].connected]);
    expect((await peers[2].waitError()).code).toBe('EAGAIN');
    expect(sim.droppedConnections(fd)).toBe(1);
    expect(sim.stats.dropped).toBe(1);
    await reactor.close();
  });

  test('a client that never finds room gives up after the SYN retries, with ETIMEDOUT (about 127 s, as Linux)', async () => {
    const sim = new SimulatedBackend({ trace: true });
    const reactor = new Reactor({ backend: sim });
    const fd = await reactor.listen({ host: '127.0.0.1', port: 7000, backlog: 1 });
    sim.connect(7000);
    sim.connect(7000);
    const late = sim.connect(7000);
    expect((await late.waitError()).code).toBe('ETIMEDOUT');
    expect(sim.clock.now()).toBeGreaterThanOrEqual(127_000);
    expect(sim.clock.now()).toBeLessThan(128_000);
    expect(sim.droppedConnections(fd)).toBe(7); // the SYN and its six retransmissions
    expect(sim.trace.filter((line) => line.includes('syn (retry')).length).toBe(6);
    await reactor.close();
  });

  test('a thousand simultaneous clients on the default backlog are all served, the late ones after a retransmission', async () => {
    const sim = new SimulatedBackend();
    const reactor = new Reactor({ backend: sim });
    const fd = await reactor.listen({ host: '127.0.0.1', port: 7000 });
    reactor.register(fd, Interest.READABLE);
    const peers = Array.from({ length: 1_000 }, () => sim.connect(7000));
    const events = new Events();
    let accepted = 0;
    while (accepted < 1_000) {
      await reactor.poll(events);
      while (reactor.accept(fd) !== null) accepted++;
    }
    await Promise.all(peers.map((peer) => peer.connected));
    expect(sim.stats.refused).toBe(0);
    expect(sim.droppedConnections(fd)).toBe(1_000 - 512); // 511 + 1 waited, as on Linux
    await reactor.close();
  });
});

describe('SimulatedBackend: construction', () => {
  test('runs on its own clock and says so if given another', () => {
    const sim = new SimulatedBackend();
    expect(() => new Reactor({ backend: sim, clock: new ManualClock() })).toThrow(/own clock/);
    expect(new Reactor({ backend: new SimulatedBackend({ startMs: 500 }) }).clock.now()).toBe(500);
  });

  test('checks its options, naming each', () => {
    expect(() => new SimulatedBackend({ latencyMs: -1 })).toThrow(/'latencyMs'/);
    expect(() => new SimulatedBackend({ bandwidth: 0 })).toThrow(/'bandwidth'/);
    expect(() => new SimulatedBackend({ sendBufferSize: 0 })).toThrow(/'sendBufferSize'/);
    expect(() => new SimulatedBackend({ faults: { reset: 2 } })).toThrow(/'faults.reset'/);
    expect(() => new SimulatedBackend({ seed: 1.5 })).toThrow(/'seed'/);
  });

  test('records nothing unless tracing is on', async () => {
    const { sim, reactor } = await simulatedServer();
    sim.connect(7000);
    await reactor.poll(new Events(), 10);
    expect(sim.trace).toEqual([]);
    await reactor.close();
  });
});
