/** Entries taken from the front before an array is compacted (when they are also at least half of it). */
const COMPACT_AFTER = 64;

/**
 * For a FIFO kept as an array read from `head` (the entries before it
 * taken): drops the taken part once it is at least half of the array, and
 * returns the new head. Taking from the front then costs O(1) amortised,
 * and a reader that always leaves an entry behind (so the array never
 * empties) keeps only what it has not taken. Shared by the backends'
 * inboxes, the simulator's receive queue and the event loop's deferred work.
 *
 * @example
 * ```ts
 * import { compactFront } from './compact-front';
 *
 * const queue: string[] = ['a', 'b', 'c'];
 * let head = 0;
 * const take = () => {
 *   const item = queue[head++];
 *   head = compactFront(queue, head);
 *   return item;
 * };
 * take(); // 'a'
 * ```
 */
export function compactFront(items: unknown[], head: number): number {
  if (head < COMPACT_AFTER || head * 2 < items.length) return head;
  items.copyWithin(0, head);
  items.length -= head;
  return 0;
}
