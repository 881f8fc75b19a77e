import { BodyDecoder } from '../../../examples/http/body-decoder';
import { findHeadEnd, HttpError, parseHead } from '../../../examples/http/request-head';

const limits = { maxBodyBytes: 1 << 20, maxFramingBytes: 16 * 1024 };

/** Feeds `wire` to a decoder in pieces cut at `cuts`, keeping what it leaves unconsumed, as the server does. */
function decodeInPieces(wire: Buffer, cuts: number[]): { body: string; rest: string } | HttpError {
  const decoder = new BodyDecoder('chunked', 0, limits);
  let pending = Buffer.alloc(0);
  let from = 0;
  for (const cut of [...cuts, wire.length]) {
    pending = Buffer.concat([pending, wire.subarray(from, cut)]);
    from = cut;
    const stopped = decoder.decode(pending, 0);
    if (stopped instanceof HttpError) return stopped;
    pending = pending.subarray(stopped);
    if (decoder.done) return { body: decoder.body().toString(), rest: Buffer.concat([pending, wire.subarray(from)]).toString() };
  }
  return { body: `(incomplete: ${decoder.body().toString()})`, rest: pending.toString() };
}

describe('BodyDecoder (chunked)', () => {
  const wire = Buffer.from('3;ext="a;b"\r\nabc\r\n0A\r\n0123456789\r\n1 ;x=y\r\n!\r\n0\r\nTrailer: t\r\n\r\nNEXT');

  test('gives the same body whichever byte boundaries the data arrives at', () => {
    const expected = { body: 'abc0123456789!', rest: 'NEXT' };
    expect(decodeInPieces(wire, [])).toEqual(expected);
    for (let a = 1; a < wire.length; a++) {
      expect(decodeInPieces(wire, [a])).toEqual(expected);
      expect(
        decodeInPieces(
          wire,
          Array.from({ length: a }, (_, i) => i + 1),
        ),
      ).toEqual(expected); // byte by byte up to a
    }
  });

  test('memory follows the body: a million bytes in one-byte chunks make one buffer of at most twice that', () => {
    const decoder = new BodyDecoder('chunked', 0, { ...limits, maxFramingBytes: 8 << 20 });
    const oneByteChunks = Buffer.from('1\r\na\r\n'.repeat(1_000_000) + '0\r\n\r\n');
    expect(decoder.decode(oneByteChunks, 0)).toBe(oneByteChunks.length);
    expect(decoder.done).toBe(true);
    expect(decoder.length).toBe(1_000_000);
    expect(decoder.body().buffer.byteLength).toBeLessThanOrEqual(2 * (1 << 20));
  });

  test('a body over the limit is refused as soon as a chunk size says so', () => {
    const decoder = new BodyDecoder('chunked', 0, { maxBodyBytes: 10, maxFramingBytes: 1024 });
    expect(decoder.decode(Buffer.from('5\r\nhello\r\n6\r\n'), 0)).toEqual(new HttpError(413, 'body too large'));
  });

  test('a chunk size too large for any number is refused, not misread', () => {
    const decoder = new BodyDecoder('chunked', 0, limits);
    expect(decoder.decode(Buffer.from('10000000000000000000001\r\n'), 0)).toEqual(new HttpError(413, 'body too large'));
  });
});

describe('BodyDecoder (Content-Length)', () => {
  test('takes exactly the declared length and leaves the rest', () => {
    const decoder = new BodyDecoder('length', 5, limits);
    expect(decoder.decode(Buffer.from('hel'), 0)).toBe(3);
    expect(decoder.done).toBe(false);
    expect(decoder.decode(Buffer.from('loGET'), 0)).toBe(2);
    expect(decoder.done).toBe(true);
    expect(decoder.body().toString()).toBe('hello');
  });
});

describe('findHeadEnd', () => {
  test('finds the blank line, resuming a scan where it stopped', () => {
    const head = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\nrest');
    expect(findHeadEnd(head, 0)).toBe(head.length - 4);
    expect(findHeadEnd(head.subarray(0, 20), 0)).toBe(-1);
    expect(findHeadEnd(head, 17)).toBe(head.length - 4);
  });

  test('refuses a bare LF wherever it is', () => {
    expect(findHeadEnd(Buffer.from('GET / HTTP/1.1\nHost'), 0)).toBeInstanceOf(HttpError);
    expect(findHeadEnd(Buffer.from('\n'), 0)).toBeInstanceOf(HttpError);
  });
});

describe('parseHead', () => {
  test('reads method, path, version, framing and keep-alive', () => {
    expect(parseHead('POST /echo?x=1 HTTP/1.1\r\nHost: a:80\r\nContent-Length: 0005\r\nConnection: close')).toEqual({
      method: 'POST',
      target: '/echo?x=1',
      path: '/echo',
      minor: 1,
      keepAlive: false,
      framing: 'length',
      contentLength: 5,
      expectContinue: false,
    });
    expect(parseHead('GET / HTTP/1.0\r\nConnection: keep-alive')).toMatchObject({ minor: 0, keepAlive: true, framing: 'none' });
    expect(parseHead('OPTIONS * HTTP/1.1\r\nHost: a')).toMatchObject({ path: '*' });
    expect(parseHead('GET HTTPS://a.test HTTP/1.1\r\nHost: a.test')).toMatchObject({ path: '/' });
    expect(parseHead('GET / HTTP/1.1\r\nHost: [::1]:8080')).toMatchObject({ method: 'GET' });
    expect(parseHead('GET / HTTP/1.1\r\nHost:')).toMatchObject({ method: 'GET' }); // empty Host: allowed
    // Field names in any case; a longer or shorter name is another field.
    expect(parseHead('POST / HTTP/1.1\r\nhOsT: a\r\nCONTENT-length: 3\r\nconnection: CLOSE')).toMatchObject({
      framing: 'length',
      contentLength: 3,
      keepAlive: false,
    });
    expect(parseHead('GET / HTTP/1.1\r\nHosts: a')).toMatchObject({ status: 400, reason: 'missing Host' });
    expect(parseHead('GET / HTTP/1.0\r\nConnection: Keep-Alive')).toMatchObject({ minor: 0, keepAlive: true });
  });

  test.each([
    ['GET /\u00e9 HTTP/1.1\r\nHost: a', 400],
    ['GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,', 400],
    ['GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity', 501],
    ['GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +5', 400],
    ['GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5', 400],
    ['GET / HTTP/3.0\r\nHost: a', 505],
    ['GET / HTTP/1.10\r\nHost: a', 400],
    ['GET / http/1.1\r\nHost: a', 400],
    ['GET / HTTP/1.1x\r\nHost: a', 400],
    ['GET / HTTP/1.1 \r\nHost: a', 400],
    ['GET /\r\nHost: a b', 400], // the second space is past the request line
    ['GET / HTTP/1.1\r\nhost: a\r\nHOST: b', 400], // one Host, however it is spelt
    ['GET / HTTP/1.1\r\nHosT: a\r\ncontent-LENGTH: 1\r\nContent-length: 1', 400],
    ['GET / HTTP/1.1\r\nHost: a\r\nEXPECT: 200-ok', 417],
  ])('%p: %p', (head, status) => {
    expect(parseHead(head)).toMatchObject({ status });
  });
});
