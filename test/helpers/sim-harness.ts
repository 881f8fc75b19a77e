import { Events, Interest, Reactor, SimulatedBackend, type SimulatedBackendOptions } from '../../src';

/** A reactor on a fresh simulated network, with helpers to accept and to wait for events. */
export async function simulatedServer(options: SimulatedBackendOptions = {}) {
  const sim = new SimulatedBackend({ seed: 1, ...options });
  const reactor = new Reactor<string>({ backend: sim });
  const events = new Events<string>();
  const listener = await reactor.listen({ host: '127.0.0.1', port: 7000 });
  reactor.register(listener, Interest.READABLE, { token: 'listener' });

  /** Polls until `match` holds for an event; returns it. Fails after 10 s of simulated time. */
  const until = async (match: (e: { fd: number; flags: number; token: string | undefined }) => boolean) => {
    const giveUp = sim.clock.now() + 10_000;
    while (sim.clock.now() < giveUp) {
      await reactor.poll(events, 100);
      const found = [...events].find(match);
      if (found !== undefined) return { fd: found.fd, flags: found.flags, token: found.token };
    }
    throw new Error('no matching event within 10 s of simulated time');
  };

  /** Waits for the next connection and accepts it, registered with `interest`. */
  const acceptNext = async (token: string, interest: number = Interest.READABLE) => {
    for (;;) {
      const fd = reactor.accept(listener);
      if (fd !== null) {
        reactor.register(fd, interest, { token });
        return fd;
      }
      await until((e) => e.fd === listener);
    }
  };

  /** Reads everything buffered on `fd`. */
  const drain = (fd: number): Buffer => {
    const parts: Buffer[] = [];
    for (let c = reactor.read(fd); c !== null && c.length > 0; c = reactor.read(fd)) parts.push(c);
    return Buffer.concat(parts);
  };

  return { sim, reactor, events, listener, until, acceptNext, drain };
}

/**
 * A fresh reactor listening on 127.0.0.1:7000 of a new simulated network, a
 * client connected to it, and the fd the reactor accepted it as: set up by
 * running the network by hand, with no poll loop.
 */
export async function acceptedClient(options: SimulatedBackendOptions = {}) {
  const sim = new SimulatedBackend({ seed: 1, ...options });
  const reactor = new Reactor({ backend: sim });
  const listener = await reactor.listen({ host: '127.0.0.1', port: 7000 });
  const client = sim.connect(7000);
  await client.connected;
  sim.run(sim.clock.now() + 1); // the handshake's last leg lands
  const fd = reactor.accept(listener) as number;
  return { sim, reactor, listener, client, fd };
}
