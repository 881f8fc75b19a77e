import { compactFront } from '../../../src/reactor/compact-front';

describe('compactFront', () => {
  test('keeps the head while the taken part is small or under half the array', () => {
    const items = Array.from({ length: 200 }, (_, i) => i);
    expect(compactFront(items, 10)).toBe(10); // fewer than 64 taken
    expect(compactFront(items, 90)).toBe(90); // under half
    expect(items).toHaveLength(200);
  });

  test('drops the taken part once it is half the array, keeping the rest in order', () => {
    const items = Array.from({ length: 200 }, (_, i) => i);
    expect(compactFront(items, 100)).toBe(0);
    expect(items).toEqual(Array.from({ length: 100 }, (_, i) => i + 100));
  });

  test('a FIFO that always keeps one entry: the array stays small', () => {
    const items: number[] = [0];
    let head = 0;
    let next = 0;
    let outOfOrder = 0;
    for (let i = 1; i <= 100_000; i++) {
      items.push(i);
      if (items[head++] !== next++) outOfOrder++;
      head = compactFront(items, head);
    }
    expect(outOfOrder).toBe(0);
    expect(items.length - head).toBe(1);
    expect(items.length).toBeLessThanOrEqual(130);
  });
});
