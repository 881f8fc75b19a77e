/**
 * Yields `items` heaviest first, by `weight`, lazily: a binary max-heap is
 * built in O(n) and each item taken costs O(log n), so a caller that stops
 * after the first k pays O(n + k log n) instead of sorting all n. Reorders
 * `items` in place.
 *
 * @example
 * ```ts
 * import { heaviestFirst } from './heaviest-first';
 *
 * const [first, second] = heaviestFirst([3, 9, 1, 7], (n) => n); // 9, then 7
 * ```
 */
export function* heaviestFirst<T>(items: T[], weight: (item: T) => number): Generator<T> {
  const weights = items.map(weight);
  let size = items.length;
  const swap = (a: number, b: number) => {
    [items[a], items[b]] = [items[b], items[a]];
    [weights[a], weights[b]] = [weights[b], weights[a]];
  };
  const siftDown = (from: number) => {
    for (let i = from; ;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let top = i;
      if (left < size && weights[left] > weights[top]) top = left;
      if (right < size && weights[right] > weights[top]) top = right;
      if (top === i) return;
      swap(i, top);
      i = top;
    }
  };
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(i);
  while (size > 0) {
    const top = items[0];
    swap(0, --size);
    siftDown(0);
    yield top;
  }
}
