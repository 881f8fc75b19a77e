/**
 * Step 3: level, edge and one-shot triggering, side by side.
 *
 * One client sends "hello" once, and nothing reads it. Watch what three
 * polls report under each trigger:
 * - level: the data is there, so every poll reports it;
 * - edge: it arrived once, so it is reported once;
 * - oneshot: reported once, then the registration is disarmed until modify.
 *
 * Run: npx ts-node examples/03-level-edge-oneshot.ts
 */
import * as net from 'node:net';
import { Events, Interest, Reactor, type Trigger } from '../src';

async function watch(trigger: Trigger): Promise<void> {
  const reactor = new Reactor();
  const listener = await reactor.listen({ host: '127.0.0.1', port: 0 });
  reactor.register(listener, Interest.READABLE);
  const client = net.connect(reactor.info(listener).localPort as number, '127.0.0.1');
  client.on('error', () => {});
  const events = new Events();
  await reactor.poll(events);
  const fd = reactor.accept(listener) as number;
  reactor.unregister(listener);
  reactor.register(fd, Interest.READABLE, { trigger });

  client.write('hello');
  await reactor.poll(events, 1000); // wait for it to arrive
  const seen = [events.length];
  for (let i = 0; i < 2; i++) seen.push(await reactor.poll(events, 20)); // nothing new arrives
  let line = `${trigger.padEnd(8)} polls after one arrival: ${seen.map((n) => (n > 0 ? 'readable' : '-').padEnd(8)).join(' ')}`;
  if (trigger === 'oneshot') {
    reactor.modify(fd, Interest.READABLE, { trigger: 'oneshot' }); // re-arm
    line += ` | after modify: ${(await reactor.poll(events, 20)) > 0 ? 'readable' : '-'}`;
  }
  console.log(line);
  client.destroy();
  await reactor.close();
}

async function main(): Promise<void> {
  for (const trigger of ['level', 'edge', 'oneshot'] as const) await watch(trigger);
}

void main();
