import { Readiness } from './readiness';

/**
 * One readiness event: which descriptor, its registration's token, and what
 * it is ready for. The bits are also in `flags` (see {@link Readiness}).
 *
 * Event objects belong to their {@link Events} buffer and are reused by the
 * next `poll` into it: copy what you need to keep.
 */
// T types the token; Events<T> hands out Event<T>.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export class Event<T = unknown> {
  /** The descriptor; -1 for a {@link Waker}'s event. */
  fd = -1;
  token: T | undefined = undefined;
  flags = 0;

  /** Data, end of stream or an error to read; on a listener, a connection to accept. */
  get readable(): boolean {
    return (this.flags & Readiness.READABLE) !== 0;
  }

  /** Room to write (or a pending error that `write` will throw). */
  get writable(): boolean {
    return (this.flags & Readiness.WRITABLE) !== 0;
  }

  /** The peer half-closed and all it sent has been read: `read` returns end of stream. */
  get readClosed(): boolean {
    return (this.flags & Readiness.READ_CLOSED) !== 0;
  }

  /** Nothing more can be sent: reset, or both directions shut down. */
  get writeClosed(): boolean {
    return (this.flags & Readiness.WRITE_CLOSED) !== 0;
  }

  /** An error is pending; `read` and `write` throw it. */
  get error(): boolean {
    return (this.flags & Readiness.ERROR) !== 0;
  }
}
