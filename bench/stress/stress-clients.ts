import net from 'node:net';

/** Seeded bytes (xorshift32): every client's payload differs, and any byte out of place shows. */
export function seededBytes(seed: number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

export type EchoOutcome = 'ok' | 'corrupt' | 'short' | 'error';

/**
 * Sends `payload` to an echo server in `pieces` writes, reads until all of
 * it came back (or `timeoutMs`), compares byte for byte, and closes.
 * `resetAfter` (bytes) resets the connection mid-write instead: a fault.
 */
export function echoChecked(
  port: number,
  payload: Buffer,
  options: { pieces?: number; timeoutMs?: number; resetAfter?: number } = {},
): Promise<EchoOutcome> {
  const { pieces = 4, timeoutMs = 30_000, resetAfter } = options;
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const finish = (outcome: EchoOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome === 'ok') socket.end();
      else socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish('short'), timeoutMs);
    socket.on('error', () => finish(resetAfter === undefined ? 'error' : 'ok'));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= payload.length) finish(Buffer.concat(chunks).equals(payload) ? 'ok' : 'corrupt');
    });
    socket.on('close', () => finish(received >= payload.length ? 'ok' : 'short'));
    socket.on('connect', () => {
      if (resetAfter !== undefined) {
        socket.write(payload.subarray(0, resetAfter));
        socket.resetAndDestroy();
        finish('ok'); // a reset is the fault being tested: the server must simply survive it
        return;
      }
      const size = Math.ceil(payload.length / pieces);
      for (let at = 0; at < payload.length; at += size) socket.write(payload.subarray(at, at + size));
    });
  });
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at a time; resolves with every result. */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** Waits `ms` of real time (the stress suite runs real servers in real time). */
export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
