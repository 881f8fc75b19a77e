import * as net from 'node:net';
import { Readable } from 'node:stream';
import { Pool } from 'undici';
import { type HttpServer, startHttpServer } from '../../examples/http-server';
import { leakedSince, resourceCounts, settleHandles } from '../helpers/resources';

/** Sends raw bytes (in the given pieces, one write each) and resolves with all the server sent before closing. */
function raw(port: number, pieces: (string | Buffer)[], { closeAfterMs = 0 } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (got += d));
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
    socket.on('connect', () => {
      void (async () => {
        for (const piece of pieces) {
          socket.write(piece);
          if (pieces.length > 1) await new Promise((r) => setImmediate(r));
        }
        if (closeAfterMs > 0) setTimeout(() => socket.end(), closeAfterMs);
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
      expect((await stats.body.json()) as object).toMatchObject({ accepts: expect.any(Number) as number, requests: expect.any(Number) as number });
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
    test('HTTP/1.0: answered, then closed (unless keep-alive)', async () => {
      const response = await raw(server.port, ['GET / HTTP/1.0\r\n\r\n']);
      expect(response).toMatch(/^HTTP\/1\.0 200 OK\r\n/);
      expect(response).toContain('Connection: close');
      expect(bodiesOf(response)).toEqual(['Hello, world!\n']);
      const kept = await raw(server.port, ['GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n']);
      expect(kept.match(/HTTP\/1\.0 200/g)).toHaveLength(2);
    });

    test('Connection: close ends the connection after the response, ignoring what follows', async () => {
      const response = await raw(server.port, ['GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n']);
      expect(response.match(/HTTP\/1\.1 200/g)).toHaveLength(1);
    });

    test('a request split into one-byte writes is parsed like any other', async () => {
      const request = 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello';
      const response = await raw(server.port, Array.from(Buffer.from(request), (byte) => Buffer.from([byte])));
      expect(statusOf(response)).toBe(200);
      expect(bodiesOf(response)).toEqual(['hello']);
    });

    test.each([
      ['no Host on HTTP/1.1', 400, 'GET / HTTP/1.1\r\n\r\n'],
      ['two Hosts', 400, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
      ['Content-Length and Transfer-Encoding both', 400, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
      ['a duplicate Content-Length', 400, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc'],
      ['an invalid Content-Length', 400, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc'],
      ['a negative Content-Length', 400, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'],
      ['a Transfer-Encoding other than chunked', 400, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'],
      ['whitespace before a colon', 400, 'GET / HTTP/1.1\r\nHost : x\r\n\r\n'],
      ['obsolete line folding', 400, 'GET / HTTP/1.1\r\nHost: x\r\nX-Long: a\r\n  b\r\n\r\n'],
      ['a garbled request line', 400, 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['a control character in a header', 400, 'GET / HTTP/1.1\r\nHost: x\u0001\r\n\r\n'],
      ['a malformed chunk size', 400, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
      ['HTTP/2.0 over HTTP/1 framing', 505, 'GET / HTTP/2.0\r\nHost: x\r\n\r\n'],
      ['a head larger than the limit', 431, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`],
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
