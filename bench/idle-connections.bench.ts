/**
 * 10,000 idle connections with a 30 s idle timeout: the EventLoop against the
 * same number of bare net.Sockets (socket.setTimeout), each server in its own
 * process, the same client process holding the connections open.
 *
 * - memory per connection: heap, external and array buffers after a full
 *   collection, with the connections open minus without; RSS likewise;
 * - wake-ups in 10 s of idleness: the server's main thread's voluntary
 *   context switches (each is the thread going to sleep in the kernel, so
 *   their count is its wake-ups), read from /proc without touching it.
 *
 * Targets: memory within 10% of bare sockets; no periodic wake-ups.
 * Run: npm run bench -- idle-connections (Linux: reads /proc)
 */
import { readFileSync } from 'node:fs';
import { printTable, type Row } from './lib/report';
import { startProcess, startServer } from './lib/processes';

const CONNECTIONS = 10_000;
const IDLE_MS = 10_000;

interface Memory {
  connections: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

function wakeUps(pid: number): number {
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1]);
}

async function measure(script: string): Promise<{ bytes: number; rss: number; wakeUps: number }> {
  const server = await startServer(script, [], { nodeArgs: ['--expose-gc'], stdin: true });
  try {
    const ask = async (): Promise<Memory> => {
      server.send('measure');
      return JSON.parse(await server.nextLine()) as Memory;
    };
    const empty = await ask();
    const clients = await startProcess(
      'bench/clients/idle-clients.ts',
      ['--port', String(server.port), '--count', String(CONNECTIONS)],
      /connected (\d+)/,
    );
    try {
      // The client counts a connection once the kernel completes it; wait for the server to have accepted all.
      let full = await ask();
      for (let tries = 0; full.connections < CONNECTIONS && tries < 100; tries++) {
        await new Promise((r) => setTimeout(r, 50));
        full = await ask();
      }
      if (full.connections !== CONNECTIONS) throw new Error(`${script}: ${full.connections} connections, not ${CONNECTIONS}`);
      const heap = (m: Memory) => m.heapUsed + m.external; // external includes array buffers
      await new Promise((r) => setTimeout(r, 500)); // let the probe's own activity settle
      const before = wakeUps(server.pid);
      await new Promise((r) => setTimeout(r, IDLE_MS));
      const after = wakeUps(server.pid);
      return {
        bytes: (heap(full) - heap(empty)) / CONNECTIONS,
        rss: (full.rss - empty.rss) / CONNECTIONS,
        wakeUps: after - before,
      };
    } finally {
      await clients.stop();
    }
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  process.stdout.write('bare net.Sockets ...\n');
  const bare = await measure('bench/servers/idle-bare-server.ts');
  process.stdout.write('EventLoop ...\n');
  const loop = await measure('bench/servers/idle-loop-server.ts');
  const rows: Row[] = [
    {
      name: `JS memory per idle connection (${CONNECTIONS.toLocaleString('en-US')}, 30 s idle timeout): EventLoop`,
      value: loop.bytes,
      unit: 'B',
      baselineName: 'bare net.Socket + setTimeout',
      baselineValue: bare.bytes,
      better: 'lower',
      target: 1 / 1.1,
    },
    {
      name: 'RSS per idle connection: EventLoop',
      value: loop.rss,
      unit: 'B',
      baselineName: 'bare net.Socket + setTimeout',
      baselineValue: bare.rss,
      better: 'lower',
    },
    { name: `wake-ups in ${IDLE_MS / 1000} s of idleness: EventLoop`, value: loop.wakeUps, unit: '', better: 'lower' },
    { name: `wake-ups in ${IDLE_MS / 1000} s of idleness: bare net.Sockets`, value: bare.wakeUps, unit: '', better: 'lower' },
  ];
  printTable(`Idle connections (Node ${process.version})`, rows);
}

void main();
