import http from 'node:http';
import { Agent, fetch, request } from 'undici';
import { startHttpServer } from '../../../examples/http-server';
import { EventLoop, Reactor, type SimulatedSocket, SimulatedWorld, type SimulatedWorldOptions } from '../../../src';

/** Every world a test made, closed after it (also when it failed): virtual time is one world's at a time. */
const worlds: SimulatedWorld[] = [];
function newWorld(options: SimulatedWorldOptions): SimulatedWorld {
  const world = new SimulatedWorld(options);
  worlds.push(world);
  return world;
}
afterEach(async () => {
  for (const world of worlds.splice(0)) await world.close();
});

/** The HTTP example on host 10.0.0.2 (every address, port 80) of a world in virtual time, and a client host. */
async function httpWorld() {
  const world = newWorld({ seed: 1, virtualTime: true, latencyMs: 1 });
  const serverHost = world.host({ name: 'web', addresses: ['10.0.0.2'] });
  const client = world.host('10.0.0.3');
  const loop = new EventLoop({ reactor: new Reactor({ backend: serverHost.backend() }), idleTimeoutMs: 5_000 });
  const server = await startHttpServer({ loop, host: '0.0.0.0', port: 80 });
  const running = loop.run();
  const stop = async () => {
    await loop.close({ timeoutMs: 0 });
    await running;
    await world.close();
  };
  return { world, client, server, stop };
}

/** One GET through node:http, with `agent`; the status and the body. */
function get(agent: http.Agent, path: string): Promise<{ status: number | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: 'web', port: 80, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      })
      .on('error', reject);
  });
}

describe('unmodified Node clients against a simulated server, in virtual time', () => {
  test('node:http through Agent.createConnection: two requests on one kept-alive connection', async () => {
    const { world, client, server, stop } = await httpWorld();
    const agent = new http.Agent({ keepAlive: true });
    const sockets: SimulatedSocket[] = [];
    agent.createConnection = (options) => {
      const socket = client.net.connect(options as { port: number; host?: string });
      sockets.push(socket);
      return socket;
    };
    const first = await get(agent, '/');
    const second = await get(agent, '/');
    expect([first, second]).toEqual([
      { status: 200, body: 'Hello, world!\n' },
      { status: 200, body: 'Hello, world!\n' },
    ]);
    expect(sockets).toHaveLength(1);
    expect(server.requests).toBe(2);
    expect(sockets[0].remoteAddress).toBe('10.0.0.2');
    expect(world.clock.now()).toBe(6); // handshake 2, request and answer 2, the second request 2
    agent.destroy();
    await stop();
  });

  test('undici through its connect option: request and fetch; its own keep-alive timeout runs in simulated time', async () => {
    const { world, client, server, stop } = await httpWorld();
    const dispatcher = new Agent({ connect: client.net.connector() });
    const answer = await request('http://10.0.0.2/', { dispatcher });
    expect(answer.statusCode).toBe(200);
    expect(await answer.body.text()).toBe('Hello, world!\n');
    const fetched = await fetch('http://web/', { dispatcher });
    expect(await fetched.text()).toBe('Hello, world!\n');
    expect(server.requests).toBe(2);
    // undici closes an idle kept-alive socket after its keepAliveTimeout (4 s, on its own timers), before the
    // server's idle timeout (5 s) would: both clocks are the simulated one.
    const loop = (server as { loop: EventLoop }).loop;
    await world.waitUntil(() => loop.registry.size === 0, 'the kept-alive connection to close');
    expect(world.clock.now()).toBeGreaterThanOrEqual(4_000);
    expect(world.clock.now()).toBeLessThan(5_000);
    await dispatcher.close();
    await stop();
  });
});

describe('SimulatedSocket behaves as a net.Socket', () => {
  test('a refused connect: error with Node’s code and message, then close with hadError', async () => {
    const world = newWorld({ virtualTime: true });
    const host = world.host('10.0.0.3');
    const socket = host.net.connect(81, '127.0.0.1');
    expect(socket.connecting).toBe(true);
    expect(socket.readyState).toBe('opening');
    const error = new Promise<NodeJS.ErrnoException>((resolve) => socket.on('error', resolve));
    const closed = new Promise<boolean>((resolve) => socket.on('close', resolve));
    expect(await error).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port: 81 });
    expect((await error).message).toBe('connect ECONNREFUSED 127.0.0.1:81');
    expect((await error).errno).toBeLessThan(0);
    expect(await closed).toBe(true); // hadError
    const unknown = host.net.connect({ host: 'no-such-host', port: 80 });
    await expect(new Promise((_resolve, reject) => unknown.on('error', reject))).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(() => host.net.connect(70_000)).toThrow(/'port' must be a whole number from 0 to 65535/);
    await world.close();
  });

  test('echo, end and half-close: data both ways, end once the other side ended, timeout in simulated time', async () => {
    const world = newWorld({ virtualTime: true, latencyMs: 2 });
    const serverHost = world.host('10.0.0.2');
    const loop = new EventLoop({ reactor: new Reactor({ backend: serverHost.backend() }) });
    await loop.listen([{ host: '0.0.0.0', port: 7 }], {
      onData: (conn, chunk) => conn.send(chunk),
      onEnd: (conn) => conn.end(),
    });
    const running = loop.run();
    const socket = world.host('10.0.0.3').net.connect({ host: '10.0.0.2', port: 7 });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    expect([socket.localAddress, socket.remoteAddress, socket.remotePort, socket.remoteFamily]).toEqual([
      '10.0.0.3',
      '10.0.0.2',
      7,
      'IPv4',
    ]);
    const timedOutAt = new Promise<number>((resolve) => socket.setTimeout(1_000, () => resolve(world.clock.now())));
    const chunks: string[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    socket.write('one');
    const ended = new Promise<void>((resolve) => socket.on('end', resolve));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    expect(await timedOutAt).toBe(4 + 4 + 1_000); // connected at 4, echo back at 8, idle from then
    socket.end('two');
    await ended;
    expect(chunks.join('')).toBe('onetwo');
    await closed;
    expect([socket.destroyed, socket.bytesWritten, socket.bytesRead]).toEqual([true, 6, 6]);
    await loop.close();
    await running;
    await world.close();
  });

  test('a reader that stops reading stops the sender: the window closes, as on TCP', async () => {
    const world = newWorld({ virtualTime: true, sendBufferSize: 16_384, receiveBufferSize: 16_384 });
    const host = world.host('10.0.0.2');
    const server = host.listen(9, { host: '0.0.0.0' });
    const socket = world.host('10.0.0.3').net.connect({ host: '10.0.0.2', port: 9, highWaterMark: 1_024 });
    socket.pause();
    const peer = await server.accepted();
    peer.write(Buffer.alloc(1_000_000, 1));
    await new Promise<void>((resolve) => setTimeout(resolve, 1_000)); // a second of simulated time
    expect(peer.buffered).toBeGreaterThan(1_000_000 - 64 * 1024); // the stream's buffer and both kernel buffers hold the rest
    let got = 0;
    socket.on('data', (chunk: Buffer) => (got += chunk.length));
    socket.resume();
    await world.waitUntil(() => got === 1_000_000, 'the whole megabyte');
    socket.destroy();
    await world.close();
  });
});
