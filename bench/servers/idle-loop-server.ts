/** The EventLoop side of the idle-connections benchmark: echo, 30 s idle timeout. */
import { EventLoop } from '../../src';
import { answerMemoryProbes } from '../lib/memory-probe';

async function main(): Promise<void> {
  const loop = new EventLoop({ idleTimeoutMs: 30_000 });
  const [server] = await loop.listen([{ host: '127.0.0.1', port: 0, backlog: 4096 }], {
    onData(conn, chunk) {
      conn.send(chunk);
    },
  });
  answerMemoryProbes(() => loop.registry.size);
  process.once('SIGTERM', () => void loop.close({ timeoutMs: 0 }).then(() => process.exit(0)));
  console.log(`listening on 127.0.0.1:${server.port}`);
  await loop.run();
}

void main();
