/**
 * Codes the reactor itself gives. System codes from the operating system
 * (`EADDRINUSE`, `ECONNRESET`, `ECONNREFUSED`, ...) pass through unchanged,
 * so `ReactorError['code']` is any string; these are the ones with a fixed
 * meaning here:
 * - `EBADF`: the descriptor is not open (never was, or was closed).
 * - `EEXIST`: the descriptor is already registered.
 * - `ENOENT`: the descriptor has no registration.
 * - `EINVAL`: an interest or trigger that is empty or unknown; an operation
 *   the descriptor's kind does not support (reading a listener).
 * - `EMFILE`: the reactor's descriptor limit is reached.
 * - `EPIPE`: writing after our own `shutdown`.
 * - `ERR_REACTOR_CLOSED`: the reactor was closed.
 * - `ERR_POLL_REENTRANT`: `poll` while another `poll` is pending.
 * - `ERR_WAKER_CLOSED`: `wake()` on a `Waker` (or `RemoteWaker`) whose waker
 *   or reactor was closed.
 * - `ERR_PEER_ENDED`: a simulated peer waited for bytes that will not come
 *   (the other side ended the connection first).
 * - `ERR_SIM_STALLED`: a test waited on a simulated peer while nothing in
 *   the simulation could happen any more (the message says who waited for
 *   what).
 */
export type ReactorErrorCode =
  | 'EBADF'
  | 'EEXIST'
  | 'ENOENT'
  | 'EINVAL'
  | 'EMFILE'
  | 'EPIPE'
  | 'ERR_REACTOR_CLOSED'
  | 'ERR_POLL_REENTRANT'
  | 'ERR_WAKER_CLOSED'
  | 'ERR_PEER_ENDED'
  | 'ERR_SIM_STALLED'
  | (string & {});

/** Where an error came from, for the message and for programs that inspect it. */
export interface ReactorErrorDetails {
  /** The operation, as the system call it stands for: `'listen'`, `'connect'`, `'read'`, `'write'`, ... */
  syscall?: string;
  fd?: number;
  address?: string;
  port?: number;
  cause?: unknown;
}

/**
 * The one error type tsreactor throws for failed operations, with a stable
 * `code`. Bad arguments (a negative timeout, a port out of range) are
 * `RangeError`s naming the option instead.
 *
 * @example
 * ```ts
 * import { Reactor, ReactorError } from 'tsreactor';
 *
 * const reactor = new Reactor();
 * try {
 *   reactor.read(42);
 * } catch (err) {
 *   if (err instanceof ReactorError && err.code === 'EBADF') console.log('fd 42 is not open');
 * }
 * ```
 */
export class ReactorError extends Error {
  readonly code: ReactorErrorCode;
  readonly syscall: string | undefined;
  readonly fd: number | undefined;
  readonly address: string | undefined;
  readonly port: number | undefined;

  constructor(code: ReactorErrorCode, message: string, details: ReactorErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ReactorError';
    this.code = code;
    this.syscall = details.syscall;
    this.fd = details.fd;
    this.address = details.address;
    this.port = details.port;
  }

  /**
   * Wraps an error from Node (which carries `code`, `syscall`, `address`,
   * `port`) as a ReactorError with the same code, keeping it as `cause`.
   */
  static from(err: unknown, details: ReactorErrorDetails = {}): ReactorError {
    if (err instanceof ReactorError) return err;
    const e = (err ?? {}) as Partial<NodeJS.ErrnoException & { address: string; port: number }>;
    const code = typeof e.code === 'string' ? e.code : 'EIO';
    const message = typeof e.message === 'string' ? e.message : String(err);
    return new ReactorError(code, message, {
      syscall: details.syscall ?? e.syscall,
      fd: details.fd,
      address: details.address ?? e.address,
      port: details.port ?? e.port,
      cause: err,
    });
  }
}
