import type { ReactorError } from '../reactor-error';
import { Readiness } from '../readiness';
import type { InboxFields } from './stream-inbox';

/**
 * What a backend on real sockets knows of one stream, as fields on its own
 * handle object: the inbox, and the state of each direction.
 */
export interface StreamFields extends InboxFields {
  /** FIN received. */
  ended: boolean;
  /** Our FIN requested. */
  shutdown: boolean;
  connecting: boolean;
  /** The socket's error, once one happened: reported from then on. */
  error: ReactorError | undefined;
}

/** A stream's readiness once it has failed: readable (so `read` throws the error), error, write side closed. */
export const FAILED_STREAM = Readiness.READABLE | Readiness.ERROR | Readiness.WRITE_CLOSED;

/**
 * A stream's readiness (contract rules 20 and 21): readable while data
 * waits, then at end of stream with `readClosed`; after an error, readable,
 * `error` and `writeClosed` together; writable when neither connecting nor
 * shut down and `hasRoom` (the backend's own test of its write queue).
 * Internal to the backends.
 */
export function streamReadiness(stream: StreamFields, hasRoom: boolean): number {
  if (stream.error !== undefined) return FAILED_STREAM;
  let bits = 0;
  if (stream.inboxBytes > 0) bits |= Readiness.READABLE;
  else if (stream.ended) bits |= Readiness.READABLE | Readiness.READ_CLOSED;
  if (stream.shutdown) {
    if (stream.ended) bits |= Readiness.WRITE_CLOSED;
  } else if (!stream.connecting && hasRoom) {
    bits |= Readiness.WRITABLE;
  }
  return bits;
}

/**
 * Marks end of stream (FIN received) and returns the edges to report:
 * readable; `readClosed` at once only if no data waits before it (else it
 * comes with the read that empties the inbox); `writeClosed` too when our
 * side is shut down already.
 */
export function endOfStream(stream: StreamFields): number {
  stream.ended = true;
  let edges = Readiness.READABLE;
  if (stream.inboxBytes === 0) edges |= Readiness.READ_CLOSED;
  if (stream.shutdown) edges |= Readiness.WRITE_CLOSED;
  return edges;
}
