/**
 * A small line server on the reactor, to test with the simulator (see
 * docs/testing-with-the-simulator.md): each line a client sends comes back in
 * upper case; a connection silent for `idleTimeoutMs` is closed.
 *
 * Run: npx ts-node examples/uppercase-server.ts [--port 7100]
 */
import { Events, Interest, Reactor, ReactorError } from '../src';

interface Client {
  fd: number;
  partial: string;
  idleTimer: number;
}

export interface UppercaseServerOptions {
  reactor: Reactor<Client | undefined>;
  port: number;
  idleTimeoutMs?: number;
}

export async function startUppercaseServer(options: UppercaseServerOptions): Promise<{ port: number; done: Promise<void> }> {
  const { reactor, port, idleTimeoutMs = 30_000 } = options;
  const listener = await reactor.listen({ host: '127.0.0.1', port });
  reactor.register(listener, Interest.READABLE);

  const closeClient = (client: Client) => {
    reactor.timers.cancel(client.idleTimer);
    reactor.close(client.fd);
  };
  // One shared callback, the client as context: no closure per timer.
  const onIdle = (client: Client) => {
    reactor.close(client.fd);
  };

  const serve = (client: Client) => {
    for (let chunk = reactor.read(client.fd); chunk !== null; chunk = reactor.read(client.fd)) {
      if (chunk.length === 0) {
        closeClient(client);
        return;
      }
      reactor.timers.reschedule(client.idleTimer, idleTimeoutMs); // activity: later, without relinking
      const lines = (client.partial + chunk.toString()).split('\n');
      client.partial = lines.pop() ?? '';
      for (const line of lines) reactor.write(client.fd, Buffer.from(`${line.toUpperCase()}\n`));
    }
  };

  const loop = async () => {
    const events = new Events<Client | undefined>();
    for (;;) {
      await reactor.poll(events);
      for (const event of events) {
        const client = event.token;
        if (client === undefined) {
          for (let fd = reactor.accept(listener); fd !== null; fd = reactor.accept(listener)) {
            const fresh: Client = { fd, partial: '', idleTimer: 0 };
            fresh.idleTimer = reactor.timers.schedule(idleTimeoutMs, onIdle, fresh);
            reactor.register(fd, Interest.READABLE, { trigger: 'edge', token: fresh });
          }
        } else {
          try {
            serve(client);
          } catch (err) {
            if (!(err instanceof ReactorError)) throw err;
            closeClient(client);
          }
        }
      }
    }
  };
  const done = loop().catch((err: unknown) => {
    if (!(err instanceof ReactorError && err.code === 'ERR_REACTOR_CLOSED')) throw err;
  });
  return { port: reactor.info(listener).localPort as number, done };
}

if (require.main === module) {
  const portArg = process.argv.indexOf('--port');
  const port = portArg >= 0 ? Number(process.argv[portArg + 1]) : 7100;
  const reactor = new Reactor<Client | undefined>();
  void startUppercaseServer({ reactor, port }).then((server) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void reactor.close());
    console.log(`uppercase server listening on 127.0.0.1:${server.port}`); // once a signal can be handled
  });
}
