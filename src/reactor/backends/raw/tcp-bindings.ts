/**
 * Typed declarations for the internal Node bindings the raw-handle backend
 * uses (`tcp_wrap`, `stream_wrap`, `uv`), and the one place they are loaded
 * and checked. Nothing here is public Node API: Node's own `net` module is
 * built on these, but any release may change them. So `loadTcpBindings`
 * checks every member it relies on and refuses (ERR_BACKEND_UNAVAILABLE)
 * rather than guess.
 *
 * Tried on: Node 20.20, 22.23, 24.22 and 26.12 (Linux x64). The shared
 * state of `stream_wrap` is how a write says it went asynchronous; its
 * layout is the convention the backend writes by, so it must be one of the
 * layouts known here (`KNOWN_STATE_LAYOUTS`: Node 20-23, and 24 on, which
 * added `kLastWriteErr` when Node's own streams moved to
 * `writeBuffer(null, data)`, still keeping the request-object convention
 * this backend uses). A Node whose layout is another is refused, rather
 * than written to by a convention it may have dropped.
 */
import { types } from 'node:util';
import { ReactorError } from '../../reactor-error';

/** A libuv request for one write (`uv_write_t`), completed through `oncomplete` when it went asynchronous. */
export interface WriteWrap {
  handle: StreamHandle;
  oncomplete: (this: WriteWrap, status: number) => void;
  async: boolean;
  bytes: number;
  buffer: Uint8Array | null;
}

/** A libuv request for `shutdown(2)` after pending writes (`uv_shutdown_t`). */
export interface ShutdownWrap {
  handle: StreamHandle;
  oncomplete: (this: ShutdownWrap, status: number) => void;
}

/** A libuv request for `connect(2)` (`uv_connect_t`), of a TCP handle (`TCPConnectWrap`) or a pipe (`PipeConnectWrap`, no port). */
export interface ConnectWrap {
  oncomplete: (this: ConnectWrap, status: number, handle: StreamHandle, req: ConnectWrap, readable: boolean, writable: boolean) => void;
  address: string;
  port: number;
}

/** The address `getsockname`/`getpeername` fill in. */
export interface SocketAddress {
  address?: string;
  port?: number;
  family?: string;
}

/**
 * What a libuv stream handle offers, TCP or pipe alike (Node's
 * `LibuvStreamWrap` and `HandleWrap`). Methods return 0 or a negative
 * libuv error code.
 */
export interface StreamHandle {
  /** Called with the status and the new handle (listeners). `this` is the listener. */
  onconnection: ((this: StreamHandle, status: number, client?: StreamHandle) => void) | null;
  /**
   * Called for each read; `streamBaseState` says how many bytes and where (or
   * the error, or EOF). After `useUserBuffer`, the bytes are at the start of
   * that buffer and no ArrayBuffer is passed.
   */
  onread: ((this: StreamHandle, arrayBuffer: ArrayBuffer | undefined) => void) | null;
  /** Bytes libuv holds in its write queue (written asynchronously, not yet in the kernel). */
  readonly writeQueueSize: number;
  /** The OS descriptor (-1 where there is none). */
  readonly fd: number;
  listen(backlog: number): number;
  readStart(): number;
  /** Read into `buffer` from now on, instead of a fresh allocation per read (Node's `onread: { buffer }` option of net.Socket). */
  useUserBuffer(buffer: Uint8Array): void;
  readStop(): number;
  writeBuffer(req: WriteWrap, data: Uint8Array): number;
  shutdown(req: ShutdownWrap): number;
  close(callback?: () => void): void;
  ref(): void;
  unref(): void;
}

/** A `uv_pipe_t` as Node's `Pipe` class wraps it: a Unix domain stream socket. */
export interface PipeHandle extends StreamHandle {
  /** Makes the socket file at `path` (EADDRINUSE if a file is there). libuv removes it when the handle closes. */
  bind(path: string): number;
  connect(req: ConnectWrap, path: string): number;
}

/** A `uv_tcp_t` as Node's `TCP` class wraps it. */
export interface TcpHandle extends StreamHandle {
  /** `flags`: `UV_TCP_REUSEPORT` where the binding has it (Node 22.12+, 23.1+). */
  bind(address: string, port: number, flags?: number): number;
  bind6(address: string, port: number, flags: number): number;
  connect(req: ConnectWrap, address: string, port: number): number;
  connect6(req: ConnectWrap, address: string, port: number): number;
  /**
   * Resets and closes (`uv_tcp_close_reset`: SO_LINGER 0, then close): the
   * peer gets RST. Returns 0, or EINVAL while a shutdown request is in
   * flight, in which case Node has marked the handle closing all the same
   * and a later `close` does nothing: never call it then.
   */
  reset(callback?: () => void): number;
  getsockname(out: SocketAddress): number;
  getpeername(out: SocketAddress): number;
  setNoDelay(enable: boolean): number;
  setKeepAlive(enable: boolean, initialDelaySeconds: number): number;
}

/** `pipe_wrap`, for Unix domain sockets. */
export interface PipeBindings {
  Pipe: new (type: number) => PipeHandle;
  PipeConnectWrap: new () => ConnectWrap;
  /** `new Pipe(SOCKET)` for a connection, `new Pipe(SERVER)` for a listener. */
  SOCKET: number;
  SERVER: number;
}

/** What the backend takes from the bindings, checked. */
export interface TcpBindings {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectWrap;
  WriteWrap: new () => WriteWrap;
  ShutdownWrap: new () => ShutdownWrap;
  /** `new TCP(SOCKET)` for a connection, `new TCP(SERVER)` for a listener. */
  SOCKET: number;
  SERVER: number;
  UV_TCP_IPV6ONLY: number;
  /** SO_REUSEPORT as a bind flag, where this Node's libuv has it (Node 22.12+, 23.1+); undefined where not. */
  UV_TCP_REUSEPORT: number | undefined;
  /** Shared with C++: after a read, its byte count (or negative error) and offset; after a write, whether it went async. */
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
  /** libuv's end-of-file code (negative). */
  UV_EOF: number;
  /** Unix domain sockets, or why this Node's `pipe_wrap` cannot serve them (the TCP side works without). */
  pipes: PipeBindings | string;
}

type Binding = Record<string, unknown>;

/**
 * The layouts of `stream_wrap`'s shared state that the backend knows: its
 * `k...` field names, sorted, and the array's length. Node 20-23; Node 24 on.
 */
const KNOWN_STATE_LAYOUTS: readonly { fields: string; length: number }[] = [
  { fields: 'kArrayBufferOffset,kBytesWritten,kLastWriteWasAsync,kReadBytesOrError', length: 4 },
  { fields: 'kArrayBufferOffset,kBytesWritten,kLastWriteErr,kLastWriteWasAsync,kReadBytesOrError', length: 5 },
];

function unavailable(reason: string): ReactorError {
  return new ReactorError(
    'ERR_BACKEND_UNAVAILABLE',
    `the raw-handle backend cannot run on Node ${process.version}: ${reason}. Use the default LibuvBackend.`,
  );
}

let cached: TcpBindings | undefined;

/** What `processRefusal` looks at: `process`, or a stand-in in tests. */
export interface ProcessFlags {
  throwDeprecation?: boolean;
  execArgv: readonly string[];
  env: Record<string, string | undefined>;
  permission?: unknown;
}

/**
 * Why this process must not touch `process.binding` at all, or undefined:
 * - its deprecation (DEP0111) is documentation-only for these bindings
 *   today, a warning under `--pending-deprecation`; a deprecation warning
 *   under `--throw-deprecation` is thrown on a later tick, where no
 *   try/catch of ours can catch it, so with both flags (tried on Node 20
 *   and 24) the process would crash instead of being refused. Either flag
 *   refuses: `--pending-deprecation` asks to hear of exactly this use, and
 *   under `--throw-deprecation` a Node that made DEP0111 a runtime
 *   deprecation would crash the process;
 * - under the permission model (`--permission`) internal bindings are
 *   denied.
 * Flags given in `NODE_OPTIONS` count as well.
 */
export function processRefusal(flags: ProcessFlags): string | undefined {
  const options = `${flags.execArgv.join(' ')} ${flags.env.NODE_OPTIONS ?? ''}`.split(/\s+/);
  if (flags.throwDeprecation === true || options.includes('--throw-deprecation')) {
    return 'this process runs with --throw-deprecation, under which a deprecation warning of process.binding (DEP0111) would throw where it cannot be caught';
  }
  if (options.includes('--pending-deprecation') || flags.env.NODE_PENDING_DEPRECATION === '1') {
    return 'this process runs with --pending-deprecation, under which process.binding (DEP0111) warns';
  }
  if (flags.permission !== undefined && flags.permission !== null) {
    return "Node's permission model (--permission) refuses internal bindings";
  }
  return undefined;
}

/** Where the bindings come from: `process.binding`, or a stand-in (tests; `null`: none). */
export type BindingSource = 'process' | ((name: string) => unknown) | null;

/**
 * Loads and checks the bindings; throws ERR_BACKEND_UNAVAILABLE naming what
 * is missing or refused (no `process.binding`, a permission model that denies
 * it, a member that is not there or not of the expected type). The result
 * from `process.binding` is kept; one from another `source` is not.
 */
export function loadTcpBindings(source: BindingSource = 'process'): TcpBindings {
  if (source === 'process') {
    if (cached !== undefined) return cached;
    const refusal = processRefusal(process);
    if (refusal !== undefined) throw unavailable(refusal);
  }
  const binding = source === 'process' ? (process as unknown as { binding?: unknown }).binding : source;
  if (typeof binding !== 'function') throw unavailable('process.binding is not available');
  let tcp: Binding;
  let stream: Binding;
  let uv: Binding;
  let pipe: Binding | string;
  try {
    tcp = binding.call(process, 'tcp_wrap') as Binding;
    stream = binding.call(process, 'stream_wrap') as Binding;
    uv = binding.call(process, 'uv') as Binding;
  } catch (err) {
    throw unavailable(`process.binding refused (${(err as Error).message})`);
  }
  try {
    pipe = binding.call(process, 'pipe_wrap') as Binding;
  } catch (err) {
    pipe = `process.binding('pipe_wrap') refused (${(err as Error).message})`;
  }
  const fn = (owner: Binding, name: string, where: string) => {
    if (typeof owner[name] !== 'function') throw unavailable(`${where}.${name} is missing`);
    return owner[name] as never;
  };
  const num = (owner: Binding | undefined, name: string, where: string): number => {
    const value = owner?.[name];
    if (typeof value !== 'number') throw unavailable(`${where}.${name} is missing`);
    return value;
  };
  const TCP = fn(tcp, 'TCP', 'tcp_wrap') as TcpBindings['TCP'];
  const proto = (TCP as unknown as { prototype: Binding }).prototype;
  for (const method of [
    'bind',
    'bind6',
    'listen',
    'connect',
    'connect6',
    'readStart',
    'readStop',
    'useUserBuffer',
    'writeBuffer',
    'shutdown',
    'close',
    'reset',
    'getsockname',
    'getpeername',
    'setNoDelay',
    'setKeepAlive',
  ]) {
    fn(proto, method, 'TCP.prototype');
  }
  const constants = tcp.constants as Binding | undefined;
  const state = stream.streamBaseState;
  // util.types, not instanceof: the array comes from Node's own realm, which a test runner's sandbox is not.
  if (!types.isInt32Array(state)) throw unavailable('stream_wrap.streamBaseState is missing');
  const loaded: TcpBindings = {
    TCP,
    TCPConnectWrap: fn(tcp, 'TCPConnectWrap', 'tcp_wrap'),
    WriteWrap: fn(stream, 'WriteWrap', 'stream_wrap'),
    ShutdownWrap: fn(stream, 'ShutdownWrap', 'stream_wrap'),
    SOCKET: num(constants, 'SOCKET', 'tcp_wrap.constants'),
    SERVER: num(constants, 'SERVER', 'tcp_wrap.constants'),
    UV_TCP_IPV6ONLY: num(constants, 'UV_TCP_IPV6ONLY', 'tcp_wrap.constants'),
    UV_TCP_REUSEPORT: typeof constants?.UV_TCP_REUSEPORT === 'number' ? constants.UV_TCP_REUSEPORT : undefined,
    streamBaseState: state,
    kReadBytesOrError: num(stream, 'kReadBytesOrError', 'stream_wrap'),
    kArrayBufferOffset: num(stream, 'kArrayBufferOffset', 'stream_wrap'),
    kLastWriteWasAsync: num(stream, 'kLastWriteWasAsync', 'stream_wrap'),
    UV_EOF: num(uv, 'UV_EOF', 'uv'),
    pipes: typeof pipe === 'string' ? pipe : checkPipes(pipe),
  };
  const fields = Object.keys(stream)
    .filter((key) => /^k[A-Z]/.test(key))
    .sort()
    .join(',');
  if (!KNOWN_STATE_LAYOUTS.some((layout) => layout.fields === fields && layout.length === state.length)) {
    throw unavailable(
      `stream_wrap's shared state is laid out in a way this backend does not know (${fields}; ${state.length} fields), so its write convention may have changed`,
    );
  }
  if (source === 'process') cached = loaded;
  return loaded;
}

/** `pipe_wrap` checked member by member, or why it cannot serve (a string: the TCP side goes on without it). */
function checkPipes(pipe: Binding): PipeBindings | string {
  const Pipe: unknown = pipe.Pipe;
  const constants = pipe.constants as Binding | undefined;
  if (typeof Pipe !== 'function') return 'pipe_wrap.Pipe is missing';
  if (typeof pipe.PipeConnectWrap !== 'function') return 'pipe_wrap.PipeConnectWrap is missing';
  // The stream methods live further up the prototype chain (LibuvStreamWrap, HandleWrap); a lookup finds them there.
  for (const method of ['bind', 'listen', 'connect', 'readStart', 'readStop', 'useUserBuffer', 'writeBuffer', 'shutdown', 'close']) {
    if (typeof (Pipe as { prototype: Binding }).prototype[method] !== 'function') return `Pipe.prototype.${method} is missing`;
  }
  if (typeof constants?.SOCKET !== 'number' || typeof constants.SERVER !== 'number') return 'pipe_wrap.constants is missing';
  return {
    Pipe: Pipe as unknown as PipeBindings['Pipe'],
    PipeConnectWrap: pipe.PipeConnectWrap as PipeBindings['PipeConnectWrap'],
    SOCKET: constants.SOCKET,
    SERVER: constants.SERVER,
  };
}
