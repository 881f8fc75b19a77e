/**
 * An HTTP/1.1 server on the EventLoop: the last step of the walkthrough, and
 * the server `npm start` runs.
 *
 * What it speaks: HTTP/1.1 and 1.0, keep-alive and pipelining (responses go
 * out in request order, because each request is answered as soon as it is
 * parsed), HEAD, request bodies by Content-Length or chunked encoding, and
 * `Connection: close`.
 *
 * What it refuses, with the status and then closing the connection:
 * - a request line and headers larger than `maxHeaderBytes`: 431;
 * - a body larger than `maxBodyBytes`: 413;
 * - headers not complete `headersTimeoutMs` after the request began: 408
 *   (the timer does not restart on each byte: a client sending one byte a
 *   second cannot hold the connection);
 * - anything malformed: 400. That includes what request smuggling relies on:
 *   both Content-Length and Transfer-Encoding, a duplicate or invalid
 *   Content-Length, a Transfer-Encoding other than `chunked`, whitespace
 *   before a header's colon, obsolete line folding, and on HTTP/1.1 a
 *   missing or duplicate Host.
 *
 * Routes: `GET /` says hello; `GET /stats` gives the loop's metrics as JSON;
 * `POST /echo` sends the request body back. Anything else: 404 (405 for a
 * known path with another method).
 *
 * Run: npx ts-node examples/http-server.ts [--port 8080] [--host ::]
 */
import { type Connection, EventLoop, type EventLoopOptions, type ServerSocket } from '../src';

/* ---- Options ------------------------------------------------------------- */

export interface HttpServerOptions {
  host?: string;
  port?: number;
  /** Request line plus headers, at most. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Request body, at most. Default 1 MiB. */
  maxBodyBytes?: number;
  /** From a request's first byte to the end of its headers, at most. Default 10 s. */
  headersTimeoutMs?: number;
  /** An existing loop to serve on (its other servers are left alone). */
  loop?: EventLoop;
  /** For a loop made here. Default: keep-alive idle timeout of 5 s. */
  loopOptions?: EventLoopOptions;
}

interface Limits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
  headersTimeoutMs: number;
}

/* ---- Per-connection state ------------------------------------------------ */

/** A request as parsed so far. */
interface Request {
  method: string;
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  keepAlive: boolean;
  /** Body framing: none, a length, or chunked. */
  framing: 'none' | 'length' | 'chunked';
  /** Body bytes still to come (framing 'length'), or of the current chunk ('chunked'). */
  remaining: number;
  body: Buffer[];
  bodyBytes: number;
}

/** What the server keeps per connection (in `connection.data`). */
interface HttpState {
  /** Bytes received and not yet parsed. */
  pending: Buffer | undefined;
  request: Request | undefined;
  /** In a chunked body: reading a size line, chunk data, the CRLF after it, or trailers. */
  chunkPhase: 'size' | 'data' | 'data-end' | 'trailers';
  /** The 408 timer of the request being received (0: none). */
  headersTimer: number;
  /** An error was answered or `Connection: close` seen: the rest is ignored. */
  done: boolean;
}

type HttpConnection = Connection<HttpState>;

/** A reason to refuse a request: the status to answer with. */
class HttpError {
  constructor(
    readonly status: 400 | 408 | 413 | 431 | 501 | 505,
    readonly reason: string,
  ) {}
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
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

/* ---- Parsing the request head -------------------------------------------- */

const CRLF = 0x0d0a;
const HEAD_END = Buffer.from('\r\n\r\n');

/** RFC 9110 token characters, for methods and header names. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1;

function isToken(text: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

/** A header value may hold visible characters, spaces and tabs, nothing else. */
function isFieldValue(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

/**
 * Parses a request line and headers (without the final blank line) into a
 * Request, or an HttpError saying why not. Strict on purpose: an ambiguous
 * request is refused rather than guessed at.
 */
function parseHead(head: string): Request | HttpError {
  const lineEnd = head.indexOf('\r\n');
  const requestLine = lineEnd < 0 ? head : head.slice(0, lineEnd);
  // method SP request-target SP HTTP-version, single spaces.
  const firstSpace = requestLine.indexOf(' ');
  const secondSpace = requestLine.indexOf(' ', firstSpace + 1);
  if (firstSpace <= 0 || secondSpace < 0 || requestLine.indexOf(' ', secondSpace + 1) >= 0) {
    return new HttpError(400, 'malformed request line');
  }
  if (!isToken(requestLine, 0, firstSpace)) return new HttpError(400, 'malformed method');
  const method = requestLine.slice(0, firstSpace);
  const target = requestLine.slice(firstSpace + 1, secondSpace);
  if (target.length === 0 || !isFieldValue(target, 0, target.length) || target.includes('\t')) {
    return new HttpError(400, 'malformed request target');
  }
  const version = requestLine.slice(secondSpace + 1);
  if (version.length !== 8 || !version.startsWith('HTTP/1.') || (version[7] !== '0' && version[7] !== '1')) {
    return version.startsWith('HTTP/') && /^HTTP\/\d\.\d$/.test(version)
      ? new HttpError(505, 'unsupported HTTP version')
      : new HttpError(400, 'malformed HTTP version');
  }
  const minor = version === 'HTTP/1.1' ? 1 : 0;

  let contentLength = -1;
  let chunked = false;
  let hosts = 0;
  let connectionClose = false;
  let connectionKeepAlive = false;
  for (let start = lineEnd + 2; lineEnd >= 0 && start < head.length; ) {
    let end = head.indexOf('\r\n', start);
    if (end < 0) end = head.length;
    const first = head.charCodeAt(start);
    if (first === 0x20 || first === 0x09) return new HttpError(400, 'obsolete line folding');
    const colon = head.indexOf(':', start);
    if (colon < 0 || colon > end) return new HttpError(400, 'header without a colon');
    if (!isToken(head, start, colon)) return new HttpError(400, 'malformed header name (or whitespace before the colon)');
    let valueStart = colon + 1;
    let valueEnd = end;
    while (valueStart < valueEnd && (head.charCodeAt(valueStart) === 0x20 || head.charCodeAt(valueStart) === 0x09)) valueStart++;
    while (valueEnd > valueStart && (head.charCodeAt(valueEnd - 1) === 0x20 || head.charCodeAt(valueEnd - 1) === 0x09)) valueEnd--;
    if (!isFieldValue(head, valueStart, valueEnd)) return new HttpError(400, 'malformed header value');
    const nameLength = colon - start;
    // Only the headers that change how the request is framed or answered are looked at.
    if (nameLength === 14 && head.slice(start, colon).toLowerCase() === 'content-length') {
      if (contentLength !== -1) return new HttpError(400, 'duplicate Content-Length');
      const value = head.slice(valueStart, valueEnd);
      if (!/^\d{1,15}$/.test(value)) return new HttpError(400, 'invalid Content-Length');
      contentLength = Number(value);
    } else if (nameLength === 17 && head.slice(start, colon).toLowerCase() === 'transfer-encoding') {
      if (chunked || head.slice(valueStart, valueEnd).toLowerCase() !== 'chunked') {
        return new HttpError(400, 'unsupported Transfer-Encoding (only a single "chunked")');
      }
      chunked = true;
    } else if (nameLength === 4 && head.slice(start, colon).toLowerCase() === 'host') {
      hosts++;
    } else if (nameLength === 10 && head.slice(start, colon).toLowerCase() === 'connection') {
      for (const option of head.slice(valueStart, valueEnd).toLowerCase().split(',')) {
        const o = option.trim();
        if (o === 'close') connectionClose = true;
        else if (o === 'keep-alive') connectionKeepAlive = true;
      }
    }
    start = end + 2;
  }
  if (chunked && contentLength !== -1) return new HttpError(400, 'both Content-Length and Transfer-Encoding');
  if (chunked && minor === 0) return new HttpError(400, 'Transfer-Encoding in an HTTP/1.0 request');
  if (minor === 1 && hosts !== 1) return new HttpError(400, hosts === 0 ? 'missing Host' : 'duplicate Host');
  return {
    method,
    target,
    minor,
    keepAlive: minor === 1 ? !connectionClose : connectionKeepAlive && !connectionClose,
    framing: chunked ? 'chunked' : contentLength > 0 ? 'length' : 'none',
    remaining: contentLength > 0 ? contentLength : 0,
    body: [],
    bodyBytes: 0,
  };
}

/* ---- Responses ----------------------------------------------------------- */

const HELLO_BODY = Buffer.from('Hello, world!\n');
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
  let head = `HTTP/1.${request.minor} ${status} ${STATUS_TEXT[status] ?? ''}\r\nDate: ${httpDate()}\r\n`;
  head += `Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n${extraHeaders}`;
  if (!request.keepAlive) head += 'Connection: close\r\n';
  else if (request.minor === 0) head += 'Connection: keep-alive\r\n';
  head += '\r\n';
  conn.send(request.method === 'HEAD' || body.length === 0 ? head : Buffer.concat([Buffer.from(head, 'latin1'), body]));
  if (!request.keepAlive) finish(conn);
}

/** Answers an error and closes: after a refused request, what follows cannot be trusted. */
function refuse(conn: HttpConnection, error: HttpError): void {
  const state = conn.data as HttpState;
  const minor = state.request?.minor ?? 1;
  respond(conn, { minor, keepAlive: false, method: 'GET' }, error.status, 'text/plain', Buffer.from(`${error.reason}\n`));
}

function finish(conn: HttpConnection): void {
  const state = conn.data as HttpState;
  state.done = true;
  state.pending = undefined;
  conn.end();
}

/* ---- The server ---------------------------------------------------------- */

export interface HttpServer {
  loop: EventLoop;
  servers: ServerSocket[];
  port: number;
  /** Requests answered so far. */
  readonly requests: number;
  /** Closes the loop gracefully (if it was made here). */
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions = {}): Promise<HttpServer> {
  const limits: Limits = {
    maxHeaderBytes: options.maxHeaderBytes ?? 16 * 1024,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    headersTimeoutMs: options.headersTimeoutMs ?? 10_000,
  };
  const ownLoop = options.loop === undefined;
  const loop = options.loop ?? new EventLoop({ idleTimeoutMs: 5_000, ...options.loopOptions });
  let requests = 0;

  const onHeadersTimeout = (conn: HttpConnection) => {
    const state = conn.data as HttpState;
    state.headersTimer = 0;
    if (!state.done && conn.state === 'open') refuse(conn, new HttpError(408, 'headers not complete in time'));
  };

  /** Routes a complete request. */
  const handle = (conn: HttpConnection, request: Request) => {
    requests++;
    const path = request.target.split('?', 1)[0];
    const get = request.method === 'GET' || request.method === 'HEAD';
    if (path === '/') {
      if (!get) respond(conn, request, 405, 'text/plain', Buffer.from('use GET\n'), 'Allow: GET, HEAD\r\n');
      else if (request.keepAlive && request.minor === 1 && request.method === 'GET') conn.send(helloResponse());
      else respond(conn, request, 200, 'text/plain', HELLO_BODY);
    } else if (path === '/stats') {
      if (!get) respond(conn, request, 405, 'text/plain', Buffer.from('use GET\n'), 'Allow: GET, HEAD\r\n');
      else respond(conn, request, 200, 'application/json', Buffer.from(JSON.stringify({ ...loop.metrics.snapshot(), requests })));
    } else if (path === '/echo') {
      if (request.method !== 'POST') respond(conn, request, 405, 'text/plain', Buffer.from('use POST\n'), 'Allow: POST\r\n');
      else respond(conn, request, 200, 'application/octet-stream', Buffer.concat(request.body, request.bodyBytes));
    } else {
      respond(conn, request, 404, 'text/plain', Buffer.from('not found\n'));
    }
  };

  /** Takes what `pending` holds of the current body; true once the request is complete. */
  const readBody = (state: HttpState, request: Request): boolean | HttpError => {
    if (request.framing === 'none') return true;
    if (request.framing === 'length') {
      const pending = state.pending;
      if (pending === undefined) return false;
      const take = Math.min(pending.length, request.remaining);
      request.body.push(pending.subarray(0, take));
      request.bodyBytes += take;
      request.remaining -= take;
      state.pending = take < pending.length ? pending.subarray(take) : undefined;
      return request.remaining === 0;
    }
    // Chunked: size line, data, CRLF, ... a zero-size chunk, then trailers up to a blank line.
    for (;;) {
      const pending = state.pending;
      if (pending === undefined) return false;
      if (state.chunkPhase === 'size' || state.chunkPhase === 'trailers') {
        const end = pending.indexOf('\r\n');
        if (end < 0) return pending.length > limits.maxHeaderBytes ? new HttpError(431, 'chunk line too long') : false;
        const line = pending.toString('latin1', 0, end);
        state.pending = end + 2 < pending.length ? pending.subarray(end + 2) : undefined;
        if (state.chunkPhase === 'trailers') {
          if (line === '') return true; // the blank line after the trailers: done
          continue; // a trailer field: ignored
        }
        const semicolon = line.indexOf(';'); // chunk extensions are ignored
        const size = semicolon < 0 ? line : line.slice(0, semicolon);
        if (!/^[0-9a-fA-F]{1,8}$/.test(size.trimEnd())) return new HttpError(400, 'malformed chunk size');
        const bytes = parseInt(size, 16);
        if (request.bodyBytes + bytes > limits.maxBodyBytes) return new HttpError(413, 'body too large');
        if (bytes === 0) state.chunkPhase = 'trailers';
        else {
          request.remaining = bytes;
          state.chunkPhase = 'data';
        }
      } else if (state.chunkPhase === 'data') {
        const take = Math.min(pending.length, request.remaining);
        request.body.push(pending.subarray(0, take));
        request.bodyBytes += take;
        request.remaining -= take;
        state.pending = take < pending.length ? pending.subarray(take) : undefined;
        if (request.remaining > 0) return false;
        state.chunkPhase = 'data-end';
      } else {
        if (pending.length < 2) return false;
        if (pending.readUInt16BE(0) !== CRLF) return new HttpError(400, 'chunk data not followed by CRLF');
        state.pending = pending.length > 2 ? pending.subarray(2) : undefined;
        state.chunkPhase = 'size';
      }
    }
  };

  /** Parses and answers every complete request in `pending`, in order. */
  const serve = (conn: HttpConnection) => {
    const state = conn.data as HttpState;
    while (!state.done && state.pending !== undefined) {
      let request = state.request;
      if (request === undefined) {
        const pending = state.pending;
        const end = pending.indexOf(HEAD_END);
        if (end < 0) {
          if (pending.length > limits.maxHeaderBytes) {
            refuse(conn, new HttpError(431, 'request head too large'));
            return;
          }
          if (state.headersTimer === 0) state.headersTimer = loop.timers.schedule(limits.headersTimeoutMs, onHeadersTimeout, conn);
          return;
        }
        if (end + 4 > limits.maxHeaderBytes) {
          refuse(conn, new HttpError(431, 'request head too large'));
          return;
        }
        if (state.headersTimer !== 0) {
          loop.timers.cancel(state.headersTimer);
          state.headersTimer = 0;
        }
        const parsed = parseHead(pending.toString('latin1', 0, end));
        state.pending = end + 4 < pending.length ? pending.subarray(end + 4) : undefined;
        if (parsed instanceof HttpError) {
          refuse(conn, parsed);
          return;
        }
        if (parsed.framing === 'length' && parsed.remaining > limits.maxBodyBytes) {
          state.request = parsed;
          refuse(conn, new HttpError(413, 'body too large'));
          return;
        }
        request = parsed;
        state.request = request;
        state.chunkPhase = 'size';
      }
      const complete = readBody(state, request);
      if (complete instanceof HttpError) {
        refuse(conn, complete);
        return;
      }
      if (!complete) return;
      state.request = undefined;
      handle(conn, request);
    }
  };

  const servers = await loop.listen([{ host: options.host ?? '::', port: options.port ?? 8080, backlog: 4096 }], {
    onConnect(conn) {
      (conn as HttpConnection).data = { pending: undefined, request: undefined, chunkPhase: 'size', headersTimer: 0, done: false };
    },
    onData(conn, chunk) {
      const http = conn as HttpConnection;
      const state = http.data as HttpState;
      if (state.done) return;
      state.pending = state.pending === undefined ? chunk : Buffer.concat([state.pending, chunk]);
      serve(http);
    },
    onEnd(conn) {
      // The client half-closed: what is complete was answered; an unfinished request is dropped.
      finish(conn as HttpConnection);
    },
    onClose(conn) {
      const state = (conn as HttpConnection).data;
      if (state !== undefined && state.headersTimer !== 0) loop.timers.cancel(state.headersTimer);
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
    },
  };
}

if (require.main === module) {
  const argument = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
  };
  startHttpServer({ host: argument('host', '::'), port: Number(argument('port', '8080')) })
    .then(async (server) => {
      server.loop.handleSignals({ timeoutMs: 2_000 }); // before saying we are ready: a signal may follow at once
      const host = server.servers[0].host;
      console.log(`http server listening on ${host.includes(':') ? `[${host}]` : host}:${server.port}`);
      await server.loop.run();
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
