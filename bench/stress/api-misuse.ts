/**
 * A random walk through the Reactor's API on one backend, seeded: each call
 * picks a method and arguments from a pool of good and bad ones (open,
 * closed and never-opened descriptors, listeners where streams belong,
 * NaN, negative and huge numbers, strings, null, objects, symbols), with a
 * few real connections underneath and polls between. Every failure must be
 * a ReactorError with a code or a TypeError/RangeError of the library's
 * own (never an engine's "Cannot read properties"); at the end, closing
 * the reactor must leave no handle behind.
 */
import net from 'node:net';
import { Events, Interest, LibuvBackend, RawHandleBackend, Reactor, ReactorError, SimulatedBackend, type Backend } from '../../src';
import { SeededRandom } from '../../src/reactor/backends/simulated/seeded-random';
import { count, type StressRow } from './stress-row';

const ENGINE = /Cannot read prop|Cannot destructure|is not a function|is not iterable|Cannot convert|Cannot mix BigInt/;

function backendNamed(name: 'simulator' | 'libuv' | 'raw'): Backend {
  return name === 'simulator' ? new SimulatedBackend({ seed: 1 }) : name === 'libuv' ? new LibuvBackend() : new RawHandleBackend();
}

function handleCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

export async function apiMisuse({
  backend,
  calls,
  seed,
}: {
  backend: 'simulator' | 'libuv' | 'raw';
  calls: number;
  seed: number;
}): Promise<StressRow> {
  const before = handleCounts();
  const random = new SeededRandom(seed);
  const reactor = new Reactor<string>({ backend: backendNamed(backend), lingerMs: 50 });
  const events = new Events<string>();
  const listener = await reactor.listen({ host: '127.0.0.1', port: 0 });
  const port = reactor.info(listener).localPort as number;
  const peers: { destroy(): void }[] = [];
  const connectPeer = () => {
    if (backend === 'simulator') return; // the simulator's own clients would need its handle; reactor.connect covers it
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    socket.on('data', () => {});
    peers.push(socket);
  };
  for (let i = 0; i < 3; i++) connectPeer();
  const values = (): unknown[] => {
    const open = reactor.state === 'open' ? reactor.descriptors() : [];
    return [
      ...open,
      ...open,
      -1,
      0,
      1,
      7,
      999,
      1.5,
      Number.NaN,
      Infinity,
      2 ** 40,
      '1',
      '',
      null,
      undefined,
      {},
      [],
      () => 1,
      Symbol('s'),
      true,
      10n,
    ];
  };
  const pick = <T>(list: readonly T[]): T => list[random.int(list.length)];
  const buffers = [Buffer.from('hello'), Buffer.alloc(0), Buffer.alloc(70_000, 1), 'text', 42];
  const interests = [Interest.READABLE, Interest.WRITABLE, Interest.READABLE | Interest.WRITABLE, 0, 4, -1, 'r'];
  const options = [undefined, {}, { trigger: 'edge' }, { trigger: 'oneshot' }, { trigger: 'bogus' }, null, 5, { token: 't' }];
  let refused = 0;
  let accepted = 0;
  const unexpected: string[] = [];
  const operations: (() => unknown)[] = [
    () => reactor.accept(pick(values()) as number),
    () => reactor.read(pick(values()) as number, pick([undefined, 1, 100, 0, -5, Number.NaN, 'x']) as number),
    () => reactor.write(pick(values()) as number, pick(buffers) as Buffer),
    () => reactor.shutdown(pick(values()) as number),
    () => reactor.close(pick(values()) as number),
    () => reactor.abort(pick(values()) as number),
    () => reactor.info(pick(values()) as number),
    () => reactor.register(pick(values()) as number, pick(interests) as number, pick(options) as never),
    () => reactor.modify(pick(values()) as number, pick(interests) as number, pick(options) as never),
    () => reactor.unregister(pick(values()) as number),
    () =>
      reactor.setSocketOptions(
        pick(values()) as number,
        pick([{ noDelay: true }, { keepAlive: true, keepAliveInitialDelayMs: -1 }, null, 3]) as never,
      ),
    () =>
      reactor.connect(
        pick([
          { host: '127.0.0.1', port },
          { host: '127.0.0.1', port: pick(values()) },
          null,
          { host: 5, port },
          { host: '127.0.0.1', port, timeoutMs: pick([50, 0, -1, 'x']) },
        ]) as never,
      ),
    () =>
      reactor.listen(pick([{ host: '127.0.0.1', port: 0 }, { port: -1 }, null, { port: 0, backlog: 0 }, { host: '', port: 0 }]) as never),
  ];
  for (let i = 0; i < calls; i++) {
    if (i % 50 === 0) {
      await reactor.poll(events, 0);
      if (random.chance(0.2)) connectPeer();
      if (backend !== 'simulator') await new Promise((resolve) => setTimeout(resolve, 1));
    }
    try {
      const result = pick(operations)();
      if (result instanceof Promise) await result;
      accepted++;
    } catch (err) {
      const clear =
        (err instanceof ReactorError && typeof err.code === 'string') ||
        ((err instanceof TypeError || err instanceof RangeError) && !ENGINE.test(err.message));
      if (clear) refused++;
      else if (unexpected.length < 5) unexpected.push(String(err));
      else unexpected.push('');
    }
  }
  for (const peer of peers) peer.destroy();
  await reactor.close();
  // The peers' sockets close on later turns of the host loop (under load, hundreds of ms later): wait up to 5 s.
  const leakedNow = () => {
    let n = 0;
    for (const [kind, count] of handleCounts()) n += Math.max(0, count - (before.get(kind) ?? 0));
    return n;
  };
  let leaked = leakedNow();
  for (const giveUpAt = Date.now() + 5_000; leaked > 0 && Date.now() < giveUpAt; leaked = leakedNow()) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    name: `API misuse (${backend})`,
    load: `${count(calls)} random calls, polls between, ${count(peers.length)} peers`,
    faults: '-',
    badInputs: `${count(refused)} refused clearly, ${count(accepted)} accepted (seed ${seed})`,
    lost: unexpected.length,
    leaked,
    target: 'only ReactorError, TypeError or RangeError of our own; no handle left after close',
    met: unexpected.length === 0 && leaked === 0,
    notes: unexpected
      .filter((u) => u !== '')
      .slice(0, 2)
      .join('; '),
  };
}
