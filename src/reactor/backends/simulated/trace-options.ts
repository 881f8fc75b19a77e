/**
 * How a simulation's trace writes payloads: `'hex'` (the default) every
 * byte; `'hash'` a 32-bit FNV-1a hash of the bytes (`#1a2b3c4d`), which
 * still tells two runs apart and keeps a long run's trace small; a number
 * `n` the first `n` bytes in hex and how many followed (`68656c…+12`).
 *
 * @example
 * ```ts
 * import { SimulatedBackend } from 'tsreactor';
 *
 * const sim = new SimulatedBackend({ trace: { payloads: 'hash' } });
 * ```
 */
export interface TraceOptions {
  payloads?: 'hex' | 'hash' | number;
}

/** The payload writer for the backend's `trace` option (its validation included). */
export function payloadFormatter(trace: boolean | TraceOptions | undefined): (bytes: Buffer) => string {
  const payloads = typeof trace === 'object' ? (trace.payloads ?? 'hex') : 'hex';
  if (payloads === 'hex') return (bytes) => bytes.toString('hex');
  if (payloads === 'hash') return (bytes) => `#${fnv1a(bytes).toString(16).padStart(8, '0')}`;
  if (typeof payloads !== 'number' || !Number.isInteger(payloads) || payloads < 0) {
    throw new RangeError(`'trace.payloads' must be 'hex', 'hash' or a whole number of bytes >= 0, got ${String(payloads)}`);
  }
  return (bytes) =>
    bytes.length <= payloads ? bytes.toString('hex') : `${bytes.subarray(0, payloads).toString('hex')}…+${bytes.length - payloads}`;
}

/** FNV-1a, 32 bits: fast, stable across runs and machines; not for security. */
function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  return hash >>> 0;
}
