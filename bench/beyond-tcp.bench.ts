/**
 * Descriptors beyond TCP, side by side in one run, in interleaved rounds:
 *
 * - UDP echo: the reactor's UDP echo example (examples/udp-echo-server.ts)
 *   against a plain node:dgram echo, the same load client (4 sockets, 32
 *   datagrams of 64 B in flight each): answers per second, datagrams lost,
 *   and server CPU per datagram;
 * - HTTP over a Unix domain socket against the same server over TCP
 *   loopback (examples/http-server.ts, 50 keep-alive connections). wrk
 *   cannot dial a Unix socket, so both rows use the undici client
 *   (bench/clients/http-load.ts): on 2 cores it takes a core of its own, so
 *   the server's CPU per request says more than requests per second.
 *
 * Run: npm run bench -- beyond-tcp
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { medianOf, pairedRow, printTable, type Row } from './lib/report';
import { cpuSeconds, runClient, startProcess, startServer } from './lib/processes';
import type { HttpLoadResult } from './lib/http-load';

const ROUNDS = 5; // UDP throughput on this machine swings by 30% from one round to the next: five rounds, median of ratios

interface UdpResult {
  seconds: number;
  answers: number;
  sent: number;
  received: number;
  lost: number;
}

const UDP_SERVERS = {
  'node:dgram': 'bench/servers/plain-udp-echo.ts',
  reactor: 'examples/udp-echo-server.ts',
} as const;

async function udpRound(name: keyof typeof UDP_SERVERS): Promise<{ perSecond: number; lostShare: number; cpuUs: number }> {
  const server = await startServer(UDP_SERVERS[name], ['--port', '0']);
  try {
    const before = cpuSeconds(server.pid);
    const r = await runClient<UdpResult>('bench/clients/udp-load.ts', ['--port', String(server.port), '--measure-ms', '3000']);
    const after = cpuSeconds(server.pid);
    const cpuUs = before === undefined || after === undefined ? NaN : ((after - before) * 1e6) / r.received;
    return { perSecond: r.answers / r.seconds, lostShare: r.lost / r.sent, cpuUs };
  } finally {
    await server.stop();
  }
}

async function httpRound(over: 'unix' | 'tcp', folder: string): Promise<{ perSecond: number; cpuUs: number }> {
  const path = join(folder, 'http.sock');
  const server = await startProcess(
    'examples/http-server.ts',
    over === 'unix' ? ['--socket', path] : ['--host', '127.0.0.1', '--port', '0'],
    /listening on (\S+)/,
  );
  try {
    const where = over === 'unix' ? ['--socket', path] : ['--port', /:(\d+)$/.exec(server.ready[1])?.[1] ?? '0'];
    const before = cpuSeconds(server.pid);
    const r = await runClient<HttpLoadResult>('bench/clients/http-load.ts', [...where, '--connections', '50', '--duration-ms', '3000']);
    const after = cpuSeconds(server.pid);
    // The server's CPU over the whole load (its 500 ms warm-up too), per request answered in the measured span, scaled to that span.
    const total = r.requestsPerSecond * (r.seconds + 0.5);
    return { perSecond: r.requestsPerSecond, cpuUs: before === undefined || after === undefined ? NaN : ((after - before) * 1e6) / total };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'tsreactor-bench-'));
  const udp: Record<string, { perSecond: number[]; lostShare: number[]; cpuUs: number[] }> = {};
  const http: Record<string, { perSecond: number[]; cpuUs: number[] }> = {};
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const udpOrder = round % 2 === 1 ? (['node:dgram', 'reactor'] as const) : (['reactor', 'node:dgram'] as const);
      for (const name of udpOrder) {
        process.stdout.write(`round ${round}/${ROUNDS}: udp echo through ${name} ... `);
        const r = await udpRound(name);
        const entry = (udp[name] ??= { perSecond: [], lostShare: [], cpuUs: [] });
        entry.perSecond.push(r.perSecond);
        entry.lostShare.push(r.lostShare);
        entry.cpuUs.push(r.cpuUs);
        process.stdout.write(
          `${r.perSecond.toFixed(0)} answers/s, ${(r.lostShare * 100).toFixed(2)} % lost, server ${r.cpuUs.toFixed(2)} µs CPU/datagram\n`,
        );
      }
      const httpOrder = round % 2 === 1 ? (['tcp', 'unix'] as const) : (['unix', 'tcp'] as const);
      for (const over of httpOrder) {
        process.stdout.write(`round ${round}/${ROUNDS}: http over ${over} ... `);
        const r = await httpRound(over, folder);
        const entry = (http[over] ??= { perSecond: [], cpuUs: [] });
        entry.perSecond.push(r.perSecond);
        entry.cpuUs.push(r.cpuUs);
        process.stdout.write(`${r.perSecond.toFixed(0)} req/s, server ${r.cpuUs.toFixed(2)} µs CPU/request\n`);
      }
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  const rows: Row[] = [
    pairedRow(
      {
        name: 'udp echo 64 B, 4 sockets x 32 in flight: reactor',
        unit: 'answers/s',
        baselineName: 'node:dgram',
        better: 'higher',
        target: 0.9,
      },
      udp.reactor.perSecond,
      udp['node:dgram'].perSecond,
    ),
    pairedRow(
      { name: 'udp echo: reactor server CPU per datagram', unit: 'µs', baselineName: 'node:dgram', better: 'lower' },
      udp.reactor.cpuUs,
      udp['node:dgram'].cpuUs,
    ),
    // Losses are the kernel's (a receive buffer that overflowed while a process was busy: UdpRcvbufErrors), on either
    // side; the server's own queue drops nothing at this load. Shown per million, with no ratio: a baseline of 0 has none.
    {
      name: 'udp echo: datagrams lost per million sent, through the reactor',
      unit: 'ppm',
      better: 'lower',
      value: medianOf(udp.reactor.lostShare.map((s) => s * 1e6)),
    },
    {
      name: 'udp echo: datagrams lost per million sent, through node:dgram',
      unit: 'ppm',
      better: 'lower',
      value: medianOf(udp['node:dgram'].lostShare.map((s) => s * 1e6)),
    },
    pairedRow(
      {
        name: 'http hello world over a Unix socket, 50 connections (undici client)',
        unit: 'req/s',
        baselineName: 'same over TCP loopback',
        better: 'higher',
      },
      http.unix.perSecond,
      http.tcp.perSecond,
    ),
    pairedRow(
      { name: 'http over a Unix socket: server CPU per request', unit: 'µs', baselineName: 'same over TCP loopback', better: 'lower' },
      http.unix.cpuUs,
      http.tcp.cpuUs,
    ),
  ];
  printTable(
    `Beyond TCP (Node ${process.version}, medians of ${ROUNDS} interleaved rounds, 3 s each; ratios: median of the rounds' ratios)`,
    rows,
  );
}

void main();
