import { BinaryHeapTimers, type HeapTimer } from '../../../bench/baselines/binary-heap-timers';
import { ManualClock } from '../../../src';
import { seededRandom } from '../../helpers/timer-harness';

/** The benchmark's baseline must be a correct timer queue, or its ratios mean nothing. */
describe('BinaryHeapTimers (benchmark baseline)', () => {
  test('fires in deadline order, ties in scheduling order, and skips cancelled timers', () => {
    const random = seededRandom(3);
    const clock = new ManualClock();
    const heap = new BinaryHeapTimers(clock);
    const fired: number[] = [];
    const timers: { id: number; deadline: number; handle: HeapTimer; cancelled: boolean }[] = [];
    for (let id = 0; id < 2000; id++) {
      const delay = Math.floor(random() * 500);
      timers.push({ id, deadline: delay, handle: heap.schedule(delay, (n) => fired.push(n as number), id), cancelled: false });
    }
    for (const t of timers) {
      if (random() < 0.3) t.cancelled = heap.cancel(t.handle);
    }
    expect(heap.cancel(timers.find((t) => t.cancelled)?.handle as HeapTimer)).toBe(false);
    clock.set(250);
    heap.advance();
    clock.set(1000);
    heap.advance();
    const expected = timers
      .filter((t) => !t.cancelled)
      .sort((a, b) => a.deadline - b.deadline || a.id - b.id)
      .map((t) => t.id);
    expect(fired).toEqual(expected);
    expect(heap.size).toBe(0);
  });
});
