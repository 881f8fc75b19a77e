import { EventLoop, Reactor, SimulatedBackend } from '../../../src';
import { type HttpServerOptions, MAX_EMPTY_LINES, startHttpServer } from '../../../examples/http-server';
import { waitUntil } from '../../helpers/simulated-loop';

/** The HTTP example on a simulated network: timing and flow control, on simulated time. */
async function simulatedHttp(options: Omit<HttpServerOptions, 'loop'> = {}, connectionHighWaterMark = 16 * 1024) {
  const sim = new SimulatedBackend({ seed: 1, sendBufferSize: 8192, receiveBufferSize: 8192 });
  const loop = new EventLoop({ reactor: new Reactor({ backend: sim }), idleTimeoutMs: 60_000, connectionHighWaterMark });
  const server = await startHttpServer({ ...options, loop, host: '127.0.0.1', port: 80 });
  const running = loop.run();
  const stop = async () => {
    await loop.close({ timeoutMs: 0 });
    await running;
  };
  return { sim, loop, server, stop };
}

const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

describe('examples/http-server.ts on simulated time', () => {
  test('a request whose body stops coming: 408 after requestTimeoutMs from its first byte', async () => {
    const { sim, stop } = await simulatedHttp({ headersTimeoutMs: 500, requestTimeoutMs: 2_000 });
    const client = sim.connect(80);
    client.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly this much');
    await client.waitEnd();
    expect(statuses(client.received().toString())).toEqual([408]);
    expect(sim.clock.now()).toBeGreaterThanOrEqual(2_000);
    expect(sim.clock.now()).toBeLessThan(2_100);
    await stop();
  });

  test('close() on a loop passed in stops listening; its open connections stay with the loop', async () => {
    const { sim, loop, server, stop } = await simulatedHttp();
    const open = sim.connect(80);
    open.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await open.waitFor(1);
    await server.close();
    expect(loop.state).toBe('running');
    const late = sim.connect(80);
    expect((await late.waitError()).code).toBe('ECONNREFUSED');
    open.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await open.waitEnd();
    expect(statuses(open.received().toString())).toEqual([200, 200]);
    await stop();
  });

  test('empty lines dripping one a second: the head deadline runs from the first (408), and a few more than a server skips is 400', async () => {
    const { sim, loop, stop } = await simulatedHttp({ headersTimeoutMs: 2_500 });
    const dripping = sim.connect(80);
    const startedMs = sim.clock.now();
    let drips = 0;
    const drip = () => {
      if (drips++ === 20) return;
      dripping.write('\r\n');
      loop.timers.schedule(1_000, drip); // one a second, on simulated time
    };
    drip();
    const outcome = await Promise.race([
      dripping.waitEnd().then(() => 'closed'),
      new Promise((resolve) => loop.timers.schedule(30_000, () => resolve('still open after 30 s'))),
    ]);
    expect(outcome).toBe('closed');
    drips = 20;
    expect(statuses(dripping.received().toString())).toEqual([408]);
    expect(sim.clock.now() - startedMs).toBeLessThan(3_100); // not re-armed by each line
    const burst = sim.connect(80);
    burst.write(`${'\r\n'.repeat(MAX_EMPTY_LINES)}GET / HTTP/1.1\r\nHost: x\r\n\r\n`); // as many as are skipped: served
    burst.write(`${'\r\n'.repeat(MAX_EMPTY_LINES + 1)}GET / HTTP/1.1\r\nHost: x\r\n\r\n`); // one more: refused
    await burst.waitEnd();
    expect(statuses(burst.received().toString())).toEqual([200, 400]);
    await stop();
  });

  test('graceful close: an upload in progress is let finish (answered with Connection: close), an idle keep-alive connection ends at once', async () => {
    const { sim, loop, server } = await simulatedHttp();
    const running = loop.run(); // a second run() joins the first: resolves when the loop closes
    const idle = sim.connect(80);
    idle.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await idle.waitFor(1);
    await waitUntil(() => statuses(idle.received().toString()).length === 1);
    const uploader = sim.connect(80);
    uploader.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello');
    await waitUntil(() => server.requests === 1 && loop.registry.size === 2 && [...loop.registry.values()].every((c) => c.bytesRead > 0));
    const closing = loop.close({ timeoutMs: 5_000 });
    await idle.waitEnd(); // idle: FIN now, nothing more
    expect(statuses(idle.received().toString())).toEqual([200]);
    idle.close();
    uploader.write('world'); // the rest of the body, after the close began
    uploader.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'); // pipelined behind it: not read
    await uploader.waitEnd();
    uploader.close();
    const answer = uploader.received().toString();
    expect(statuses(answer)).toEqual([200]);
    expect(answer).toContain('Connection: close\r\n');
    expect(answer.endsWith('\r\n\r\nhelloworld')).toBe(true);
    const report = await closing;
    expect(report).toMatchObject({ graceful: 2, forced: 0 });
    expect(server.requests).toBe(2); // the answers written
    await running;
  });

  test('a head that stops coming: 408 after headersTimeoutMs', async () => {
    const { sim, stop } = await simulatedHttp({ headersTimeoutMs: 500 });
    const client = sim.connect(80);
    client.write('GET / HTTP/1.1\r\nHost:');
    await client.waitEnd();
    expect(statuses(client.received().toString())).toEqual([408]);
    expect(sim.clock.now()).toBeGreaterThanOrEqual(500);
    expect(sim.clock.now()).toBeLessThan(600);
    await stop();
  });

  test('no 408 for the time the server itself stopped reading (its responses were not being read)', async () => {
    const { sim, stop } = await simulatedHttp({ headersTimeoutMs: 500, maxBodyBytes: 1 << 20 });
    const client = sim.connect(80);
    client.pause(); // reads nothing for now
    const body = Buffer.alloc(200_000, 0x61);
    client.write(Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
    client.write('GET / HTTP'); // the next request begins...
    client.write('/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'); // ...and is complete, but the server is not reading
    sim.run(sim.clock.now() + 3_000); // six header timeouts pass
    client.resume();
    await client.waitEnd();
    expect(statuses(client.received().toString())).toEqual([200, 200]);
    await stop();
  });

  test('a client pipelining without reading is not served past the high-water mark; then everything, in order', async () => {
    const { sim, loop, stop } = await simulatedHttp({}, 16 * 1024);
    const client = sim.connect(80);
    client.pause();
    const count = 5_000;
    client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(count - 1) + 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitUntil(() => [...loop.registry.values()].some((c) => !c.reading));
    const [conn] = [...loop.registry.values()];
    expect(conn.buffered).toBeLessThanOrEqual(16 * 1024 + 16 * 1024); // the mark, plus one gathered write at most
    client.resume();
    await client.waitEnd();
    expect(statuses(client.received().toString())).toEqual(Array.from({ length: count }, () => 200));
    await stop();
  });

  test('Expect: 100-continue on simulated time: the 100 comes before the body is sent', async () => {
    const { sim, stop } = await simulatedHttp();
    const client = sim.connect(80);
    client.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
    expect((await client.waitFor(25)).toString()).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    client.write('hello');
    await client.waitEnd();
    expect(client.received().toString()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nhello$/);
    await stop();
  });
});
