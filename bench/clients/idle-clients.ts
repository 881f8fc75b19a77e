/**
 * Opens --count connections to 127.0.0.1:--port (in batches, to spare the
 * backlog), prints "connected <n>", then holds them, silent, until SIGTERM.
 */
import * as net from 'node:net';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const port = arg('port', 0);
const count = arg('count', 10_000);
const sockets: net.Socket[] = [];

async function main(): Promise<void> {
  for (let opened = 0; opened < count;) {
    const batch = Math.min(500, count - opened);
    await Promise.all(
      Array.from(
        { length: batch },
        () =>
          new Promise<void>((resolve) => {
            const socket = net.connect(port, '127.0.0.1');
            socket.on('error', () => resolve());
            socket.once('connect', () => resolve());
            sockets.push(socket);
          }),
      ),
    );
    opened += batch;
  }
  console.log(`connected ${sockets.filter((s) => !s.destroyed).length}`);
}

process.once('SIGTERM', () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
});
void main();
