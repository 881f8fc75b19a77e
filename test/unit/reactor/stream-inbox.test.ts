import { type InboxFields, inboxPush, inboxTake } from '../../../src/reactor/backends/socket/stream-inbox';

const fresh = (): InboxFields => ({ inbox: undefined, inboxHead: 0, inboxBytes: 0 });

describe('stream inbox', () => {
  test('chunks come out in order, whole when they fit, split when they do not; an empty inbox holds no array', () => {
    const fields = fresh();
    inboxPush(fields, Buffer.from('hello'));
    inboxPush(fields, Buffer.from('world'));
    expect(inboxTake(fields, 3)?.toString()).toBe('hel');
    expect(inboxTake(fields, 100)?.toString()).toBe('lo');
    expect(fields.inboxBytes).toBe(5);
    expect(inboxTake(fields, 100)?.toString()).toBe('world');
    expect(inboxTake(fields, 100)).toBeUndefined();
    expect(fields.inbox).toBeUndefined();
  });

  test('a reader that always leaves one chunk behind: the array stays small, and the bytes in order', () => {
    const fields = fresh();
    inboxPush(fields, Buffer.from([0]));
    let outOfOrder = 0;
    for (let i = 1; i <= 100_000; i++) {
      inboxPush(fields, Buffer.from([i & 0xff]));
      if ((inboxTake(fields, Infinity) as Buffer)[0] !== ((i - 1) & 0xff)) outOfOrder++;
    }
    expect(outOfOrder).toBe(0);
    expect(fields.inboxBytes).toBe(1);
    expect((fields.inbox as Buffer[]).length).toBeLessThanOrEqual(130); // not 100,001 slots
  });
});
