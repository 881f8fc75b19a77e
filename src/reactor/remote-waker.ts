import { describe } from './options-object';
import { requestWake, wakerClosedError, type WakerHandle } from './wake-cell';

/**
 * The other threads' side of a {@link Waker}: made from `waker.handle`
 * (passed in `workerData` or a message), `wake()` makes the reactor's poll
 * resolve with the waker's event. Safe to call from any number of threads
 * at once; wakes before the reactor's thread takes them collapse into one,
 * and only the first of them does any signalling (one `Atomics.notify`);
 * the rest cost one atomic operation each.
 *
 * @example
 * ```ts
 * // in a worker thread, given a Waker's handle as workerData
 * import { workerData } from 'node:worker_threads';
 * import { RemoteWaker } from 'tsreactor';
 *
 * const waker = new RemoteWaker(workerData as never);
 * // ...finish a job, leave its result where the reactor's thread looks, then:
 * waker.wake();
 * ```
 */
export class RemoteWaker {
  readonly #word: Int32Array;

  constructor(handle: WakerHandle) {
    const value: unknown = handle;
    const { kind, buffer } = (typeof value === 'object' && value !== null ? value : {}) as { kind?: unknown; buffer?: unknown };
    if (kind !== 'tsreactor:waker' || !(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== Int32Array.BYTES_PER_ELEMENT) {
      throw new TypeError(`'handle' must be a Waker's handle (waker.handle), got ${describe(value)}`);
    }
    this.#word = new Int32Array(handle.buffer);
  }

  /** Wakes the reactor. @throws ReactorError `ERR_WAKER_CLOSED` once the waker or its reactor closed. */
  wake(): void {
    if (!requestWake(this.#word)) throw wakerClosedError();
  }

  /** As `wake()`, but `false` instead of throwing once closed (for a worker that may outlive the reactor). */
  tryWake(): boolean {
    return requestWake(this.#word);
  }
}
