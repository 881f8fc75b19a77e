/**
 * Step 5: backpressure.
 *
 * A client sends as fast as it may. While the server does not read, the
 * backend reads only up to a small inbox (64 KiB here: an extension of the
 * kernel's receive buffer, so that a reset or the end of stream is still
 * noticed), then stops reading the socket; the kernel's buffers fill, and
 * the client's writes block: TCP holds it back, nothing piles up in the
 * server. Reading again lets it all flow.
 *
 * Run: npx ts-node examples/05-backpressure.ts
 */
import * as net from 'node:net';
import { Events, Interest, LibuvBackend, Reactor } from '../src';

const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const reactor = new Reactor({ backend: new LibuvBackend({ inboxLimit: 64 * 1024 }) });
  const listener = await reactor.listen({ host: '127.0.0.1', port: 0 });
  reactor.register(listener, Interest.READABLE);
  const client = net.connect(reactor.info(listener).localPort as number, '127.0.0.1');
  client.on('error', () => {});
  const events = new Events();
  await reactor.poll(events);
  const fd = reactor.accept(listener) as number;
  reactor.register(fd, Interest.WRITABLE); // interested in writing only: nothing is read

  // The client writes 64 MiB, a MiB at a time, as long as write() says it may.
  let offered = 0;
  let blocked = false;
  const block = Buffer.alloc(MiB, 1);
  const pump = () => {
    while (offered < 64 * MiB) {
      offered += MiB;
      if (!client.write(block)) {
        blocked = true;
        return;
      }
    }
  };
  client.on('drain', () => {
    blocked = false;
    pump();
  });
  pump();
  await new Promise((resolve) => setTimeout(resolve, 300));
  console.log(`client blocked: ${blocked}, having been let through fewer than 64 MiB: ${offered < 64 * MiB}`);
  // The inbox, plus what Node's stream reads ahead (its high-water mark, 64 KiB) and one read of 64 KiB at most.
  const held = reactor.info(fd).bytesRead;
  console.log(`server holds only a bounded inbox: ${held <= 3 * 64 * 1024} (at most 192 KiB)`);

  // Now read: the flow resumes, and every byte arrives.
  reactor.modify(fd, Interest.READABLE, { trigger: 'edge' });
  let received = 0;
  while (received < 64 * MiB) {
    await reactor.poll(events);
    for (let chunk = reactor.read(fd); chunk !== null && chunk.length > 0; chunk = reactor.read(fd)) received += chunk.length;
  }
  console.log(`after reading again: received all ${received / MiB} MiB`);
  client.destroy();
  await reactor.close();
}

void main();
