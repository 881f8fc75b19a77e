/**
 * An HTTP/1.1 server on the EventLoop: the last step of the walkthrough, and
 * the server `npm start` runs. Reading requests is in `examples/http/`
 * (`request-head.ts`, `body-decoder.ts`); this file serves connections.
 *
 * What it speaks: HTTP/1.1 and 1.0, keep-alive and pipelining (responses go
 * out in request order, because each request is answered as soon as it is
 * parsed; the answers to one read go out in one write), HEAD, request
 * bodies by Content-Length or chunked encoding, `Expect: 100-continue`,
 * and `Connection: close`. It answers as HTTP/1.1 (RFC 9110 section 6.2).
 *
 * What it refuses, with the status and then closing the connection:
 * - a request line longer than `maxHeaderBytes`: 414 (URI Too Long, as RFC
 *   9112 section 3 asks of a target longer than the server parses); a
 *   request line and headers larger than it: 431;
 * - a body larger than `maxBodyBytes`: 413 (chunk framing and trailers are
 *   bounded too, by `maxHeaderBytes` each);
 * - headers not complete `headersTimeoutMs` after the request began, or the
 *   whole request not complete after `requestTimeoutMs`: 408 (the timer does
 *   not restart on each byte: a client sending one byte a second cannot hold
 *   the connection; it does not count time the server itself stopped reading);
 * - anything malformed: 400 (see `parseHead` and `BodyDecoder` for the list,
 *   which covers what request smuggling relies on).
 * Empty lines before a request line are skipped, as RFC 9112 section 2.2
 * asks, but at most `MAX_EMPTY_LINES` of them (then 400): the section lets a
 * server skip a few, not an unbounded stream. The head deadline starts at a
 * request's first byte, an empty line included, so a client that sends one
 * CRLF a second cannot hold a connection either.
 *
 * `OPTIONS *` (a question about the server, not a resource) is answered
 * with 200 and the methods the server knows, in `Allow`. A response to
 * `HEAD` never has a body, errors included.
 *
 * Routes: `GET /` says hello; `GET /stats` gives the loop's metrics as JSON;
 * `POST /echo` sends the request body back. Anything else: 404 (405 for a
 * known path with another method).
 *
 * Graceful shutdown (`loop.close()`, SIGTERM): a connection in the middle of
 * a request (its head or body still arriving, say an upload) is let finish
 * it, until the close's deadline: that request is answered with
 * `Connection: close`, then the connection ends; requests pipelined behind
 * it are not read. An idle keep-alive connection ends at once (a client
 * whose request crosses our FIN retries it, as with any HTTP/1.1 server).
 * `requests` counts the answers written, not the requests parsed.
 *
 * Flow control: a client that pipelines requests and does not read the
 * responses is not served past the connection's high-water mark: while
 * `needsDrain` holds, parsing stops and the connection is paused (so TCP
 * holds the client back, and unparsed input cannot pile up); `onDrain`
 * resumes both.
 *
 * Run: npx ts-node examples/http-server.ts [--port 8080] [--host ::] [--socket PATH] [--backend libuv|raw]
 *      [--workers N [--sharing cluster|reusePort]]   (one event loop per worker process, see runWorkers)
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import {
  type Connection,
  EventLoop,
  type EventLoopOptions,
  Reactor,
  runWorkers,
  type ServerSocket,
  type WorkerContext,
  type WorkerSharing,
} from '../src';
import { argument } from './argument';
import { backendNamed } from './backend-option';
import { BodyDecoder } from './http/body-decoder';
import { findHeadEnd, HttpError, parseHead, type RequestHead } from './http/request-head';

/* ---- Options ------------------------------------------------------------- */

export interface HttpServerOptions {
  host?: string;
  port?: number;
  /**
   * Serve on this Unix domain socket instead of `host` and `port` (as behind
   * nginx: `proxy_pass http://unix:/run/app.sock`). A stale socket file left
   * by a server that died is removed (`removeStale`: never a live server's,
   * never a file of another kind); the file is removed again on close.
   */
  path?: string;
  /** Request line plus headers, at most. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Request body, at most. Default 1 MiB. */
  maxBodyBytes?: number;
  /** From a request's first byte to the end of its headers, at most. Default 5 s (the idle timeout of a loop made here). */
  headersTimeoutMs?: number;
  /** From a request's first byte to its last, at most. Default 30 s. */
  requestTimeoutMs?: number;
  /** An existing loop to serve on (its other servers are left alone). */
  loop?: EventLoop;
  /** For a loop made here. Default: keep-alive idle timeout of 5 s. */
  loopOptions?: EventLoopOptions;
  /** Spread into the listen config: `worker.listen` under `runWorkers`. */
  listen?: { exclusive?: boolean; reusePort?: boolean };
  /** Under `runWorkers`: the worker's id, which `/stats` gives (with the pid) so a client knows who answered. */
  worker?: number;
}

interface Limits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

/* ---- Per-connection state ------------------------------------------------ */

/** A request whose head has been read. */
interface Request extends RequestHead {
  /** Its body so far (framing other than 'none'). */
  body: BodyDecoder | undefined;
}

/** What the server keeps per connection (in `connection.data`). */
interface HttpState {
  /** Bytes received and not yet parsed. */
  pending: Buffer | undefined;
  /** How much of `pending` has been scanned for the end of the head. */
  scanned: number;
  /** The request whose body is being read. */
  request: Request | undefined;
  /** The 408 timer of the request being received (0: none), and when that request began. */
  timer: number;
  startedMs: number;
  /** An error was answered or `Connection: close` seen: the rest is ignored. */
  done: boolean;
  /** Empty lines skipped before the request line of the request being received. */
  emptyLines: number;
  /** The loop is closing: the request in progress is answered with `Connection: close`, and no other is read. */
  closing: boolean;
}

/** Empty lines skipped before a request line, at most (RFC 9112 section 2.2 asks a server to skip at least one). */
export const MAX_EMPTY_LINES = 4;

/** The methods the server answers anywhere, for `OPTIONS *`. */
const ALLOW_ANY = 'GET, HEAD, POST, OPTIONS';

type HttpConnection = Connection<HttpState>;

const STATUS_TEXT: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

/* ---- The Date header, cached for the second ------------------------------ */

let dateSecond = 0;
let dateValue = '';

function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

/* ---- Responses ----------------------------------------------------------- */

const HELLO_BODY = Buffer.from('Hello, world!\n');
const CRLF = Buffer.from('\r\n');
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');
let helloDate = '';
let helloKeepAlive: Buffer = Buffer.alloc(0);

/** The hello response for HTTP/1.1 keep-alive, the common case, built once a second. */
function helloResponse(): Buffer {
  const date = httpDate();
  if (date !== helloDate) {
    helloDate = date;
    helloKeepAlive = Buffer.concat([
      Buffer.from(`HTTP/1.1 200 OK\r\nDate: ${date}\r\nContent-Type: text/plain\r\nContent-Length: ${HELLO_BODY.length}\r\n\r\n`),
      HELLO_BODY,
    ]);
  }
  return helloKeepAlive;
}

/** Sends a response; `keepAlive` false also ends the connection after it. */
function respond(
  conn: HttpConnection,
  request: Pick<Request, 'minor' | 'keepAlive' | 'method'>,
  status: number,
  contentType: string,
  body: Buffer,
  extraHeaders = '',
): void {
  let head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ''}\r\nDate: ${httpDate()}\r\n`;
  head += `Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n${extraHeaders}`;
  if (!request.keepAlive) head += 'Connection: close\r\n';
  else if (request.minor === 0) head += 'Connection: keep-alive\r\n';
  head += '\r\n';
  conn.send(request.method === 'HEAD' || body.length === 0 ? head : Buffer.concat([Buffer.from(head, 'latin1'), body]));
  if (!request.keepAlive) finish(conn);
}

const HEAD_METHOD = Buffer.from('HEAD ');

/**
 * Answers an error and closes: after a refused request, what follows cannot
 * be trusted. `unparsed` is the request's head as received, when it could
 * not be parsed: a request line that begins with `HEAD ` still gets its
 * answer without a body (its client would read a body as the next response).
 */
function refuse(conn: HttpConnection, error: HttpError, unparsed?: Buffer): void {
  const request = (conn.data as HttpState).request;
  const method = request?.method ?? (unparsed?.subarray(0, HEAD_METHOD.length).equals(HEAD_METHOD) === true ? 'HEAD' : 'GET');
  respond(conn, { minor: 1, keepAlive: false, method }, error.status, 'text/plain', Buffer.from(`${error.reason}\n`));
}

function finish(conn: HttpConnection): void {
  const state = conn.data as HttpState;
  state.done = true;
  state.pending = undefined;
  conn.end();
}

/* ---- Routes -------------------------------------------------------------- */

interface Route {
  methods: readonly string[];
  handle(conn: HttpConnection, request: Request): void;
}

/* ---- The server ---------------------------------------------------------- */

export interface HttpServer {
  loop: EventLoop;
  servers: ServerSocket[];
  port: number;
  /** Requests answered so far (their responses written to the connection). */
  readonly requests: number;
  /**
   * Closes the loop gracefully if it was made here. On a loop passed in
   * (`options.loop`), stops listening instead: its connections stay with
   * the loop, which its owner closes.
   */
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions = {}): Promise<HttpServer> {
  const limits: Limits = {
    maxHeaderBytes: options.maxHeaderBytes ?? 16 * 1024,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    headersTimeoutMs: options.headersTimeoutMs ?? 5_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
  };
  for (const name of ['maxHeaderBytes', 'maxBodyBytes', 'headersTimeoutMs', 'requestTimeoutMs'] as const) {
    if (!(limits[name] > 0)) throw new RangeError(`'${name}' must be a number > 0, got ${String(limits[name])}`);
  }
  const ownLoop = options.loop === undefined;
  const loop = options.loop ?? new EventLoop({ idleTimeoutMs: 5_000, ...options.loopOptions });
  const clock = loop.reactor.clock;
  let requests = 0;

  const routes: Record<string, Route> = {
    '/': {
      methods: ['GET', 'HEAD'],
      handle(conn, request) {
        if (request.keepAlive && request.minor === 1 && request.method === 'GET') conn.send(helloResponse());
        else respond(conn, request, 200, 'text/plain', HELLO_BODY);
      },
    },
    '/stats': {
      methods: ['GET', 'HEAD'],
      handle(conn, request) {
        respond(
          conn,
          request,
          200,
          'application/json',
          Buffer.from(
            JSON.stringify({
              worker: options.worker ?? null,
              pid: process.pid,
              ...loop.metrics.snapshot(),
              requests: requests + 1 /* this answer included */,
            }),
          ),
        );
      },
    },
    '/echo': {
      methods: ['POST'],
      handle(conn, request) {
        respond(conn, request, 200, 'application/octet-stream', Buffer.from(request.body?.body() ?? Buffer.alloc(0)));
      },
    },
  };

  /** The route for a request, or the response that refuses it (404, 405), known from the head alone. */
  const routeOf = (request: Request): Route | { status: 404 | 405; allow?: string } => {
    const route = Object.hasOwn(routes, request.path) ? routes[request.path] : undefined;
    if (route === undefined) return { status: 404 };
    if (!route.methods.includes(request.method)) return { status: 405, allow: route.methods.join(', ') };
    return route;
  };

  const answer = (conn: HttpConnection, request: Request) => {
    if ((conn.data as HttpState).closing) request.keepAlive = false; // the last one: Connection: close, then the end
    if (request.path === '*') {
      respond(conn, request, 200, 'text/plain', Buffer.alloc(0), `Allow: ${ALLOW_ANY}\r\n`); // OPTIONS * (the only method pathOf lets through with it)
    } else {
      const route = routeOf(request);
      if ('handle' in route) route.handle(conn, request);
      else if (route.status === 404) respond(conn, request, 404, 'text/plain', Buffer.from('not found\n'));
      else respond(conn, request, 405, 'text/plain', Buffer.from(`use ${route.allow ?? ''}\n`), `Allow: ${route.allow ?? ''}\r\n`);
    }
    requests++; // written (a send after the connection ended would have thrown)
  };

  /** The request timer: 408 unless the server itself is not reading (then the client is not late: wait again). */
  const onRequestTimeout = (conn: HttpConnection) => {
    const state = conn.data as HttpState;
    state.timer = 0;
    if (state.done || conn.state !== 'open') return;
    if (!conn.reading && !conn.peerEnded) {
      state.timer = loop.timers.schedule(limits.headersTimeoutMs, onRequestTimeout, conn);
      return;
    }
    refuse(conn, new HttpError(408, state.request === undefined ? 'headers not complete in time' : 'request not complete in time'));
  };

  /** The head deadline, from the request's first byte: started once per request. */
  const startHeadClock = (conn: HttpConnection, state: HttpState) => {
    if (state.timer !== 0) return;
    state.startedMs = clock.now();
    state.timer = loop.timers.schedule(limits.headersTimeoutMs, onRequestTimeout, conn);
  };

  /** 414 if the request line alone is past the limit (the target is too long to parse), else 431. */
  const tooLarge = (pending: Buffer, headLength: number): HttpError => {
    const lineEnd = pending.indexOf(CRLF);
    const lineLength = lineEnd < 0 ? headLength : lineEnd;
    return lineLength > limits.maxHeaderBytes
      ? new HttpError(414, 'request target too long')
      : new HttpError(431, 'request head too large');
  };

  const stopTimer = (state: HttpState) => {
    if (state.timer !== 0) loop.timers.cancel(state.timer);
    state.timer = 0;
  };

  /** Reads a request head from `pending`, if it is all there: true once `state.request` is set or a request was answered. */
  const readHead = (conn: HttpConnection, state: HttpState): boolean => {
    let pending = state.pending as Buffer;
    // Empty lines before a request line are skipped (RFC 9112 section 2.2), a few of them.
    let skip = 0;
    while (skip + 1 < pending.length && pending[skip] === 0x0d && pending[skip + 1] === 0x0a) skip += 2;
    if (skip > 0) {
      state.emptyLines += skip / 2;
      if (state.emptyLines > MAX_EMPTY_LINES) {
        refuse(conn, new HttpError(400, 'too many empty lines before the request line'));
        return false;
      }
      pending = pending.subarray(skip);
      state.pending = pending.length > 0 ? pending : undefined;
      state.scanned = 0;
      if (state.pending === undefined) {
        startHeadClock(conn, state); // an empty line is the request's first byte
        return false;
      }
    }
    const end = findHeadEnd(pending, Math.max(0, state.scanned - 3));
    if (end instanceof HttpError) {
      refuse(conn, end, pending);
      return false;
    }
    if (end < 0) {
      if (pending.length > limits.maxHeaderBytes) {
        refuse(conn, tooLarge(pending, pending.length), pending);
        return false;
      }
      state.scanned = pending.length;
      startHeadClock(conn, state); // the head is incomplete (a head that came whole, the common case, needs no timer)
      return false;
    }
    if (end > limits.maxHeaderBytes) {
      refuse(conn, tooLarge(pending, end), pending);
      return false;
    }
    const head = parseHead(pending.toString('latin1', 0, end - 4));
    if (head instanceof HttpError) {
      refuse(conn, head, pending);
      return false;
    }
    state.pending = end < pending.length ? pending.subarray(end) : undefined;
    state.scanned = 0;
    state.emptyLines = 0;
    const request = head as Request; // it becomes a Request: the body comes next
    request.body = undefined;
    state.request = request;
    if (request.framing === 'length' && request.contentLength > limits.maxBodyBytes) {
      refuse(conn, new HttpError(413, 'body too large'));
      return false;
    }
    if (request.framing !== 'none') {
      request.body = new BodyDecoder(request.framing, request.contentLength, {
        maxBodyBytes: limits.maxBodyBytes,
        maxFramingBytes: limits.maxHeaderBytes,
      });
      // The rest of the request gets what is left of requestTimeoutMs.
      const now = clock.now();
      if (state.timer === 0) state.startedMs = now;
      stopTimer(state);
      const left = Math.max(0, state.startedMs + limits.requestTimeoutMs - now);
      state.timer = loop.timers.schedule(Math.max(left, 1), onRequestTimeout, conn);
      if (request.expectContinue) {
        const route = routeOf(request);
        if (!('handle' in route)) {
          // Known from the head alone: the final answer now, instead of a 100 for a body that would be thrown away.
          request.keepAlive = false;
          state.request = undefined;
          answer(conn, request);
          return false;
        }
        conn.send(CONTINUE);
      }
    }
    return true;
  };

  /**
   * Parses and answers every complete request in `pending`, in order. Stops
   * while the connection needs to drain (onDrain calls it again), unless
   * `all` (the peer has ended: what is complete is answered now).
   */
  const serve = (conn: HttpConnection, all = false) => {
    const state = conn.data as HttpState;
    for (;;) {
      if (state.done || state.pending === undefined) return;
      if (conn.needsDrain && !all) {
        conn.pause(); // no more input until the output drains: TCP holds the client back
        return;
      }
      if (state.request === undefined && !readHead(conn, state)) return;
      const request = state.request as Request;
      if (request.body !== undefined) {
        const pending = state.pending as Buffer | undefined; // readHead may have taken it all
        if (pending !== undefined) {
          const stopped = request.body.decode(pending, 0);
          if (stopped instanceof HttpError) {
            refuse(conn, stopped);
            return;
          }
          state.pending = stopped < pending.length ? pending.subarray(stopped) : undefined;
        }
        if (!request.body.done) {
          // What is left (part of a chunk line) is kept; everything else was copied out.
          if (state.pending !== undefined) state.pending = Buffer.from(state.pending);
          return;
        }
      }
      state.request = undefined;
      stopTimer(state);
      answer(conn, request);
    }
  };

  const address =
    options.path === undefined ? { host: options.host ?? '::', port: options.port ?? 8080 } : { path: options.path, removeStale: true };
  const servers = await loop.listen([{ backlog: 4096, ...options.listen, ...address }], {
    onConnect(conn) {
      (conn as HttpConnection).data = {
        pending: undefined,
        scanned: 0,
        request: undefined,
        timer: 0,
        startedMs: 0,
        done: false,
        emptyLines: 0,
        closing: false,
      };
    },
    onData(conn, chunk) {
      const http = conn as HttpConnection;
      const state = http.data as HttpState;
      if (state.done) return;
      state.pending = state.pending === undefined ? chunk : Buffer.concat([state.pending, chunk]);
      serve(http);
    },
    onDrain(conn) {
      conn.resume();
      serve(conn as HttpConnection);
    },
    onEnd(conn) {
      // The client half-closed: what is complete is answered; an unfinished request is dropped.
      const http = conn as HttpConnection;
      serve(http, true);
      if (http.state === 'open') finish(http);
    },
    onClose(conn) {
      const state = (conn as HttpConnection).data;
      if (state !== undefined) stopTimer(state);
    },
    onShutdown(conn) {
      // Mid-request (a head or a body still arriving): finish it, answered with Connection: close. Idle: end now.
      const http = conn as HttpConnection;
      const state = http.data as HttpState;
      state.closing = true;
      if (state.request === undefined && state.pending === undefined) finish(http);
    },
  });

  return {
    loop,
    servers,
    port: servers[0].port,
    get requests() {
      return requests;
    },
    async close() {
      if (ownLoop) await loop.close({ timeoutMs: 1_000 });
      else for (const server of servers) loop.removeServerSocket(server);
    },
  };
}

/** Where a server listens, as a person writes it: `127.0.0.1:8080`, `[::]:8080`, or `unix:/run/app.sock`. */
export function addressOf(server: { host: string; port: number; path?: string }): string {
  if (server.path !== undefined) return `unix:${server.path}`;
  return `${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}`;
}

if (require.main === module) {
  /** The server on a loop of its own; under --workers, one per worker. */
  const serve = (worker?: WorkerContext) =>
    startHttpServer({
      host: argument('host', '::'),
      port: Number(argument('port', '8080')),
      path: argument('socket', '') || undefined,
      loopOptions: { idleTimeoutMs: 5_000, reactor: new Reactor({ backend: backendNamed(argument('backend', 'libuv')) }) },
      listen: worker?.listen,
      worker: worker?.id,
    });
  const workers = argument('workers', '');
  const main = async () => {
    if (workers === '') {
      const server = await serve();
      server.loop.handleSignals({ timeoutMs: 2_000 }); // before saying we are ready: a signal may follow at once
      console.log(`http server listening on ${addressOf(server.servers[0])}`);
      await server.loop.run();
      return;
    }
    // One loop per worker process: the primary says where once every worker serves.
    let ready = 0;
    diagnosticsChannel.subscribe('tsreactor:workers:ready', (message) => {
      const { listening } = message as { listening: ServerSocket[] };
      if (++ready === Number(workers)) console.log(`http server listening on ${addressOf(listening[0])} (${workers} workers)`);
    });
    const result = await runWorkers({
      workers: Number(workers),
      sharing: argument('sharing', 'cluster') as WorkerSharing,
      timeoutMs: 2_000,
      start: async (worker) => (await serve(worker)).loop,
    });
    if (result.role === 'primary') console.log(`closed: ${JSON.stringify({ ...result.report, workers: undefined })}`);
  };
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
