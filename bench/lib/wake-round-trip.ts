/**
 * The cross-thread wake benchmark's two sides, in one process: a worker
 * thread that sends `count` pings to this thread, each after the reply to
 * the one before, and times every round trip on its own clock; and this
 * thread, which answers by one of three routes:
 * - `'waker'`: the worker calls `RemoteWaker.wake()`; a reactor polling on
 *   this thread gets the waker's event and replies on a MessagePort;
 * - `'channel'`: the worker posts on a port of `EventLoop.channel`; the
 *   loop's handler replies on a MessagePort;
 * - `'port'` (the baseline): the worker posts on a plain MessagePort; its
 *   'message' listener replies.
 * The reply goes back the same way each time (a MessagePort), so the routes
 * differ only in the leg from the worker to this thread.
 */
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { EventLoop, Events, Reactor, Waker } from '../../src';

export type WakeRoute = 'waker' | 'channel' | 'port';

/** Round-trip times in microseconds, as the worker measured them. */
export interface RoundTrips {
  medianUs: number;
  p99Us: number;
}

const root = join(__dirname, '..', '..');

/** The worker: pings by the route it is told, waits for each reply, and posts the percentiles at the end. */
const PINGER = `
const { parentPort, workerData } = require('node:worker_threads');
require('ts-node').register({ transpileOnly: true, project: workerData.tsconfig });
const { RemoteWaker } = require(workerData.remoteWaker);
const { route, count, warmup, replies, ping, handle } = workerData;
const waker = route === 'waker' ? new RemoteWaker(handle) : undefined;
const times = new Float64Array(count);
let i = -warmup;
let sent = 0;
const send = () => {
  sent = performance.now();
  if (waker !== undefined) waker.wake();
  else ping.postMessage(i);
};
replies.on('message', () => {
  if (i >= 0) times[i] = (performance.now() - sent) * 1000;
  if (++i < count) return send();
  times.sort();
  parentPort.postMessage({ medianUs: times[count >> 1], p99Us: times[Math.floor(count * 0.99)] });
  replies.close();
  ping?.close();
});
send();
`;

/** Runs `count` timed round trips (after `warmup` untimed ones) by `route`. */
export async function wakeRoundTrips(route: WakeRoute, count: number, warmup: number): Promise<RoundTrips> {
  const back = new MessageChannel(); // this thread -> worker: the reply, on every route
  let ping: MessageChannel['port1'] | undefined; // worker -> this thread, for 'port' and 'channel'
  let stop: () => Promise<void>;
  let handle: unknown;
  if (route === 'waker') {
    const reactor = new Reactor<string>();
    const waker = new Waker(reactor, 'ping');
    handle = waker.handle;
    const events = new Events<string>();
    let open = true;
    const polling = (async () => {
      while (open) {
        await reactor.poll(events);
        for (const event of events) if (event.token === 'ping') back.port1.postMessage(0);
      }
    })().catch(() => {}); // ends with ERR_REACTOR_CLOSED
    stop = async () => {
      open = false;
      await reactor.close();
      await polling;
    };
  } else if (route === 'channel') {
    const loop = new EventLoop();
    const channel = loop.channel<number>(() => back.port1.postMessage(0));
    ping = channel.port();
    const running = loop.run();
    stop = async () => {
      await loop.close();
      await running;
    };
  } else {
    const plain = new MessageChannel();
    plain.port1.on('message', () => back.port1.postMessage(0));
    ping = plain.port2;
    stop = () => {
      plain.port1.close();
      return Promise.resolve();
    };
  }
  const transferList = ping === undefined ? [back.port2] : [back.port2, ping];
  const worker = new Worker(PINGER, {
    eval: true,
    workerData: {
      route,
      count,
      warmup,
      replies: back.port2,
      ping,
      handle,
      tsconfig: join(root, 'tsconfig.json'),
      remoteWaker: join(root, 'src', 'reactor', 'remote-waker.ts'),
    },
    transferList,
  });
  try {
    return await new Promise<RoundTrips>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
    back.port1.close();
    await stop();
  }
}
