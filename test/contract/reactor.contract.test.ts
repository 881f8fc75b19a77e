import { spawnSync } from 'node:child_process';
import { type Backend, Events, Interest, RawHandleBackend, Reactor, ReactorError, Waker } from '../../src';
import { leakedSince, resourceCounts, settleHandles } from '../helpers/resources';
import { FaultyBackend } from './faulty-backend';
import { type ContractHarness, type Peer, realSocketHarness, simulatedHarness } from './harness';
import { drainText, E, pollOnce, pollUntil, quietEventsFor, R, RC, readTextExactly, type Seen, W, WC } from './polling';

/**
 * The behaviour rules of DESIGN.md section 2, one test each, written against
 * the backend interface: every harness below runs the same suite.
 */
function ipv6LoopbackAvailable(): boolean {
  const probe = "require('net').createServer().once('error',()=>process.exit(1)).listen(0,'::1',function(){this.close()})";
  return spawnSync(process.execPath, ['-e', probe]).status === 0;
}

const ipv6 = ipv6LoopbackAvailable();
const raw = RawHandleBackend.available();
const harnesses: ContractHarness[] = [realSocketHarness('127.0.0.1', 'libuv'), simulatedHarness()];
if (raw) harnesses.push(realSocketHarness('127.0.0.1', 'raw'));
else describe.skip(`raw: skipped, Node ${process.version} lacks the bindings it needs`, () => test.todo('needs tcp_wrap'));
if (ipv6) harnesses.push(realSocketHarness('::1', 'libuv'));
if (ipv6 && raw) harnesses.push(realSocketHarness('::1', 'raw'));
if (!ipv6) describe.skip('::1: skipped, this machine has no IPv6 loopback', () => test.todo('needs ::1'));

const { READABLE, WRITABLE } = Interest;

describe.each(harnesses)('reactor contract: $name', (harness) => {
  let reactor: Reactor<string>;
  let events: Events<string>;
  let before: Record<string, number>;

  function makeReactor(backend: Backend = harness.makeBackend(), options: { lingerMs?: number } = {}): Reactor<string> {
    reactor = new Reactor<string>({ backend, ...options });
    return reactor;
  }

  beforeEach(() => {
    before = resourceCounts();
    makeReactor();
    events = new Events<string>();
  });

  afterEach(async () => {
    await reactor.close();
    await harness.dispose();
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  async function listener(): Promise<{ fd: number; port: number }> {
    const fd = await reactor.listen({ host: harness.host, port: 0 });
    return { fd, port: reactor.info(fd).localPort as number };
  }

  /** A connect that fails: `error` (never `writable`) on its fd, and `code` from read and write. */
  async function expectConnectFails(fd: number, code: string): Promise<void> {
    reactor.register(fd, WRITABLE, { token: 'dialer' });
    const seen = await pollUntil(reactor, events, (e) => e.fd === fd);
    expect(seen.flags & E).toBe(E);
    expect(seen.flags & W).toBe(0);
    expectCode(() => reactor.read(fd), code);
    expectCode(() => reactor.write(fd, Buffer.from('x')), code);
  }

  /** Writes `data` from `sent` on, writing until EAGAIN after each writable edge (rule 22: each must come). */
  async function writeRestOnWritableEdges(fd: number, data: Buffer, sent: number): Promise<void> {
    while (sent < data.length) {
      await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & W) !== 0);
      for (let n = -1; n !== 0 && sent < data.length;) {
        n = reactor.write(fd, data.subarray(sent));
        sent += n;
      }
    }
  }

  /** An accepted connection and its peer; the listener stays open but unregistered. */
  async function connection(): Promise<{ fd: number; peer: Peer }> {
    const { fd: lfd, port } = await listener();
    const peer = await harness.connectPeer(port);
    reactor.register(lfd, READABLE);
    await pollUntil(reactor, events, (e) => e.fd === lfd);
    const fd = reactor.accept(lfd) as number;
    reactor.unregister(lfd);
    expect(fd).not.toBeNull();
    return { fd, peer };
  }

  /** Reads everything buffered now (until null or end of stream). */
  const drain = (fd: number): string => drainText(reactor, fd);

  /** Polls until `fd` has `bytes` readable in total, reading them. */
  const readExactly = (fd: number, bytes: number): Promise<string> => readTextExactly(reactor, events, fd, bytes);

  const expectCode = (fn: () => unknown, code: string) => {
    let caught: unknown;
    try {
      fn();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ReactorError);
    expect((caught as ReactorError).code).toBe(code);
  };

  test('rule 1: registering a registered fd throws EEXIST and changes nothing', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, READABLE, { token: 'first' });
    expectCode(() => reactor.register(fd, WRITABLE, { trigger: 'edge', token: 'second' }), 'EEXIST');
    expect(reactor.info(fd)).toMatchObject({ interest: READABLE, trigger: 'level' });
    await peer.write('x');
    const seen = await pollUntil(reactor, events, (e) => e.fd === fd);
    expect(seen).toEqual({ fd, flags: R, token: 'first' });
  });

  test('rule 2: modify or unregister without a registration throws ENOENT; on an fd not open, EBADF', async () => {
    const { fd } = await connection();
    expectCode(() => reactor.modify(fd, READABLE), 'ENOENT');
    expectCode(() => reactor.unregister(fd), 'ENOENT');
    expectCode(() => reactor.modify(9999, READABLE), 'EBADF');
    expectCode(() => reactor.unregister(9999), 'EBADF');
    reactor.close(fd);
    expectCode(() => reactor.modify(fd, READABLE), 'EBADF');
    expectCode(() => reactor.unregister(fd), 'EBADF');
    expectCode(() => reactor.close(fd), 'EBADF');
  });

  test('rule 3: an empty or unknown interest (or trigger) throws EINVAL', async () => {
    const { fd } = await connection();
    for (const bad of [0, 4, -1, 1.5, 7, Number.NaN, '1']) {
      expectCode(() => reactor.register(fd, bad as number), 'EINVAL');
    }
    expectCode(() => reactor.register(fd, READABLE, { trigger: 'sometimes' as 'edge' }), 'EINVAL');
    expect(reactor.info(fd).interest).toBeUndefined();
    reactor.register(fd, READABLE);
    expectCode(() => reactor.modify(fd, 0), 'EINVAL');
    expect(reactor.info(fd).interest).toBe(READABLE);
  });

  test('rule 4: a backend failure during register or modify leaves no half-made registration', async () => {
    await reactor.close();
    const faulty = new FaultyBackend(harness.makeBackend());
    makeReactor(faulty);
    const { fd, peer } = await connection();
    faulty.failNextSetInterest = true;
    expect(() => reactor.register(fd, READABLE, { token: 'broken' })).toThrow('injected setInterest failure');
    expect(reactor.info(fd).interest).toBeUndefined();
    expectCode(() => reactor.unregister(fd), 'ENOENT');
    reactor.register(fd, READABLE, { token: 'good' });
    faulty.failNextSetInterest = true;
    expect(() => reactor.modify(fd, WRITABLE, { trigger: 'edge', token: 'broken' })).toThrow('injected');
    expect(reactor.info(fd)).toMatchObject({ interest: READABLE, trigger: 'level' });
    await peer.write('x');
    const seen = await pollUntil(reactor, events, (e) => e.fd === fd);
    expect(seen).toEqual({ fd, flags: R, token: 'good' });
  });

  test('rule 5: no event after close or unregister returns, even one already gathered into the batch', async () => {
    const a = await connection();
    const b = await connection();
    const c = await connection();
    reactor.register(a.fd, READABLE, { token: 'a' });
    reactor.register(b.fd, READABLE, { token: 'b' });
    reactor.register(c.fd, READABLE, { token: 'c' });
    await Promise.all([a.peer.write('1'), b.peer.write('2'), c.peer.write('3')]);
    // Wait until all three are gathered into one batch.
    for (;;) {
      await reactor.poll(events, 20);
      if (events.length === 3) break;
    }
    // Handling the first event, close one of the others and unregister the third.
    const handed: string[] = [];
    const conns = { a, b, c };
    let closed: { fd: number } | undefined;
    let unregistered: { fd: number } | undefined;
    for (const event of events) {
      handed.push(event.token as string);
      if (handed.length === 1) {
        const [first, second] = (['a', 'b', 'c'] as const).filter((t) => t !== event.token).map((t) => conns[t]);
        reactor.close(first.fd);
        reactor.unregister(second.fd);
        closed = first;
        unregistered = second;
      }
    }
    expect(handed).toHaveLength(1);
    expect(reactor.descriptors()).not.toContain(closed?.fd);
    expect(await quietEventsFor(reactor, events, (unregistered as { fd: number }).fd)).toEqual([]);
  });

  test('rule 6: a reused fd number never receives events of the socket that held it before', async () => {
    const { fd: lfd, port } = await listener();
    reactor.register(lfd, READABLE);
    const first = await harness.connectPeer(port);
    await pollUntil(reactor, events, (e) => e.fd === lfd);
    const old = reactor.accept(lfd) as number;
    reactor.register(old, READABLE, { token: 'old' });
    await first.write('data for the old socket');
    await pollUntil(reactor, events, (e) => e.fd === old); // readable, not yet read
    await first.write('more, gathered nowhere');
    reactor.close(old);
    const second = await harness.connectPeer(port);
    await pollUntil(reactor, events, (e) => e.fd === lfd);
    const reused = reactor.accept(lfd) as number;
    expect(reused).toBe(old);
    reactor.register(reused, READABLE, { token: 'new' });
    expect(await quietEventsFor(reactor, events, reused)).toEqual([]);
    expect(reactor.read(reused)).toBeNull();
    await second.write('hello new');
    const seen = await pollUntil(reactor, events, (e) => e.fd === reused);
    expect(seen.token).toBe('new');
    expect(drain(reused)).toBe('hello new');
  });

  test('rule 7: a delivered event is readiness AND the interest (and token) current at delivery', async () => {
    const a = await connection();
    const b = await connection();
    reactor.register(a.fd, READABLE | WRITABLE, { token: 'a' });
    reactor.register(b.fd, READABLE | WRITABLE, { token: 'b' });
    await b.peer.write('x');
    for (;;) {
      await reactor.poll(events, 20);
      const gathered = [...events].find((e) => e.fd === b.fd);
      if (gathered !== undefined && (gathered.flags & R) !== 0) break;
    }
    const handed: Seen[] = [];
    for (const event of events) {
      if (event.fd === a.fd) reactor.modify(b.fd, WRITABLE, { token: 'b, modified' });
      handed.push({ fd: event.fd, flags: event.flags, token: event.token });
    }
    const forB = handed.find((e) => e.fd === b.fd);
    if (handed[0].fd === a.fd) {
      // b's event came after the modify: cut to the new interest, with the new token.
      expect(forB).toEqual({ fd: b.fd, flags: W, token: 'b, modified' });
    } else {
      expect(forB?.flags).toBe(R | W);
    }
  });

  test('rule 8: modify replaces interest, trigger and token entirely', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, READABLE | WRITABLE, { trigger: 'edge', token: 'before' });
    reactor.modify(fd, READABLE);
    expect(reactor.info(fd)).toMatchObject({ interest: READABLE, trigger: 'level' });
    await peer.write('x');
    const seen = await pollUntil(reactor, events, (e) => e.fd === fd);
    expect(seen).toEqual({ fd, flags: R, token: undefined });
    // Level now: reported again while unread.
    expect((await pollOnce(reactor, events, 0)).filter((e) => e.fd === fd)).toHaveLength(1);
  });

  test('rule 9: level-triggered readiness left after a partial read is reported on every poll', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, READABLE, { token: 'level' });
    await peer.write('0123456789');
    await pollUntil(reactor, events, (e) => e.fd === fd);
    let text = '';
    for (let poll = 0; poll < 3; poll++) {
      text += (reactor.read(fd, 2) as Buffer).toString();
      const batch = await pollOnce(reactor, events, 0);
      expect(batch).toEqual([{ fd, flags: R, token: 'level' }]);
    }
    text += drain(fd);
    while (text.length < 10) text += await readExactly(fd, 10 - text.length);
    expect(text).toBe('0123456789');
    expect(await quietEventsFor(reactor, events, fd)).toEqual([]);
  });

  test("bytes read are their own stream's: chunks left unread while other streams are read stay intact", async () => {
    // A backend may read every stream through one buffer (RawHandleBackend does): what one stream holds unread must be a copy.
    const { fd: lfd, port } = await listener();
    const peers = [await harness.connectPeer(port), await harness.connectPeer(port), await harness.connectPeer(port)];
    reactor.register(lfd, READABLE);
    const fds: number[] = [];
    while (fds.length < peers.length) {
      await pollUntil(reactor, events, (e) => e.fd === lfd);
      for (let fd = reactor.accept(lfd); fd !== null; fd = reactor.accept(lfd)) fds.push(fd);
    }
    reactor.unregister(lfd);
    for (const fd of fds) reactor.register(fd, READABLE);
    for (let round = 0; round < 2; round++) {
      for (const [i, peer] of peers.entries()) await peer.write(String.fromCharCode(0x61 + i + 3 * round).repeat(100));
    }
    // The last stream first: by the time its bytes are read, the others' have long been received and wait unread.
    const texts = [await readExactly(fds[2], 200), await readExactly(fds[1], 200), await readExactly(fds[0], 200)];
    expect(texts).toEqual(['c'.repeat(100) + 'f'.repeat(100), 'b'.repeat(100) + 'e'.repeat(100), 'a'.repeat(100) + 'd'.repeat(100)]);
  });

  test('rule 10: edge-triggered reports once per arrival; after draining to EAGAIN, new data is reported again', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, READABLE, { trigger: 'edge' });
    await peer.write('abc');
    await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & R) !== 0);
    expect((reactor.read(fd, 1) as Buffer).toString()).toBe('a');
    expect(await quietEventsFor(reactor, events, fd)).toEqual([]); // data left, but no new arrival
    await peer.write('d');
    await pollUntil(reactor, events, (e) => e.fd === fd);
    expect(drain(fd)).toBe('bcd');
    expect(reactor.read(fd)).toBeNull();
    expect(await quietEventsFor(reactor, events, fd)).toEqual([]);
    await peer.write('e');
    await pollUntil(reactor, events, (e) => e.fd === fd);
    expect(drain(fd)).toBe('e');
  });

  test('rule 10: an edge event carries only the bits that rose, not the whole current state', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, READABLE | WRITABLE, { trigger: 'edge', token: 'both' });
    // Registering reports the current state once: writable, nothing to read yet.
    expect(await pollUntil(reactor, events, (e) => e.fd === fd)).toEqual({ fd, flags: W, token: 'both' });
    await peer.write('x');
    // Data arrived; writability did not change, so it is not reported again.
    expect(await pollUntil(reactor, events, (e) => e.fd === fd)).toEqual({ fd, flags: R, token: 'both' });
  });

  test('rule 11: one-shot delivers once, then stays disarmed until modify', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, READABLE, { trigger: 'oneshot', token: 'once' });
    await peer.write('x');
    await pollUntil(reactor, events, (e) => e.fd === fd);
    expect(await quietEventsFor(reactor, events, fd)).toEqual([]); // still unread: disarmed, not reported
    await peer.write('y');
    expect(await quietEventsFor(reactor, events, fd)).toEqual([]);
    expect(reactor.info(fd).interest).toBe(READABLE); // still registered
  });

  test('rule 12: re-arming with modify while the condition holds reports on the next poll', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, READABLE, { trigger: 'edge-oneshot' });
    await peer.write('x');
    await pollUntil(reactor, events, (e) => e.fd === fd);
    expect(await quietEventsFor(reactor, events, fd)).toEqual([]);
    reactor.modify(fd, READABLE, { trigger: 'edge-oneshot', token: 're-armed' });
    expect(await pollOnce(reactor, events, 0)).toEqual([{ fd, flags: R, token: 're-armed' }]);
    reactor.modify(fd, READABLE, { trigger: 'oneshot', token: 'level one-shot' });
    expect(await pollOnce(reactor, events, 0)).toEqual([{ fd, flags: R, token: 'level one-shot' }]);
    expect(drain(fd)).toBe('x');
  });

  test('rule 13: one fd appears at most once per batch; readable and writable merge', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, READABLE | WRITABLE, { token: 'both' });
    await peer.write('x');
    const seen = await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & R) !== 0);
    expect(seen.flags).toBe(R | W);
    expect([...events].filter((e) => e.fd === fd)).toHaveLength(1);
  });

  test('rule 14: a batch never exceeds the capacity; the rest come next poll, in order', async () => {
    const conns = [];
    for (let i = 0; i < 5; i++) conns.push(await connection());
    // Give each data, and wait until each has it.
    for (const c of conns) {
      reactor.register(c.fd, READABLE);
      await c.peer.write('x');
      await pollUntil(reactor, events, (e) => e.fd === c.fd);
      reactor.unregister(c.fd);
    }
    // Registering reports the current state, queued in registration order.
    for (const [i, c] of conns.entries()) reactor.register(c.fd, READABLE, { trigger: 'edge', token: `c${i}` });
    const small = new Events<string>(2);
    const batches: string[][] = [];
    let total = 0;
    while (total < 5) {
      const batch = await pollOnce(reactor, small, 20);
      expect(batch.length).toBeLessThanOrEqual(2);
      if (batch.length > 0) batches.push(batch.map((e) => e.token as string));
      total += batch.length;
    }
    expect(batches.flat()).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(batches.slice(0, 2).every((b) => b.length === 2)).toBe(true);
  });

  test('rule 15: level-triggered ready fds are served round-robin across polls', async () => {
    const conns = [];
    for (let i = 0; i < 3; i++) conns.push(await connection());
    for (const [i, c] of conns.entries()) reactor.register(c.fd, READABLE, { token: `c${i}` });
    for (const c of conns) {
      await c.peer.write('unread');
      await pollUntil(reactor, events, (e) => e.fd === c.fd);
    }
    const one = new Events<string>(1);
    const order: string[] = [];
    for (let i = 0; i < 9; i++) order.push(...(await pollOnce(reactor, one, 0)).map((e) => e.token as string));
    expect(order).toHaveLength(9);
    // Every fd every third poll: none starves.
    for (let i = 3; i < 9; i++) expect(order[i]).toBe(order[i - 3]);
    expect(new Set(order.slice(0, 3)).size).toBe(3);
  });

  test('rule 16: poll(0) never waits; poll(t) with nothing ready resolves with 0 after at least t ms, registrations or not', async () => {
    let timerFired = false;
    reactor.timers.schedule(60_000, () => (timerFired = true));
    expect(await reactor.poll(events, 0)).toBe(0);
    expect(timerFired).toBe(false); // it did not wait for the timer
    const start = reactor.clock.now();
    expect(await reactor.poll(events, 30)).toBe(0);
    expect(reactor.clock.now() - start).toBeGreaterThanOrEqual(30);
    const { fd } = await connection();
    reactor.register(fd, READABLE);
    const again = reactor.clock.now();
    expect(await reactor.poll(events, 30)).toBe(0);
    expect(reactor.clock.now() - again).toBeGreaterThanOrEqual(30);
  });

  test('rule 17: wake() before poll makes it resolve at once with no events; several wakes collapse', async () => {
    // Polls with no timeout and nothing registered: only a wake can end them.
    reactor.wake();
    reactor.wake();
    expect(await reactor.poll(events)).toBe(0);
    expect(events.woken).toBe(true);
    const second = reactor.poll(events);
    const outcome = await Promise.race([second.then(() => 'resolved'), new Promise((r) => setTimeout(() => r('still waiting'), 50))]);
    expect(outcome).toBe('still waiting');
    reactor.wake(); // a wake during a poll ends it too
    expect(await second).toBe(0);
    expect(events.woken).toBe(true);
  });

  test('rule 17, with a Waker: its wakes end the poll with one readable event carrying its token (fd -1); none after its close', async () => {
    const waker = new Waker(reactor, 'waker');
    waker.wake();
    waker.wake();
    waker.wake();
    expect(await reactor.poll(events)).toBe(1);
    const [event] = [...events];
    expect({ fd: event.fd, token: event.token, readable: event.readable, flags: event.flags }).toEqual({
      fd: -1,
      token: 'waker',
      readable: true,
      flags: R,
    });
    expect(events.woken).toBe(false); // the reactor's own wake() is not this
    expect(await reactor.poll(events, 0)).toBe(0); // collapsed: nothing left over
    waker.wake();
    waker.close(); // after its wake, before a poll gathered it: dropped, as for a closed fd
    expect(await reactor.poll(events, 0)).toBe(0);
    expectCode(() => waker.wake(), 'ERR_WAKER_CLOSED');
    expect(waker.tryWake()).toBe(false);
  });

  test('rule 18: poll while another poll is pending rejects with ERR_POLL_REENTRANT', async () => {
    const first = reactor.poll(events, 20);
    await expect(reactor.poll(new Events<string>(), 0)).rejects.toMatchObject({ code: 'ERR_POLL_REENTRANT' });
    await first;
  });

  test('rule 19: a poll resolves at most once per turn of the event loop, so host I/O and timers still run', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, READABLE);
    await peer.write('always ready');
    await pollUntil(reactor, events, (e) => e.fd === fd);
    let turn = 0;
    let counting = true;
    const tick = () => {
      turn++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const host = { timerRan: false };
    setTimeout(() => (host.timerRan = true), 0);
    const turns: number[] = [];
    for (let i = 0; i < 100_000 && !host.timerRan; i++) {
      await reactor.poll(events, 0);
      turns.push(turn);
    }
    counting = false;
    expect(host.timerRan).toBe(true);
    for (let i = 1; i < turns.length; i++) expect(turns[i]).toBeGreaterThan(turns[i - 1]);
  });

  test('rule 20: peer half-close: buffered data first, then readable with readClosed; writing still works', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, READABLE, { token: 'half' });
    await peer.write('last words');
    peer.end();
    let text = '';
    let closedSeen: Seen | undefined;
    while (closedSeen === undefined) {
      const seen = await pollUntil(reactor, events, (e) => e.fd === fd);
      if ((seen.flags & RC) !== 0) {
        expect(text).toBe('last words'); // readClosed only once everything sent was read
        closedSeen = seen;
      } else {
        text += (reactor.read(fd) as Buffer).toString();
      }
    }
    expect(closedSeen.flags).toBe(R | RC);
    expect(reactor.read(fd)?.length).toBe(0);
    expect(reactor.read(fd)?.length).toBe(0); // end of stream stays
    expect(reactor.write(fd, Buffer.from('reply'))).toBe(5);
    expect((await peer.waitFor(5)).toString()).toBe('reply');
    reactor.shutdown(fd);
    await peer.waitEnd();
  });

  /** Throws `fn`'s ReactorError code, or undefined if it did not throw. */
  const codeOf = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (err) {
      return (err as ReactorError).code;
    }
    return undefined;
  };

  /** Reads until EAGAIN, end of stream or an error: the bytes, and how it stopped ('eagain', 'eof' or the error's code). */
  function readAll(fd: number): { bytes: number; end: string } {
    let bytes = 0;
    for (;;) {
      let chunk: Buffer | null;
      try {
        chunk = reactor.read(fd);
      } catch (err) {
        return { bytes, end: (err as ReactorError).code };
      }
      if (chunk === null) return { bytes, end: 'eagain' };
      if (chunk.length === 0) return { bytes, end: 'eof' };
      bytes += chunk.length;
    }
  }

  test.each([
    ['writable only, edge', WRITABLE, 'edge'],
    ['writable only, level', WRITABLE, 'level'],
    ['readable only, level', READABLE, 'level'],
  ] as const)(
    'rule 21: a reset reaches a registration (%s) at once, with no read or write first; read then throws the code',
    async (_name, interest, trigger) => {
      const { fd, peer } = await connection();
      reactor.register(fd, interest, { trigger, token: 'idle' });
      if (interest === WRITABLE) await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & W) !== 0);
      peer.reset();
      const failure = await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & (E | WC)) !== 0);
      if (interest === WRITABLE)
        expect(failure.flags & (R | RC)).toBe(0); // no read interest: no read bits
      else expect(failure.flags & R).toBe(R); // read would throw: readable too
      expect(failure.flags & W).toBe(0);
      expect(codeOf(() => reactor.read(fd))).toBe('ECONNRESET');
    },
  );

  test('rule 21: a reset with no registration at all is reported as soon as one is made', async () => {
    const { fd, peer } = await connection();
    peer.reset();
    await quietEventsFor(reactor, events, fd); // let it arrive, nobody asking
    reactor.register(fd, WRITABLE, { token: 'late' });
    const seen = await pollUntil(reactor, events, (e) => e.fd === fd);
    expect(seen.flags & (E | WC)).toBe(E | WC);
  });

  test('rule 21: a reset that follows data is a reset, never an end of stream', async () => {
    const conns: { fd: number; peer: Peer }[] = [];
    for (let i = 0; i < 8; i++) conns.push(await connection());
    for (const c of conns) reactor.register(c.fd, READABLE, { trigger: 'edge' });
    // Each peer sends, then resets at once: the data and the RST arrive together.
    await Promise.all(conns.map((c, i) => c.peer.write(Buffer.alloc(100 + 4000 * i, i + 1))));
    for (const c of conns) c.peer.reset();
    const ends = new Map<number, string>();
    while (ends.size < conns.length) {
      await pollUntil(reactor, events, (e) => conns.some((c) => c.fd === e.fd && !ends.has(c.fd)));
      for (const c of conns) {
        if (ends.has(c.fd)) continue;
        const { end } = readAll(c.fd);
        if (end !== 'eagain') ends.set(c.fd, end);
      }
    }
    expect([...ends.values()]).toEqual(conns.map(() => 'ECONNRESET'));
  });

  test('rule 21: a reset that reaches a full inbox is reported once the program reads on, after the data before it', async () => {
    const { fd, peer } = await connection();
    await peer.write(Buffer.alloc(1024 * 1024, 3)); // far past the inbox: the rest waits in the kernel
    await quietEventsFor(reactor, events, fd);
    peer.reset();
    await quietEventsFor(reactor, events, fd);
    reactor.register(fd, READABLE, { trigger: 'edge' });
    let bytes = 0;
    let end = 'eagain';
    for (let i = 0; i < 1000 && end === 'eagain'; i++) {
      const got = readAll(fd);
      bytes += got.bytes;
      end = got.end;
      if (end === 'eagain') await pollOnce(reactor, events, 20);
    }
    expect(bytes).toBeGreaterThan(0);
    expect(end).toBe('ECONNRESET'); // not an end of stream
  });

  test("rule 21: a reset after the peer's FIN was read surfaces at the next write, as EPIPE", async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, READABLE, { token: 'half' });
    peer.end();
    await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & RC) !== 0);
    expect(readAll(fd).end).toBe('eof');
    peer.reset();
    await quietEventsFor(reactor, events, fd); // the reset lands; reading has ended, so it is not seen yet
    expect(codeOf(() => reactor.write(fd, Buffer.from('anyone?')))).toBe('EPIPE');
    const seen = await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & E) !== 0);
    expect(seen.flags & WC).toBe(WC);
    expect(codeOf(() => reactor.read(fd))).toBe('EPIPE');
  });

  test('rule 22: writable turns off past the high-water mark and on again only once drained: one edge per transition', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, WRITABLE, { trigger: 'edge' });
    await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & W) !== 0);
    peer.pause();
    const chunk = Buffer.alloc(64 * 1024, 7);
    let written = 0;
    // Write until writes stay blocked: would-block, and no writable edge for a quiet period.
    for (let round = 0; round < 10_000; round++) {
      const accepted = reactor.write(fd, chunk);
      written += accepted;
      if (accepted === 0 && (await quietEventsFor(reactor, events, fd)).length === 0) break;
    }
    expect(reactor.write(fd, chunk)).toBe(0);
    expect(await quietEventsFor(reactor, events, fd)).toEqual([]);
    peer.resume();
    const seen = await pollUntil(reactor, events, (e) => e.fd === fd);
    expect(seen.flags).toBe(W);
    expect(await quietEventsFor(reactor, events, fd)).toEqual([]);
    expect(reactor.write(fd, chunk)).toBeGreaterThan(0);
    await peer.waitFor(written);
  });

  test('rule 22: a partial write means the send buffer is full: a writable edge follows, until all is sent', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, WRITABLE, { trigger: 'edge' });
    await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & W) !== 0);
    const data = Buffer.alloc(8 * 1024 * 1024, 5);
    const sent = reactor.write(fd, data);
    expect(sent).toBeLessThan(data.length); // more than any send buffer takes at once
    await writeRestOnWritableEdges(fd, data, sent);
    expect((await peer.waitFor(data.length)).length).toBe(data.length);
  });

  test('rule 22: after a short write, the writable edge comes, and the rest goes out (injected where the backend can, else a real partial write)', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, WRITABLE, { trigger: 'edge' });
    await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & W) !== 0);
    const data = harness.shortenNextWrite === undefined ? Buffer.alloc(8 * 1024 * 1024, 3) : Buffer.from('OK\n');
    harness.shortenNextWrite?.(fd, 1);
    const sent = reactor.write(fd, data);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(data.length);
    await writeRestOnWritableEdges(fd, data, sent);
    expect((await peer.waitFor(data.length)).equals(data)).toBe(true);
  });

  test('rule 23: a listener is readable while connections wait; accept returns null when none remain', async () => {
    const { fd: lfd, port } = await listener();
    reactor.register(lfd, READABLE, { token: 'listener' });
    expect(reactor.accept(lfd)).toBeNull();
    await harness.connectPeer(port);
    await harness.connectPeer(port);
    const accepted: number[] = [];
    while (accepted.length < 2) {
      const seen = await pollUntil(reactor, events, (e) => e.fd === lfd);
      expect(seen).toEqual({ fd: lfd, flags: R, token: 'listener' });
      for (let fd = reactor.accept(lfd); fd !== null; fd = reactor.accept(lfd)) accepted.push(fd);
    }
    expect(accepted).toHaveLength(2);
    expect(reactor.accept(lfd)).toBeNull();
    expect(await quietEventsFor(reactor, events, lfd)).toEqual([]);
    expect(reactor.info(accepted[0]).kind).toBe('stream');
    expectCode(() => reactor.read(lfd), 'EINVAL');
    expectCode(() => reactor.accept(accepted[0]), 'EINVAL');
  });

  test('rule 23: a connect past a full backlog is not refused: its SYN is dropped, and the retransmission connects once there is room', async () => {
    const lfd = await reactor.listen({ host: harness.host, port: 0, backlog: 1 }); // Linux holds backlog + 1 = 2
    const { localPort: port } = reactor.info(lfd);
    reactor.register(lfd, READABLE, { token: 'listener' });
    const connecting = [0, 1, 2].map(() => harness.connectPeer(port as number));
    const refused = Promise.all(connecting).then(
      () => false,
      () => true,
    );
    const accepted: number[] = [];
    while (accepted.length < 3) {
      await pollUntil(reactor, events, (e) => e.fd === lfd, 10_000); // the third comes with the SYN sent again, about 1 s later
      for (let fd = reactor.accept(lfd); fd !== null; fd = reactor.accept(lfd)) accepted.push(fd);
    }
    expect(await refused).toBe(false);
    const third = await connecting[2];
    await third.write('late');
    const fd = accepted[2];
    reactor.register(fd, READABLE);
    await pollUntil(reactor, events, (e) => e.fd === fd);
    expect(reactor.read(fd)?.toString()).toBe('late');
  }, 20_000);

  test('rule 24: a connect that fails reports error on its fd with the system code', async () => {
    const port = await harness.closedPort();
    await expectConnectFails(reactor.connect({ host: harness.host, port }), 'ECONNREFUSED');
  });

  test('rule 24: a connect that goes unanswered fails with ETIMEDOUT at its timeout; one that connected is left alone by its timer', async () => {
    const unanswered = await harness.unansweredPort();
    try {
      const fd = reactor.connect({ host: harness.host, port: unanswered.port, timeoutMs: 200 });
      await expectConnectFails(fd, 'ETIMEDOUT');
      reactor.close(fd);
    } finally {
      await unanswered.release();
    }
    const server = await harness.listenPeer();
    const fd = reactor.connect({ host: harness.host, port: server.port, timeoutMs: 50 });
    const peer = await server.accepted();
    reactor.register(fd, WRITABLE);
    await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & W) !== 0);
    reactor.unregister(fd); // a level registration that stays writable would keep simulated time from moving
    let fired = false;
    reactor.timers.schedule(100, () => (fired = true)); // past the connect's deadline
    while (!fired) await reactor.poll(events);
    expect(reactor.write(fd, Buffer.from('still here'))).toBe(10);
    expect((await peer.waitFor(10)).toString()).toBe('still here');
  });

  test('rule 24: a connect timeout is a number of ms > 0, per reactor or per connect', () => {
    for (const bad of [0, -1, Number.NaN, '5']) {
      expect(() => reactor.connect({ host: harness.host, port: 1, timeoutMs: bad as number })).toThrow(RangeError);
      expect(() => new Reactor({ connectTimeoutMs: bad as number })).toThrow(/connectTimeoutMs/); // refused before any backend is made
    }
    expect(reactor.descriptors()).toEqual([]); // nothing half-made
  });

  test('reusePort: two listeners share one port and the connections spread between them (ENOTSUP only where this Node cannot)', async () => {
    let first: number;
    try {
      first = await reactor.listen({ host: harness.host, port: 0, reusePort: true });
    } catch (err) {
      const [major, minor] = process.versions.node.split('.').map(Number);
      expect(major < 22 || (major === 22 && minor < 12) || (major === 23 && minor < 1)).toBe(true); // refused only by a Node without it
      expect(err).toMatchObject({ code: 'ENOTSUP' });
      return;
    }
    const port = reactor.info(first).localPort as number;
    const second = await reactor.listen({ host: harness.host, port, reusePort: true });
    await expect(reactor.listen({ host: harness.host, port })).rejects.toMatchObject({ code: 'EADDRINUSE' }); // not without it
    reactor.register(first, READABLE, { token: 'first' });
    reactor.register(second, READABLE, { token: 'second' });
    const total = 40;
    await Promise.all(Array.from({ length: total }, () => harness.connectPeer(port)));
    const accepted = { first: 0, second: 0 };
    while (accepted.first + accepted.second < total) {
      const seen = await pollUntil(reactor, events, (e) => e.fd === first || e.fd === second);
      for (let fd = reactor.accept(seen.fd); fd !== null; fd = reactor.accept(seen.fd)) accepted[seen.fd === first ? 'first' : 'second']++;
    }
    expect(accepted.first).toBeGreaterThan(0); // both served: the chance that one of them gets all 40 is 2^-39
    expect(accepted.second).toBeGreaterThan(0);
  });

  test('rule 26: close with received data left unread resets the connection: the peer sees RST', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, READABLE);
    await peer.write('never read');
    await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & R) !== 0);
    expect(reactor.write(fd, Buffer.from('reply'))).toBe(5);
    reactor.close(fd);
    expect(await peer.waitOutcome()).toBe('reset');
    expect(reactor.lingering()).toEqual([]);
  });

  test('rule 26: close with nothing unread sends what was written, then FIN', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, READABLE);
    await peer.write('request');
    expect(await readExactly(fd, 7)).toBe('request');
    expect(reactor.write(fd, Buffer.from('last words'))).toBe(10);
    reactor.close(fd);
    expect(await peer.waitOutcome()).toBe('fin');
    expect(peer.received().toString()).toBe('last words');
  });

  test('rule 26: data that reaches a closed descriptor resets the connection', async () => {
    const { fd, peer } = await connection();
    reactor.close(fd);
    expect(await peer.waitOutcome()).toBe('fin');
    // The peer, half-open, writes on: the closed socket answers with RST. Having read the FIN, the
    // peer no longer reads, so it meets the reset at a later write.
    for (let i = 0; i < 100 && peer.outcome() !== 'reset'; i++) {
      await peer.write('anyone there?').catch(() => undefined);
      await pollOnce(reactor, events, 10);
    }
    expect(peer.outcome()).toBe('reset');
    expect(reactor.lingering()).toEqual([]);
  });

  /** Writes to `fd` until the send side is full and stays full (the peer does not read). */
  async function fill(fd: number): Promise<number> {
    const chunk = Buffer.alloc(64 * 1024, 9);
    let written = 0;
    for (let round = 0; round < 10_000; round++) {
      const accepted = reactor.write(fd, chunk);
      written += accepted;
      if (accepted === 0 && (await quietEventsFor(reactor, events, fd)).length === 0) break;
    }
    return written;
  }

  test('rule 27: abort resets at once: the peer sees RST, nothing lingers, the descriptor is gone', async () => {
    const { fd, peer } = await connection();
    reactor.register(fd, WRITABLE, { trigger: 'edge' });
    peer.pause();
    expect(await fill(fd)).toBeGreaterThan(0);
    expect(reactor.info(fd).writeBuffered + reactor.info(fd).bytesWritten).toBeGreaterThan(0);
    reactor.abort(fd);
    expect(reactor.lingering()).toEqual([]);
    expectCode(() => reactor.info(fd), 'EBADF');
    expectCode(() => reactor.abort(fd), 'EBADF');
    peer.resume();
    expect(await peer.waitOutcome()).toBe('reset');
  });

  test('rule 28: a graceful close lingers at most lingerMs, listed with its queued bytes meanwhile, then aborts', async () => {
    await reactor.close();
    makeReactor(harness.makeBackend(), { lingerMs: 200 });
    const { fd, peer } = await connection();
    reactor.register(fd, WRITABLE, { trigger: 'edge' });
    peer.pause(); // a peer that never reads
    await fill(fd);
    const closedAt = reactor.clock.now();
    reactor.close(fd);
    const [lingering, ...more] = reactor.lingering();
    expect(more).toEqual([]);
    expect(lingering).toMatchObject({ fd, remotePort: expect.any(Number) as number });
    expect(lingering.queuedBytes).toBeGreaterThan(0);
    expect(lingering.closedAtMs).toBeGreaterThanOrEqual(closedAt);
    while (reactor.lingering().length > 0 && reactor.clock.now() - closedAt < 5_000) await pollOnce(reactor, events, 20);
    expect(reactor.lingering()).toEqual([]);
    expect(reactor.clock.now() - closedAt).toBeGreaterThanOrEqual(200); // not before its time
    peer.resume();
    expect(await peer.waitOutcome()).toBe('reset');
  });

  test('rule 28: lingerMs is checked at construction', () => {
    for (const bad of [-1, Number.NaN, '5' as unknown as number]) {
      expect(() => new Reactor({ backend: harness.makeBackend(), lingerMs: bad })).toThrow(/'lingerMs' must be/);
    }
  });

  test('a connect that succeeds reports writable, and the bytes reach the peer', async () => {
    const server = await harness.listenPeer();
    const fd = reactor.connect({ host: harness.host, port: server.port });
    reactor.register(fd, WRITABLE | READABLE);
    expect(reactor.write(fd, Buffer.from('early'))).toBe(0); // still connecting: would block
    await pollUntil(reactor, events, (e) => e.fd === fd && (e.flags & W) !== 0);
    expect(reactor.write(fd, Buffer.from('hello'))).toBe(5);
    const peer = await server.accepted();
    expect((await peer.waitFor(5)).toString()).toBe('hello');
    await peer.write('back');
    expect(await readExactly(fd, 4)).toBe('back');
    const info = reactor.info(fd);
    expect(info).toMatchObject({ kind: 'stream', remotePort: server.port, bytesWritten: 5, bytesRead: 4 });
    expect(info.family).toBe(harness.host.includes(':') ? 'IPv6' : 'IPv4');
  });

  test('listen on a port in use rejects with EADDRINUSE and keeps no descriptor', async () => {
    const { port } = await listener();
    const open = reactor.size;
    await expect(reactor.listen({ host: harness.host, port })).rejects.toMatchObject({
      name: 'ReactorError',
      code: 'EADDRINUSE',
      port,
    });
    expect(reactor.size).toBe(open);
  });

  test('due timers fire inside poll, before it resolves', async () => {
    const fired: string[] = [];
    reactor.timers.schedule(5, () => fired.push('timer'));
    const count = await reactor.poll(events);
    expect(count).toBe(0);
    expect(fired).toEqual(['timer']);
  });

  test('close(): a pending poll rejects, every later call throws ERR_REACTOR_CLOSED, close is idempotent', async () => {
    const { fd } = await connection();
    const pending = reactor.poll(events);
    const closing = reactor.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
    await closing;
    await reactor.close();
    expect(reactor.state).toBe('closed');
    expectCode(() => reactor.read(fd), 'ERR_REACTOR_CLOSED');
    expectCode(() => reactor.wake(), 'ERR_REACTOR_CLOSED');
    await expect(reactor.poll(events, 0)).rejects.toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
    await expect(reactor.listen({ host: harness.host, port: 0 })).rejects.toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
  });

  test('close() while a listen is still binding: the listen rejects with ERR_REACTOR_CLOSED, and close() leaves nothing open', async () => {
    const rejected = expect(reactor.listen({ host: harness.host, port: 0 })).rejects.toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
    await reactor.close();
    await rejected;
    await settleHandles(); // net.Server emits 'close' a turn before libuv has released the handle
    expect(leakedSince(before)).toEqual({}); // without the fix, the listener stayed open for good
  });

  test('Symbol.asyncDispose closes the reactor', async () => {
    await listener();
    await reactor[Symbol.asyncDispose]();
    expect(reactor.state).toBe('closed');
  });
});
