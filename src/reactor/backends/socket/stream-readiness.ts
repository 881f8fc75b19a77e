import { ReactorError } from '../../reactor-error';
import { Readiness } from '../../readiness';
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
 * A stream's readiness (contract rules 20 and 21), the one place the rules
 * live for every backend: readable while data waits (`bytesWaiting`), then
 * at end of stream with `readClosed`; after an error, readable, `error` and
 * `writeClosed` together; once shut down, `writeClosed` when the peer has
 * ended too; writable when neither connecting nor shut down and `hasRoom`
 * (the backend's own test of its write queue). Positional, so the
 * simulator's sockets and the real backends' handles call it alike without
 * building an object. Internal to the backends.
 */
export function readinessOf(
  error: ReactorError | undefined,
  bytesWaiting: number,
  ended: boolean,
  shutdown: boolean,
  connecting: boolean,
  hasRoom: boolean,
): number {
  if (error !== undefined) return FAILED_STREAM;
  let bits = 0;
  if (bytesWaiting > 0) bits |= Readiness.READABLE;
  else if (ended) bits |= Readiness.READABLE | Readiness.READ_CLOSED;
  if (shutdown) {
    if (ended) bits |= Readiness.WRITE_CLOSED;
  } else if (!connecting && hasRoom) {
    bits |= Readiness.WRITABLE;
  }
  return bits;
}

/** {@link readinessOf} for a real backend's stream handle. */
export function streamReadiness(stream: StreamFields, hasRoom: boolean): number {
  return readinessOf(stream.error, stream.inboxBytes, stream.ended, stream.shutdown, stream.connecting, hasRoom);
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

/** What a backend's handle offers to ask for the peer's address: 0 on success, a negative libuv code (ENOTCONN) on failure. */
export interface PeerNameSource {
  getpeername(out: object): number;
}

/**
 * End of stream, or a reset in disguise? libuv reports end of stream for a
 * reset that follows a partial read (it short-cuts `EPOLLHUP` to EOF
 * without reading the error), so before taking an end for the peer's FIN, a
 * backend asks the socket whether it still has a peer: once reset it has
 * none (`getpeername` fails with ENOTCONN), after a FIN it has. Returns the
 * reset to fail the stream with (contract rule 21: a reset is never an end
 * of stream), or `undefined` for a FIN.
 *
 * Only while our side is open: once our FIN is out, the peer's FIN closes
 * the connection for good (TIME_WAIT), and a closed socket has no peer
 * either, so after `shutdown` an end of stream is taken for a FIN: a reset
 * that arrives together with data after our FIN reads as an end of stream
 * (one that arrives alone is still read as the error it is). A FIN
 * followed by a reset that arrives after the end was reported is not seen
 * this way either: it surfaces at the next write (EPIPE), as with any
 * socket whose reading has ended.
 * Internal to the backends.
 */
export function resetBehindEnd(stream: StreamFields, source: PeerNameSource | undefined, fd: number): ReactorError | undefined {
  if (stream.shutdown || source === undefined || typeof source.getpeername !== 'function' || source.getpeername({}) >= 0) return undefined;
  return new ReactorError('ECONNRESET', 'connection reset by peer', { fd, syscall: 'read' });
}
