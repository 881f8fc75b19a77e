import { type Datagram, Events, Interest, Reactor, SimulatedBackend, type SimulatedBackendOptions, SimulatedWorld } from '../../../src';

/**
 * UDP in the simulator: what TCP hides and UDP shows. Loss, duplication and
 * reordering happen per datagram, by seeded chance (the same seed, the same
 * datagrams lost), and the bind rules are a kernel's.
 */
describe('simulated datagrams', () => {
  /** A reactor's socket on port 53 and a peer that sends it `count` numbered datagrams; what arrived, in order. */
  async function exchange(options: SimulatedBackendOptions, count: number): Promise<string[]> {
    const sim = new SimulatedBackend(options);
    const reactor = new Reactor({ backend: sim });
    const fd = await reactor.bind({ host: '127.0.0.1', port: 53, receiveQueueDatagrams: 10_000 });
    const peer = sim.udp();
    for (let i = 0; i < count; i++) peer.send(String(i), 53);
    sim.run();
    const got: string[] = [];
    for (let d = reactor.recvFrom(fd); d !== null; d = reactor.recvFrom(fd)) got.push(d.data.toString());
    await reactor.close();
    return got;
  }

  test('datagramLoss loses datagrams by seeded chance: the same seed loses the same ones, another seed others', async () => {
    const lossy = (seed: number) => exchange({ seed, faults: { datagramLoss: 0.3 } }, 200);
    const first = await lossy(7);
    expect(first.length).toBeGreaterThan(100);
    expect(first.length).toBeLessThan(180);
    expect(await lossy(7)).toEqual(first);
    expect(await lossy(8)).not.toEqual(first);
  });

  test('datagramDuplicate delivers a datagram twice', async () => {
    const got = await exchange({ seed: 1, faults: { datagramDuplicate: 1 } }, 3);
    expect(got.sort()).toEqual(['0', '0', '1', '1', '2', '2']);
  });

  test('a delayed datagram is overtaken by later ones: UDP keeps no order (TCP would)', async () => {
    const got = await exchange({ seed: 3, faults: { delay: 0.2, delayMs: 5 } }, 100);
    expect([...got].sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 100 }, (_, i) => String(i))); // none lost
    expect(got).not.toEqual([...got].sort((a, b) => Number(a) - Number(b))); // but not in order
  });

  test('a datagram to a port where nothing is bound is gone, and the sender hears nothing', async () => {
    const sim = new SimulatedBackend({ seed: 1, trace: true });
    const reactor = new Reactor({ backend: sim });
    const fd = await reactor.bind({ host: '127.0.0.1', port: 0 });
    expect(reactor.sendTo(fd, Buffer.from('anyone?'), '127.0.0.1', 9)).toBe(7);
    sim.run();
    expect(sim.trace.some((line) => line.includes('udp nobody at 127.0.0.1:9'))).toBe(true);
    expect(reactor.recvFrom(fd)).toBeNull();
    await reactor.close();
  });

  test('between hosts, the link carries datagrams with its latency and loses them in a partition', async () => {
    const world = new SimulatedWorld({ seed: 1 });
    const server = world.host({ name: 'dns', addresses: ['10.0.0.53'] });
    const client = world.host({ name: 'client', addresses: ['10.0.0.2'] });
    world.link(server, client, { latencyMs: 20 });
    const reactor = new Reactor({ backend: server.backend() });
    const fd = await reactor.bind({ host: '10.0.0.53', port: 53 });
    reactor.register(fd, Interest.READABLE);
    const peer = client.udp({ host: '10.0.0.2' });
    const start = reactor.clock.now();
    peer.send('query', 53, '10.0.0.53');
    const events = new Events();
    await reactor.poll(events, 1_000);
    expect(reactor.clock.now() - start).toBeCloseTo(20, 5);
    const query = reactor.recvFrom(fd) as Datagram;
    expect(query).toMatchObject({ address: '10.0.0.2', port: peer.port });
    world.partition('dns', 'client');
    reactor.sendTo(fd, Buffer.from('answer'), query.address, query.port);
    world.run();
    expect(peer.received).toEqual([]);
    world.heal('dns', 'client');
    reactor.sendTo(fd, Buffer.from('answer'), query.address, query.port);
    expect((await peer.next()).data.toString()).toBe('answer');
    await reactor.close();
    await world.close();
  });

  test("bind rules: an overlap is EADDRINUSE unless both ask reuseAddr; '::' dual stack overlaps '0.0.0.0'; an address the host lacks is EADDRNOTAVAIL; UDP and TCP ports are apart", async () => {
    const reactor = new Reactor({ backend: new SimulatedBackend() });
    await reactor.bind({ host: '0.0.0.0', port: 500 });
    await expect(reactor.bind({ host: '127.0.0.1', port: 500 })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await expect(reactor.bind({ host: '::', port: 500 })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await reactor.bind({ host: '::', port: 500, ipv6Only: true }); // IPv6 only: no overlap with 0.0.0.0
    await reactor.bind({ host: '127.0.0.1', port: 501, reuseAddr: true });
    await reactor.bind({ host: '127.0.0.1', port: 501, reuseAddr: true });
    await expect(reactor.bind({ host: '10.9.9.9', port: 0 })).rejects.toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind' });
    await reactor.listen({ host: '127.0.0.1', port: 500 }); // TCP's ports are another namespace
    await reactor.close();
  });

  test('a udp6 socket on :: hears an IPv4 sender at its mapped address and answers it there', async () => {
    const sim = new SimulatedBackend();
    const reactor = new Reactor({ backend: sim });
    const fd = await reactor.bind({ host: '::', port: 53, type: 'udp6' });
    const peer = sim.udp({ host: '127.0.0.1' });
    peer.send('hi', 53, '127.0.0.1');
    sim.run();
    const datagram = reactor.recvFrom(fd) as Datagram;
    expect(datagram.address).toBe('::ffff:127.0.0.1');
    reactor.sendTo(fd, Buffer.from('hello'), datagram.address, datagram.port);
    expect(await peer.next()).toMatchObject({ address: '127.0.0.1', port: 53 });
    await reactor.close();
  });
});
