/**
 * Reading an HTTP/1.1 request head (RFC 9112): finding where it ends, and
 * parsing the request line and header fields. Strict on purpose: anything
 * ambiguous is refused rather than guessed at, because a request that two
 * servers read differently is how request smuggling works.
 */

/** A reason to refuse a request: the status to answer with, then close. */
export class HttpError {
  constructor(
    readonly status: 400 | 408 | 413 | 414 | 417 | 431 | 501 | 505,
    readonly reason: string,
  ) {}
}

/** What the head says about a request. */
export interface RequestHead {
  method: string;
  /** The request target as sent. */
  target: string;
  /** The path to route on: origin-form without its query, the path of an absolute-form target, or `*`. */
  path: string;
  /** 0 for HTTP/1.0; 1 for HTTP/1.1 (and later 1.x minors, handled as 1.1). */
  minor: number;
  keepAlive: boolean;
  /** Body framing: none, a length, or chunked. */
  framing: 'none' | 'length' | 'chunked';
  /** The Content-Length (framing 'length'), else 0. */
  contentLength: number;
  /** `Expect: 100-continue` on HTTP/1.1: the client waits for a 100 before sending the body. */
  expectContinue: boolean;
}

const CR = 0x0d;
const LF = 0x0a;

/** RFC 9110 token characters, for methods, header names and chunk extensions. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1;

/** True if `text[from, to)` is a non-empty token. */
export function isToken(text: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

/** A field value may hold visible characters, spaces, tabs and obs-text; no control characters (CR and LF included). */
export function isFieldValue(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

/** Where a field line's parts are: the colon, and the value with surrounding whitespace trimmed. */
export interface FieldBounds {
  colon: number;
  valueStart: number;
  valueEnd: number;
}

/**
 * Checks one field line (`name: value`, without its CRLF), as in a header
 * section or a chunked body's trailers. Fills `out` with the name's end
 * (the colon) and the value's bounds with surrounding whitespace trimmed,
 * and returns undefined; or returns an error. (`out` is the caller's, so a
 * head of many fields makes no object per field.)
 */
export function parseFieldLine(text: string, start: number, end: number, out: FieldBounds): HttpError | undefined {
  const first = text.charCodeAt(start);
  if (first === 0x20 || first === 0x09) return new HttpError(400, 'obsolete line folding');
  const colon = text.indexOf(':', start);
  if (colon < 0 || colon > end) return new HttpError(400, 'field line without a colon');
  if (!isToken(text, start, colon)) return new HttpError(400, 'malformed field name (or whitespace before the colon)');
  let valueStart = colon + 1;
  let valueEnd = end;
  while (valueStart < valueEnd && (text.charCodeAt(valueStart) === 0x20 || text.charCodeAt(valueStart) === 0x09)) valueStart++;
  while (valueEnd > valueStart && (text.charCodeAt(valueEnd - 1) === 0x20 || text.charCodeAt(valueEnd - 1) === 0x09)) valueEnd--;
  if (!isFieldValue(text, valueStart, valueEnd)) return new HttpError(400, 'malformed field value');
  out.colon = colon;
  out.valueStart = valueStart;
  out.valueEnd = valueEnd;
  return undefined;
}

/**
 * True if the token `text[start, end)` is `lower`, ignoring case, without
 * making a lower-cased copy. (`| 0x20` lower-cases a letter; no other token
 * character becomes a letter by it.)
 */
function tokenIs(text: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if ((text.charCodeAt(start + i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** True if `text[from, to)` is visible ASCII, at least one character (no spaces, controls or obs-text). */
function isVisibleAscii(text: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * Looks for the blank line that ends a request head in `data`, from `from`
 * on. Returns the offset just past it, -1 if it has not arrived yet, or an
 * error for a bare LF (a line end without its CR: RFC 9112 lets a server
 * refuse it, and accepting it is how a front end and a back end come to
 * split one stream into different requests).
 *
 * A bare LF before the blank line is found by `parseHead` (a control
 * character in a line); here it matters while the head is incomplete,
 * since a head that ends with bare LFs would otherwise wait for a CRLF
 * CRLF that never comes. `from` lets a caller that saw part of the head
 * before resume near where it stopped (pass the previous length of the
 * data, less 3), so a head that arrives byte by byte is scanned once.
 */
export function findHeadEnd(data: Buffer, from: number): number | HttpError {
  const end = data.indexOf(HEAD_END, from);
  if (end >= 0) return end + 4;
  for (let lf = data.indexOf(LF, from); lf >= 0; lf = data.indexOf(LF, lf + 1)) {
    if (lf === 0 || data[lf - 1] !== CR) return new HttpError(400, 'bare LF in the request head');
  }
  return -1;
}

const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;
/** The field bounds parseHead fills for each line (one object for every head: parseHead runs to completion before the next). */
const FIELD: FieldBounds = { colon: 0, valueStart: 0, valueEnd: 0 };

const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d*)?$/;

/** The path to route on, or an error if the target is none of the forms a server must take (RFC 9112 section 3.2). */
function pathOf(method: string, target: string): string | HttpError {
  if (!isVisibleAscii(target, 0, target.length)) return new HttpError(400, 'malformed request target');
  if (target.charCodeAt(0) === 0x2f /* / */) return withoutQuery(target);
  const authority = ABSOLUTE_FORM.exec(target);
  if (authority !== null) {
    const path = withoutQuery(target.slice(authority[0].length));
    return path === '' ? '/' : path.startsWith('/') ? path : new HttpError(400, 'malformed request target');
  }
  if (target === '*' && method === 'OPTIONS') return '*';
  return new HttpError(400, 'malformed request target');
}

function withoutQuery(target: string): string {
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}

/**
 * Parses a request line and header fields (the head without its final blank
 * line; line ends already checked by `findHeadEnd`) into a RequestHead, or
 * an HttpError saying why not. What it refuses:
 *
 * - a request line other than `method SP target SP HTTP/1.x` with single
 *   spaces, a method that is not a token, a target that is not origin-form,
 *   absolute-form (http or https) or `*` for OPTIONS: 400;
 * - another major version: 505 (later 1.x minors are read as 1.1, as RFC
 *   9110 section 2.5 asks);
 * - obsolete line folding, whitespace before a colon, control characters: 400;
 * - Content-Length that is not digits, or given twice (even with one value): 400;
 *   one too large to be a body this server takes: 413;
 * - Transfer-Encoding other than exactly `chunked` once: 501 for a coding
 *   it does not know, 400 for `chunked` twice or not last; both
 *   Content-Length and Transfer-Encoding: 400; Transfer-Encoding on 1.0: 400;
 * - Host missing on HTTP/1.1, given twice, or not a valid host[:port]: 400;
 * - Expect other than `100-continue`: 417.
 */
export function parseHead(head: string): RequestHead | HttpError {
  let lineEnd = head.indexOf('\r\n');
  const requestEnd = lineEnd < 0 ? head.length : lineEnd;
  const firstSpace = head.indexOf(' ');
  const secondSpace = firstSpace < 0 ? -1 : head.indexOf(' ', firstSpace + 1);
  const thirdSpace = secondSpace < 0 ? -1 : head.indexOf(' ', secondSpace + 1);
  if (firstSpace <= 0 || secondSpace < 0 || secondSpace >= requestEnd || (thirdSpace >= 0 && thirdSpace < requestEnd)) {
    return new HttpError(400, 'malformed request line');
  }
  if (!isToken(head, 0, firstSpace)) return new HttpError(400, 'malformed method');
  const method = head.slice(0, firstSpace);
  const target = head.slice(firstSpace + 1, secondSpace);
  let minor = 1;
  // The common case without a copy of the version: exactly `HTTP/1.1` up to the line's end.
  if (requestEnd - secondSpace !== 9 || !head.startsWith('HTTP/1.1', secondSpace + 1)) {
    const versionMatch = /^HTTP\/(\d)\.(\d)$/.exec(head.slice(secondSpace + 1, requestEnd));
    if (versionMatch === null) return new HttpError(400, 'malformed HTTP version');
    if (versionMatch[1] !== '1') return new HttpError(505, 'unsupported HTTP version');
    minor = versionMatch[2] === '0' ? 0 : 1;
  }
  if (method === 'CONNECT') return new HttpError(501, 'CONNECT is not supported');
  const path = pathOf(method, target);
  if (path instanceof HttpError) return path;

  let contentLength = -1;
  let codings: string[] | undefined;
  let hosts = 0;
  let connectionClose = false;
  let connectionKeepAlive = false;
  let expectContinue = false;
  for (let start = lineEnd + 2; lineEnd >= 0 && start < head.length; start = lineEnd + 2) {
    lineEnd = head.indexOf('\r\n', start);
    const end = lineEnd < 0 ? head.length : lineEnd;
    const refused = parseFieldLine(head, start, end, FIELD);
    if (refused !== undefined) return refused;
    const { colon, valueStart, valueEnd } = FIELD;
    // Only the fields that change how the request is framed or answered are looked at.
    if (tokenIs(head, start, colon, 'host')) {
      hosts++;
      if (valueEnd > valueStart && !HOST_VALUE.test(head.slice(valueStart, valueEnd))) return new HttpError(400, 'invalid Host');
    } else if (tokenIs(head, start, colon, 'content-length')) {
      const value = head.slice(valueStart, valueEnd);
      if (contentLength !== -1) return new HttpError(400, 'duplicate Content-Length');
      if (!/^\d+$/.test(value)) return new HttpError(400, 'invalid Content-Length');
      if (valueEnd - valueStart > 15) return new HttpError(413, 'body too large');
      contentLength = Number(value);
    } else if (tokenIs(head, start, colon, 'transfer-encoding')) {
      (codings ??= []).push(
        ...head
          .slice(valueStart, valueEnd)
          .toLowerCase()
          .split(',')
          .map((c) => c.trim()),
      );
    } else if (tokenIs(head, start, colon, 'connection')) {
      for (const option of head.slice(valueStart, valueEnd).toLowerCase().split(',')) {
        const o = option.trim();
        if (o === 'close') connectionClose = true;
        else if (o === 'keep-alive') connectionKeepAlive = true;
      }
    } else if (tokenIs(head, start, colon, 'expect')) {
      if (head.slice(valueStart, valueEnd).toLowerCase() !== '100-continue') {
        return new HttpError(417, 'only "Expect: 100-continue" is supported');
      }
      expectContinue = minor === 1;
    }
  }
  let chunked = false;
  if (codings !== undefined) {
    if (codings.some((c) => c !== 'chunked')) {
      return codings.some((c) => !/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(c))
        ? new HttpError(400, 'malformed Transfer-Encoding')
        : new HttpError(501, 'unsupported transfer coding (only "chunked")');
    }
    if (codings.length > 1) return new HttpError(400, '"chunked" applied more than once');
    chunked = true;
  }
  if (chunked && contentLength !== -1) return new HttpError(400, 'both Content-Length and Transfer-Encoding');
  if (chunked && minor === 0) return new HttpError(400, 'Transfer-Encoding in an HTTP/1.0 request');
  if (hosts > 1) return new HttpError(400, 'duplicate Host');
  if (minor === 1 && hosts === 0) return new HttpError(400, 'missing Host');
  const framing = chunked ? 'chunked' : contentLength > 0 ? 'length' : 'none';
  return {
    method,
    target,
    path,
    minor,
    keepAlive: minor === 1 ? !connectionClose : connectionKeepAlive && !connectionClose,
    framing,
    contentLength: framing === 'length' ? contentLength : 0,
    expectContinue: expectContinue && framing !== 'none',
  };
}
