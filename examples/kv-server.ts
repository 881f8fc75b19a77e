/**
 * A small key-value server on the EventLoop, to test with the simulator (see
 * docs/testing-with-the-simulator.md, "An EventLoop server"). One command per
 * line: `SET key value` answers `OK`; `GET key` answers `VALUE value` or
 * `NONE`; `DEL key` answers `OK` or `NONE`; anything else `ERR`. A
 * connection silent for `idleTimeoutMs` is closed.
 *
 * Run: npx ts-node examples/kv-server.ts [--port 7200]
 */
import { type ConnectionHandlers, EventLoop, Reactor } from '../src';

/** The answer to one command line (without its newline). */
export function answer(store: Map<string, string>, line: string): string {
  const [command, key = '', ...rest] = line.trim().split(' ');
  if (key === '') return 'ERR';
  if (command === 'SET' && rest.length > 0) {
    store.set(key, rest.join(' '));
    return 'OK';
  }
  if (command === 'GET') return store.has(key) ? `VALUE ${store.get(key)}` : 'NONE';
  if (command === 'DEL') return store.delete(key) ? 'OK' : 'NONE';
  return 'ERR';
}

/** The server's handlers: each connection keeps the partial line its last chunk ended with (`conn.data`). */
export function kvHandlers(store: Map<string, string>): ConnectionHandlers<string> {
  return {
    onData(conn, chunk) {
      const lines = ((conn.data ?? '') + chunk.toString()).split('\n');
      conn.data = lines.pop(); // a command may arrive in pieces: keep the unfinished one
      for (const line of lines) conn.send(`${answer(store, line)}\n`);
    },
  };
}

export interface KvServerOptions {
  reactor?: Reactor;
  port: number;
  idleTimeoutMs?: number;
  /** The handlers to serve with (default `kvHandlers` on a fresh store): a test can run a variant. */
  handlers?: ConnectionHandlers<string>;
}

/** Starts the server; `running` settles when `loop.close()` has finished. */
export async function startKvServer(options: KvServerOptions): Promise<{ loop: EventLoop; port: number; running: Promise<void> }> {
  const { reactor, port, idleTimeoutMs = 30_000, handlers = kvHandlers(new Map()) } = options;
  const loop = new EventLoop({ reactor, idleTimeoutMs });
  const [server] = await loop.listen([{ host: '127.0.0.1', port }], handlers);
  return { loop, port: server.port, running: loop.run() };
}

if (require.main === module) {
  const portArg = process.argv.indexOf('--port');
  void startKvServer({ port: portArg >= 0 ? Number(process.argv[portArg + 1]) : 7200 }).then(({ loop, port }) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void loop.close());
    console.log(`key-value server listening on 127.0.0.1:${port}`);
  });
}
