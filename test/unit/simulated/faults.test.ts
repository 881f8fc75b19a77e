import { EventLoop, Interest, Reactor, ReactorError, Readiness, SimulatedBackend } from '../../../src';
import { simulatedServer } from '../../helpers/sim-harness';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as ReactorError).code;
  }
  return undefined;
};

describe('SimulatedBackend faults: each gives what a real socket would, and the others are still served', () => {
  test('a reset by the peer: error event, read throws ECONNRESET; a bystander keeps working', async () => {
    const { sim, reactor, until, acceptNext, drain } = await simulatedServer();
    const victim = sim.connect(7000);
    const bystander = sim.connect(7000);
    const victimFd = await acceptNext('victim');
    const bystanderFd = await acceptNext('bystander');
    victim.reset();
    const seen = await until((e) => e.fd === victimFd);
    expect(seen.flags & 16).toBe(16); // ERROR
    expect(codeOf(() => reactor.read(victimFd))).toBe('ECONNRESET');
    bystander.write('still here');
    await until((e) => e.fd === bystanderFd);
    expect(drain(bystanderFd).toString()).toBe('still here');
    await reactor.close();
  });

  test('resetConnection(fd) on demand: the fd gets ECONNRESET', async () => {
    const { sim, reactor, until, acceptNext } = await simulatedServer();
    const peer = sim.connect(7000);
    const fd = await acceptNext('conn');
    sim.resetConnection(fd);
    await until((e) => e.fd === fd && (e.flags & 16) !== 0);
    expect(codeOf(() => reactor.write(fd, Buffer.from('x')))).toBe('ECONNRESET');
    expect(peer.error).toBeUndefined(); // it was the peer's side that reset
    await reactor.close();
  });

  test('a refused connect: error event and ECONNREFUSED; the next connect to the same port works', async () => {
    const { sim, reactor, until } = await simulatedServer();
    const server = sim.listen(8000);
    sim.refuseNextConnection(8000);
    const refused = reactor.connect({ host: '127.0.0.1', port: 8000 });
    reactor.register(refused, Interest.WRITABLE);
    const seen = await until((e) => e.fd === refused);
    expect(seen.flags & 16).toBe(16);
    expect(codeOf(() => reactor.read(refused))).toBe('ECONNREFUSED');
    const ok = reactor.connect({ host: '127.0.0.1', port: 8000 });
    reactor.register(ok, Interest.WRITABLE);
    expect((await until((e) => e.fd === ok)).flags).toBe(2); // WRITABLE
    const accepted = await server.accepted();
    reactor.write(ok, Buffer.from('hi'));
    expect((await accepted.waitFor(2)).toString()).toBe('hi');
    await reactor.close();
  });

  test('nothing listening: ECONNREFUSED, as on a real host', async () => {
    const { sim, reactor, until } = await simulatedServer();
    const fd = reactor.connect({ host: '127.0.0.1', port: sim.freePort() });
    reactor.register(fd, Interest.WRITABLE);
    await until((e) => e.fd === fd);
    expect(codeOf(() => reactor.write(fd, Buffer.from('x')))).toBe('ECONNREFUSED');
    await reactor.close();
  });

  test('EMFILE on accept: accept throws, nothing is allocated, the connection waits and is accepted next time', async () => {
    const { sim, reactor, listener, until } = await simulatedServer();
    const peer = sim.connect(7000);
    await until((e) => e.fd === listener);
    sim.failNextAccept(listener);
    const open = reactor.size;
    expect(codeOf(() => reactor.accept(listener))).toBe('EMFILE');
    expect(reactor.size).toBe(open);
    const fd = reactor.accept(listener) as number;
    expect(fd).not.toBeNull();
    reactor.register(fd, Interest.READABLE);
    peer.write('after EMFILE');
    await until((e) => e.fd === fd);
    expect(reactor.read(fd)?.toString()).toBe('after EMFILE');
    await reactor.close();
  });

  test('a short write accepts fewer bytes and means the buffer is full: not writable until the edge that follows; then the rest, in order', async () => {
    const { sim, reactor, acceptNext, until } = await simulatedServer();
    const peer = sim.connect(7000);
    const fd = await acceptNext('conn', Interest.WRITABLE);
    sim.shortenNextWrite(fd, 3);
    const data = Buffer.from('abcdefghij');
    expect(reactor.write(fd, data)).toBe(3);
    expect(reactor.write(fd, data.subarray(3))).toBe(0); // full, as after any partial write
    await until((e) => e.fd === fd && (e.flags & Readiness.WRITABLE) !== 0);
    expect(reactor.write(fd, data.subarray(3))).toBe(7);
    expect((await peer.waitFor(10)).toString()).toBe('abcdefghij');
    await reactor.close();
  });

  test('a peer waiting for bytes that will not come is told at once: the server ended (ERR_PEER_ENDED, with the count) or reset', async () => {
    const { sim, reactor, acceptNext } = await simulatedServer();
    const ended = sim.connect(7000);
    const fd = await acceptNext('ended');
    reactor.write(fd, Buffer.from('only 10 b.'));
    reactor.shutdown(fd);
    await expect(ended.waitFor(100)).rejects.toMatchObject({
      code: 'ERR_PEER_ENDED',
      message: expect.stringContaining('after 10 of the 100 bytes') as string,
    });
    const reset = sim.connect(7000);
    const resetFd = await acceptNext('reset');
    reactor.abort(resetFd);
    await expect(reset.waitFor(1)).rejects.toMatchObject({ code: 'ECONNRESET' });
    await reactor.close();
  });

  test('a server that never answers: the wait fails at once (ERR_SIM_STALLED), naming who waits for what, instead of hanging', async () => {
    const sim = new SimulatedBackend({ trace: true });
    const loop = new EventLoop({ reactor: new Reactor({ backend: sim }) }); // no idle timeout: nothing will ever happen
    await loop.listen([{ host: '127.0.0.1', port: 7000 }], { onData() {} });
    const running = loop.run();
    const client = sim.connect(7000);
    client.write('hello?');
    const error = await client.waitFor(5).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ReactorError);
    expect((error as ReactorError).code).toBe('ERR_SIM_STALLED');
    expect((error as ReactorError).message).toMatch(/peer 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:7000 waits for 5 bytes \(has 0\)/);
    expect((error as ReactorError).message).toContain('a reactor poll waits with no timeout');
    expect((error as ReactorError).message).toMatch(/write .* 6/); // the tail of the trace
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('delayed delivery: the segment arrives late, and what follows waits behind it', async () => {
    const { sim, reactor, acceptNext, until, drain } = await simulatedServer({ latencyMs: 1 });
    const peer = sim.connect(7000);
    const fd = await acceptNext('conn');
    sim.delayNextDelivery(fd, 50);
    const sentAt = sim.clock.now();
    peer.write('first');
    peer.write('second');
    await until((e) => e.fd === fd);
    expect(sim.clock.now() - sentAt).toBeGreaterThanOrEqual(51);
    let text = drain(fd).toString();
    while (text.length < 11) {
      await until((e) => e.fd === fd);
      text += drain(fd).toString();
    }
    expect(text).toBe('firstsecond');
    await reactor.close();
  });

  test('a stalled peer: writes block until it reads again, then one writable edge', async () => {
    const { sim, reactor, acceptNext, until, events } = await simulatedServer({ sendBufferSize: 4096, receiveBufferSize: 4096 });
    const peer = sim.connect(7000);
    const fd = await acceptNext('conn', Interest.WRITABLE);
    reactor.modify(fd, Interest.WRITABLE, { trigger: 'edge', token: 'conn' });
    peer.stall(200);
    const stalledAt = sim.clock.now();
    let written = 0;
    for (let accepted = 1; accepted > 0;) {
      accepted = reactor.write(fd, Buffer.alloc(1024, 1));
      written += accepted;
      if (accepted === 0) {
        await reactor.poll(events, 10); // let the network move what it can
        accepted = reactor.write(fd, Buffer.alloc(1024, 1));
        written += accepted;
      }
    }
    expect(written).toBeLessThanOrEqual(4096 + 4096 + 1024); // its receive buffer plus our send buffer
    const edge = await until((e) => e.fd === fd);
    expect(edge.flags).toBe(2);
    expect(sim.clock.now() - stalledAt).toBeGreaterThanOrEqual(200);
    expect((await peer.waitFor(written)).length).toBe(written);
    await reactor.close();
  });

  test('faults by chance: a rate of 1 injects the fault every time', async () => {
    const { sim, reactor } = await simulatedServer({ faults: { refuse: 1 } });
    const peers = [sim.connect(7000), sim.connect(7000), sim.connect(7000)];
    const errors = await Promise.all(peers.map((p) => p.waitError()));
    expect(errors.map((e) => e.code)).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
    expect(sim.stats.refused).toBe(3);
    await reactor.close();
  });
});
