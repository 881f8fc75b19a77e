import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { type Reactor, Waker } from '../reactor';
import { wakerClosedError } from '../reactor/wake-cell';

/** Internal: how the EventLoop makes a channel and serves it (see `EventLoop.channel`). */
export let drainChannel: <M>(channel: LoopChannel<M>, deliver: (handler: (message: M) => void, message: M) => void) => void;

/**
 * Hands work back to an {@link EventLoop}'s thread: messages sent on it from
 * anywhere (worker threads through a `port()`, or this thread through
 * `send`) are delivered to its handler on the loop's thread, inside a turn
 * of the loop, in the order they arrived; the loop's poll wakes for them. A
 * handler that throws is isolated like any of the loop's callbacks (it goes
 * to `onError`).
 *
 * Why a channel, not a socket handed over: a socket belongs to the thread
 * whose libuv loop opened it, and Node cannot move one to another thread.
 * So the seed's "thread-safe registration" means here that every registry
 * change (register, modify, close; every write) happens on the loop's
 * thread, asked for from any thread through a channel like this one. A
 * worker computes; the loop writes the answer.
 *
 * Each `port()` is a new `MessagePort` for one worker (transfer it); the
 * worker calls `port.postMessage(message)` and needs nothing of tsreactor.
 * Messages are structured-cloned, as any `postMessage` is. The ports are
 * unref'd: the channel keeps no process alive. There is no backpressure
 * (there is none on a `MessagePort`): bound the work in flight where it is
 * handed out, and watch `pending`. Closing the channel (or the loop) closes
 * its ports; what a worker posts afterwards is dropped.
 *
 * @example
 * ```ts
 * import { Worker } from 'node:worker_threads';
 * import { EventLoop } from 'tsreactor';
 *
 * const loop = new EventLoop();
 * const answers = loop.channel<{ connection: number; text: string }>((answer) => {
 *   loop.registry.get(answer.connection)?.send(answer.text);
 * });
 * const port = answers.port();
 * const worker = new Worker('./worker.js', { workerData: { port }, transferList: [port] });
 * // in worker.js: workerData.port.postMessage({ connection: 1, text: 'done\n' })
 * worker.unref();
 * ```
 */
export class LoopChannel<M = unknown> {
  readonly #waker: Waker;
  readonly #handler: (message: M) => void;
  #queue: M[] = [];
  readonly #ports = new Set<MessagePort>();
  #closed = false;

  static {
    drainChannel = (channel, deliver) => {
      channel.#drain(deliver);
    };
  }

  /** Made by `loop.channel(handler)`: its events carry the channel itself as their token. */
  constructor(reactor: Reactor, handler: (message: M) => void) {
    this.#waker = new Waker<unknown>(reactor, this);
    this.#handler = handler;
  }

  /** Messages arrived and not yet delivered. */
  get pending(): number {
    return this.#queue.length;
  }

  /** `true` once closed (by `close()` or by the loop's close). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues `message` for the handler, from the loop's own thread (a `worker.on('message')` callback, say). @throws ReactorError `ERR_WAKER_CLOSED` once closed. */
  send(message: M): void {
    if (this.#closed) throw wakerClosedError();
    this.#queue.push(message);
    this.#waker.wake();
  }

  /** A new port whose messages reach the handler: transfer it to one worker. */
  port(): MessagePort {
    if (this.#closed) throw wakerClosedError();
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (message: M) => {
      if (this.#closed) return;
      this.#queue.push(message);
      this.#waker.wake();
    });
    port1.on('close', () => this.#ports.delete(port1));
    port1.unref();
    this.#ports.add(port1);
    return port2;
  }

  /** Closes the channel and its ports (idempotent); messages not yet delivered are dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    for (const port of this.#ports) port.close();
    this.#ports.clear();
    this.#waker.close();
  }

  /** The loop's turn: deliver what had arrived when it began (what a handler sends waits for the next turn). */
  #drain(deliver: (handler: (message: M) => void, message: M) => void): void {
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    for (const message of batch) {
      if (this.#closed) return;
      deliver(this.#handler, message);
    }
  }
}
