/**
 * Step 9: past one core.
 *
 * A loop has one thread. Work that would hold it (here: counting primes)
 * goes to a worker thread; the answer comes back through `loop.channel`,
 * which wakes the loop, and the loop writes it to the connection. Only the
 * loop's thread touches sockets: Node cannot move a socket to another
 * thread, so the worker gets numbers, not the connection, and hands back
 * numbers.
 *
 * Then the same server on two worker processes (`runWorkers`), one loop
 * each, sharing the port: the primary hands the connections out in turn.
 * This file is both: the primary runs part 1, then starts part 2's
 * workers, which run this file again and serve.
 *
 * Run: npx ts-node examples/09-past-one-core.ts
 */
import cluster from 'node:cluster';
import * as net from 'node:net';
import { Worker } from 'node:worker_threads';
import diagnosticsChannel from 'node:diagnostics_channel';
import { EventLoop, runWorkers, type WorkerContext } from '../src';

/** The worker thread: counts the primes below each number it is sent, and posts the count on the port it was given. */
const PRIME_COUNTER = `
const { parentPort, workerData, threadId } = require('node:worker_threads');
parentPort.on('message', ({ connection, below }) => {
  const composite = new Uint8Array(below);
  let count = 0;
  for (let n = 2; n < below; n++) {
    if (composite[n]) continue;
    count++;
    for (let m = n * n; m < below; m += n) composite[m] = 1;
  }
  workerData.answers.postMessage({ connection, below, count, threadId });
});
`;

interface Answer {
  connection: number;
  below: number;
  count: number;
  threadId: number;
}

/**
 * The prime server on `loop`: each line a client sends is a number; the
 * count of primes below it is computed on a worker thread and written back.
 */
async function primeServer(loop: EventLoop, name: string, listen: WorkerContext['listen'], say: (line: string) => void) {
  const answers = loop.channel<Answer>((answer) => {
    say(
      `the answer came back through the channel, on the loop's thread: ${answer.count} primes below ${answer.below} (from worker thread ${answer.threadId})`,
    );
    loop.registry.get(answer.connection)?.send(`${answer.count} (${name})\n`); // gone meanwhile: nothing to write to
  });
  const port2 = answers.port();
  const counter = new Worker(PRIME_COUNTER, { eval: true, workerData: { answers: port2 }, transferList: [port2] });
  counter.unref(); // it should not keep the process alive; it ends with the loop (below)
  const [server] = await loop.listen([{ host: '127.0.0.1', port: 0, ...listen }], {
    onData(conn, chunk) {
      const below = Number(chunk.toString().trim());
      say(`connection ${conn.id} asks for the primes below ${below}: handed to a worker thread`);
      counter.postMessage({ connection: conn.id, below });
    },
  });
  void loop.run().finally(() => void counter.terminate());
  return server.port;
}

/** A client that sends one line and resolves with the line it gets back. */
function ask(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`${line}\n`));
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.endsWith('\n')) socket.end();
    });
    socket.on('close', () => resolve(got.trim()));
    socket.on('error', reject);
  });
}

/** Part 1: one loop, one worker thread. */
async function oneLoopAndAThread(): Promise<void> {
  console.log('part 1: one loop, the counting on a worker thread');
  const loop = new EventLoop();
  const port = await primeServer(loop, 'one loop', {}, (line) => console.log(`  loop: ${line}`));
  console.log(`  client: ${await ask(port, '1000000')}`);
  await loop.close();
}

/** Part 2: the same server on two worker processes; this runs in the primary and in each worker. */
async function twoWorkers(): Promise<void> {
  const result = await runWorkers({
    workers: 2,
    timeoutMs: 2_000,
    async start(worker) {
      const loop = new EventLoop();
      await primeServer(loop, `worker ${worker.id}`, worker.listen, () => {}); // port 0: chosen once by the primary, shared
      return loop;
    },
  });
  if (result.role === 'primary') {
    const { accepts, graceful, forced, restarts } = result.report;
    console.log(
      `  SIGTERM: both workers closed gracefully; one report: ${accepts} accepted, ${graceful} graceful, ${forced} forced, ${restarts} restarts`,
    );
  }
}

/** The primary of part 2: once both workers serve, asks four times on the one port, then stops them all with SIGTERM. */
function askTheWorkers(): void {
  let ready = 0;
  diagnosticsChannel.subscribe('tsreactor:workers:ready', (message) => {
    if (++ready < 2) return;
    const { port } = (message as { listening: { port: number }[] }).listening[0];
    void (async () => {
      const answers: string[] = [];
      for (let i = 0; i < 4; i++) answers.push(await ask(port, '100000'));
      for (const answer of answers.sort()) console.log(`  client: ${answer}`);
      process.kill(process.pid, 'SIGTERM');
    })();
  });
}

async function main(): Promise<void> {
  if (cluster.isPrimary) {
    await oneLoopAndAThread();
    console.log('part 2: the same server on two worker processes');
    askTheWorkers();
  }
  await twoWorkers();
}

void main();
