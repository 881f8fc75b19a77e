import * as net from 'node:net';
import { type Backend, Events, Interest, LibuvBackend, RawHandleBackend, Reactor } from '../../src';
import { pollUntil } from '../contract/polling';
import { leakedSince, resourceCounts, settleHandles } from '../helpers/resources';

const MiB = 1024 * 1024;
const TOTAL = 64 * MiB;
const INBOX_LIMIT = 64 * 1024;
const HIGH_WATER_MARK = 64 * 1024;
/** The most one libuv read hands over. */
const READ_CHUNK = 64 * 1024;

const backends: { name: string; make: () => Backend; readAhead: number }[] = [
  // Node's stream reads ahead up to its high-water mark while a socket is paused.
  {
    name: 'LibuvBackend',
    make: () => new LibuvBackend({ inboxLimit: INBOX_LIMIT, highWaterMark: HIGH_WATER_MARK }),
    readAhead: HIGH_WATER_MARK,
  },
];
// readStop at the inbox limit: nothing is read ahead.
if (RawHandleBackend.available())
  backends.push({ name: 'RawHandleBackend', make: () => new RawHandleBackend({ inboxLimit: INBOX_LIMIT }), readAhead: 0 });

/**
 * Real TCP backpressure: a descriptor that is not being read makes its peer's
 * writes block, instead of the server buffering what the peer sends.
 */
describe.each(backends)('backpressure through $name', ({ make, readAhead }) => {
  let reactor: Reactor;
  let client: net.Socket | undefined;
  let before: Record<string, number>;

  beforeEach(() => {
    before = resourceCounts();
    reactor = new Reactor({ backend: make() });
  });

  afterEach(async () => {
    if (client !== undefined && !client.destroyed) {
      const closed = new Promise((resolve) => client?.once('close', resolve));
      client.destroy();
      await closed;
    }
    await reactor.close();
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  /** Accepts one client that writes 64 MiB as fast as it is allowed to. */
  async function blastingClient() {
    const events = new Events();
    const lfd = await reactor.listen({ host: '127.0.0.1', port: 0 });
    reactor.register(lfd, Interest.READABLE);
    const socket = net.connect(reactor.info(lfd).localPort as number, '127.0.0.1');
    client = socket;
    socket.on('error', () => {});
    const connected = new Promise((resolve) => socket.once('connect', resolve));
    await pollUntil(reactor, events, (e) => e.fd === lfd);
    const fd = reactor.accept(lfd) as number;

    const state = { offered: 0, blocked: false, drains: 0 };
    const block = Buffer.alloc(MiB, 0x5a);
    const pump = () => {
      while (state.offered < TOTAL) {
        state.offered += block.length;
        if (!socket.write(block)) {
          state.blocked = true;
          return;
        }
      }
    };
    socket.on('drain', () => {
      state.drains++;
      state.blocked = false;
      pump();
    });
    await connected;
    pump();
    return { fd, events, socket, state };
  }

  /** Lets the network run for a while with nobody reading on the server side. */
  const idle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  test('with read interest off, the peer stays blocked and the server holds no more than its inbox', async () => {
    const { fd, events, state } = await blastingClient();
    reactor.register(fd, Interest.WRITABLE); // writes only: the backend reads up to its inbox limit, then stops
    await idle(300);
    expect(state.blocked).toBe(true);
    expect(state.drains).toBe(0);
    const held = reactor.info(fd).bytesRead;
    expect(held).toBeLessThanOrEqual(INBOX_LIMIT + readAhead + READ_CHUNK);
    expect(reactor.info(fd).readBuffered).toBe(held); // all of it waits to be read, none was thrown away

    // Turning reading on releases the flow, and every byte arrives.
    reactor.modify(fd, Interest.READABLE, { trigger: 'edge' });
    let received = 0;
    while (received < TOTAL) {
      await pollUntil(reactor, events, (e) => e.fd === fd);
      for (let chunk = reactor.read(fd); chunk !== null && chunk.length > 0; chunk = reactor.read(fd)) {
        received += chunk.length;
      }
    }
    expect(received).toBe(TOTAL);
    expect(state.drains).toBeGreaterThan(0);
  });

  test('with read interest on but nothing read, the server holds at most its inbox limit plus what Node reads ahead (if it does)', async () => {
    const { fd, state } = await blastingClient();
    reactor.register(fd, Interest.READABLE); // readable events come, but this server never reads
    await idle(300);
    expect(state.blocked).toBe(true);
    const stillBlocked = state.drains;
    await idle(100);
    expect(state.drains).toBe(stillBlocked); // not draining: blocked and staying so
    const held = reactor.info(fd).bytesRead;
    expect(held).toBeGreaterThanOrEqual(INBOX_LIMIT); // it did read up to its limit
    expect(held).toBeLessThanOrEqual(INBOX_LIMIT + readAhead + READ_CHUNK);
    expect(state.offered).toBeLessThan(TOTAL); // the peer could not push it all out
  });
});
