/**
 * Reading a request body framed by Content-Length or by chunked transfer
 * coding (RFC 9112 sections 6 and 7), incrementally, as bytes arrive.
 */
import { HttpError, parseFieldLine } from './request-head';

export interface BodyLimits {
  /** Body bytes, at most (the decoded data, without chunk framing). */
  maxBodyBytes: number;
  /**
   * Chunk framing bytes (size lines with their extensions) and, separately,
   * trailer bytes, at most each. Both are bounded so that a body cannot make
   * the server hold or scan much more than the data it carries.
   */
  maxFramingBytes: number;
}

const CR = 0x0d;
const LF = 0x0a;

/** chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] ) */
const CHUNK_EXTENSIONS =
  /^(?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*=[ \t]*(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"))?)*$/;

type Phase = 'size' | 'data' | 'data-end' | 'trailers' | 'done';

/**
 * Decodes one request body. Feed it what arrived with `decode(data, offset)`:
 * it consumes what it can and returns where it stopped (the rest waits for
 * more bytes), or an HttpError. `done` turns true when the body (and, for
 * chunked, its trailers) is complete; `body()` then returns it.
 *
 * The data is copied into one buffer that grows as it fills (doubling, up to
 * the limit), so memory follows the body's size, not the number or the
 * framing of its chunks: a body of a million one-byte chunks costs a
 * megabyte, not a million buffers.
 *
 * Chunked framing is checked to the letter: the size is hex digits only;
 * extensions are `;name` or `;name=value` (token or quoted string) with
 * optional whitespace before `;` and around `=`, and otherwise ignored; each
 * line ends with CRLF (a bare CR or LF is an error, not a line end); chunk
 * data is followed by CRLF; trailers are field lines, checked as headers
 * are, and ignored. A body that two HTTP implementations could read
 * differently is refused.
 */
export class BodyDecoder {
  readonly #chunked: boolean;
  #phase: Phase;
  /** Bytes left of the body ('length') or of the current chunk ('chunked'). */
  #remaining: number;
  readonly #limits: BodyLimits;
  #buffer: Buffer | undefined;
  #length = 0;
  #framingBytes = 0;
  #trailerBytes = 0;

  constructor(framing: 'length' | 'chunked', contentLength: number, limits: BodyLimits) {
    this.#limits = limits;
    this.#phase = framing === 'length' ? (contentLength > 0 ? 'data' : 'done') : 'size';
    this.#remaining = framing === 'length' ? contentLength : 0;
    this.#chunked = framing === 'chunked';
  }

  get done(): boolean {
    return this.#phase === 'done';
  }

  /** Body bytes decoded so far. */
  get length(): number {
    return this.#length;
  }

  /** The decoded body (a view of the decoder's buffer). */
  body(): Buffer {
    return this.#buffer === undefined ? Buffer.alloc(0) : this.#buffer.subarray(0, this.#length);
  }

  /** Consumes from `data[offset..]`; returns the offset it stopped at, or why the body is refused. */
  decode(data: Buffer, offset: number): number | HttpError {
    let at = offset;
    while (at < data.length && this.#phase !== 'done') {
      switch (this.#phase) {
        case 'data': {
          const take = Math.min(data.length - at, this.#remaining);
          this.#append(data, at, at + take);
          at += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#phase = this.#chunked ? 'data-end' : 'done';
          break;
        }
        case 'data-end': {
          if (data.length - at < 2) return at;
          if (data[at] !== CR || data[at + 1] !== LF) return new HttpError(400, 'chunk data not followed by CRLF');
          at += 2;
          this.#phase = 'size';
          break;
        }
        case 'size':
        case 'trailers': {
          const sizeLine = this.#phase === 'size';
          const lf = data.indexOf(LF, at);
          const lineBytes = (lf < 0 ? data.length : lf + 1) - at;
          // Counted before the line is complete too: a line can never outgrow the limit while we wait for its end.
          if (sizeLine) {
            if (this.#framingBytes + lineBytes > this.#limits.maxFramingBytes)
              return new HttpError(413, 'chunk framing too large (extensions?)');
          } else if (this.#trailerBytes + lineBytes > this.#limits.maxFramingBytes) {
            return new HttpError(431, 'trailers too large');
          }
          if (lf < 0) return at;
          if (lf === at || data[lf - 1] !== CR) return new HttpError(400, 'bare LF in chunk framing');
          const line = data.toString('latin1', at, lf - 1);
          at = lf + 1;
          if (sizeLine) this.#framingBytes += lineBytes;
          else this.#trailerBytes += lineBytes;
          const refused = sizeLine ? this.#sizeLine(line) : this.#trailerLine(line);
          if (refused !== undefined) return refused;
          break;
        }
      }
    }
    return at;
  }

  #sizeLine(line: string): HttpError | undefined {
    let digits = 0;
    while (digits < line.length && /[0-9A-Fa-f]/.test(line[digits])) digits++;
    if (digits === 0) return new HttpError(400, 'malformed chunk size');
    if (!CHUNK_EXTENSIONS.test(line.slice(digits))) return new HttpError(400, 'malformed chunk extension');
    const hex = line.slice(0, digits).replace(/^0+(?=.)/, '');
    const size = hex.length > 12 ? Infinity : parseInt(hex, 16);
    if (this.#length + size > this.#limits.maxBodyBytes) return new HttpError(413, 'body too large');
    if (size === 0) this.#phase = 'trailers';
    else {
      this.#remaining = size;
      this.#phase = 'data';
    }
    return undefined;
  }

  #trailerLine(line: string): HttpError | undefined {
    if (line === '') {
      this.#phase = 'done';
      return undefined;
    }
    const refused = parseFieldLine(line, 0, line.length, { colon: 0, valueStart: 0, valueEnd: 0 });
    return refused === undefined ? undefined : new HttpError(400, `malformed trailer: ${refused.reason}`);
  }

  /** Copies `data[from, to)` to the end of the body, growing the buffer by doubling (never past the limit). */
  #append(data: Buffer, from: number, to: number): void {
    const needed = this.#length + (to - from);
    if (this.#buffer === undefined || needed > this.#buffer.length) {
      const grown = Math.min(Math.max(needed, 2 * (this.#buffer?.length ?? 0), 1024), this.#limits.maxBodyBytes);
      const next = Buffer.allocUnsafe(Math.max(grown, needed));
      if (this.#buffer !== undefined) this.#buffer.copy(next, 0, 0, this.#length);
      this.#buffer = next;
    }
    data.copy(this.#buffer, this.#length, from, to);
    this.#length = needed;
  }
}
