import diagnosticsChannel from 'node:diagnostics_channel';
import { type CloseReason, type Connection, type ConnectionHandlers, EventLoop, Reactor, SimulatedBackend } from '../../../src';
import { simulatedLoop, waitUntil } from '../../helpers/simulated-loop';

const echo: ConnectionHandlers = {
  onData(conn, chunk) {
    conn.send(chunk);
  },
};

describe('EventLoop on a simulated network', () => {
  test('echoes, partial writes and all: every byte, in order', async () => {
    const { sim, loop, running } = await simulatedLoop(echo, {}, { sendBufferSize: 2048, receiveBufferSize: 2048 });
    const payload = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
    const client = sim.connect(7000);
    client.write(payload);
    expect((await client.waitFor(payload.length)).equals(payload)).toBe(true);
    await loop.close();
    await running;
  });

  test('a client that never reads is held back by TCP: the server queues at most its high-water mark', async () => {
    const { sim, loop, running } = await simulatedLoop(
      echo,
      { connectionHighWaterMark: 16 * 1024 },
      { sendBufferSize: 4096, receiveBufferSize: 4096 },
    );
    const hog = sim.connect(7000);
    hog.pause();
    hog.write(Buffer.alloc(4 * 1024 * 1024, 1));
    const polite = sim.connect(7000);
    polite.write('still served');
    expect((await polite.waitFor(12)).toString()).toBe('still served');
    const hogConn = () => [...loop.registry.values()].filter((c) => c.bytesRead > 100)[0] as Connection | undefined;
    await waitUntil(() => hogConn()?.reading === false); // its queue passed the high-water mark
    const queuedThen = (hogConn() as Connection).buffered;
    await waitUntil(() => sim.pendingEvents === 0); // and nothing moves any more
    expect((hogConn() as Connection).buffered).toBe(queuedThen);
    expect(queuedThen).toBeLessThanOrEqual(16 * 1024 + 4096);
    expect(hog.buffered).toBeGreaterThan(3 * 1024 * 1024); // the rest waits on the hog's side
    await loop.close({ timeoutMs: 10 });
    await running;
  });

  test('end(): what is queued goes out, then FIN; closed once the peer closes', async () => {
    const { sim, loop, running, closed } = await simulatedLoop({
      onData(conn, chunk) {
        conn.send(Buffer.concat([chunk, Buffer.alloc(50_000, 7)]));
        conn.end();
      },
    });
    const client = sim.connect(7000);
    client.write('x');
    await client.waitEnd();
    expect(client.receivedBytes).toBe(50_001);
    client.end();
    await waitUntil(() => closed.length > 0);
    expect(closed[0].reason).toBe('closed');
    await loop.close();
    await running;
  });

  test('after our FIN, a peer that never closes is cut after lingerMs', async () => {
    const { sim, loop, running, closed } = await simulatedLoop(
      {
        onConnect(conn) {
          conn.end();
        },
      },
      { lingerMs: 2_000 },
    );
    const client = sim.connect(7000);
    await client.waitEnd();
    const finAt = sim.clock.now();
    await waitUntil(() => closed.length > 0);
    expect(closed[0].reason).toBe('linger-timeout');
    expect(sim.clock.now() - finAt).toBeGreaterThanOrEqual(2_000);
    await loop.close();
    await running;
  });

  test('the peer half-closes: onEnd, then ours ends too (unless allowHalfOpen)', async () => {
    const ends: number[] = [];
    const { sim, loop, running, closed } = await simulatedLoop({
      onEnd(conn) {
        ends.push(conn.id);
        conn.send('bye');
      },
    });
    const client = sim.connect(7000);
    client.write('hi');
    client.end();
    await client.waitEnd();
    expect(client.received().toString()).toBe('bye');
    await waitUntil(() => closed.length > 0);
    expect(ends).toHaveLength(1);
    expect(closed[0].reason).toBe('closed');
    await loop.close();
    await running;
  });

  test('a callback that throws: reported, its connection closed, the loop and the others unaffected', async () => {
    const errors: unknown[] = [];
    const published: unknown[] = [];
    const listener = (message: unknown) => published.push(message);
    diagnosticsChannel.subscribe('tsreactor:loop:error', listener);
    const sim = new SimulatedBackend();
    const loop = new EventLoop({ reactor: new Reactor({ backend: sim }), onError: (err) => errors.push(err) });
    const reasons: CloseReason[] = [];
    await loop.listen([{ host: '127.0.0.1', port: 7000 }], {
      onData(conn, chunk) {
        if (chunk.toString() === 'boom') throw new Error('handler failed');
        conn.send(chunk);
      },
      onClose(_conn, reason) {
        reasons.push(reason);
      },
    });
    const running = loop.run();
    const bad = sim.connect(7000);
    const good = sim.connect(7000);
    bad.write('boom');
    await bad.waitEnd().catch(() => undefined);
    good.write('fine');
    expect((await good.waitFor(4)).toString()).toBe('fine');
    expect(errors).toEqual([new Error('handler failed')]);
    expect(published).toHaveLength(1);
    expect(reasons).toEqual(['callback-error']);
    expect(loop.metrics.callbackErrors).toBe(1);
    diagnosticsChannel.unsubscribe('tsreactor:loop:error', listener);
    await loop.close();
    await running;
  });

  test('deferred callbacks run after the batch, by priority, and can be cancelled', async () => {
    const order: string[] = [];
    const ref: { loop?: EventLoop } = {};
    const { sim, loop, running } = await simulatedLoop({
      onData(conn) {
        const l = ref.loop as EventLoop;
        l.defer(() => order.push('low'), { priority: 'low' });
        l.defer(() => order.push('normal'));
        l.defer(() => order.push('high'), { priority: 'high' });
        l.defer(() => order.push('cancelled')).cancel();
        order.push('onData');
        conn.send('ok');
      },
    });
    ref.loop = loop;
    const client = sim.connect(7000);
    client.write('go');
    await client.waitFor(2);
    await waitUntil(() => order.length >= 4);
    expect(order).toEqual(['onData', 'high', 'normal', 'low']);
    await loop.close();
    await running;
  });

  test('connection ids are numbered per loop: two runs of one simulation give the same ids', async () => {
    const idsOfOneRun = async () => {
      const ids: number[] = [];
      const { sim, loop, running } = await simulatedLoop({
        onConnect(conn) {
          ids.push(conn.id);
        },
      });
      sim.connect(7000);
      sim.connect(7000);
      await waitUntil(() => ids.length === 2);
      await loop.close({ timeoutMs: 0 });
      await running;
      return ids;
    };
    expect(await idsOfOneRun()).toEqual([1, 2]);
    expect(await idsOfOneRun()).toEqual([1, 2]);
  });

  test('every write cut short by an injected fault: the EventLoop still delivers every byte (the writable edge follows each)', async () => {
    const { sim, loop, running } = await simulatedLoop(
      {
        onData(conn, chunk) {
          conn.data = ((conn.data as string | undefined) ?? '') + chunk.toString(); // the client's writes are cut short too
          if (conn.data === 'PING') conn.send('OK\n');
        },
      },
      { idleTimeoutMs: 60_000 },
      { faults: { shortWrite: 1 } },
    );
    const client = sim.connect(7000);
    client.write('PING');
    expect((await client.waitFor(3)).toString()).toBe('OK\n');
    expect(sim.clock.now()).toBeLessThan(1_000); // not rescued by the idle timeout
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('300,000 deferred callbacks: every one runs, and run() keeps running', async () => {
    const { loop, running } = await simulatedLoop(echo);
    let ran = 0;
    for (let i = 0; i < 300_000; i++) loop.defer(() => ran++, { priority: i % 2 === 0 ? 'normal' : 'low' });
    let failed: unknown;
    running.catch((err: unknown) => (failed = err));
    await waitUntil(() => ran === 300_000 || failed !== undefined);
    expect(failed).toBeUndefined();
    expect(ran).toBe(300_000);
    await loop.close();
    await running;
  });

  test("maxConnections with 'pause-accepting': extra clients wait, then are served as slots free", async () => {
    const { sim, loop, running } = await simulatedLoop(echo, { maxConnections: 2 });
    const clients = [sim.connect(7000), sim.connect(7000), sim.connect(7000)];
    clients.forEach((c, i) => c.write(`c${i}`));
    await clients[0].waitFor(2);
    await clients[1].waitFor(2);
    await waitUntil(() => sim.pendingEvents === 0);
    expect(clients[2].receivedBytes).toBe(0); // waiting in the backlog
    expect(loop.registry.size).toBe(2);
    clients[0].close();
    expect((await clients[2].waitFor(2)).toString()).toBe('c2');
    await loop.close();
    await running;
  });

  test("maxConnections with 'reject': extra clients are closed at once and counted", async () => {
    const { sim, loop, running } = await simulatedLoop(echo, { maxConnections: 1, maxConnectionsPolicy: 'reject' });
    const first = sim.connect(7000);
    first.write('a');
    await first.waitFor(1);
    const extra = sim.connect(7000);
    await extra.waitEnd();
    expect(extra.receivedBytes).toBe(0);
    expect(loop.metrics.drops).toBe(1);
    await loop.close();
    await running;
  });

  test('removeServerSocket: nothing more is accepted, the connections already accepted go on', async () => {
    const { sim, loop, running, servers } = await simulatedLoop(echo);
    const before = sim.connect(7000);
    before.write('a');
    await before.waitFor(1);
    expect(loop.removeServerSocket(servers[0])).toBe(true);
    expect(loop.removeServerSocket(servers[0])).toBe(false); // not served any more
    const after = sim.connect(7000);
    expect((await after.waitError()).code).toBe('ECONNREFUSED');
    before.write('b');
    expect((await before.waitFor(2)).toString()).toBe('ab');
    expect(loop.registry.size).toBe(1);
    await loop.close();
    await running;
  });

  test('idle timeouts: silent connections are cut, active ones kept, with the same timer throughout', async () => {
    const { sim, loop, running, closed } = await simulatedLoop(echo, { idleTimeoutMs: 30_000 });
    const idle = sim.connect(7000);
    const active = sim.connect(7000);
    active.write('0');
    await active.waitFor(1);
    const [activeConn] = [...loop.registry.values()].filter((c) => c.bytesRead > 0);
    const timer = activeConn.idleTimer;
    for (let i = 1; i <= 4; i++) {
      sim.run(sim.clock.now() + 20_000);
      active.write(String(i));
      await active.waitFor(i + 1);
    }
    expect((await idle.waitError()).code).toBe('ECONNRESET'); // an idle connection is cut with a reset
    expect(closed).toEqual([{ id: expect.any(Number) as number, reason: 'idle-timeout', error: undefined }]);
    expect(activeConn.state).toBe('open');
    expect(activeConn.idleTimer).toBe(timer); // re-armed in place, never replaced
    expect(loop.metrics.idleTimeouts).toBe(1);
    await loop.close();
    await running;
  });

  test('the memory budget pauses reading where the most is queued, and resumes under half', async () => {
    const pressure: { on: boolean; paused: number }[] = [];
    const listener = (m: unknown) => pressure.push(m as { on: boolean; paused: number });
    diagnosticsChannel.subscribe('tsreactor:loop:pressure', listener);
    const { sim, loop, running } = await simulatedLoop(
      {
        onData(conn, chunk) {
          conn.send(Buffer.concat([chunk, chunk, chunk, chunk])); // amplifies: output outgrows input
        },
      },
      { maxBufferedBytes: 64 * 1024, connectionHighWaterMark: 1 << 20 },
      { sendBufferSize: 8192, receiveBufferSize: 8192 },
    );
    const slow = sim.connect(7000);
    slow.pause();
    slow.write(Buffer.alloc(100_000, 3));
    const other = sim.connect(7000);
    other.write('x');
    await other.waitFor(4);
    await waitUntil(() => pressure.length > 0);
    expect(pressure[0]).toMatchObject({ on: true, paused: 1 });
    expect(loop.bufferedBytes).toBeGreaterThan(0);
    slow.resume();
    await slow.waitFor(400_000);
    expect(pressure.at(-1)).toMatchObject({ on: false });
    // It may come back while the client keeps sending (each echo is 4 times its input): on and off alternate.
    expect(pressure.map((p) => p.on)).toEqual(pressure.map((_, i) => i % 2 === 0));
    expect(loop.metrics.pressureEvents).toBe(Math.ceil(pressure.length / 2));
    diagnosticsChannel.unsubscribe('tsreactor:loop:pressure', listener);
    await loop.close();
    await running;
  });

  test('a slow callback is measured and reported', async () => {
    const slow: { callback: string; durationMs: number }[] = [];
    const listener = (m: unknown) => slow.push(m as { callback: string; durationMs: number });
    diagnosticsChannel.subscribe('tsreactor:loop:slow', listener);
    const { sim, loop, running } = await simulatedLoop(
      {
        onData(conn) {
          const until = performance.now() + 30; // real time: a CPU-bound callback
          while (performance.now() < until) {
            /* busy */
          }
          conn.send('done');
        },
      },
      { slowCallbackMs: 20 },
    );
    const client = sim.connect(7000);
    client.write('work');
    await client.waitFor(4);
    expect(slow).toHaveLength(1);
    expect(slow[0].callback).toBe('onData');
    expect(slow[0].durationMs).toBeGreaterThanOrEqual(20);
    expect(loop.metrics.slowCallbacks).toBe(1);
    expect(loop.metrics.snapshot().callbackDuration.maxMs).toBeGreaterThanOrEqual(20);
    diagnosticsChannel.unsubscribe('tsreactor:loop:slow', listener);
    await loop.close();
    await running;
  });

  test('graceful close: queued writes drain, then the report counts graceful and forced', async () => {
    const { sim, loop, running } = await simulatedLoop(
      {
        onData(conn, chunk) {
          conn.send(Buffer.alloc(200_000, chunk[0]));
        },
      },
      {},
      { sendBufferSize: 4096, receiveBufferSize: 4096 },
    );
    const reader = sim.connect(7000);
    const stuck = sim.connect(7000);
    reader.write('r');
    stuck.write('s');
    stuck.pause(); // never reads: can only be forced
    await reader.waitFor(1);
    sim.run(sim.clock.now() + 1);
    const closing = loop.close({ timeoutMs: 1_000 });
    await reader.waitEnd(); // everything queued arrived, then our FIN
    expect(reader.receivedBytes).toBe(200_000);
    reader.close(); // and it closes its side: a clean close
    const report = await closing;
    expect(report).toMatchObject({ graceful: 1, forced: 1, other: 0 });
    expect(report.durationMs).toBeGreaterThanOrEqual(1_000);
    expect(loop.state).toBe('closed');
    await running;
  });

  test('the report lists what is open and since when', async () => {
    const { sim, loop, running } = await simulatedLoop(echo);
    const client = sim.connect(7000);
    client.write('x');
    await client.waitFor(1);
    sim.run(sim.clock.now() + 250);
    const report = loop.report();
    expect(report.descriptors.map((d) => d.kind)).toEqual(['listener', 'stream']);
    expect(report.connections).toHaveLength(1);
    expect(report.connections[0].idleForMs).toBeGreaterThanOrEqual(250);
    await loop.close();
    await running;
  });

  test('connections carry their metadata', async () => {
    let seen: Connection | undefined;
    const { sim, loop, running } = await simulatedLoop({
      onData(conn, chunk) {
        seen = conn;
        conn.send(chunk);
        conn.send(chunk);
      },
    });
    const client = sim.connect(7000);
    client.write('abc');
    await client.waitFor(6);
    expect(seen).toMatchObject({ bytesRead: 3, bytesWritten: 6, reads: 1, writes: 1, remoteAddress: '127.0.0.1', family: 'IPv4' }); // two sends in one onData: one write
    expect(typeof seen?.id).toBe('number');
    await loop.close();
    await running;
  });
});
