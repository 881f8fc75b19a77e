import { type Backend, Events, Interest, LibuvBackend, RawHandleBackend, Reactor, SimulatedBackend } from '../../src';
import { StubBackend } from '../helpers/stub-backend';
import { leakedSince, resourceCounts, settleHandles } from '../helpers/resources';
import { codeOf, pollOnce, pollUntil, quietEventsFor, R } from './polling';

/**
 * Signal descriptors (signalfd) keep one contract on every backend: readable
 * while a watched signal waits, `readSignals` says which and how often, in
 * arrival order, and level, edge and one-shot as for any descriptor. Real
 * backends hear the process's own signals; here they are emitted on
 * `process` (Jest gives each test file a copy of `process` whose listeners
 * the operating system cannot reach). A real kill reaches them in
 * test/integration/server/process.test.ts, whose server handles SIGTERM
 * through `loop.handleSignals`, itself built on a signal descriptor.
 */
interface SignalHarness {
  name: string;
  makeBackend(): Backend;
  /** Delivers `signal` to the reactor's process (or simulated host). */
  raise(signal: NodeJS.Signals): void;
}

const real = (name: string, make: () => Backend): SignalHarness => ({
  name,
  makeBackend: make,
  raise: (signal) => process.emit(signal, signal),
});

let sim: SimulatedBackend | undefined;
const harnesses: SignalHarness[] = [
  real('libuv', () => new LibuvBackend()),
  { name: 'simulated', makeBackend: () => (sim = new SimulatedBackend()), raise: (signal) => sim?.raise(signal) },
];
if (RawHandleBackend.available()) harnesses.push(real('raw', () => new RawHandleBackend()));

describe.each(harnesses)('signal contract: $name', (harness) => {
  let reactor: Reactor<string>;
  let events: Events<string>;
  let before: Record<string, number>;

  beforeEach(() => {
    before = resourceCounts();
    reactor = new Reactor<string>({ backend: harness.makeBackend() });
    events = new Events<string>();
  });

  afterEach(async () => {
    await reactor.close();
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  test('a watched signal makes the descriptor readable; readSignals says which and how often, then null', async () => {
    const fd = reactor.signal(['SIGWINCH', 'SIGUSR2']);
    expect(reactor.info(fd)).toMatchObject({ kind: 'signal', localAddress: undefined, readBuffered: 0 });
    reactor.register(fd, Interest.READABLE, { token: 'signals' });
    expect(reactor.readSignals(fd)).toBeNull();
    harness.raise('SIGUSR2');
    harness.raise('SIGWINCH');
    harness.raise('SIGUSR2');
    expect(await pollUntil(reactor, events, (e) => e.fd === fd)).toMatchObject({ flags: R, token: 'signals' });
    await quietEventsFor(reactor, events, fd); // let all three land
    expect(reactor.readSignals(fd)).toEqual([
      { signal: 'SIGUSR2', count: 2 },
      { signal: 'SIGWINCH', count: 1 },
    ]);
    expect(reactor.readSignals(fd)).toBeNull();
    expect(await quietEventsFor(reactor, events, fd)).toEqual([]); // read: no longer readable
  });

  test('a signal it does not watch leaves it alone; another descriptor watching it hears it', async () => {
    const usr2 = reactor.signal(['SIGUSR2']);
    const winch = reactor.signal(['SIGWINCH']);
    reactor.register(usr2, Interest.READABLE);
    reactor.register(winch, Interest.READABLE);
    harness.raise('SIGWINCH');
    await pollUntil(reactor, events, (e) => e.fd === winch);
    expect(await quietEventsFor(reactor, events, usr2)).toEqual([]);
    expect(reactor.readSignals(usr2)).toBeNull();
    expect(reactor.readSignals(winch)).toEqual([{ signal: 'SIGWINCH', count: 1 }]);
  });

  test('an alias is the same signal: a watch on SIGIOT hears SIGABRT, named by the name its number goes by', async () => {
    const fd = reactor.signal(['SIGIOT', 'SIGABRT']); // one signal, watched once
    reactor.register(fd, Interest.READABLE);
    harness.raise('SIGABRT');
    await pollUntil(reactor, events, (e) => e.fd === fd);
    expect(reactor.readSignals(fd)).toEqual([{ signal: 'SIGABRT', count: 1 }]);
  });

  test('level stays readable until read; edge reports each arrival once; one-shot once until modify', async () => {
    const fd = reactor.signal(['SIGWINCH']);
    reactor.register(fd, Interest.READABLE);
    harness.raise('SIGWINCH');
    await pollUntil(reactor, events, (e) => e.fd === fd);
    expect((await pollOnce(reactor, events)).length).toBe(1); // level: still pending
    reactor.modify(fd, Interest.READABLE, { trigger: 'edge' });
    expect((await pollOnce(reactor, events)).length).toBe(1);
    expect(await quietEventsFor(reactor, events, fd)).toEqual([]);
    harness.raise('SIGWINCH');
    await pollUntil(reactor, events, (e) => e.fd === fd); // a new arrival: a new edge
    reactor.modify(fd, Interest.READABLE, { trigger: 'oneshot' });
    expect((await pollOnce(reactor, events)).length).toBe(1);
    harness.raise('SIGWINCH');
    expect(await quietEventsFor(reactor, events, fd)).toEqual([]); // disarmed
    expect(reactor.readSignals(fd)).toEqual([{ signal: 'SIGWINCH', count: 3 }]);
  });

  test('closing it removes its process listener, and the descriptor is gone (EBADF)', () => {
    const listeners = process.listenerCount('SIGUSR2');
    const fd = reactor.signal(['SIGUSR2']);
    expect(process.listenerCount('SIGUSR2')).toBe(harness.name === 'simulated' ? listeners : listeners + 1);
    reactor.close(fd);
    expect(process.listenerCount('SIGUSR2')).toBe(listeners);
    expect(codeOf(() => reactor.readSignals(fd))).toBe('EBADF');
  });

  test("bad input is a RangeError naming 'signals', and no descriptor is taken; stream calls on it fail with EINVAL", () => {
    expect(() => reactor.signal([])).toThrow(/'signals' must be a non-empty array/);
    expect(() => reactor.signal(['SIGFOO' as NodeJS.Signals])).toThrow(/'signals' must hold signal names/);
    expect(() => reactor.signal(['SIGKILL'])).toThrow(/'signals' cannot hold SIGKILL/);
    expect(() => reactor.signal(['SIGPIPE'])).toThrow(/'signals' cannot hold SIGPIPE: Node ignores it/);
    expect(() => reactor.signal(['SIGSEGV'])).toThrow(/'signals' cannot hold SIGSEGV/);
    expect(() => reactor.signal('SIGTERM' as unknown as NodeJS.Signals[])).toThrow(/'signals'/);
    expect(reactor.descriptors()).toEqual([]);
    const fd = reactor.signal(['SIGWINCH', 'SIGWINCH']);
    expect(codeOf(() => reactor.read(fd))).toBe('EINVAL');
    expect(codeOf(() => reactor.write(fd, Buffer.from('x')))).toBe('EINVAL');
    expect(codeOf(() => reactor.recvFrom(fd))).toBe('EINVAL');
  });
});

test('a backend without signal descriptors refuses with ERR_BACKEND_UNAVAILABLE, and no descriptor is taken', async () => {
  const reactor = new Reactor({ backend: new StubBackend() });
  expect(() => reactor.signal(['SIGTERM'])).toThrow(expect.objectContaining({ code: 'ERR_BACKEND_UNAVAILABLE' }) as Error);
  expect(reactor.descriptors()).toEqual([]);
  await reactor.close();
});
