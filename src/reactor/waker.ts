import { openWakeSource, type Reactor, type WakeSource } from './reactor';
import { optionsObject } from './options-object';
import { newWakerHandle, WakeBits, wakerClosedError, type WakerHandle } from './wake-cell';

/** Options of {@link Waker}. */
export interface WakerOptions {
  /**
   * Keep the process alive while the waker is open, as a ref'd handle does.
   * Default `false`: a waker alone never keeps Node running (the thread that
   * will wake it, a `Worker`, is what does). `ref()` / `unref()` change it later.
   */
  ref?: boolean;
}

const NEVER_MS = 2 ** 31 - 1;
const noop = (): void => {};

/**
 * Wakes a reactor's `poll` from any thread, as mio's `Waker` does: created
 * on the reactor's thread with a token, it makes the pending (or the next)
 * poll resolve with one event carrying that token (`fd` -1, `readable`).
 * Many wakes before that poll gathers it collapse into one event.
 *
 * `waker.handle` crosses to worker threads (in `workerData` or a message:
 * it is a plain object around a `SharedArrayBuffer`, so every clone shares
 * the same word and none needs a transfer list); there, `new
 * RemoteWaker(handle).wake()` wakes the reactor. On the reactor's thread,
 * `waker.wake()` does the same without crossing.
 *
 * How it works: the word in the buffer has a PENDING bit. A wake sets it,
 * and only the wake that raised it calls `Atomics.notify`; the reactor's
 * thread waits for it with `Atomics.waitAsync` (no thread of its own, no
 * timer, no libuv handle: V8 posts a task to the thread when the word is
 * notified), clears the bit, and tells the reactor. So an unused waker
 * costs one pending `waitAsync`, and keeps nothing alive unless `ref`.
 *
 * Closing: `close()`, or the reactor's `close()`, ends it: events it had
 * raised and not yet handed out are dropped, and `wake()` then throws
 * `ERR_WAKER_CLOSED` here and in every worker. A worker that may outlive
 * the reactor (it usually can: nothing orders its last wake before the
 * reactor's close) uses `tryWake()` instead, which says `false`.
 *
 * On a SimulatedBackend, wakes from the reactor's own thread are as
 * deterministic as the rest; a poll that waits for another thread's wake
 * with nothing else due is a stall there (`ERR_SIM_STALLED` after
 * `stallTimeoutMs` of real time), since nothing in the simulation can end it.
 *
 * Only the readiness crosses threads, never a descriptor: sockets belong to
 * the thread whose libuv loop opened them. What a worker wants done to the
 * reactor's descriptors it asks the reactor's thread to do (see
 * `EventLoop.channel`).
 *
 * @example
 * ```ts
 * import { Worker } from 'node:worker_threads';
 * import { Events, Reactor, Waker } from 'tsreactor';
 *
 * const reactor = new Reactor();
 * const waker = new Waker(reactor, 'results');
 * const worker = new Worker(
 *   `const { workerData } = require('node:worker_threads');
 *    const { RemoteWaker } = require('tsreactor');
 *    new RemoteWaker(workerData).wake();`,
 *   { eval: true, workerData: waker.handle },
 * );
 * const events = new Events();
 * await reactor.poll(events); // resolves once the worker woke it
 * for (const event of events) if (event.token === 'results') console.log('woken by the worker');
 * await worker.terminate();
 * ```
 */
export class Waker<T = unknown> {
  /** Handed back with the waker's events. */
  readonly token: T;
  /** Give this to other threads (`new RemoteWaker(handle)` there). */
  readonly handle: WakerHandle;
  readonly #word: Int32Array;
  #source: WakeSource | undefined;
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(reactor: Reactor<T>, token: T, options?: WakerOptions) {
    const { ref = false } = optionsObject(options, 'options');
    if (typeof ref !== 'boolean') throw new TypeError(`'ref' must be a boolean`);
    this.token = token;
    this.handle = newWakerHandle();
    this.#word = new Int32Array(this.handle.buffer);
    this.#source = openWakeSource(reactor, token, () => this.#end()); // throws ERR_REACTOR_CLOSED on a closed reactor
    if (ref) this.ref();
    this.#listen();
  }

  /** `true` once the waker or its reactor is closed. */
  get closed(): boolean {
    return this.#source === undefined;
  }

  /**
   * On the reactor's thread: the pending or the next poll resolves with this
   * waker's event. @throws ReactorError `ERR_WAKER_CLOSED` once closed.
   */
  wake(): void {
    if (!this.tryWake()) throw wakerClosedError();
  }

  /** As `wake()`, but says `false` instead of throwing once closed. */
  tryWake(): boolean {
    const source = this.#source;
    if (source === undefined) return false;
    source.notify();
    return true;
  }

  /** Keeps the process alive while the waker is open. */
  ref(): this {
    if (this.#source !== undefined) this.#keepAlive ??= setInterval(noop, NEVER_MS);
    return this;
  }

  /** The default: the waker does not keep the process alive. */
  unref(): this {
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    return this;
  }

  /** Whether the waker keeps the process alive. */
  hasRef(): boolean {
    return this.#keepAlive !== undefined;
  }

  /** Ends the waker (idempotent): no more events, and wakes from any thread are refused. */
  close(): void {
    const source = this.#source;
    if (source === undefined) return;
    source.close();
    this.#end();
  }

  /** The reactor's thread: take what wakes came, tell the reactor, and wait for the next. */
  #listen(): void {
    const word = this.#word;
    for (;;) {
      const before = Atomics.and(word, 0, ~WakeBits.PENDING);
      if ((before & WakeBits.CLOSED) !== 0) return;
      if ((before & WakeBits.PENDING) !== 0) this.#source?.notify();
      const wait = Atomics.waitAsync(word, 0, 0);
      if (wait.async) {
        void wait.value.then(this.#onNotified);
        return;
      }
      // 'not-equal': a wake landed between the clear and the wait; take it now.
    }
  }

  readonly #onNotified = (): void => this.#listen();

  #end(): void {
    this.#source = undefined;
    this.unref();
    Atomics.or(this.#word, 0, WakeBits.CLOSED);
    Atomics.notify(this.#word, 0); // ends the pending waitAsync
  }
}
