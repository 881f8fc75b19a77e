import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EventLoop, Events, Reactor, runTwice, SeededRandom, simulate, SimulatedBackend } from '../../../src';
import { acceptedClient } from '../../helpers/sim-harness';

const run = promisify(execFile);
const root = join(__dirname, '..', '..', '..');

describe('the harness: seeds from the environment, failures that say how to replay, runs that must repeat', () => {
  const saved = process.env.TSREACTOR_SEED;
  afterEach(() => {
    if (saved === undefined) delete process.env.TSREACTOR_SEED;
    else process.env.TSREACTOR_SEED = saved;
  });

  test('TSREACTOR_SEED chooses the seed where the test gives none; a seed given wins; a bad one is named', () => {
    process.env.TSREACTOR_SEED = '4242';
    expect(new SimulatedBackend().random.next()).toBe(new SeededRandom(4242).next());
    expect(new SimulatedBackend({ seed: 7 }).random.next()).toBe(new SeededRandom(7).next());
    process.env.TSREACTOR_SEED = 'abc';
    expect(() => new SimulatedBackend()).toThrow(`'TSREACTOR_SEED' must be an integer, got "abc"`);
    delete process.env.TSREACTOR_SEED;
    expect(new SimulatedBackend().random.next()).toBe(new SeededRandom(1).next());
  });

  test('simulate: a failing scenario says its seed and the command that replays it; the reactor is closed either way', async () => {
    process.env.TSREACTOR_SEED = '31';
    let reactor: Reactor | undefined;
    const error = await simulate(async (simulation) => {
      reactor = simulation.reactor;
      expect(simulation.seed).toBe(31);
      await reactor.listen({ port: 7000 });
      throw new Error('the server lost a line');
    }).catch((err: unknown) => err as Error & { seed?: number });
    expect(error.message).toContain('the server lost a line');
    expect(error.message).toContain('simulation seed 31');
    expect(error.message).toContain(
      `TSREACTOR_SEED=31 npx jest test/unit/simulated/harness.test.ts -t 'the harness: seeds from the environment, failures that say how to replay, runs that must repeat simulate: a failing scenario says`,
    );
    expect(error.seed).toBe(31);
    expect(reactor?.state).toBe('closed');
  });

  test('simulate: a failing run driven by a schedule prints the schedule, and its result passes through when it succeeds', async () => {
    const schedule = [{ kind: 'reset' as const, nth: 2, value: 0 }];
    const error = await simulate(() => Promise.reject(new Error('boom')), { schedule }).catch((err: unknown) => err as Error);
    expect(error.message).toContain(`schedule: ${JSON.stringify(schedule)}`);
    await expect(simulate(({ seed }) => seed * 2, { seed: 21 })).resolves.toBe(42);
  });

  test('runTwice: a deterministic scenario gives its trace once; one that asks Math.random is caught, with the first line that differs', async () => {
    const scenario = async ({ sim, reactor }: { sim: SimulatedBackend; reactor: Reactor }, size: () => number) => {
      await reactor.listen({ host: '127.0.0.1', port: 7000 });
      const client = sim.connect(7000);
      await client.connected;
      client.write(Buffer.alloc(size(), 1));
      sim.run();
    };
    const { trace } = await runTwice((s) => scenario(s, () => 10), { seed: 2, explore: true, trace: { payloads: 'hash' } });
    expect(trace.some((line) => /data c1 c>s 10 #[0-9a-f]{8}$/.test(line))).toBe(true);
    let calls = 0;
    await expect(runTwice((s) => scenario(s, () => 10 + calls++))).rejects.toMatchObject({
      code: 'ERR_SIM_NONDETERMINISTIC',
      message: expect.stringMatching(/differ at trace line \d+:\n {2}first: {2}.* 10\n {2}second: .* 11/) as string,
    });
  });

  test('waitUntil resolves on server-side state; one that can never hold fails as a stall, naming what it waited for', async () => {
    const sim = new SimulatedBackend({ stallTimeoutMs: 50 });
    const loop = new EventLoop({ reactor: new Reactor({ backend: sim }) });
    await loop.listen([{ host: '127.0.0.1', port: 7000 }], { onData() {} });
    const running = loop.run();
    sim.connect(7000);
    sim.connect(7000);
    await sim.waitUntil(() => loop.registry.size === 2, 'two connections');
    expect(loop.registry.size).toBe(2);
    await expect(sim.waitUntil(() => loop.registry.size === 3, 'a third connection')).rejects.toMatchObject({
      code: 'ERR_SIM_STALLED',
      message: expect.stringContaining('sim.waitUntil waits for a third connection') as string,
    });
    await expect(
      sim.waitUntil(() => {
        throw new Error('bad predicate');
      }),
    ).rejects.toThrow('bad predicate');
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('a plain script whose poll (no timeout) waits on a simulation where nothing can happen fails with the message, not a silent exit', async () => {
    const script = `
      const { Events, Reactor, SimulatedBackend } = require('./src');
      const reactor = new Reactor({ backend: new SimulatedBackend() });
      reactor.listen({ port: 7000 })
        .then(() => reactor.poll(new Events()))
        .then((n) => console.log('resolved ' + n), (err) => console.log(err.code + ': ' + err.message));
    `;
    const { stdout } = await run(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: root, timeout: 60_000 });
    expect(stdout).toContain('ERR_SIM_STALLED: the simulation stalled at 0 ms of simulated time');
    expect(stdout).toContain('a reactor poll waits with no timeout, and nothing else in the process can happen');
  }, 60_000);

  test('with a timeout, a poll on an idle simulation is not stalled: time runs on to it', async () => {
    const sim = new SimulatedBackend();
    const reactor = new Reactor({ backend: sim });
    await reactor.listen({ port: 7000 });
    await expect(reactor.poll(new Events(), 5_000)).resolves.toBe(0);
    expect(sim.clock.now()).toBe(5_000);
    await reactor.close();
  });

  test('waits that can no longer be met reject with the reason: waitEnd on a reset, and every wait when the simulation ends', async () => {
    const { sim, reactor, client: reset, fd } = await acceptedClient();
    reactor.abort(fd);
    await expect(reset.waitEnd()).rejects.toMatchObject({ code: 'ECONNRESET' });
    const waiting = sim.connect(7000);
    const bytes = waiting.waitFor(1);
    const condition = sim.waitUntil(() => false, 'something that never happens');
    await reactor.close();
    await expect(bytes).rejects.toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
    await expect(condition).rejects.toMatchObject({
      code: 'ERR_REACTOR_CLOSED',
      message: expect.stringContaining('while this waited') as string,
    });
  });

  test('peer.serverFd is the descriptor the server accepted the client as, for the fault calls; undefined before and after', async () => {
    const sim = new SimulatedBackend();
    const reactor = new Reactor({ backend: sim });
    const listener = await reactor.listen({ port: 7000 });
    const client = sim.connect(7000);
    expect(client.serverFd).toBeUndefined();
    await client.connected;
    const fd = reactor.accept(listener) as number;
    expect(client.serverFd).toBe(fd);
    sim.resetConnection(client.serverFd as number); // the fault calls take it
    sim.run();
    expect(() => reactor.read(fd)).toThrow(expect.objectContaining({ code: 'ECONNRESET' }) as Error);
    reactor.close(fd);
    expect(client.serverFd).toBeUndefined();
    await reactor.close();
  });

  test('trace payloads: hex by default, hashed, or cut to n bytes; a bad setting is named', async () => {
    const line = async (trace: ConstructorParameters<typeof SimulatedBackend>[0]) => {
      const sim = new SimulatedBackend(trace);
      const reactor = new Reactor({ backend: sim });
      await reactor.listen({ port: 7000 });
      const client = sim.connect(7000);
      client.write('hello world');
      sim.run();
      await reactor.close();
      return sim.trace.find((l) => l.includes(' data '));
    };
    expect(await line({ trace: true })).toMatch(/data c1 c>s 11 68656c6c6f20776f726c64$/);
    expect(await line({ trace: { payloads: 'hash' } })).toMatch(/data c1 c>s 11 #[0-9a-f]{8}$/);
    expect(await line({ trace: { payloads: 2 } })).toMatch(/data c1 c>s 11 6865…\+9$/);
    expect(() => new SimulatedBackend({ trace: { payloads: -1 } })).toThrow(
      `'trace.payloads' must be 'hex', 'hash' or a whole number of bytes >= 0, got -1`,
    );
    expect(() => new SimulatedBackend({ stallTimeoutMs: 0 })).toThrow(`'stallTimeoutMs' must be a number of ms > 0`);
  });
});

describe('the harness, as a review found it wanting', () => {
  test('a poll that times out while later events wait does not stop the simulation: a peer wait after it settles', async () => {
    const sim = new SimulatedBackend({ latencyMs: 5 });
    const reactor = new Reactor({ backend: sim });
    const client = sim.connect(sim.freePort()); // refused, 10 ms from now
    await reactor.poll(new Events(), 1); // times out at 1 ms, the refusal still in flight
    expect((await client.waitError()).code).toBe('ECONNREFUSED');
    await reactor.close();
  });

  test('read helpers called at once take turns: each starts where the one before stopped', async () => {
    const { reactor, client, fd } = await acceptedClient();
    reactor.write(fd, Buffer.from('abcdefline one\nline two\n'));
    const [first, second, one, two] = await Promise.all([client.readBytes(3), client.readBytes(3), client.readLine(), client.readLine()]);
    expect([first.toString(), second.toString(), one, two]).toEqual(['abc', 'def', 'line one', 'line two']);
    await reactor.close();
  });

  test('a wait begun after the simulation ended rejects at once (ERR_REACTOR_CLOSED) instead of hanging', async () => {
    const sim = new SimulatedBackend();
    const reactor = new Reactor({ backend: sim });
    await reactor.listen({ port: 7000 });
    const client = sim.connect(7000);
    await client.connected;
    await reactor.close();
    await expect(client.waitEnd()).rejects.toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
    await expect(sim.waitUntil(() => false)).rejects.toMatchObject({ code: 'ERR_REACTOR_CLOSED' });
  });

  test('a plain script whose peer waits on an idle simulation fails with the stall, not a silent exit 0', async () => {
    const script = `
      const { Reactor, SimulatedBackend } = require('./src');
      const sim = new SimulatedBackend();
      const reactor = new Reactor({ backend: sim });
      reactor.listen({ port: 7000 }).then(() => sim.connect(7000).waitFor(5))
        .then(() => console.log('resolved'), (err) => console.log(err.code + ': ' + err.message.split('\\n')[1]));
    `;
    const { stdout } = await run(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: root, timeout: 60_000 });
    expect(stdout).toContain('ERR_SIM_STALLED:   peer 127.0.0.1:49152 -> 127.0.0.1:7000 waits for 5 bytes (has 0)');
  }, 60_000);
});
