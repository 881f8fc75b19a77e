import type { ShutdownReport } from './graceful-shutdown';

/**
 * What the primary of `runWorkers` and its workers say to each other over
 * the cluster's IPC channel. Internal. Tagged, so that a program's own
 * messages on the same channel pass by untouched.
 */
export type WorkerMessage =
  | { tsreactor: 'workers'; kind: 'ready'; id: number; listening: { host: string; port: number; path?: string }[] }
  | { tsreactor: 'workers'; kind: 'report'; id: number; report: ShutdownReport; accepts: number }
  | { tsreactor: 'workers'; kind: 'shutdown'; timeoutMs: number }
  | { tsreactor: 'workers'; kind: 'force' };

/** Is `value` one of ours? */
export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return typeof value === 'object' && value !== null && (value as { tsreactor?: unknown }).tsreactor === 'workers';
}

/** The environment variables a worker is started with: its slot, and how it shares ports. */
export const WORKER_SLOT_ENV = 'TSREACTOR_WORKER_SLOT';
export const WORKER_SHARING_ENV = 'TSREACTOR_WORKER_SHARING';
