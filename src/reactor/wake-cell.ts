import { ReactorError } from './reactor-error';

/**
 * The shared word behind a {@link Waker}: one `Int32` in a
 * `SharedArrayBuffer`, seen by the reactor's thread and by every thread
 * holding the waker's handle. Internal: `Waker` and `RemoteWaker` speak
 * this protocol, nothing else touches the word.
 *
 * - `PENDING`: a wake was asked for and the reactor's thread has not taken
 *   it yet. Only the thread that turns it on calls `Atomics.notify`, so a
 *   thousand wakes before the reactor's thread runs cost one notification
 *   (the collapse of rule 17, across threads).
 * - `CLOSED`: the waker (or its reactor) is closed; set once, never cleared.
 */
export const WakeBits = { PENDING: 1, CLOSED: 2 } as const;

/** What crosses to other threads: structured-clonable, and shared (not moved) by every clone. */
export interface WakerHandle {
  /** Marks the object as a tsreactor waker's handle (checked by `RemoteWaker`). */
  readonly kind: 'tsreactor:waker';
  /** Four bytes: the word described above. */
  readonly buffer: SharedArrayBuffer;
}

/** A new handle, its word zero (nothing pending, open). */
export function newWakerHandle(): WakerHandle {
  return { kind: 'tsreactor:waker', buffer: new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT) };
}

/** Asks for a wake from any thread: `false` if the waker is closed. Notifies only on the rise of `PENDING`. */
export function requestWake(word: Int32Array): boolean {
  const before = Atomics.or(word, 0, WakeBits.PENDING);
  if ((before & WakeBits.CLOSED) !== 0) return false;
  if ((before & WakeBits.PENDING) === 0) Atomics.notify(word, 0);
  return true;
}

/** What `wake()` throws once the waker, or its reactor, is closed. */
export function wakerClosedError(): ReactorError {
  return new ReactorError('ERR_WAKER_CLOSED', 'the waker is closed (it, or its reactor, was closed): nothing is woken');
}
