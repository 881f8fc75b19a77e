/**
 * Step 1: listen and accept.
 *
 * socket + bind + listen is one call, `reactor.listen`; the listening fd
 * becomes readable when a connection waits; `accept` takes it, or returns
 * null when none is left (EAGAIN).
 *
 * Run: npx ts-node examples/01-listen-and-accept.ts
 */
import * as net from 'node:net';
import { Events, Interest, Reactor } from '../src';

async function main(): Promise<void> {
  const reactor = new Reactor();
  const listener = await reactor.listen({ host: '127.0.0.1', port: 0 });
  const { localPort } = reactor.info(listener);
  console.log(`listen(127.0.0.1, port 0) -> fd ${listener}, bound to port ${localPort}`);

  reactor.register(listener, Interest.READABLE);
  console.log(`register(fd ${listener}, READABLE)`);

  const client = net.connect(localPort as number, '127.0.0.1'); // another program, really
  client.on('error', () => {});

  const events = new Events();
  const count = await reactor.poll(events);
  for (const event of events) console.log(`poll -> ${count} event: fd ${event.fd} readable=${event.readable}`);

  const fd = reactor.accept(listener) as number;
  const info = reactor.info(fd);
  console.log(`accept(fd ${listener}) -> fd ${fd}, a ${info.kind} from ${info.remoteAddress}:${info.remotePort}`);
  console.log(`accept(fd ${listener}) -> ${String(reactor.accept(listener))} (nothing more waiting: EAGAIN)`);

  reactor.close(fd);
  reactor.close(listener);
  console.log(`close(fd ${fd}), close(fd ${listener})`);
  client.destroy();
  await reactor.close();
}

void main();
