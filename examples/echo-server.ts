/**
 * An edge-triggered echo server written directly on `poll`: the reactor's
 * event loop in about a hundred lines.
 *
 * - The listener is level-triggered: accept until `accept` returns null.
 * - Connections are edge-triggered: each event means something new arrived,
 *   so read until `read` returns null (EAGAIN), or nothing more is reported.
 * - Writes may be partial: what `write` did not accept waits in the
 *   connection's queue, reading stops (so a client that sends without reading
 *   is held back by TCP, not buffered here), and the queue is flushed when the
 *   socket is writable again.
 *
 * The same server runs under the other triggering modes too (`--trigger`),
 * which is how the benchmark compares them on one workload:
 * - `level`: one read per event; what is left is reported again next poll;
 * - `oneshot`: read until EAGAIN, then re-arm with `modify` (a system call
 *   per event with epoll: the price of never getting an event twice).
 *
 * Run: npx ts-node examples/echo-server.ts [--host 127.0.0.1] [--port 7007]
 *      [--trigger edge|level|oneshot] [--backend libuv|raw] [--inbox-limit bytes]
 * (port 0 picks a free port; the chosen one is printed). Ctrl-C stops it.
 */
import { type Event, Events, Interest, Reactor, ReactorError } from '../src';
import { argument } from './argument';
import { backendNamed } from './backend-option';

interface Connection {
  fd: number;
  /** Bytes read but not yet accepted by `write`, oldest first. */
  queue: Buffer[];
  /** The client half-closed: close once the queue is flushed. */
  ending: boolean;
  /** Waiting for WRITABLE (the queue is not empty), not reading. */
  blocked: boolean;
  closed: boolean;
}

/** How connections are registered (the listener is always level-triggered). */
export type EchoTrigger = 'edge' | 'level' | 'oneshot';

export interface EchoServerOptions {
  host?: string;
  port?: number;
  /** Connections that may wait to be accepted (default 511); a burst of connects needs more. */
  backlog?: number;
  /** A reactor to run on (default: a new one on real sockets). Closed by `stop`. */
  reactor?: Reactor<Connection | undefined>;
  /** Default 'edge'. */
  trigger?: EchoTrigger;
}

export interface EchoServer {
  port: number;
  /** Closes everything; resolves once the loop has ended. */
  stop(): Promise<void>;
}

export async function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const trigger = options.trigger ?? 'edge';
  if (!(['edge', 'level', 'oneshot'] as readonly string[]).includes(trigger)) {
    throw new RangeError(`'trigger' must be 'edge', 'level' or 'oneshot', got ${String(trigger)}`);
  }
  const readsPerEvent = trigger === 'level' ? 1 : Infinity;
  const reactor = options.reactor ?? new Reactor<Connection | undefined>();
  const listener = await reactor.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0, backlog: options.backlog });
  reactor.register(listener, Interest.READABLE);

  const close = (conn: Connection) => {
    conn.closed = true;
    reactor.close(conn.fd);
  };

  /** Writes the queue out; `true` once it is empty. */
  const flush = (conn: Connection): boolean => {
    while (conn.queue.length > 0) {
      const head = conn.queue[0];
      const accepted = reactor.write(conn.fd, head);
      if (accepted < head.length) {
        conn.queue[0] = head.subarray(accepted);
        return false;
      }
      conn.queue.shift();
    }
    return true;
  };

  const serve = (conn: Connection, event: Event<Connection | undefined>) => {
    if (event.writable && !flush(conn)) return; // still blocked: wait for the next writable edge
    if (event.writable) {
      if (conn.ending) {
        close(conn);
        return;
      }
      conn.blocked = false;
      reactor.modify(conn.fd, Interest.READABLE, { trigger, token: conn }); // resume reading
    }
    for (let reads = 0; reads < readsPerEvent; reads++) {
      const chunk = reactor.read(conn.fd);
      if (chunk === null) return; // drained: wait for the next edge
      if (chunk.length === 0) {
        conn.ending = true;
        if (conn.queue.length === 0) close(conn);
        return;
      }
      conn.queue.push(chunk);
      if (!flush(conn)) {
        // Stop reading until the queue drains: TCP holds the client back meanwhile.
        conn.blocked = true;
        reactor.modify(conn.fd, Interest.WRITABLE, { trigger, token: conn });
        return;
      }
    }
  };

  const loop = async () => {
    const events = new Events<Connection | undefined>(1024);
    for (;;) {
      await reactor.poll(events);
      for (const event of events) {
        const conn = event.token;
        if (conn === undefined) {
          for (let fd = reactor.accept(listener); fd !== null; fd = reactor.accept(listener)) {
            const accepted: Connection = { fd, queue: [], ending: false, blocked: false, closed: false };
            reactor.register(fd, Interest.READABLE, { trigger, token: accepted });
          }
          continue;
        }
        try {
          serve(conn, event);
          // One-shot: disarmed after this event; arm it again for what we wait for now.
          if (trigger === 'oneshot' && !conn.closed) {
            reactor.modify(conn.fd, conn.blocked ? Interest.WRITABLE : Interest.READABLE, { trigger, token: conn });
          }
        } catch (err) {
          if (!(err instanceof ReactorError)) throw err;
          close(conn); // reset, broken pipe: the client is gone
        }
      }
    }
  };

  const done = loop().catch((err: unknown) => {
    if (!(err instanceof ReactorError && err.code === 'ERR_REACTOR_CLOSED')) throw err;
  });
  return {
    port: reactor.info(listener).localPort as number,
    async stop() {
      await reactor.close();
      await done;
    },
  };
}

if (require.main === module) {
  const host = argument('host', '127.0.0.1');
  Promise.resolve()
    .then(() => {
      const inboxLimit = argument('inbox-limit', '');
      const backend = backendNamed(argument('backend', 'libuv'), inboxLimit === '' ? {} : { inboxLimit: Number(inboxLimit) });
      const reactor = new Reactor<Connection | undefined>({ backend });
      return startEchoServer({
        host,
        port: Number(argument('port', '7007')),
        trigger: argument('trigger', 'edge') as EchoTrigger,
        reactor,
      });
    })
    .then((server) => {
      const stop = () => {
        void server.stop().then(() => process.exit(0));
      };
      process.once('SIGINT', stop); // before saying we are ready: a signal may follow at once
      process.once('SIGTERM', stop);
      console.log(`echo server listening on ${host}:${server.port}`);
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
