import { ReadyList } from '../../../src/reactor/ready-list';

describe('ReadyList', () => {
  test('is first in, first out across growth and wrap-around', () => {
    const list = new ReadyList<number>();
    const model: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < round * 3; i++) {
        list.push(next);
        model.push(next++);
      }
      for (let i = 0; i < round * 2 + 1 && model.length > 0; i++) expect(list.shift()).toBe(model.shift());
      expect(list.length).toBe(model.length);
    }
    while (model.length > 0) expect(list.shift()).toBe(model.shift());
    expect(list.shift()).toBeUndefined();
  });

  test('clear empties it', () => {
    const list = new ReadyList<string>();
    list.push('a');
    list.push('b');
    list.clear();
    expect(list.length).toBe(0);
    expect(list.shift()).toBeUndefined();
  });
});
