import { Interest, Reactor, SimulatedWorld } from '../../../src';

/** Signals in the simulator: `raise` is `kill(pid, signal)` in simulated time, to one reactor's process. */
describe('simulated signals', () => {
  test('raise names a signal this platform knows (an alias is the same signal), or it is a RangeError naming it', async () => {
    const world = new SimulatedWorld();
    const sim = world.host('10.0.0.1').backend();
    const reactor = new Reactor({ backend: sim });
    const fd = reactor.signal(['SIGPOLL']);
    expect(() => sim.raise('SIGFOO' as NodeJS.Signals)).toThrow(/'signal' must hold signal names this platform knows/);
    sim.raise('SIGIO');
    world.run();
    expect(reactor.readSignals(fd)).toEqual([{ signal: 'SIGIO', count: 1 }]);
    await reactor.close();
    await world.close();
  });

  test('a crashed host hears no signal, and opens no signal descriptor', async () => {
    const world = new SimulatedWorld();
    const host = world.host('10.0.0.1');
    const sim = host.backend();
    const reactor = new Reactor({ backend: sim });
    const fd = reactor.signal(['SIGTERM']);
    reactor.register(fd, Interest.READABLE);
    sim.raise('SIGTERM'); // due, not delivered yet
    host.crash();
    sim.raise('SIGTERM');
    world.run();
    expect(reactor.readSignals(fd)).toBeNull();
    expect(() => reactor.signal(['SIGINT'])).toThrow(expect.objectContaining({ code: 'ERR_SIM_HOST_CRASHED' }) as Error);
    await reactor.close();
    await world.close();
  });
});
