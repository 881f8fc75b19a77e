import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Events, Reactor, RemoteWaker, Waker } from '../../src';
import { leakedSince, resourceCounts, settleHandles } from '../helpers/resources';

const FIXTURE = join(__dirname, '..', 'fixtures', 'waker-worker.js');

interface WorkerReply {
  index?: number;
  rounds?: number;
  lostAt?: number;
  tryWake?: boolean;
  code?: string;
}

/** A worker thread running the fixture; resolves with its one message once it has exited. */
function runWorker(workerData: Record<string, unknown>): { worker: Worker; reply: Promise<WorkerReply> } {
  const worker = new Worker(FIXTURE, { workerData });
  const reply = new Promise<WorkerReply>((resolve, reject) => {
    let message: WorkerReply | undefined;
    worker.on('message', (m: WorkerReply) => (message = m));
    worker.on('error', reject);
    worker.on('exit', (code) => (message !== undefined ? resolve(message) : reject(new Error(`worker exited with ${code}, no reply`))));
  });
  return { worker, reply };
}

describe('Waker across threads', () => {
  let reactor: Reactor<string>;
  let before: Record<string, number>;

  beforeEach(() => {
    before = resourceCounts();
    reactor = new Reactor<string>();
  });

  afterEach(async () => {
    await reactor.close();
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  test('four threads waking at once lose no wake, and each poll holds at most one event per waker', async () => {
    const threads = 4;
    const rounds = 200;
    const waker = new Waker(reactor, 'waker');
    const progress = new SharedArrayBuffer(4 * threads);
    const ack = new SharedArrayBuffer(4 * threads);
    const done = new Int32Array(progress);
    const seen = new Int32Array(ack);
    const workers = Array.from({ length: threads }, (_, index) =>
      runWorker({ handle: waker.handle, mode: 'pingpong', index, rounds, progress, ack }),
    );
    const events = new Events<string>();
    let wakerEvents = 0;
    let acked = 0;
    while (acked < threads * rounds) {
      // No timeout: only the workers' wakes can end this poll; a lost one would hang it (and fail the test by its timeout).
      const count = await reactor.poll(events);
      const ours = [...events].filter((e) => e.token === 'waker');
      expect(ours.length).toBe(count);
      expect(ours.length).toBeLessThanOrEqual(1);
      wakerEvents += ours.length;
      for (let i = 0; i < threads; i++) {
        const reached = Atomics.load(done, i);
        if (reached > Atomics.load(seen, i)) {
          acked += reached - Atomics.load(seen, i);
          Atomics.store(seen, i, reached);
          Atomics.notify(seen, i);
        }
      }
    }
    const replies = await Promise.all(workers.map((w) => w.reply));
    expect(replies.map((r) => r.rounds)).toEqual([rounds, rounds, rounds, rounds]);
    // Every round of every thread was answered; wakes that came together were answered by one event.
    expect(wakerEvents).toBeGreaterThan(0);
    expect(wakerEvents).toBeLessThanOrEqual(threads * rounds);
  }, 30_000);

  test('a burst of 10,000 wakes from one thread before the reactor looks is one event', async () => {
    const waker = new Waker(reactor, 'burst');
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const done = new Int32Array(new SharedArrayBuffer(4));
    const { reply } = runWorker({ handle: waker.handle, mode: 'burst', rounds: 10_000, ack: gate.buffer, progress: done.buffer });
    // This thread blocks while the worker wakes 10,000 times: nothing here can take a wake before all were made.
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    expect(Atomics.wait(done, 0, 0, 10_000)).not.toBe('timed-out');
    const events = new Events<string>();
    expect(await reactor.poll(events)).toBe(1);
    expect([...events].map((e) => e.token)).toEqual(['burst']);
    expect(await reactor.poll(events, 0)).toBe(0);
    expect((await reply).rounds).toBe(10_000);
  });

  test("after reactor.close(), a worker's wake throws ERR_WAKER_CLOSED and tryWake says false; the process goes on", async () => {
    const waker = new Waker(reactor, 'late');
    const gate = new SharedArrayBuffer(4);
    const { reply } = runWorker({ handle: waker.handle, mode: 'after-close', ack: gate });
    await reactor.close();
    expect(waker.closed).toBe(true);
    Atomics.store(new Int32Array(gate), 0, 1);
    Atomics.notify(new Int32Array(gate), 0);
    expect(await reply).toEqual({ tryWake: false, code: 'ERR_WAKER_CLOSED' });
  });

  test("a waker keeps nothing alive unless ref(): one Timeout while ref'd, none after unref() or close()", async () => {
    const kinds = () => process.getActiveResourcesInfo().filter((k) => k === 'Timeout').length;
    const base = kinds();
    const waker = new Waker(reactor, 'ref', { ref: true });
    expect(waker.hasRef()).toBe(true);
    expect(kinds()).toBe(base + 1);
    waker.unref();
    expect(kinds()).toBe(base);
    waker.ref();
    waker.close();
    expect(waker.hasRef()).toBe(false);
    await settleHandles();
    expect(kinds()).toBe(base);
  });

  test("bad input: a RemoteWaker needs a Waker's handle, a Waker an open reactor", async () => {
    expect(() => new RemoteWaker({} as never)).toThrow(/'handle' must be a Waker's handle/);
    expect(() => new RemoteWaker({ kind: 'tsreactor:waker', buffer: new ArrayBuffer(4) } as never)).toThrow(TypeError);
    expect(() => new Waker(reactor, 'x', { ref: 'yes' as never })).toThrow(/'ref' must be a boolean/);
    await reactor.close();
    expect(() => new Waker(reactor, 'x')).toThrow(/the reactor is closed/);
  });
});
