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

  test('with room in the budget, priority is strict: every high task before any normal or low one', () => {
    const queue = new DeferredQueue();
    const order: string[] = [];
    for (let i = 0; i < 6; i++) queue.add(() => order.push(`H${i}`), 'high');
    queue.add(() => order.push('N0'), 'normal');
    queue.add(() => order.push('L0'), 'low');
    runAll(queue, 1024);
    expect(order).toEqual(['H0', 'H1', 'H2', 'H3', 'H4', 'H5', 'N0', 'L0']);
  });

  test('a short budget: high first, then the shares of normal and low; the rest waits, in order', () => {
    const queue = new DeferredQueue();
    const order: string[] = [];
    for (let i = 0; i < 20; i++) queue.add(() => order.push(`H${i}`), 'high');
    for (let i = 0; i < 5; i++) queue.add(() => order.push(`N${i}`), 'normal');
    for (let i = 0; i < 5; i++) queue.add(() => order.push(`L${i}`), 'low');
    expect(runAll(queue, 16)).toBe(16);
    // low: 16/8 = 2, normal: 16/4 = 4, high: the other 10.
    expect(order).toEqual([...Array.from({ length: 10 }, (_, i) => `H${i}`), 'N0', 'N1', 'N2', 'N3', 'L0', 'L1']);
    order.length = 0;
    runAll(queue, 1024);
    expect(order).toEqual([...Array.from({ length: 10 }, (_, i) => `H${i + 10}`), 'N4', 'L2', 'L3', 'L4']);
  });

  test('cancelled tasks do not pile up while nothing runs', () => {
    const queue = new DeferredQueue();
    for (let i = 0; i < 100_000; i++) queue.add(() => {}).cancel();
    const keep = queue.add(() => {});
    for (let i = 0; i < 100_000; i++) queue.add(() => {}).cancel();
    expect(queue.size).toBe(1);
    expect(queue.held).toBeLessThan(200); // swept, not 200,001 entries
    // The live one is still there and runs; the cancelled are gone.
    let ran = 0;
    queue.runTurn(Infinity, () => ran++);
    expect(ran).toBe(1);
    expect(keep.cancel()).toBe(false);
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
