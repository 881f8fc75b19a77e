/**
 * Two rows on the echo server: many concurrent checksummed clients, and a
 * churn of connections with resets injected mid-write. Each client sends
 * seeded bytes and compares what comes back byte for byte.
 */
import { type EchoOutcome, echoChecked, pause, pool, seededBytes } from './stress-clients';
import { count, type StressRow } from './stress-row';
import { startStressTarget } from './stress-target';

export interface EchoLoadOptions {
  backend: 'libuv' | 'raw';
  quick: boolean;
  /** How many clients (concurrent row): default 10,000, 500 when quick. */
  clients?: number;
}

/** What the server still holds once every client is gone: connections, lingering streams. */
export async function leftOver(report: () => Promise<{ connections: number; lingering: number }>): Promise<number> {
  let left = Infinity;
  for (let i = 0; i < 50 && left > 0; i++) {
    await pause(100); // closes in flight land
    const r = await report();
    left = r.connections + r.lingering;
  }
  return left;
}

export async function concurrentClients({ backend, quick, clients = quick ? 500 : 10_000 }: EchoLoadOptions): Promise<StressRow> {
  const size = 16 * 1024;
  const target = await startStressTarget(backend);
  try {
    const outcomes = await pool(clients, clients, (i) =>
      echoChecked(target.echoPort, seededBytes(i + 1, size), { pieces: 4, timeoutMs: 60_000 }),
    );
    const lost = outcomes.filter((o) => o !== 'ok').length;
    const leaked = await leftOver(() => target.report());
    const tally = tallyOf(outcomes);
    return {
      name: `concurrent checksummed clients (${backend})`,
      load: `${count(clients)} clients at once x ${size / 1024} KiB echoed`,
      faults: '-',
      badInputs: '-',
      lost,
      leaked,
      target: 'every byte back, in order; nothing left open',
      met: lost === 0 && leaked === 0,
      notes: tally,
    };
  } finally {
    await target.stop();
  }
}

export async function churnWithResets({ backend, quick }: EchoLoadOptions): Promise<StressRow> {
  const durationMs = quick ? 2_000 : 20_000;
  const size = 8 * 1024;
  const target = await startStressTarget(backend);
  try {
    const until = Date.now() + durationMs;
    let connections = 0;
    let resets = 0;
    const outcomes: EchoOutcome[] = [];
    await pool(200, 200, async (worker) => {
      while (Date.now() < until) {
        const n = connections++;
        const reset = n % 4 === 0;
        if (reset) resets++;
        const outcome = await echoChecked(target.echoPort, seededBytes(n + worker + 1, size), {
          resetAfter: reset ? 1_000 + (n % 4_000) : undefined,
        });
        if (!reset) outcomes.push(outcome);
      }
    });
    const lost = outcomes.filter((o) => o !== 'ok').length;
    const leaked = await leftOver(() => target.report());
    return {
      name: `churn with resets (${backend})`,
      load: `${count(connections)} connections in ${durationMs / 1000} s, 200 at a time, ${size / 1024} KiB each`,
      faults: `${count(resets)} resets mid-write`,
      badInputs: '-',
      lost,
      leaked,
      target: 'every completed echo intact; nothing left open',
      met: lost === 0 && leaked === 0,
      notes: tallyOf(outcomes),
    };
  } finally {
    await target.stop();
  }
}

function tallyOf(outcomes: readonly EchoOutcome[]): string {
  const tally = new Map<string, number>();
  for (const o of outcomes) tally.set(o, (tally.get(o) ?? 0) + 1);
  return [...tally].map(([o, n]) => `${o}: ${count(n)}`).join(', ');
}
