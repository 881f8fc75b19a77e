import * as net from 'node:net';
import { type Backend, type CloseReason, EventLoop, Events, Interest, LibuvBackend, RawHandleBackend, Reactor } from '../../src';
import { SocketPeer } from '../contract/harness';
import { pollOnce, pollUntil } from '../contract/polling';
import { leakedSince, resourceCounts, settleHandles } from '../helpers/resources';

const MiB = 1024 * 1024;

const backends: { name: string; make: () => Backend }[] = [{ name: 'LibuvBackend', make: () => new LibuvBackend() }];
if (RawHandleBackend.available()) backends.push({ name: 'RawHandleBackend', make: () => new RawHandleBackend() });

/** Server-side TCP handles now: every socket in the process, less the test's own clients. */
function serverSockets(clients: readonly net.Socket[]): number {
  const sockets = process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;
  return sockets - clients.filter((c) => !c.closed).length;
}

/** How a client's connection ends, as it sees it: 'fin' or 'reset' (told apart even where libuv reports a reset as EOF). */
function endingOf(client: net.Socket): Promise<'fin' | 'reset'> {
  return new SocketPeer(client).waitOutcome();
}

/**
 * A socket closed by the server must not outlive what it was closed for: a
 * peer that stopped reading cannot pin a closed socket and its memory, and a
 * peer that writes on to a closed socket is reset, not read and thrown away.
 */
describe.each(backends)('closing on real sockets: $name', ({ make }) => {
  let before: Record<string, number>;
  const clients: net.Socket[] = [];

  beforeEach(() => {
    before = resourceCounts();
  });

  afterEach(async () => {
    await Promise.all(
      clients.splice(0).map((c) => new Promise((resolve) => (c.closed ? resolve(undefined) : (c.once('close', resolve), c.destroy())))),
    );
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  function connect(port: number): Promise<net.Socket> {
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    clients.push(client);
    client.on('error', () => {});
    return new Promise((resolve) => client.once('connect', () => resolve(client)));
  }

  test('an idle timeout with 32 MiB queued toward a peer that stopped reading resets it, and nothing of it is left', async () => {
    const closed: CloseReason[] = [];
    const loop = new EventLoop({ reactor: new Reactor({ backend: make() }), idleTimeoutMs: 300 });
    const [server] = await loop.listen([{ host: '127.0.0.1', port: 0 }], {
      onData(conn) {
        conn.send(Buffer.alloc(32 * MiB, 1)); // far more than the kernel takes: the rest waits in the connection
      },
      onClose(_conn, reason) {
        closed.push(reason);
      },
    });
    const running = loop.run();
    const client = await connect(server.port);
    client.pause(); // stops reading
    const ending = endingOf(client);
    client.write('give me everything');
    for (let i = 0; i < 100 && closed.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toEqual(['idle-timeout']);
    await settleHandles();
    expect(serverSockets(clients)).toBe(0); // released at once, not lingering toward the stalled peer
    expect(loop.report().descriptors.filter((d) => d.kind === 'stream')).toEqual([]);
    client.resume();
    expect(await ending).toBe('reset');
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('a lingering close toward a peer that writes without end is reset at the first bytes that reach it', async () => {
    const reactor = new Reactor({ backend: make() });
    const events = new Events();
    const lfd = await reactor.listen({ host: '127.0.0.1', port: 0 });
    reactor.register(lfd, Interest.READABLE);
    const client = await connect(reactor.info(lfd).localPort as number);
    client.pause(); // never reads what the server sends
    await pollUntil(reactor, events, (e) => e.fd === lfd);
    const fd = reactor.accept(lfd) as number;
    expect(reactor.write(fd, Buffer.alloc(16 * MiB, 2))).toBeGreaterThan(0); // more than the kernel takes
    reactor.close(fd); // graceful: it lingers with its queue
    expect(reactor.lingering()).toHaveLength(1);
    // The client writes without end: a megabyte at a time, as fast as it is let.
    const ending = endingOf(client);
    let offered = 0;
    const block = Buffer.alloc(MiB, 3);
    const pump = () => {
      while (!client.destroyed && offered < 512 * MiB) {
        offered += block.length;
        if (!client.write(block)) return;
      }
    };
    client.on('drain', pump);
    pump();
    let outcome: 'fin' | 'reset' | undefined;
    void ending.then((code) => (outcome = code));
    for (let i = 0; i < 250 && (outcome === undefined || reactor.lingering().length > 0); i++) await pollOnce(reactor, events, 20);
    expect(reactor.lingering()).toEqual([]);
    expect(outcome).toBe('reset');
    expect(offered).toBeLessThan(512 * MiB); // it was stopped, not read on and thrown away
    await reactor.close();
  });

  test('reactor.close() cuts what still lingers, and leaves nothing', async () => {
    const reactor = new Reactor({ backend: make() });
    const events = new Events();
    const lfd = await reactor.listen({ host: '127.0.0.1', port: 0 });
    reactor.register(lfd, Interest.READABLE);
    const client = await connect(reactor.info(lfd).localPort as number);
    client.pause();
    await pollUntil(reactor, events, (e) => e.fd === lfd);
    const fd = reactor.accept(lfd) as number;
    reactor.write(fd, Buffer.alloc(16 * MiB, 4));
    reactor.close(fd);
    expect(reactor.lingering()).toHaveLength(1);
    const ending = endingOf(client);
    await reactor.close();
    expect(serverSockets(clients)).toBe(0);
    client.resume();
    expect(await ending).toBe('reset');
  });
});
