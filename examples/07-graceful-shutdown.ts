/**
 * Step 7: graceful shutdown on signals.
 *
 * `loop.handleSignals()` makes SIGINT and SIGTERM close the loop gracefully:
 * stop accepting, let queued writes drain, half-close every connection, wait
 * for the peers, and only at the deadline destroy what is left. A second
 * signal forces. Here the program sends itself SIGTERM while a slow client
 * is still downloading 2 MiB: the client gets every byte, then the end.
 *
 * Run: npx ts-node examples/07-graceful-shutdown.ts
 */
import * as net from 'node:net';
import { EventLoop } from '../src';

async function main(): Promise<void> {
  const loop = new EventLoop();
  const [server] = await loop.listen([{ host: '127.0.0.1', port: 0 }], {
    onData(conn) {
      conn.send(Buffer.alloc(2 * 1024 * 1024, 7)); // a big answer, sent as fast as the client reads
    },
    onClose(conn, reason) {
      console.log(`server: connection ${conn.id} closed: ${reason}`);
    },
  });
  loop.handleSignals({ timeoutMs: 5_000 });
  const running = loop.run();

  const client = net.connect(server.port, '127.0.0.1');
  let received = 0;
  client.on('data', (chunk: Buffer) => {
    received += chunk.length;
    client.pause(); // a slow reader
    setTimeout(() => client.resume(), 2);
  });
  client.on('end', () => {
    console.log(`client: the server ended the connection after sending all ${received} bytes`);
    client.end();
  });
  client.write('send me something big');
  await new Promise((resolve) => client.once('data', resolve));

  console.log('sending SIGTERM to myself, mid-download');
  process.kill(process.pid, 'SIGTERM');
  await running;
  console.log('loop closed; nothing is left, so the process exits with code', process.exitCode ?? 0);
}

void main();
