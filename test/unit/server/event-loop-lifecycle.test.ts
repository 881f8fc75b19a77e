import { type Connection, type ConnectionHandlers, EventLoop, Reactor, ReactorError, SimulatedBackend } from '../../../src';
import { FaultyBackend } from '../../contract/faulty-backend';
import { simulatedLoop, turns, waitUntil } from '../../helpers/simulated-loop';

/**
 * The corners of the loop's lifecycle: failures while accepting, stop and
 * close in either order, signals, deferred work around shutdown, and the
 * memory budget with more than one connection in play.
 */

const echo: ConnectionHandlers = {
  onData(conn, chunk) {
    conn.send(chunk);
  },
};

describe('EventLoop lifecycle', () => {
  test('connections the backend lost (past the backlog) count as drops, also once the server socket is gone', async () => {
    const sim = new SimulatedBackend();
    const loop = new EventLoop({ reactor: new Reactor({ backend: sim }) });
    const [server] = await loop.listen([{ host: '127.0.0.1', port: 7000, backlog: 1 }], echo);
    const clients = Array.from({ length: 5 }, () => sim.connect(7000)); // nobody accepts yet: two wait (backlog + 1), three SYNs are dropped
    sim.run(sim.clock.now() + 100);
    expect(loop.reactor.info(server.fd).droppedConnections).toBe(3);
    expect(loop.metrics.drops).toBe(3);
    expect(loop.metrics.snapshot().drops).toBe(3);
    expect(clients.filter((c) => c.error !== undefined)).toHaveLength(0); // the three will send their SYNs again
    loop.removeServerSocket(server);
    sim.run(sim.clock.now() + 1_000); // their retransmissions find nothing listening
    expect(clients.filter((c) => c.error?.code === 'ECONNREFUSED')).toHaveLength(3);
    expect(loop.metrics.drops).toBe(3);
    await loop.close({ timeoutMs: 0 });
    expect(loop.metrics.drops).toBe(3);
  });

  test('a close that failed can be tried again: the reactor and the loop close on the second call', async () => {
    const faulty = new FaultyBackend(new SimulatedBackend());
    const reactor = new Reactor({ backend: faulty });
    faulty.failNextDispose = true;
    await expect(reactor.close()).rejects.toThrow('injected dispose failure');
    await expect(reactor.close()).resolves.toBeUndefined();
    expect(reactor.state).toBe('closed');

    const backend = new FaultyBackend(new SimulatedBackend());
    const loop = new EventLoop({ reactor: new Reactor({ backend }) });
    await loop.listen([{ host: '127.0.0.1', port: 7000 }], echo);
    const running = loop.run();
    backend.failNextDispose = true;
    await expect(loop.close({ timeoutMs: 0 })).rejects.toThrow('injected dispose failure');
    const report = await loop.close({ timeoutMs: 0 });
    expect(report).toMatchObject({ graceful: 0, forced: 0 });
    expect(loop.state).toBe('closed');
    expect(loop.reactor.state).toBe('closed');
    await running;
    expect(await loop.close()).toBe(report); // and from then on, the same report
  });

  test('an accept that fails (EMFILE) is retried after acceptRetryMs: the waiting client is served', async () => {
    const { sim, loop, running, servers } = await simulatedLoop(echo, { acceptRetryMs: 50 });
    sim.failNextAccept(servers[0].fd);
    const first = sim.connect(7000);
    first.write('one');
    expect((await first.waitFor(3)).toString()).toBe('one');
    expect(sim.clock.now()).toBeGreaterThanOrEqual(50); // served by the retry, not by a new arrival
    const second = sim.connect(7000);
    second.write('two');
    expect((await second.waitFor(3)).toString()).toBe('two');
    expect(loop.metrics.accepts).toBe(2);
    expect(loop.metrics.drops).toBe(1);
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('onDrain may send the last chunk and end(): every byte arrives before the FIN', async () => {
    const head = Buffer.alloc(20_000, 0x61);
    const tail = Buffer.alloc(20_000, 0x62);
    let drains = 0;
    const { sim, loop, running, closed } = await simulatedLoop(
      {
        onConnect(conn) {
          conn.send(head); // more than the send buffer: a drain is owed
        },
        onDrain(conn) {
          if (++drains > 1) return;
          conn.send(tail);
          conn.end();
        },
      },
      {},
      { sendBufferSize: 4096, receiveBufferSize: 4096 },
    );
    const client = sim.connect(7000);
    await client.waitEnd();
    expect(client.received().equals(Buffer.concat([head, tail]))).toBe(true);
    expect(client.error).toBeUndefined();
    client.close();
    await waitUntil(() => closed.length === 1);
    expect(closed[0].reason).toBe('closed'); // both sides ended cleanly
    await loop.close();
    await running;
  });

  test('send() after end() says so: EPIPE; after the connection closed: false', async () => {
    let afterEnd: unknown;
    let afterClose: boolean | undefined;
    const { sim, loop, running } = await simulatedLoop({
      onData(conn, chunk) {
        conn.send(chunk);
        conn.end();
        try {
          conn.send('too late');
        } catch (err) {
          afterEnd = err;
        }
      },
      onClose(conn) {
        afterClose = conn.send('gone');
      },
    });
    const client = sim.connect(7000);
    client.write('x');
    await client.waitEnd();
    expect(afterEnd).toBeInstanceOf(ReactorError);
    expect((afterEnd as ReactorError).code).toBe('EPIPE');
    expect(client.received().toString()).toBe('x');
    client.close();
    await waitUntil(() => afterClose !== undefined);
    expect(afterClose).toBe(false);
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('graceful close with onShutdown: the loop leaves the connection open and read, and its handler ends it when done', async () => {
    const order: string[] = [];
    const { sim, loop, running } = await simulatedLoop({
      onData(conn, chunk) {
        order.push(`data ${chunk.toString()}`);
        if (chunk.toString() === 'last') conn.end();
      },
      onShutdown(conn) {
        order.push(`shutdown ${conn.state}`);
      },
    });
    const client = sim.connect(7000);
    client.write('first');
    await waitUntil(() => order.length === 1);
    const closing = loop.close({ timeoutMs: 10_000 });
    client.write('last'); // the connection was not ended by the loop: its handler ends it when done
    await client.waitEnd();
    client.close();
    expect(await closing).toMatchObject({ graceful: 1, forced: 0 });
    expect(order).toEqual(['data first', 'shutdown open', 'data last']);
    await running;
  });

  test('destroy() during a graceful close cuts it short: what had not ended counts as forced, in the same report', async () => {
    const { sim, loop, running, closed } = await simulatedLoop({ onShutdown() {} }); // the handler never ends it: only the deadline would
    const client = sim.connect(7000);
    client.write('hi');
    await waitUntil(() => loop.registry.size === 1);
    const closing = loop.close({ timeoutMs: 60_000 });
    await turns(3);
    const report = await loop.destroy();
    expect(report).toBe(await closing);
    expect(report).toMatchObject({ graceful: 0, forced: 1 });
    expect(report.durationMs).toBeLessThan(60_000);
    expect(closed.map((c) => c.reason)).toEqual(['shutdown-forced']);
    client.close();
    await running;
  });

  test('destroy() with no close under way is close({ timeoutMs: 0 })', async () => {
    const { sim, loop, running } = await simulatedLoop(echo);
    const client = sim.connect(7000);
    await waitUntil(() => loop.registry.size === 1);
    expect(await loop.destroy()).toMatchObject({ forced: 1 });
    expect(loop.state).toBe('closed');
    client.close();
    await running;
  });

  test('stop() then close(): run() resolves and the close completes', async () => {
    const { sim, loop, running, closed } = await simulatedLoop(echo);
    const client = sim.connect(7000);
    client.write('hi');
    await client.waitFor(2);
    loop.stop();
    const closing = loop.close({ timeoutMs: 100 });
    await running;
    const report = await closing;
    expect(report).toMatchObject({ graceful: 0, forced: 1 });
    expect(loop.state).toBe('closed');
    expect(loop.registry.size).toBe(0);
    expect(closed.map((c) => c.reason)).toEqual(['shutdown-forced']);
  });

  test('close() then stop(): the stop is ignored, the close needs the loop and completes', async () => {
    const { sim, loop, running } = await simulatedLoop(echo);
    const client = sim.connect(7000);
    client.write('hi');
    await client.waitFor(2);
    const closing = loop.close({ timeoutMs: 100 });
    loop.stop();
    client.close(); // the client answers our FIN: a graceful end
    expect(await closing).toMatchObject({ graceful: 1, forced: 0 });
    await running;
    expect(loop.state).toBe('closed');
  });

  test('run() again before a stop() takes effect carries on with the same run', async () => {
    const { sim, loop, running } = await simulatedLoop(echo);
    loop.stop();
    expect(loop.run()).toBe(running);
    const client = sim.connect(7000);
    client.write('still here');
    expect((await client.waitFor(10)).toString()).toBe('still here');
    expect(loop.state).toBe('running');
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('a paused connection still learns of a reset: closed with the error, not left hanging', async () => {
    const seen: string[] = [];
    const { sim, loop, running, closed } = await simulatedLoop({
      onData(conn, chunk) {
        seen.push(chunk.toString());
        conn.pause(); // the application applies backpressure
      },
    });
    const client = sim.connect(7000);
    client.write('first');
    await waitUntil(() => seen.length === 1);
    client.write('second'); // lands while paused
    await turns(20);
    client.reset();
    await waitUntil(() => closed.length === 1);
    expect(closed[0]).toMatchObject({ reason: 'error', error: 'ECONNRESET' });
    expect(seen).toEqual(['first']); // what was unread went with the reset, as on a real socket
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('paused after end(): the FIN of a peer that is not read is not seen, and lingerMs bounds the wait', async () => {
    const { sim, loop, running, closed } = await simulatedLoop(
      {
        onData(conn) {
          conn.pause();
          conn.end();
        },
      },
      { lingerMs: 300 },
    );
    const client = sim.connect(7000);
    client.write('request');
    await client.waitEnd();
    client.write('trailer');
    client.end();
    await waitUntil(() => closed.length === 1);
    expect(closed[0].reason).toBe('linger-timeout');
    expect(sim.clock.now()).toBeGreaterThanOrEqual(300);
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('a timer callback that throws goes to onError; run() goes on serving', async () => {
    const errors: unknown[] = [];
    const { sim, loop, running } = await simulatedLoop(echo, { onError: (error) => errors.push(error) });
    let settled = false;
    void running.finally(() => (settled = true));
    loop.timers.schedule(10, () => {
      throw new Error('boom in a timer');
    });
    const client = sim.connect(7000);
    await waitUntil(() => errors.length === 1);
    expect((errors[0] as Error).message).toBe('boom in a timer');
    client.write('hi');
    expect((await client.waitFor(2)).toString()).toBe('hi');
    expect(settled).toBe(false);
    expect(loop.state).toBe('running');
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('activity outside a batch (a send from other code) keeps an idle connection alive', async () => {
    let server: Connection | undefined;
    const { sim, loop, running, closed } = await simulatedLoop(
      {
        onConnect(conn) {
          server = conn;
        },
      },
      { idleTimeoutMs: 500 },
      { latencyMs: 100 },
    );
    const client = sim.connect(7000);
    await waitUntil(() => server !== undefined);
    // Ping-pong between the test and the simulated client: each send happens
    // at the moment a ping lands, while the loop waits in poll (no batch follows).
    for (let pings = 1; pings <= 15; pings++) {
      server?.send('ping');
      await client.waitFor(4 * pings);
    }
    expect(sim.clock.now()).toBeGreaterThan(1_500);
    expect(closed).toEqual([]);
    await waitUntil(() => closed.length === 1);
    expect(closed[0].reason).toBe('idle-timeout');
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('deferred work: strict priority, runs when deferred while the loop waits, refused once closed', async () => {
    const { loop, running } = await simulatedLoop({});
    const order: string[] = [];
    loop.defer(() => order.push('low'), { priority: 'low' });
    loop.defer(() => order.push('normal'));
    for (let i = 0; i < 3; i++) loop.defer(() => order.push(`high${i}`), { priority: 'high' });
    await waitUntil(() => order.length === 5);
    expect(order).toEqual(['high0', 'high1', 'high2', 'normal', 'low']);

    await turns(20); // the loop now waits in poll with nothing to do
    let ran = false;
    loop.defer(() => (ran = true));
    await waitUntil(() => ran);

    await loop.close();
    await running;
    expect(() => loop.defer(() => undefined)).toThrow(expect.objectContaining({ code: 'ERR_REACTOR_CLOSED' }) as ReactorError);
  });

  describe('under the memory budget', () => {
    test('a paused connection holding much does not keep a healthy one from being served', async () => {
      const { sim, loop, running } = await simulatedLoop(
        echo,
        { maxBufferedBytes: 20_000, connectionHighWaterMark: 1 << 20 },
        { sendBufferSize: 4096, receiveBufferSize: 4096 },
      );
      const hog = sim.connect(7000);
      hog.pause();
      hog.write(Buffer.alloc(20_000, 1));
      await waitUntil(() => loop.bufferedBytes > 10_000);
      const healthy = sim.connect(7000);
      healthy.stall(50);
      healthy.write(Buffer.alloc(40_000, 2));
      expect((await healthy.waitFor(40_000)).length).toBe(40_000);
      healthy.write('ping');
      expect((await healthy.waitFor(40_004)).subarray(40_000).toString()).toBe('ping');
      await loop.close({ timeoutMs: 0 });
      await running;
    });

    test('over budget with enough paused, a batch does not walk every connection', async () => {
      const { sim, loop, running } = await simulatedLoop(
        echo,
        { maxBufferedBytes: 20_000, connectionHighWaterMark: 1 << 20 },
        { sendBufferSize: 4096, receiveBufferSize: 4096 },
      );
      const idle = Array.from({ length: 50 }, () => sim.connect(7000)); // connections that hold nothing
      await waitUntil(() => loop.registry.size === 50);
      const hog = sim.connect(7000);
      hog.pause();
      hog.write(Buffer.alloc(40_000, 1));
      await waitUntil(() => loop.metrics.pressureEvents === 1);
      const walks = jest.spyOn(loop.registry, 'values');
      const polite = sim.connect(7000);
      for (let i = 0; i < 20; i++) {
        polite.write('ping'); // batch after batch, still over budget
        await polite.waitFor(4 * (i + 1));
      }
      expect(loop.bufferedBytes).toBeGreaterThan(20_000);
      expect(walks).not.toHaveBeenCalled();
      walks.mockRestore();
      for (const client of idle) client.close();
      await loop.close({ timeoutMs: 0 });
      await running;
    });

    test('connections that arrive while over budget are paused too: the total stays bounded', async () => {
      const { sim, loop, running } = await simulatedLoop(
        echo,
        { maxBufferedBytes: 20_000, connectionHighWaterMark: 1 << 20 },
        { sendBufferSize: 4096, receiveBufferSize: 4096 },
      );
      const first = sim.connect(7000);
      first.pause();
      first.write(Buffer.alloc(40_000, 1));
      await waitUntil(() => loop.metrics.pressureEvents === 1);
      for (let i = 0; i < 5; i++) {
        const more = sim.connect(7000);
        more.pause();
        more.write(Buffer.alloc(200_000, 3));
      }
      await waitUntil(() => loop.registry.size === 6);
      await turns(2_000);
      const connections = [...loop.registry.values()];
      expect(connections.every((c) => !c.reading)).toBe(true);
      // Each connection reads at most one batch before it is paused: far below what the clients sent.
      expect(loop.bufferedBytes).toBeLessThan(20_000 + 6 * 16 * 1024);
      expect(loop.metrics.pressureEvents).toBe(1);
      await loop.close({ timeoutMs: 0 });
      await running;
    });
  });

  describe('signals', () => {
    const signalFds = (loop: EventLoop) => loop.reactor.descriptors().filter((fd) => loop.reactor.kind(fd) === 'signal');

    test('one SIGINT closes gracefully even when two parts of the program asked for signal handling', async () => {
      const { sim, loop, running, closed } = await simulatedLoop(echo);
      loop.handleSignals({ timeoutMs: 1_000 });
      loop.handleSignals({ timeoutMs: 1_000, signals: ['SIGINT'] });
      expect(signalFds(loop)).toHaveLength(2); // one signal descriptor each
      const client = sim.connect(7000);
      client.write('hi');
      await client.waitFor(2);
      sim.raise('SIGINT');
      await client.waitEnd();
      client.close();
      await running;
      await waitUntil(() => loop.state === 'closed');
      expect(closed.map((c) => c.reason)).toEqual(['closed']); // not 'shutdown-forced'
    });

    test('handling removed: the signal descriptor is closed, and a signal later changes nothing', async () => {
      const { sim, loop, running } = await simulatedLoop(echo);
      const remove = loop.handleSignals({ timeoutMs: 1_000 });
      remove();
      remove(); // idempotent
      expect(signalFds(loop)).toEqual([]);
      sim.raise('SIGTERM');
      await sim.waitUntil(() => sim.pendingEvents === 0, 'the signal delivered');
      expect(loop.state).toBe('running');
      await loop.close({ timeoutMs: 0 });
      await running;
    });

    test('a second signal while closing forces: connections are destroyed at once', async () => {
      const { sim, loop, running, closed } = await simulatedLoop(echo);
      const remove = loop.handleSignals({ timeoutMs: 60_000, signals: ['SIGTERM'] });
      const client = sim.connect(7000);
      client.pause(); // never reads our FIN: only force can end it
      client.write('hi');
      await waitUntil(() => loop.registry.size === 1);
      sim.raise('SIGTERM');
      await waitUntil(() => loop.state === 'closing');
      sim.raise('SIGTERM');
      await running;
      expect(closed.map((c) => c.reason)).toEqual(['shutdown-forced']);
      expect(sim.clock.now()).toBeLessThan(60_000);
      remove();
    });
  });
});
