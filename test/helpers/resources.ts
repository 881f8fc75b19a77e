import { createHook } from 'node:async_hooks';

/**
 * Leak checks: did a test leave sockets, servers, timers or immediates behind?
 *
 * Sockets and servers are counted from `process.getActiveResourcesInfo()`
 * (Jest itself opens none). Timers and immediates are tracked with an async
 * hook from the moment `resourceCounts()` is first called, and count only if
 * the code that created them is ours (src/ or test/): Jest's own timers (its
 * reporter, its test timeouts) come and go on their own schedule.
 */
const HANDLE_KINDS = new Set(['TCPSocketWrap', 'TCPServerWrap', 'PipeWrap', 'PipeServerWrap', 'PipeConnectWrap', 'UDPWrap', 'SendWrap']);
const ours = new Map<number, string>(); // async id -> 'Timeout' | 'Immediate'
let hooked = false;

function createdByUs(stack: string): boolean {
  for (const line of stack.split('\n').slice(1)) {
    if (!line.includes('/')) continue; // Error line, native frames
    if (line.includes('node:') || line.includes('AsyncHook.init')) continue;
    return !line.includes('/node_modules/') && !line.includes('/test/helpers/resources.ts:'); // not Jest's, not this check's own
  }
  return false;
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  createHook({
    init(asyncId, type) {
      if (type !== 'Timeout' && type !== 'Immediate') return;
      if (createdByUs(new Error().stack ?? '')) ours.set(asyncId, type);
    },
    destroy(asyncId) {
      ours.delete(asyncId);
    },
  }).enable();
}

/** A snapshot to compare against after the test. */
export function resourceCounts(): Record<string, number> {
  hook();
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (HANDLE_KINDS.has(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  for (const type of ours.values()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Resolves after two more turns of the event loop, so handles being closed finish closing. */
export async function settleHandles(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The kinds whose count grew since `before`, with how many more there are. */
export function leakedSince(before: Record<string, number>): Record<string, number> {
  const after = resourceCounts();
  const leaked: Record<string, number> = {};
  for (const [kind, count] of Object.entries(after)) {
    const extra = count - (before[kind] ?? 0);
    if (extra > 0) leaked[kind] = extra;
  }
  return leaked;
}
