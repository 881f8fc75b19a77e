import { type MessagePort, Worker } from 'node:worker_threads';
import { EventLoop } from '../../src';
import { leakedSince, resourceCounts, settleHandles } from '../helpers/resources';

/** A worker that posts `count` numbers on the port it is given, then exits. */
const POSTER = `
const { workerData } = require('node:worker_threads');
for (let i = 0; i < workerData.count; i++) workerData.port.postMessage({ from: workerData.name, i });
`;

function poster(port: MessagePort, name: string, count: number): Promise<number> {
  const worker = new Worker(POSTER, { eval: true, workerData: { port, name, count }, transferList: [port] });
  return new Promise((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', resolve);
  });
}

describe('EventLoop.channel: work handed back to the loop thread', () => {
  let before: Record<string, number>;
  beforeEach(() => {
    before = resourceCounts();
  });
  afterEach(async () => {
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  test("messages from two worker threads reach the handler inside the loop, each thread's in order, none lost", async () => {
    const loop = new EventLoop();
    const seen: { from: string; i: number }[] = [];
    let insideTurn = true;
    const channel = loop.channel<{ from: string; i: number }>((message) => {
      insideTurn &&= loop.state === 'running';
      seen.push(message);
      if (seen.length === 400) loop.stop();
    });
    const running = loop.run();
    await Promise.all([poster(channel.port(), 'a', 200), poster(channel.port(), 'b', 200)]);
    await running;
    expect(insideTurn).toBe(true);
    for (const name of ['a', 'b']) {
      expect(seen.filter((m) => m.from === name).map((m) => m.i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    }
    expect(channel.pending).toBe(0);
    await loop.close();
    expect(channel.closed).toBe(true);
  });

  test("send() from the loop's own thread wakes a sleeping loop; a handler that throws goes to onError and the loop goes on", async () => {
    const errors: unknown[] = [];
    const loop = new EventLoop({ onError: (err) => errors.push(err) });
    const got: string[] = [];
    const channel = loop.channel<string>((text) => {
      if (text === 'bad') throw new Error('handler failed');
      got.push(text);
      if (text === 'last') loop.stop();
    });
    const running = loop.run();
    setTimeout(() => {
      channel.send('first');
      channel.send('bad');
      channel.send('last');
    }, 5).unref(); // the loop sleeps in its poll meanwhile: only the channel can wake it
    await running;
    expect(got).toEqual(['first', 'last']);
    expect(errors).toEqual([new Error('handler failed')]);
    await loop.close();
  });

  test('what waits in a channel is in loop.report(), until the loop delivers it', async () => {
    const loop = new EventLoop();
    const got: number[] = [];
    const channel = loop.channel<number>((n) => {
      got.push(n);
      if (got.length === 2) loop.stop();
    });
    channel.send(1);
    channel.send(2);
    expect(loop.report().channels).toEqual([{ pending: 2 }]);
    await loop.run();
    expect(got).toEqual([1, 2]);
    expect(loop.report().channels).toEqual([{ pending: 0 }]);
    await loop.close();
    expect(loop.report().channels).toEqual([]);
  });

  test('closing the loop closes its channels: send and port() throw ERR_WAKER_CLOSED, nothing is left open', async () => {
    const loop = new EventLoop();
    const channel = loop.channel<number>(() => {});
    const port = channel.port();
    await loop.close();
    expect(channel.closed).toBe(true);
    expect(() => channel.send(1)).toThrow(expect.objectContaining({ code: 'ERR_WAKER_CLOSED' }) as Error);
    expect(() => channel.port()).toThrow(expect.objectContaining({ code: 'ERR_WAKER_CLOSED' }) as Error);
    port.postMessage(1); // its partner is closed: dropped, as Node drops it
    port.close();
    expect(() => loop.channel(() => {})).toThrow(/the event loop is closed/);
    const other = new EventLoop();
    expect(() => other.channel('nope' as never)).toThrow(/'handler' must be a function/);
    await other.close();
  });
});
