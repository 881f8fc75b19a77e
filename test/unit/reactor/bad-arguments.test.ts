import { EventLoop, Events, Interest, Reactor, ReactorError, SimulatedBackend, SocketManager } from '../../../src';

/** Values a caller may pass by mistake where a number, an object or a function belongs. */
const BAD: unknown[] = [undefined, null, Number.NaN, -1, 1.5, 2 ** 40, 'x', '', {}, [], () => {}, Symbol('s'), true, 10n];

const name = (value: unknown) =>
  typeof value === 'symbol'
    ? 'a symbol'
    : typeof value === 'function'
      ? 'a function'
      : typeof value === 'bigint'
        ? `${value}n`
        : Array.isArray(value)
          ? '[]'
          : value === undefined
            ? 'undefined'
            : JSON.stringify(value);

/** An engine's own message: what a clear argument check replaces. */
const ENGINE = /Cannot read prop|Cannot destructure|is not a function|is not iterable|Cannot convert|Cannot mix BigInt/;

/**
 * The call either succeeds or fails as the API promises: a ReactorError with
 * a stable code, or a TypeError / RangeError of our own (never an engine's).
 */
async function refusedClearly(
  label: string,
  call: () => unknown,
  codes: readonly string[] = ['EBADF', 'EINVAL'],
): Promise<string | undefined> {
  let error: unknown;
  try {
    const result = call();
    if (result instanceof Promise) await result;
    return undefined;
  } catch (err) {
    error = err;
  }
  const ok =
    (error instanceof ReactorError && codes.includes(error.code)) ||
    ((error instanceof TypeError || error instanceof RangeError) && !ENGINE.test(error.message));
  return ok ? undefined : `${label}: ${String(error)}`;
}

describe('bad arguments get clear errors, and nothing already accepted is lost', () => {
  let reactor: Reactor;
  let listener: number;
  let stream: number;

  beforeEach(async () => {
    const backend = new SimulatedBackend();
    reactor = new Reactor({ backend });
    listener = await reactor.listen({ host: '127.0.0.1', port: 80 });
    backend.connect(80);
    const events = new Events();
    for (let fd = reactor.accept(listener); ; fd = reactor.accept(listener)) {
      if (fd !== null) {
        stream = fd;
        break;
      }
      await reactor.poll(events, 10);
    }
    reactor.register(stream, Interest.READABLE, { token: 'kept' });
  });

  afterEach(async () => {
    await reactor.close();
  });

  const unchanged = () => {
    expect(reactor.state).toBe('open');
    expect(reactor.descriptors()).toEqual([listener, stream]);
    expect(reactor.info(stream).interest).toBe(Interest.READABLE);
  };

  test('close(undefined) is a bad descriptor, not a request to close the reactor', () => {
    let error: unknown;
    try {
      reactor.close(undefined as unknown as number);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ReactorError);
    expect((error as ReactorError).code).toBe('EBADF');
    unchanged();
  });

  test('every Reactor entry point, with every bad value in every position', async () => {
    const failures: string[] = [];
    for (const bad of BAD) {
      const b = bad as never;
      const calls: [string, () => unknown][] = [
        ['accept', () => reactor.accept(b)],
        ['read', () => reactor.read(b)],
        ['read(stream, bad)', () => (bad === undefined ? null : reactor.read(stream, b))],
        ['write', () => reactor.write(b, Buffer.from('x'))],
        ['write(stream, bad)', () => reactor.write(stream, b)],
        ['shutdown', () => reactor.shutdown(b)],
        ['close', () => reactor.close(b)],
        ['abort', () => reactor.abort(b)],
        ['info', () => reactor.info(b)],
        ['kind', () => reactor.kind(b)],
        ['setSocketOptions', () => reactor.setSocketOptions(b, {})],
        ['setSocketOptions(stream, bad)', () => reactor.setSocketOptions(stream, b)],
        ['register', () => reactor.register(b, Interest.READABLE)],
        ['register(listener, bad)', () => reactor.register(listener, b)],
        ['register(listener, R, bad)', () => (bad === undefined ? undefined : reactor.register(listener, Interest.READABLE, b))],
        ['modify(stream, bad)', () => reactor.modify(stream, b)],
        ['modify(stream, R, bad)', () => (bad === undefined ? undefined : reactor.modify(stream, Interest.READABLE, b))],
        ['unregister', () => reactor.unregister(b)],
        ['listen', () => reactor.listen(b)],
        ['listen({ port: bad })', () => (bad === undefined ? undefined : reactor.listen({ port: b }))],
        ['connect', () => reactor.connect(b)],
        ['connect({ host, port: bad })', () => reactor.connect({ host: '127.0.0.1', port: b })],
        ['poll', () => reactor.poll(b, 0)],
        ['poll(events, bad)', () => (bad === undefined || bad === null ? undefined : reactor.poll(new Events(), b))],
        ['new Events', () => (bad === undefined ? undefined : new Events(b))],
        ['new Reactor', () => (bad === undefined ? undefined : new Reactor(b))],
      ];
      for (const [label, call] of calls) {
        const failure = await refusedClearly(`reactor.${label} with ${name(bad)}`, call);
        if (failure !== undefined) failures.push(failure);
        // A bad call never takes what was there: the listener, the stream and its registration.
        if (reactor.descriptors().join() !== `${listener},${stream}`)
          failures.push(`reactor.${label} with ${name(bad)} changed the descriptors`);
        if (reactor.info(listener).interest !== undefined) reactor.unregister(listener); // register(listener, R, {}) is fine
      }
    }
    expect(failures).toEqual([]);
    unchanged();
  });

  test('every EventLoop and SocketManager entry point', async () => {
    const failures: string[] = [];
    const loop = new EventLoop({ reactor: new Reactor({ backend: new SimulatedBackend() }) });
    const manager = new SocketManager(reactor);
    for (const bad of BAD) {
      const b = bad as never;
      const calls: [string, () => unknown][] = [
        ['new EventLoop', () => (bad === undefined ? undefined : new EventLoop(b))],
        ['loop.setHandlers', () => loop.setHandlers(b)],
        ['loop.listen', () => loop.listen(b)],
        ['loop.listen([bad])', () => loop.listen([b])],
        ['loop.addServerSocket', () => loop.addServerSocket(b)],
        ['loop.removeServerSocket', () => loop.removeServerSocket(b)],
        ['loop.removeClient', () => loop.removeClient(b)],
        ['loop.defer', () => loop.defer(b)],
        ['loop.defer(fn, bad)', () => (bad === undefined ? undefined : loop.defer(() => {}, b).cancel())],
        ['new SocketManager', () => new SocketManager(b)],
        ['manager.setupServerSockets', () => manager.setupServerSockets(b)],
        ['manager.setupServerSockets([bad])', () => manager.setupServerSockets([b])],
        ['manager.acceptConnection', () => manager.acceptConnection(b)],
        ['manager.closeServerSocket', () => manager.closeServerSocket(b)],
      ];
      for (const [label, call] of calls) {
        const failure = await refusedClearly(`${label} with ${name(bad)}`, call);
        if (failure !== undefined) failures.push(failure);
      }
      if (bad !== undefined) {
        const failure = await refusedClearly(`loop.close with ${name(bad)}`, () =>
          new EventLoop({ reactor: new Reactor({ backend: new SimulatedBackend() }) }).close(b),
        );
        if (failure !== undefined) failures.push(failure);
      }
    }
    expect(failures).toEqual([]);
    expect(loop.state).toBe('idle');
    await loop.close();
    unchanged();
  });
});
