/**
 * Rows against the HTTP example in its own process: slowloris and slow
 * readers while normal clients are timed; descriptor exhaustion under a low
 * `ulimit`; SIGTERM under load with an upload in progress.
 */
import http from 'node:http';
import net from 'node:net';
import { leftOver } from './echo-load';
import { echoChecked, pause, pool, seededBytes } from './stress-clients';
import { count, type StressRow } from './stress-row';
import { startStressTarget } from './stress-target';

interface Options {
  backend: 'libuv' | 'raw';
  quick: boolean;
}

/** One GET on a new connection; its latency in ms, or undefined if it failed. */
function timedGet(port: number): Promise<number | undefined> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - t0 : undefined));
      })
      .on('error', () => resolve(undefined))
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy();
      });
  });
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;

export async function slowPeers({ backend, quick }: Options): Promise<StressRow> {
  const loris = quick ? 50 : 500;
  const readers = quick ? 5 : 50;
  const durationMs = quick ? 4_000 : 10_000;
  const target = await startStressTarget(backend, { headersTimeoutMs: 2_000 });
  const sockets: net.Socket[] = [];
  let lorisCut = 0;
  let lorisGot408 = 0;
  try {
    for (let i = 0; i < loris; i++) {
      const socket = net.connect({ host: '127.0.0.1', port: target.httpPort });
      sockets.push(socket);
      let cut = false;
      socket.on('error', () => {});
      socket.on('data', (d: Buffer) => {
        if (d.toString('latin1').includes(' 408 ')) lorisGot408++;
      });
      socket.on('end', () => {
        if (!cut) lorisCut++;
        cut = true;
      });
      socket.on('connect', () => {
        socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
        const drip = setInterval(() => (socket.writable ? socket.write('X') : clearInterval(drip)), 500); // one byte every half second
        socket.once('close', () => clearInterval(drip));
      });
    }
    for (let i = 0; i < readers; i++) {
      const socket = net.connect({ host: '127.0.0.1', port: target.httpPort });
      sockets.push(socket);
      socket.on('error', () => {});
      socket.on('connect', () => {
        socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(40_000)); // about 1 MiB of requests, 4 MiB of answers it never reads
        socket.pause();
      });
    }
    const latencies: number[] = [];
    let failed = 0;
    const until = Date.now() + durationMs;
    let held = { bufferedBytes: 0, heapUsed: 0 };
    await pool(4, 4, async () => {
      while (Date.now() < until) {
        const ms = await timedGet(target.httpPort);
        if (ms === undefined) failed++;
        else latencies.push(ms);
      }
    });
    held = await target.report();
    for (const socket of sockets) socket.destroy();
    const leaked = await leftOver(() => target.report());
    latencies.sort((a, b) => a - b);
    const lorisLeft = loris - lorisCut;
    return {
      name: `slowloris and slow readers (${backend})`,
      load: `${count(latencies.length)} timed GETs in ${durationMs / 1000} s beside the attack`,
      faults: `${count(loris)} slowloris (a byte every 0.5 s), ${count(readers)} readers that never read (40,000 pipelined GETs each)`,
      badInputs: '-',
      lost: failed + lorisLeft,
      leaked,
      target: 'every timed GET answered; every slowloris cut at the head deadline (2 s); nothing left open',
      met: failed === 0 && lorisLeft === 0 && leaked === 0,
      notes: `GET p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms; 408s sent: ${count(lorisGot408)}; server held ${(held.bufferedBytes / 2 ** 20).toFixed(1)} MiB buffered`,
    };
  } finally {
    for (const socket of sockets) socket.destroy();
    await target.stop();
  }
}

export async function descriptorExhaustion({ backend, quick }: Options): Promise<StressRow> {
  const clients = quick ? 400 : 1_000;
  const limit = 256;
  const target = await startStressTarget(backend, { ulimit: limit });
  const sockets: net.Socket[] = [];
  try {
    // All at once, and all held open until every one has its outcome: far more than the server has descriptors.
    const outcomes = await Promise.all(
      Array.from({ length: clients }, (_, i) => {
        const socket = net.connect({ host: '127.0.0.1', port: target.echoPort });
        sockets.push(socket);
        return new Promise<'served' | 'cut' | 'waiting'>((resolve) => {
          const timer = setTimeout(() => resolve('waiting'), 5_000);
          const payload = seededBytes(i + 1, 1024);
          let got = 0;
          socket.on('error', () => {});
          socket.on('connect', () => socket.write(payload));
          socket.on('data', (d: Buffer) => {
            got += d.length;
            if (got >= payload.length) {
              clearTimeout(timer);
              resolve('served');
            }
          });
          socket.on('close', () => {
            clearTimeout(timer);
            resolve('cut');
          });
        });
      }),
    );
    for (const socket of sockets) socket.destroy();
    const served = outcomes.filter((o) => o === 'served').length;
    const cut = outcomes.filter((o) => o === 'cut').length;
    const leaked = await leftOver(() => target.report());
    const again = await pool(20, 20, (i) => echoChecked(target.echoPort, seededBytes(i + 7, 1024), { timeoutMs: 5_000 }));
    const failedAgain = again.filter((o) => o !== 'ok').length;
    const report = await target.report();
    return {
      name: `descriptor exhaustion, ulimit -n ${limit} (${backend})`,
      load: `${count(clients)} clients at once, all held open`,
      faults: `${count(clients - served)} clients beyond the limit (${count(cut)} cut, ${count(clients - served - cut)} left waiting)`,
      badInputs: '-',
      lost: failedAgain,
      leaked,
      target: 'keeps running; serves every new client once the flood is gone; nothing left open',
      met: failedAgain === 0 && leaked === 0,
      notes: `served during the flood: ${count(served)}; drops the server could see: ${count(report.drops)} (libuv's reserve-descriptor closes are invisible)`,
    };
  } finally {
    for (const socket of sockets) socket.destroy();
    await target.stop();
  }
}

/** A keep-alive client asking GET / again and again until the server ends the connection; counts full answers. */
function loopingClient(port: number): { answers: () => number; done: Promise<void> } {
  const socket = net.connect({ host: '127.0.0.1', port });
  let answers = 0;
  let text = '';
  const done = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  socket.on('data', (d: Buffer) => {
    text += d.toString('latin1');
    for (let end = text.indexOf('Hello, world!\n'); end >= 0; end = text.indexOf('Hello, world!\n')) {
      answers++;
      text = text.slice(end + 14);
      if (socket.writable) socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    }
  });
  socket.on('end', () => socket.end());
  return { answers: () => answers, done };
}

export async function sigtermUnderLoad({ backend, quick }: Options): Promise<StressRow> {
  const clients = quick ? 20 : 100;
  const target = await startStressTarget(backend);
  const looping = Array.from({ length: clients }, () => loopingClient(target.httpPort));
  await pause(1_000);
  // An upload still coming when the signal arrives: 40 KiB, 1 KiB every 20 ms.
  const upload = net.connect({ host: '127.0.0.1', port: target.httpPort });
  let uploadAnswer = '';
  upload.on('error', () => {});
  upload.on('data', (d: Buffer) => (uploadAnswer += d.toString('latin1')));
  upload.on('end', () => upload.end());
  const uploaded = new Promise<void>((resolve) => upload.once('close', () => resolve()));
  upload.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 40960\r\n\r\n');
  let sent = 0;
  const drip = setInterval(() => {
    if (sent < 40 && upload.writable) upload.write(seededBytes(++sent, 1024));
    else clearInterval(drip);
  }, 20);
  await pause(200);
  const stopped = await target.stop(); // SIGTERM, then its own count
  await Promise.all(looping.map((c) => c.done));
  await uploaded;
  clearInterval(drip);
  const received = looping.reduce((sum, c) => sum + c.answers(), 0) + (uploadAnswer.includes('HTTP/1.1 200') ? 1 : 0);
  const uploadAnswered = uploadAnswer.startsWith('HTTP/1.1 200') && uploadAnswer.includes('Connection: close');
  const lost = Math.abs(stopped.requests - received) + (uploadAnswered ? 0 : 1);
  return {
    name: `SIGTERM under load (${backend})`,
    load: `${count(clients)} keep-alive clients looping GET, one 40 KiB upload in progress`,
    faults: 'SIGTERM mid-load',
    badInputs: '-',
    lost,
    leaked: 0,
    target: 'every answer the server counted reached its client; the upload answered (Connection: close); exit after',
    met: lost === 0,
    notes: `server counted ${count(stopped.requests)} answers, clients received ${count(received)}; upload ${uploadAnswered ? 'answered' : 'NOT answered'}`,
  };
}
