import { DeferredQueue } from '../../../src/server/deferred-queue';

const runAll = (queue: DeferredQueue, budget = Infinity) => queue.runTurn(budget, (run) => run());

describe('DeferredQueue', () => {
  test('high before normal before low, FIFO within each', () => {
    const queue = new DeferredQueue();
    const order: string[] = [];
    for (const [name, priority] of [
      ['low1', 'low'],
      ['normal1', 'normal'],
      ['high1', 'high'],
      ['normal2', 'normal'],
      ['high2', 'high'],
    ] as const) {
      queue.add(() => order.push(name), priority);
    }
    expect(runAll(queue)).toBe(5);
    expect(order).toEqual(['high1', 'high2', 'normal1', 'normal2', 'low1']);
  });

  test('the budget bounds a turn; the rest waits, in order', () => {
    const queue = new DeferredQueue();
    const order: number[] = [];
    for (let i = 0; i < 10; i++) queue.add(() => order.push(i));
    expect(runAll(queue, 3)).toBe(3);
    expect(runAll(queue, 3)).toBe(3);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(queue.size).toBe(4);
  });

  test('low priority is never starved: it gets a share of every full turn', () => {
    const queue = new DeferredQueue();
    let lowRan = 0;
    queue.add(() => lowRan++, 'low');
    for (let i = 0; i < 1000; i++) queue.add(() => {}, 'high');
    runAll(queue, 7);
    expect(lowRan).toBe(1);
  });

  test('work deferred during a turn waits for the next turn', () => {
    const queue = new DeferredQueue();
    let inner = 0;
    queue.add(() => queue.add(() => inner++));
    expect(runAll(queue)).toBe(1);
    expect(inner).toBe(0);
    expect(runAll(queue)).toBe(1);
    expect(inner).toBe(1);
  });

  test('cancel before it runs: true, and it never runs; after: false', () => {
    const queue = new DeferredQueue();
    let ran = 0;
    const a = queue.add(() => ran++);
    const b = queue.add(() => ran++);
    expect(a.cancel()).toBe(true);
    expect(a.cancel()).toBe(false);
    expect(queue.size).toBe(1);
    runAll(queue);
    expect(ran).toBe(1);
    expect(b.cancel()).toBe(false);
  });
});
