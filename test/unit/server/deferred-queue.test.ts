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

  test('a million deferred callbacks across priorities: every one runs once, in order, and no turn throws', () => {
    const queue = new DeferredQueue();
    const priorities = ['high', 'normal', 'low'] as const;
    const next = [0, 0, 0];
    let outOfOrder = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const p = i % 3;
      const seq = Math.floor(i / 3);
      queue.add(() => {
        if (next[p] !== seq) outOfOrder++;
        next[p]++;
      }, priorities[p]);
    }
    let turns = 0;
    let shortTurns = 0;
    while (queue.size > 0) {
      const waiting = queue.size;
      if (runAll(queue, 1024) !== Math.min(1024, waiting)) shortTurns++;
      turns++;
    }
    expect(shortTurns).toBe(0);
    expect(outOfOrder).toBe(0);
    expect(next).toEqual([333_334, 333_333, 333_333]);
    expect(turns).toBe(Math.ceil(1_000_000 / 1024));
    expect(queue.held).toBe(0);
  });

  test('a short turn over a long queue leaves the rest queued, in order (no spreading of the leftovers)', () => {
    const queue = new DeferredQueue();
    const order: number[] = [];
    for (let i = 0; i < 300_000; i++) queue.add(() => order.push(i));
    expect(runAll(queue, 1024)).toBe(1024);
    expect(queue.size).toBe(300_000 - 1024);
    expect(runAll(queue, 10)).toBe(10);
    expect(order.slice(1020)).toEqual([1020, 1021, 1022, 1023, 1024, 1025, 1026, 1027, 1028, 1029, 1030, 1031, 1032, 1033]);
  });

  test('a task that throws counts as run; the rest stay queued, in order, and run next turn', () => {
    const queue = new DeferredQueue();
    const order: string[] = [];
    queue.add(() => order.push('a'));
    queue.add(() => {
      throw new Error('boom');
    });
    queue.add(() => order.push('c'), 'low');
    queue.add(() => order.push('d'));
    expect(() => runAll(queue)).toThrow('boom');
    expect(queue.size).toBe(2);
    expect(runAll(queue)).toBe(2);
    expect(order).toEqual(['a', 'd', 'c']);
  });

  test('a task cancelled by another during the same turn does not run', () => {
    const queue = new DeferredQueue();
    let ran = 0;
    const handles: { cancel(): boolean }[] = [];
    queue.add(() => {
      for (const handle of handles) handle.cancel(); // hundreds cancelled mid-turn: the sweep waits for the turn's end
    });
    for (let i = 0; i < 500; i++) handles.push(queue.add(() => ran++, i % 2 === 0 ? 'normal' : 'low'));
    queue.add(() => (ran += 1000), 'low');
    expect(runAll(queue)).toBe(2);
    expect(ran).toBe(1000);
    expect(queue.size).toBe(0);
    expect(queue.held).toBe(0);
  });

  test('a queue that always keeps a backlog holds only that backlog', () => {
    const queue = new DeferredQueue();
    for (let i = 0; i < 5000; i++) queue.add(() => {});
    for (let turn = 0; turn < 2000; turn++) {
      for (let i = 0; i < 100; i++) queue.add(() => {});
      runAll(queue, 100);
    }
    expect(queue.size).toBe(5000);
    expect(queue.held).toBe(5000);
  });
});
