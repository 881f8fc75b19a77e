import * as net from 'node:net';
import { Readable } from 'node:stream';
import { Pool } from 'undici';
import { type HttpServer, startHttpServer } from '../../examples/http-server';
import { leakedSince, resourceCounts, settleHandles } from '../helpers/resources';

/**
 * Sends raw bytes (in the given pieces, one write each; then a FIN if
 * `end`) and resolves with all the server sent before closing. A server
 * that has not closed within 5 s fails the test then, not at the jest timeout.
 */
function raw(port: number, pieces: (string | Buffer)[], { end = false } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close within 5 s; it sent: ${JSON.stringify(got)}`));
    }, 5_000);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (got += d));
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve(got);
    });
    socket.on('error', reject);
    socket.on('connect', () => {
      void (async () => {
        for (const piece of pieces) {
          socket.write(piece);
          if (pieces.length > 1) await new Promise((r) => setImmediate(r));
        }
        if (end) socket.end();
      })();
    });
  });
}

const statusOf = (response: string) => Number(/^HTTP\/1\.\d (\d{3})/.exec(response)?.[1]);
const bodiesOf = (response: string) => response.split(/\r\n\r\n/).slice(1);

describe('examples/http-server.ts', () => {
  let server: HttpServer;
  let running: Promise<void>;
  let before: Record<string, number>;

  beforeEach(async () => {
    before = resourceCounts();
    server = await startHttpServer({ host: '127.0.0.1', port: 0, maxHeaderBytes: 1024, maxBodyBytes: 4096, headersTimeoutMs: 300 });
    running = server.loop.run();
  });

  afterEach(async () => {
    await server.close();
    await running;
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  describe('with undici (keep-alive, pipelining)', () => {
    let pool: Pool;
    beforeEach(() => {
      pool = new Pool(`http://127.0.0.1:${server.port}`, { connections: 2, pipelining: 10 });
    });
    afterEach(() => pool.close());

    test('GET / says hello, many times over two pipelined keep-alive connections', async () => {
      const responses = await Promise.all(Array.from({ length: 200 }, () => pool.request({ path: '/', method: 'GET' })));
      const bodies = await Promise.all(responses.map((r) => r.body.text()));
      expect(new Set(responses.map((r) => r.statusCode))).toEqual(new Set([200]));
      expect(new Set(bodies)).toEqual(new Set(['Hello, world!\n']));
      expect(server.loop.metrics.accepts).toBeLessThanOrEqual(2); // kept alive
      expect(server.requests).toBe(200);
    });

    test('pipelined responses come back in request order', async () => {
      const sizes = Array.from({ length: 30 }, (_, i) => (i * 37) % 4000);
      const responses = await Promise.all(
        sizes.map((n) => pool.request({ path: '/echo', method: 'POST', body: Buffer.alloc(n, n % 256) })),
      );
      const bodies = await Promise.all(responses.map(async (r) => Buffer.from(await r.body.arrayBuffer())));
      bodies.forEach((body, i) => {
        expect(body.length).toBe(sizes[i]);
        expect(body.every((b) => b === sizes[i] % 256)).toBe(true);
      });
    });

    test('a chunked request body is read whole', async () => {
      // A stream body of unknown length: undici sends it chunked.
      const response = await pool.request({
        path: '/echo',
        method: 'POST',
        body: Readable.from([Buffer.from('part one, '), Buffer.from('part two')]),
      });
      expect(response.statusCode).toBe(200);
      expect(await response.body.text()).toBe('part one, part two');
    });

    test('HEAD gets the headers and no body; /stats gives JSON; 404 and 405', async () => {
      const head = await pool.request({ path: '/', method: 'HEAD' });
      expect(head.statusCode).toBe(200);
      expect(head.headers['content-length']).toBe('14');
      expect(await head.body.text()).toBe('');
      const stats = await pool.request({ path: '/stats', method: 'GET' });
      expect((await stats.body.json()) as object).toMatchObject({
        accepts: expect.any(Number) as number,
        requests: expect.any(Number) as number,
      });
      const missing = await pool.request({ path: '/nowhere', method: 'GET' });
      expect(missing.statusCode).toBe(404);
      await missing.body.dump();
      const wrong = await pool.request({ path: '/', method: 'DELETE' });
      expect(wrong.statusCode).toBe(405);
      expect(wrong.headers.allow).toBe('GET, HEAD');
      await wrong.body.dump();
    });
  });

  describe('with raw sockets', () => {
    test('HTTP/1.0: answered (as HTTP/1.1, RFC 9110 6.2), then closed unless keep-alive was asked for', async () => {
      const response = await raw(server.port, ['GET / HTTP/1.0\r\n\r\n']);
      expect(response).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(response).toContain('Connection: close');
      expect(bodiesOf(response)).toEqual(['Hello, world!\n']);
      const kept = await raw(server.port, ['GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n']);
      const [first, second] = kept.split(/(?=HTTP\/1\.1 )/);
      expect(first).toMatch(/^HTTP\/1\.1 200 .*\r\nConnection: keep-alive\r\n/s);
      expect(second).toMatch(/^HTTP\/1\.1 200 .*\r\nConnection: close\r\n/s); // and then the server closed
    });

    test('empty lines before a request line are skipped (RFC 9112 2.2), also after a body', async () => {
      const response = await raw(server.port, [
        '\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      ]);
      expect(response.match(/HTTP\/1\.1 200/g)).toHaveLength(3);
      expect(response).toMatch(/^HTTP[^]*\r\n\r\nHello, world!\nHTTP[^]*\r\n\r\nabHTTP[^]*\r\n\r\nHello, world!\n$/);
    });

    test('an absolute-form target is routed on its path; HTTP/1.2 is read as 1.1', async () => {
      const response = await raw(server.port, ['GET http://example.test/?q=1 HTTP/1.2\r\nHost: example.test\r\nConnection: close\r\n\r\n']);
      expect(statusOf(response)).toBe(200);
      expect(bodiesOf(response)).toEqual(['Hello, world!\n']);
    });

    test('chunked: extensions and trailers are checked, then ignored', async () => {
      const response = await raw(server.port, [
        'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
          '5;name=value;quoted="a \\"b\\"" \r\nhello\r\n' +
          '06 ; flag\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n',
      ]);
      expect(statusOf(response)).toBe(400); // '5;...quoted="..." ' ends in whitespace: not allowed before CRLF
      const clean = await raw(server.port, [
        'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
          '5;name=value;quoted="a \\"b\\""\r\nhello\r\n06 ; flag\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n',
      ]);
      expect(statusOf(clean)).toBe(200);
      expect(bodiesOf(clean)).toEqual(['hello world']);
    });

    test('the client half-closes after its request: the response still comes', async () => {
      const response = await raw(server.port, ['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc'], { end: true });
      expect(statusOf(response)).toBe(200);
      expect(bodiesOf(response)).toEqual(['abc']);
    });

    test('a refused HEAD request gets its status and no body', async () => {
      const response = await raw(server.port, ['HEAD / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n']);
      expect(statusOf(response)).toBe(413);
      expect(bodiesOf(response)).toEqual(['']);
      const unparsed = await raw(server.port, ['HEAD / HTTP/1.1\r\n\r\n']); // no Host: refused before it is parsed
      expect(statusOf(unparsed)).toBe(400);
      expect(unparsed).toMatch(/Content-Length: \d+\r\n/);
      expect(unparsed.endsWith('\r\n\r\n')).toBe(true); // the head only: its client would read a body as the next response
    });

    test('OPTIONS * is answered: 200, no body, the methods the server knows in Allow', async () => {
      const response = await raw(server.port, ['OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
      expect(statusOf(response)).toBe(200);
      expect(response).toContain('Allow: GET, HEAD, POST, OPTIONS\r\n');
      expect(response).toContain('Content-Length: 0\r\n');
    });

    test('Expect: 100-continue gets a 100, then the final answer after the body', async () => {
      const socket = net.connect(server.port, '127.0.0.1');
      socket.setEncoding('latin1');
      let got = '';
      const more = () => new Promise<void>((resolve) => socket.once('data', (d: string) => resolve(void (got += d))));
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
      await more();
      expect(got).toBe('HTTP/1.1 100 Continue\r\n\r\n');
      socket.write('hello');
      await new Promise((resolve) => socket.on('close', resolve).on('data', (d: string) => (got += d)));
      expect(got.slice(25)).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello$/);
    });

    test('Expect: 100-continue for a request refused from its head alone: the refusal at once, no 100', async () => {
      const response = await raw(server.port, ['POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n']);
      expect(statusOf(response)).toBe(404);
      expect(response).not.toContain('100 Continue');
    });

    test('Connection: close ends the connection after the response, ignoring what follows', async () => {
      const response = await raw(server.port, ['GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n']);
      expect(response.match(/HTTP\/1\.1 200/g)).toHaveLength(1);
    });

    test('a request split into one-byte writes is parsed like any other', async () => {
      // About parsing, not deadlines: 77 writes a turn apart must not race this file's 300 ms head deadline on a busy machine.
      await server.close();
      await running;
      server = await startHttpServer({ host: '127.0.0.1', port: 0, maxHeaderBytes: 1024, maxBodyBytes: 4096, headersTimeoutMs: 30_000 });
      running = server.loop.run();
      const request = 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello';
      const response = await raw(
        server.port,
        Array.from(Buffer.from(request), (byte) => Buffer.from([byte])),
      );
      expect(statusOf(response)).toBe(200);
      expect(bodiesOf(response)).toEqual(['hello']);
    });

    test.each([
      ['no Host on HTTP/1.1', 400, 'GET / HTTP/1.1\r\n\r\n'],
      ['two Hosts', 400, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
      [
        'Content-Length and Transfer-Encoding both',
        400,
        'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ],
      ['a duplicate Content-Length', 400, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc'],
      ['an invalid Content-Length', 400, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc'],
      ['a negative Content-Length', 400, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'],
      ['a transfer coding it does not know', 501, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'],
      ['chunked twice', 400, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n'],
      ['a Content-Length of 16 digits', 413, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000000\r\n\r\n'],
      ['a bare LF ending header lines', 400, 'GET / HTTP/1.1\nHost: x\nConnection: close\n\n'],
      ['a bare LF in the last line end', 400, 'GET / HTTP/1.1\r\nHost: x\r\n\n'],
      ['an invalid Host', 400, 'GET / HTTP/1.1\r\nHost: a b/c@@\r\n\r\n'],
      ['two Hosts on HTTP/1.0', 400, 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n'],
      ['a target in no form a server takes', 400, 'GET index.html HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['CONNECT', 501, 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n'],
      ['an Expect other than 100-continue', 417, 'POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx'],
      // Chunk framing that two parsers could read differently (request smuggling):
      [
        'a bare LF ending a chunk extension',
        400,
        'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;\nxx\r\n3b\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
      ],
      [
        'a bare CR after a chunk size',
        400,
        'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\r\nhello\r\n0\r\n\r\n',
      ],
      ['a bare LF after a chunk size', 400, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\n\r\nab\r\n0\r\n\r\n'],
      [
        'a vertical tab after a chunk size',
        400,
        'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\u000b\r\nhello\r\n0\r\n\r\n',
      ],
      ['a 0x prefix on a chunk size', 400, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n'],
      [
        'an unbalanced quote in a chunk extension',
        400,
        'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a="b\r\nhello\r\n0\r\n\r\n',
      ],
      [
        'a bare LF ending the trailers',
        400,
        'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\nGET /hidden HTTP/1.1\r\nHost: x\r\n\r\n',
      ],
      [
        'a trailer that is not a field line',
        400,
        'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nnot a field\r\n\r\n',
      ],
      ['chunk data not followed by CRLF', 400, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n'],
      [
        'chunk extensions past the framing limit',
        413,
        `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${`1;${'e'.repeat(300)}\r\na\r\n`.repeat(5)}`,
      ],
      [
        'trailers past the limit',
        431,
        `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${`X-T: ${'b'.repeat(300)}\r\n`.repeat(5)}\r\n`,
      ],
      ['whitespace before a colon', 400, 'GET / HTTP/1.1\r\nHost : x\r\n\r\n'],
      ['obsolete line folding', 400, 'GET / HTTP/1.1\r\nHost: x\r\nX-Long: a\r\n  b\r\n\r\n'],
      ['a garbled request line', 400, 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['a control character in a header', 400, 'GET / HTTP/1.1\r\nHost: x\u0001\r\n\r\n'],
      ['a malformed chunk size', 400, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
      ['HTTP/2.0 over HTTP/1 framing', 505, 'GET / HTTP/2.0\r\nHost: x\r\n\r\n'],
      ['a head larger than the limit', 431, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`],
      ['a request target longer than the limit (RFC 9112 section 3)', 414, `GET /${'a'.repeat(2000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
      ['a request line still coming past the limit', 414, `GET /${'a'.repeat(2000)}`],
      ['more empty lines before a request line than a server skips', 400, `${'\r\n'.repeat(5)}GET / HTTP/1.1\r\nHost: x\r\n\r\n`],
      ['a declared body larger than the limit', 413, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n'],
      ['a chunked body larger than the limit', 413, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1001\r\n'],
    ])('%s: %p', async (_name, status, request) => {
      const response = await raw(server.port, [request]);
      expect(statusOf(response)).toBe(status);
      expect(response).toContain('Connection: close');
    });

    test('headers not complete in time: 408, even when the client keeps dripping bytes', async () => {
      const head = 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ';
      const socket = net.connect(server.port, '127.0.0.1');
      let got = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (got += d));
      const closed = new Promise((r) => socket.on('close', r));
      socket.on('error', () => {});
      socket.on('connect', () => socket.write(head));
      const drip = setInterval(() => {
        if (!socket.destroyed) socket.write('a');
      }, 50);
      await closed;
      clearInterval(drip);
      expect(statusOf(got)).toBe(408);
    });

    test('after a refused request the connection is closed and the server goes on', async () => {
      expect(statusOf(await raw(server.port, ['NOT HTTP\r\n\r\n']))).toBe(400);
      expect(statusOf(await raw(server.port, ['GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']))).toBe(200);
    });
  });
});
