/**
 * Readiness bits, as the backend reports them and as events carry them (the
 * `flags` of an {@link Event}). Like epoll's `EPOLLIN`, `EPOLLOUT`,
 * `EPOLLRDHUP`, `EPOLLHUP` and `EPOLLERR`:
 * - `READABLE`: `read` would return something: data, end of stream (a
 *   zero-length buffer) or an error (it throws). On a listener: a connection
 *   is waiting to be accepted.
 * - `WRITABLE`: `write` would accept bytes (or throw, if an error is pending).
 * - `READ_CLOSED`: the peer half-closed and everything it sent has been read:
 *   the next `read` returns end of stream. Reported with `READABLE`, to a
 *   registration interested in reading.
 * - `WRITE_CLOSED`: nothing more can be sent: the connection was reset, or
 *   both sides have shut down. Reported whatever the interest.
 * - `ERROR`: an error is pending on the descriptor (a failed connect, a
 *   reset); `read` and `write` throw it. Reported whatever the interest.
 */
export const Readiness = {
  READABLE: 1,
  WRITABLE: 2,
  READ_CLOSED: 4,
  WRITE_CLOSED: 8,
  ERROR: 16,
} as const;

/** Bits reported to every registration, whatever its interest, as epoll reports EPOLLERR and EPOLLHUP. */
export const ALWAYS_REPORTED = Readiness.WRITE_CLOSED | Readiness.ERROR;
