/**
 * Echo through the reactor against a plain node:net echo server, side by side
 * in one run: the same load client (its own process, loopback only, bounded in
 * time), each server in its own process, in interleaved rounds.
 *
 * - small messages: 128 B ping-pong on 50 connections (messages per second);
 * - bulk: 64 KiB writes on 50 connections, 256 KiB in flight each (MB/s).
 *
 * Also the same server under each triggering mode (level, one-shot against
 * edge), on the small messages: what each costs on one workload; and the
 * same server on each backend on real sockets (LibuvBackend, through
 * node:net, and RawHandleBackend, on libuv's TCP handles).
 *
 * Targets: on raw handles, at least 1.05x LibuvBackend.
 *
 * Target: the reactor's echo at least 0.95 of plain node:net.
 * Run: npm run bench -- echo
 */
import { pairedRow, printTable, type Row } from './lib/report';
import { RawHandleBackend } from '../src';
import { cpuSeconds, runClient, startServer } from './lib/processes';

/** The raw-handle backend joins where this Node has its bindings. */
const RAW = RawHandleBackend.available();

interface LoadResult {
  seconds: number;
  messages: number;
  bytes: number;
  totalMessages: number;
  /** Server CPU seconds while the client ran (warm-up included), if /proc tells. */
  serverCpuSeconds?: number;
}

const ROUNDS = 4; // bulk throughput on this machine swings by 20% from run to run: four rounds, median
const WORKLOADS = {
  'ping-pong 128 B': ['--mode', 'pingpong', '--size', '128'],
  'bulk 64 KiB': ['--mode', 'bulk', '--size', String(64 * 1024), '--window', String(256 * 1024)],
} as const;
const SERVERS = {
  'node:net': { script: 'bench/servers/plain-echo.ts', args: [] },
  reactor: { script: 'examples/echo-server.ts', args: ['--trigger', 'edge'] },
  'reactor, level': { script: 'examples/echo-server.ts', args: ['--trigger', 'level'] },
  'reactor, one-shot': { script: 'examples/echo-server.ts', args: ['--trigger', 'oneshot'] },
  'reactor on raw handles': { script: 'examples/echo-server.ts', args: ['--trigger', 'edge', '--backend', 'raw'] },
} as const;
type ServerName = keyof typeof SERVERS;
/** Which servers run each workload: the trigger comparison on the small messages only (it is about events, not bytes). */
const LINEUP: Record<keyof typeof WORKLOADS, ServerName[]> = {
  'ping-pong 128 B': ['node:net', 'reactor', 'reactor, level', 'reactor, one-shot', ...(RAW ? (['reactor on raw handles'] as const) : [])],
  'bulk 64 KiB': ['node:net', 'reactor', ...(RAW ? (['reactor on raw handles'] as const) : [])],
};

async function measure(server: ServerName, workload: readonly string[]): Promise<LoadResult> {
  const running = await startServer(SERVERS[server].script, ['--port', '0', ...SERVERS[server].args]);
  try {
    const cpuBefore = cpuSeconds(running.pid);
    const result = await runClient<LoadResult>('bench/clients/echo-load.ts', [
      '--port',
      String(running.port),
      '--connections',
      '50',
      '--warmup-ms',
      '500',
      '--measure-ms',
      '3000',
      ...workload,
    ]);
    const cpuAfter = cpuSeconds(running.pid);
    if (cpuBefore !== undefined && cpuAfter !== undefined) result.serverCpuSeconds = cpuAfter - cpuBefore;
    return result;
  } finally {
    await running.stop();
  }
}

async function main(): Promise<void> {
  const results: Record<string, { messagesPerSecond: number[]; mbPerSecond: number[]; cpuUsPerMessage: number[] }> = {};
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [workload, args] of Object.entries(WORKLOADS)) {
      // Rotate which server goes first, so none always runs on a warmer machine.
      const lineup = LINEUP[workload as keyof typeof WORKLOADS];
      const order = lineup.map((_, i) => lineup[(i + round) % lineup.length]);
      for (const name of order) {
        process.stdout.write(`round ${round}/${ROUNDS}: ${workload} through ${name} ... `);
        const r = await measure(name, args);
        const key = `${workload}|${name}`;
        results[key] ??= { messagesPerSecond: [], mbPerSecond: [], cpuUsPerMessage: [] };
        results[key].messagesPerSecond.push(r.messages / r.seconds);
        results[key].mbPerSecond.push(r.bytes / r.seconds / 1e6);
        const cpu = r.serverCpuSeconds === undefined ? undefined : (r.serverCpuSeconds * 1e6) / r.totalMessages;
        results[key].cpuUsPerMessage.push(cpu ?? NaN); // one entry a round, so rounds pair up
        process.stdout.write(
          `${(r.messages / r.seconds).toFixed(0)} msg/s, ${(r.bytes / r.seconds / 1e6).toFixed(1)} MB/s` +
            (cpu === undefined ? '\n' : `, server ${cpu.toFixed(2)} µs CPU/msg\n`),
        );
      }
    }
  }
  const rows: Row[] = [];
  for (const workload of Object.keys(WORKLOADS)) {
    const ours = results[`${workload}|reactor`];
    const base = results[`${workload}|node:net`];
    const bulk = workload.startsWith('bulk');
    rows.push(
      pairedRow(
        {
          name: `echo ${workload}, 50 connections: reactor (edge-triggered example)`,
          unit: bulk ? 'MB/s' : 'msg/s',
          baselineName: 'node:net pipe',
          better: 'higher',
          target: 0.95,
        },
        bulk ? ours.mbPerSecond : ours.messagesPerSecond,
        bulk ? base.mbPerSecond : base.messagesPerSecond,
      ),
    );
    rows.push(
      pairedRow(
        { name: `echo ${workload}: reactor server CPU per message`, unit: 'µs', baselineName: 'node:net pipe', better: 'lower' },
        ours.cpuUsPerMessage,
        base.cpuUsPerMessage,
      ),
    );
  }
  const pingPong = (name: ServerName) => results[`ping-pong 128 B|${name}`].messagesPerSecond;
  const cpuPingPong = (name: ServerName) => results[`ping-pong 128 B|${name}`].cpuUsPerMessage;
  for (const name of ['reactor, level', 'reactor, one-shot'] as const) {
    const trigger = name.slice('reactor, '.length);
    rows.push(
      pairedRow(
        { name: `echo ping-pong 128 B: ${trigger}-triggered`, unit: 'msg/s', baselineName: 'edge-triggered', better: 'higher' },
        pingPong(name),
        pingPong('reactor'),
      ),
      pairedRow(
        {
          name: `echo ping-pong 128 B: ${trigger}-triggered, server CPU per message`,
          unit: 'µs',
          baselineName: 'edge-triggered',
          better: 'lower',
        },
        cpuPingPong(name),
        cpuPingPong('reactor'),
      ),
    );
  }
  if (RAW) {
    for (const workload of Object.keys(WORKLOADS)) {
      const raw = results[`${workload}|reactor on raw handles`];
      const libuv = results[`${workload}|reactor`];
      const bulk = workload.startsWith('bulk');
      rows.push(
        pairedRow(
          {
            name: `echo ${workload}: reactor on raw handles`,
            unit: bulk ? 'MB/s' : 'msg/s',
            baselineName: 'same on LibuvBackend',
            better: 'higher',
            target: 1.05,
          },
          bulk ? raw.mbPerSecond : raw.messagesPerSecond,
          bulk ? libuv.mbPerSecond : libuv.messagesPerSecond,
        ),
        pairedRow(
          {
            name: `echo ${workload}: reactor on raw handles, server CPU per message`,
            unit: 'µs',
            baselineName: 'same on LibuvBackend',
            better: 'lower',
          },
          raw.cpuUsPerMessage,
          libuv.cpuUsPerMessage,
        ),
      );
    }
  }
  printTable(
    `Echo (Node ${process.version}, medians of ${ROUNDS} interleaved rounds, 3 s each; ratios: median of the rounds' ratios)`,
    rows,
  );
}

void main();
