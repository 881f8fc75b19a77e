import { Events, Interest, RawHandleBackend, Reactor } from '../../src';
import { StubBackend } from '../helpers/stub-backend';
import { leakedSince, resourceCounts, settleHandles } from '../helpers/resources';
import { type DatagramHarness, realDatagramHarness, simulatedDatagramHarness } from './datagram-harness';
import { hasIPv6Loopback } from './harness';
import { codeOf, pollOnce, pollUntil, quietEventsFor, R, W } from './polling';

/**
 * Datagram (UDP) sockets keep one contract on every backend: readable while
 * datagrams wait, message boundaries kept, the sender's address with each
 * datagram, a bounded receive queue whose overflow is dropped and counted,
 * and level, edge and one-shot triggering as for streams.
 */
const harnesses: DatagramHarness[] = [realDatagramHarness('libuv'), simulatedDatagramHarness()];
if (RawHandleBackend.available()) harnesses.push(realDatagramHarness('raw'));

describe.each(harnesses)('datagram contract: $name', (harness) => {
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
    await harness.dispose();
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  /** Lets the world run until `condition` holds (bounded: real time on loopback, simulated time otherwise). */
  async function until(condition: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 2_000 && !condition(); i++) await harness.settle();
    if (!condition()) throw new Error(`never: ${what}`);
  }

  /** Polls until `fd` has at least `count` datagrams queued and `dropped` more were dropped. */
  async function arrived(fd: number, queuedBytes: number, dropped = 0): Promise<void> {
    await until(() => {
      const info = reactor.info(fd);
      return info.readBuffered >= queuedBytes && info.droppedDatagrams >= dropped;
    }, `${queuedBytes} B queued and ${dropped} dropped on fd ${fd}`);
  }

  test('bind gives a datagram descriptor on a chosen port; a datagram makes it readable and recvFrom gives it with its sender', async () => {
    const fd = await reactor.bind({ host: harness.host, port: 0 });
    const info = reactor.info(fd);
    expect(info).toMatchObject({ kind: 'datagram', localAddress: harness.host, family: 'IPv4', remoteAddress: undefined });
    expect(info.localPort).toBeGreaterThan(0);
    reactor.register(fd, Interest.READABLE, { token: 'udp' });
    expect(reactor.recvFrom(fd)).toBeNull(); // EAGAIN
    const peer = await harness.peer();
    peer.send('hello', info.localPort as number);
    const seen = await pollUntil(reactor, events, (e) => e.fd === fd);
    expect(seen).toMatchObject({ flags: R, token: 'udp' });
    const datagram = reactor.recvFrom(fd);
    expect(datagram?.data.toString()).toBe('hello');
    expect(datagram).toMatchObject({ address: harness.host, port: peer.port });
    expect(reactor.recvFrom(fd)).toBeNull();
    expect(reactor.info(fd)).toMatchObject({ bytesRead: 5, readBuffered: 0, droppedDatagrams: 0 });
  });

  test('message boundaries are kept: three sends are three datagrams, an empty one included, in order on loopback', async () => {
    const fd = await reactor.bind({ host: harness.host, port: 0 });
    const port = reactor.info(fd).localPort as number;
    const peer = await harness.peer();
    for (const text of ['one', '', 'three, the longest']) peer.send(text, port);
    await until(() => reactor.info(fd).readBuffered >= 21, 'all three');
    const texts: string[] = [];
    await until(() => {
      for (let d = reactor.recvFrom(fd); d !== null; d = reactor.recvFrom(fd)) texts.push(d.data.toString());
      return texts.length === 3;
    }, 'three datagrams');
    expect(texts).toEqual(['one', '', 'three, the longest']);
  });

  test('sendTo sends one datagram to the address and port given; the peer sees the reactor port as its source', async () => {
    const fd = await reactor.bind({ host: harness.host, port: 0 });
    const port = reactor.info(fd).localPort as number;
    const peer = await harness.peer();
    reactor.register(fd, Interest.WRITABLE);
    expect((await pollOnce(reactor, events)).map((e) => e.flags)).toEqual([W]); // writable at once
    expect(reactor.sendTo(fd, Buffer.from('pong'), harness.host, peer.port)).toBe(4);
    expect(reactor.sendTo(fd, Buffer.from('and again'), harness.host, peer.port)).toBe(9);
    await until(() => peer.received.length === 2, 'two datagrams at the peer');
    expect(peer.received.map((d) => [d.data.toString(), d.port])).toEqual([
      ['pong', port],
      ['and again', port],
    ]);
    expect(reactor.info(fd).bytesWritten).toBe(13);
  });

  test('the send queue is bounded: sends in one go past sendQueueBytes return 0 (would block); a writable edge follows once it drains', async () => {
    const fd = await reactor.bind({ host: harness.host, port: 0, sendQueueBytes: 1000 });
    const peer = await harness.peer();
    reactor.register(fd, Interest.WRITABLE, { trigger: 'edge' });
    await pollOnce(reactor, events); // the registration's first report
    const datagram = Buffer.alloc(100, 7);
    let accepted = 0;
    while (reactor.sendTo(fd, datagram, harness.host, peer.port) > 0) accepted++;
    expect(accepted).toBe(10); // the tenth reaches the bound: the eleventh would block
    expect(reactor.info(fd).writeBuffered).toBe(1000);
    expect((await pollUntil(reactor, events, (e) => e.fd === fd)).flags).toBe(W);
    expect(reactor.sendTo(fd, datagram, harness.host, peer.port)).toBe(100);
    await until(() => peer.received.length === 11, 'eleven datagrams at the peer');
  });

  test('the receive queue is bounded in datagrams: past it, datagrams are dropped and counted; what was queued is kept', async () => {
    const fd = await reactor.bind({ host: harness.host, port: 0, receiveQueueDatagrams: 4 });
    const port = reactor.info(fd).localPort as number;
    const peer = await harness.peer();
    for (let i = 0; i < 10; i++) peer.send(`d${i}`, port);
    await arrived(fd, 8, 6);
    const texts: string[] = [];
    for (let d = reactor.recvFrom(fd); d !== null; d = reactor.recvFrom(fd)) texts.push(d.data.toString());
    expect(texts).toEqual(['d0', 'd1', 'd2', 'd3']);
    expect(reactor.info(fd).droppedDatagrams).toBe(6);
    peer.send('after', port); // room again
    await arrived(fd, 5, 6);
    expect(reactor.recvFrom(fd)?.data.toString()).toBe('after');
  });

  test('the receive queue is bounded in bytes too', async () => {
    const fd = await reactor.bind({ host: harness.host, port: 0, receiveQueueBytes: 100 });
    const port = reactor.info(fd).localPort as number;
    const peer = await harness.peer();
    for (let i = 0; i < 3; i++) peer.send(Buffer.alloc(60, i), port);
    await arrived(fd, 60, 2);
    expect(reactor.recvFrom(fd)?.data).toEqual(Buffer.alloc(60, 0));
    expect(reactor.recvFrom(fd)).toBeNull();
  });

  test('recvFrom with maxBytes cuts a longer datagram and the rest is lost, as recvfrom(2) truncates', async () => {
    const fd = await reactor.bind({ host: harness.host, port: 0 });
    const peer = await harness.peer();
    peer.send('0123456789', reactor.info(fd).localPort as number);
    await arrived(fd, 10);
    expect(reactor.recvFrom(fd, 3)?.data.toString()).toBe('012');
    expect(reactor.recvFrom(fd)).toBeNull();
  });

  test('level: readable on every poll while datagrams wait; edge: once per arrival; one-shot: once until modify', async () => {
    const fd = await reactor.bind({ host: harness.host, port: 0 });
    const port = reactor.info(fd).localPort as number;
    const peer = await harness.peer();
    peer.send('a', port);
    peer.send('b', port);
    await arrived(fd, 2);
    reactor.register(fd, Interest.READABLE);
    expect((await pollOnce(reactor, events)).length).toBe(1);
    expect((await pollOnce(reactor, events)).length).toBe(1); // level: still there
    reactor.modify(fd, Interest.READABLE, { trigger: 'edge' });
    expect((await pollOnce(reactor, events)).length).toBe(1); // the modify reports what holds
    expect(await quietEventsFor(reactor, events, fd)).toEqual([]); // nothing new arrived
    peer.send('c', port);
    expect((await pollUntil(reactor, events, (e) => e.fd === fd)).flags).toBe(R); // a new arrival: one edge
    reactor.modify(fd, Interest.READABLE, { trigger: 'oneshot' });
    expect((await pollOnce(reactor, events)).length).toBe(1);
    peer.send('d', port);
    await arrived(fd, 4);
    expect(await quietEventsFor(reactor, events, fd)).toEqual([]); // disarmed
    reactor.modify(fd, Interest.READABLE, { trigger: 'oneshot' });
    expect((await pollOnce(reactor, events)).length).toBe(1); // re-armed
    const texts: string[] = [];
    for (let d = reactor.recvFrom(fd); d !== null; d = reactor.recvFrom(fd)) texts.push(d.data.toString());
    expect(texts).toEqual(['a', 'b', 'c', 'd']);
  });

  test('closing releases the port (it can be bound again) and the descriptor: no event after close', async () => {
    const fd = await reactor.bind({ host: harness.host, port: 0 });
    const port = reactor.info(fd).localPort as number;
    const peer = await harness.peer();
    peer.send('late', port);
    await arrived(fd, 4);
    reactor.register(fd, Interest.READABLE);
    reactor.close(fd);
    expect(await pollOnce(reactor, events)).toEqual([]);
    expect(codeOf(() => reactor.recvFrom(fd))).toBe('EBADF');
    const again = await reactor.bind({ host: harness.host, port });
    expect(reactor.info(again).localPort).toBe(port);
  });

  test('a port bound already fails with EADDRINUSE, and nothing is left open', async () => {
    const fd = await reactor.bind({ host: harness.host, port: 0 });
    const port = reactor.info(fd).localPort as number;
    await expect(reactor.bind({ host: harness.host, port })).rejects.toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', port });
    expect(reactor.descriptors()).toEqual([fd]);
  });

  test('stream calls on a datagram descriptor, and datagram calls on a stream, fail with EINVAL', async () => {
    const fd = await reactor.bind({ host: harness.host, port: 0 });
    expect(codeOf(() => reactor.read(fd))).toBe('EINVAL');
    expect(codeOf(() => reactor.write(fd, Buffer.from('x')))).toBe('EINVAL');
    expect(codeOf(() => reactor.shutdown(fd))).toBe('EINVAL');
    const listener = await reactor.listen({ host: harness.host, port: 0 });
    expect(codeOf(() => reactor.recvFrom(listener))).toBe('EINVAL');
    expect(codeOf(() => reactor.sendTo(listener, Buffer.from('x'), harness.host, 9))).toBe('EINVAL');
  });

  test('bad input: a RangeError names the option or argument; a datagram past 65,507 bytes is EMSGSIZE; nothing is sent', async () => {
    const fd = await reactor.bind({ host: harness.host, port: 0 });
    const data = Buffer.from('x');
    expect(() => reactor.sendTo(fd, data, '::1', 9)).toThrow(/'address' must be an IPv4 address for a udp4 socket/);
    expect(() => reactor.sendTo(fd, data, 'localhost', 9)).toThrow(/'address'/);
    expect(() => reactor.sendTo(fd, data, harness.host, 0)).toThrow(/'port' must be an integer from 1 to 65535/);
    expect(codeOf(() => reactor.sendTo(fd, Buffer.alloc(65_508), harness.host, 9))).toBe('EMSGSIZE');
    expect(reactor.info(fd).bytesWritten).toBe(0);
    await expect(reactor.bind({ host: 'localhost', port: 0 })).rejects.toThrow(/'host' must be an IPv4 address for type 'udp4'/);
    await expect(reactor.bind({ host: '::1', port: 0, type: 'udp4' })).rejects.toThrow(/'host'/);
    await expect(reactor.bind({ port: 70_000 })).rejects.toThrow(/'port' must be an integer from 0 to 65535/);
    await expect(reactor.bind({ port: 0, receiveQueueDatagrams: 0 })).rejects.toThrow(
      /'receiveQueueDatagrams' must be a whole number >= 1/,
    );
    await expect(reactor.bind({ port: 0, type: 'tcp' as 'udp4' })).rejects.toThrow(/'type' must be 'udp4' or 'udp6'/);
    await expect(reactor.bind({ host: '::ffff:127.0.0.1', port: 0 })).rejects.toThrow(/'host' must not be an IPv4-mapped address/);
    // Off the loopback from a socket bound to it: refused before anything is sent, as Linux refuses it.
    expect(() => reactor.sendTo(fd, data, '192.0.2.1', 9)).toThrow(expect.objectContaining({ code: 'EINVAL' }) as Error);
    expect(reactor.descriptors()).toEqual([fd]);
  });
});

describe('datagram sockets where a backend has none', () => {
  test('bind is refused with ERR_BACKEND_UNAVAILABLE, and no descriptor is taken', async () => {
    const reactor = new Reactor({ backend: new StubBackend() });
    await expect(reactor.bind({ host: '127.0.0.1', port: 0 })).rejects.toMatchObject({ code: 'ERR_BACKEND_UNAVAILABLE' });
    expect(reactor.descriptors()).toEqual([]);
    await reactor.close();
  });
});

describe('datagram sockets on ::1', () => {
  test('udp6: the type follows the host, and the peer is seen at its IPv6 address', async () => {
    if (!(await hasIPv6Loopback())) return; // no IPv6 loopback on this machine
    for (const harness of [realDatagramHarness('libuv', '::1'), simulatedDatagramHarness()]) {
      const reactor = new Reactor({ backend: harness.makeBackend() });
      const fd = await reactor.bind({ host: '::1', port: 0 });
      expect(reactor.info(fd)).toMatchObject({ family: 'IPv6', localAddress: '::1' });
      expect(reactor.sendTo(fd, Buffer.from('v6'), '::1', reactor.info(fd).localPort as number)).toBe(2); // to itself
      for (let i = 0; i < 2_000 && reactor.info(fd).readBuffered === 0; i++) await harness.settle();
      expect(reactor.recvFrom(fd)).toMatchObject({ address: '::1', port: reactor.info(fd).localPort });
      expect(() => reactor.sendTo(fd, Buffer.from('x'), '127.0.0.1', 9)).toThrow(/'address' must be an IPv6 address/);
      // Another spelling of ::1 reaches it; an IPv4-mapped destination cannot be reached from a socket bound to ::1.
      expect(reactor.sendTo(fd, Buffer.from('again'), '0:0:0:0:0:0:0:1', reactor.info(fd).localPort as number)).toBe(5);
      for (let i = 0; i < 2_000 && reactor.info(fd).readBuffered === 0; i++) await harness.settle();
      expect(reactor.recvFrom(fd)?.data.toString()).toBe('again');
      expect(() => reactor.sendTo(fd, Buffer.from('x'), '::FFFF:127.0.0.1', 9)).toThrow(
        expect.objectContaining({ code: 'EINVAL' }) as Error,
      );
      const v6only = await reactor.bind({ host: '::', port: 0, ipv6Only: true });
      expect(() => reactor.sendTo(v6only, Buffer.from('x'), '::ffff:127.0.0.1', 9)).toThrow(
        expect.objectContaining({ code: 'ENETUNREACH' }) as Error,
      );
      const dual = await reactor.bind({ host: '::', port: 0 });
      expect(() => reactor.sendTo(dual, Buffer.alloc(65_508), '::ffff:127.0.0.1', 9)).toThrow(
        expect.objectContaining({ code: 'EMSGSIZE' }) as Error,
      );
      await reactor.close();
      await harness.dispose();
    }
  });
});
