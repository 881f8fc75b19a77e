import { DescriptorTable, ReactorError } from '../../../src';

describe('DescriptorTable', () => {
  test('hands out the lowest free number first, as POSIX does', () => {
    const table = new DescriptorTable<string>();
    expect(['a', 'b', 'c', 'd', 'e'].map((v) => table.allocate(v))).toEqual([0, 1, 2, 3, 4]);
    table.release(3);
    table.release(1);
    table.release(4);
    expect(table.allocate('x')).toBe(1);
    expect(table.allocate('y')).toBe(3);
    expect(table.allocate('z')).toBe(4);
    expect(table.allocate('w')).toBe(5);
  });

  test('matches a naive lowest-free model over a long random sequence', () => {
    const table = new DescriptorTable<number>();
    const open = new Set<number>();
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let step = 0; step < 20_000; step++) {
      if (open.size > 0 && random() < 0.45) {
        const all = [...open];
        const fd = all[Math.floor(random() * all.length)];
        expect(table.release(fd)).toBe(fd);
        open.delete(fd);
      } else {
        let lowest = 0;
        while (open.has(lowest)) lowest++;
        expect(table.allocate(lowest)).toBe(lowest);
        open.add(lowest);
      }
      expect(table.size).toBe(open.size);
    }
  });

  test('each release changes the generation; get and has follow the state', () => {
    const table = new DescriptorTable<string>();
    const fd = table.allocate('first');
    const g0 = table.generation(fd);
    expect(table.get(fd)).toBe('first');
    expect(table.release(fd)).toBe('first');
    expect(table.has(fd)).toBe(false);
    expect(table.get(fd)).toBeUndefined();
    expect(table.release(fd)).toBeUndefined(); // twice: nothing
    expect(table.generation(fd)).toBe(g0 + 1);
    table.allocate('second');
    expect(table.generation(fd)).toBe(g0 + 1);
  });

  test('throws EMFILE at the limit and loses nothing already open', () => {
    const table = new DescriptorTable<string>({ limit: 2 });
    table.allocate('a');
    table.allocate('b');
    expect(() => table.allocate('c')).toThrow(ReactorError);
    try {
      table.allocate('c');
    } catch (err) {
      expect((err as ReactorError).code).toBe('EMFILE');
    }
    expect(table.size).toBe(2);
    expect([...table.entries()]).toEqual([
      [0, 'a'],
      [1, 'b'],
    ]);
  });

  test('rejects a bad limit, naming it', () => {
    expect(() => new DescriptorTable({ limit: 0 })).toThrow(/'limit'/);
    expect(() => new DescriptorTable({ limit: 1.5 })).toThrow(RangeError);
  });
});
