import { Events, Interest, Reactor, ReactorError, SeededRandom, SimulatedBackend } from '../../../src';

/**
 * Rule 25: with the simulated backend, one seed gives the same events in the
 * same order, and a byte-identical trace.
 *
 * The scenario: an echo server that also keeps idle timers, and 40 clients
 * that connect at random times, send random data in random pieces, sometimes
 * stall, half-close or reset, over a network that drops in random faults.
 */
async function scenario(seed: number): Promise<{ log: string[]; trace: readonly string[] }> {
  const sim = new SimulatedBackend({
    seed,
    latencyMs: 0.3,
    bandwidth: 2_000,
    sendBufferSize: 8 * 1024,
    receiveBufferSize: 8 * 1024,
    trace: true,
    // Rates high enough that 40 clients meet every kind of fault, whatever the draws.
    faults: { reset: 0.01, refuse: 0.2, acceptEmfile: 0.2, shortWrite: 0.2, delay: 0.1, delayMs: 3, stall: 0.05, stallMs: 20 },
  });
  const reactor = new Reactor<number>({ backend: sim });
  const log: string[] = [];
  const lfd = await reactor.listen({ host: '127.0.0.1', port: 9000 });
  reactor.register(lfd, Interest.READABLE, { token: -1 });

  // The clients, driven by their own generator (also seeded).
  const plan = new SeededRandom(seed ^ 0x5eed);
  for (let i = 0; i < 40; i++) {
    const startAt = plan.next() * 50;
    const pieces = 1 + plan.int(6);
    const ending = plan.int(3); // 0: end, 1: reset, 2: close
    reactor.timers.schedule(startAt, () => {
      const peer = sim.connect(9000);
      for (let p = 0; p < pieces; p++) {
        const size = 1 + plan.int(20_000);
        reactor.timers.schedule(p * plan.next() * 10, () => {
          if (peer.error === undefined) peer.write(Buffer.alloc(size, (i + p) & 0xff));
        });
      }
      reactor.timers.schedule(100 + plan.next() * 100, () => {
        if (ending === 0) peer.end();
        else if (ending === 1) peer.reset();
        else peer.close();
      });
    });
  }

  const events = new Events<number>(16);
  const stop = sim.clock.now() + 1_000;
  while (sim.clock.now() < stop) {
    await reactor.poll(events, stop - sim.clock.now());
    for (const event of events) {
      log.push(`${sim.clock.now().toFixed(3)} fd${event.fd} ${event.flags}`);
      if (event.token === -1) {
        for (;;) {
          let fd: number | null;
          try {
            fd = reactor.accept(lfd);
          } catch (err) {
            log.push(`accept ${(err as ReactorError).code}`);
            break;
          }
          if (fd === null) break;
          reactor.register(fd, Interest.READABLE, { trigger: 'edge', token: fd });
        }
        continue;
      }
      const fd = event.fd;
      try {
        for (let chunk = reactor.read(fd, 4096); chunk !== null; chunk = reactor.read(fd, 4096)) {
          if (chunk.length === 0) {
            reactor.close(fd);
            log.push(`closed fd${fd}`);
            break;
          }
          log.push(`echo fd${fd} ${reactor.write(fd, chunk)}/${chunk.length}`);
        }
      } catch (err) {
        log.push(`error fd${fd} ${(err as ReactorError).code}`);
        reactor.close(fd);
      }
    }
  }
  await reactor.close();
  return { log, trace: sim.trace };
}

describe('SimulatedBackend determinism (rule 25)', () => {
  test('the same seed gives the same events in the same order and a byte-identical trace', async () => {
    const first = await scenario(2024);
    const second = await scenario(2024);
    expect(first.log.length).toBeGreaterThan(100); // a scenario that did something
    expect(first.trace.length).toBeGreaterThan(500);
    expect(second.log).toEqual(first.log);
    expect(second.trace.join('\n')).toBe(first.trace.join('\n'));
    // ...and it exercised the faults it claims to.
    const trace = first.trace.join('\n');
    for (const fault of ['fault refuse', 'fault accept-emfile', 'fault short-write', 'fault delay']) {
      expect(trace).toContain(fault);
    }
  });

  test('another seed gives another run', async () => {
    const a = await scenario(1);
    const b = await scenario(2);
    expect(b.trace.join('\n')).not.toBe(a.trace.join('\n'));
  });
});
