/**
 * Step 2: non-blocking read and write.
 *
 * `read` never waits: it returns what has arrived, `null` when nothing has
 * (EAGAIN), and an empty buffer at end of stream. `write` never waits either:
 * it returns how many bytes it accepted, fewer than offered (or 0) when the
 * send buffer is full; the rest is yours to keep until `writable`.
 *
 * Run: npx ts-node examples/02-read-and-write.ts
 */
import * as net from 'node:net';
import { Events, Interest, Reactor } from '../src';

async function main(): Promise<void> {
  const reactor = new Reactor();
  const listener = await reactor.listen({ host: '127.0.0.1', port: 0 });
  reactor.register(listener, Interest.READABLE);
  const client = net.connect(reactor.info(listener).localPort as number, '127.0.0.1');
  client.on('error', () => {});
  const events = new Events();
  await reactor.poll(events);
  const fd = reactor.accept(listener) as number;
  reactor.register(fd, Interest.READABLE);

  console.log(`read(fd ${fd}) before the client writes -> ${String(reactor.read(fd))} (EAGAIN)`);
  client.write('hello, reactor');
  await reactor.poll(events);
  console.log(`poll -> fd ${fd} readable; read -> "${String(reactor.read(fd))}"`);

  // The client stops reading: our writes fill its kernel buffers, then ours.
  client.pause();
  const block = Buffer.alloc(1024 * 1024, 120);
  let total = 0;
  for (;;) {
    const accepted = reactor.write(fd, block);
    total += accepted;
    if (accepted < block.length) {
      console.log(`write(fd ${fd}, 1 MiB) -> fewer bytes than offered: the send buffer is full`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 5)); // let libuv hand it to the kernel
  }
  console.log(`write(fd ${fd}, 1 MiB) -> ${reactor.write(fd, block)} (EAGAIN: wait for writable)`);
  console.log(`queued toward a client that does not read: more than 1 MiB? ${total > 1024 * 1024}`);

  client.resume();
  client.end(); // FIN: the client is done sending
  let read: Buffer | null = null;
  while (read === null || read.length > 0) {
    await reactor.poll(events);
    read = reactor.read(fd);
  }
  console.log(`after the client's FIN: read -> a buffer of length ${read.length} (end of stream)`);

  client.destroy();
  await reactor.close();
}

void main();
