import { Events, Interest, Readiness } from '../../../src';
import { addEvent, resetEvents } from '../../../src/reactor/events';
import { Registration } from '../../../src/reactor/registration';
import { isInterest } from '../../../src';
import { triggerFlags } from '../../../src/reactor/trigger';

const { READABLE, WRITABLE, READ_CLOSED, WRITE_CLOSED, ERROR } = Readiness;

describe('Events', () => {
  test('holds at most its capacity', () => {
    const events = new Events<string>(2);
    const reg = new Registration(3, Interest.READABLE, 0, 'tok');
    expect(addEvent(events, reg, READABLE)).toBe(true);
    expect(addEvent(events, reg, READABLE)).toBe(true);
    expect(addEvent(events, reg, READABLE)).toBe(false);
    expect(events.length).toBe(2);
    resetEvents(events);
    expect(events.length).toBe(0);
    expect([...events]).toEqual([]);
  });

  test('hands out fd, token and flags, with one boolean per bit', () => {
    const events = new Events<string>();
    const reg = new Registration(7, Interest.READABLE | Interest.WRITABLE, 0, 'conn');
    addEvent(events, reg, READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED | ERROR);
    const [event] = [...events];
    expect(event).toMatchObject({ fd: 7, token: 'conn', flags: 31 });
    expect([event.readable, event.writable, event.readClosed, event.writeClosed, event.error]).toEqual([true, true, true, true, true]);
  });

  test('skips an event whose registration ended, and cuts bits to the interest at delivery', () => {
    const events = new Events<string>();
    const gone = new Registration(1, Interest.READABLE, 0, 'gone');
    const narrowed = new Registration(2, Interest.READABLE | Interest.WRITABLE, 0, 'before');
    addEvent(events, gone, READABLE);
    addEvent(events, narrowed, READABLE | WRITABLE);
    gone.live = false;
    narrowed.set(Interest.WRITABLE, 0, 'after');
    expect(events.get(0)).toBeUndefined();
    expect([...events].map((e) => [e.fd, e.flags, e.token])).toEqual([[2, WRITABLE, 'after']]);
  });

  test('always reports error and writeClosed; readClosed only with read interest', () => {
    const events = new Events();
    const writer = new Registration(1, Interest.WRITABLE, 0, undefined);
    addEvent(events, writer, READABLE | READ_CLOSED | WRITE_CLOSED | ERROR);
    expect(events.get(0)?.flags).toBe(WRITE_CLOSED | ERROR);
  });

  test('rejects a bad capacity, naming it', () => {
    expect(() => new Events(0)).toThrow(/'capacity'/);
    expect(() => new Events(2 ** 21)).toThrow(RangeError);
  });
});

describe('interest and trigger checks', () => {
  test.each([1, 2, 3])('interest %p is valid', (v) => expect(isInterest(v)).toBe(true));
  test.each([0, 4, 5, -1, 1.5, '1', null])('interest %p is not', (v) => expect(isInterest(v)).toBe(false));
  test('triggers map to flags; anything else is -1', () => {
    expect(['level', 'edge', 'oneshot', 'edge-oneshot'].map(triggerFlags)).toEqual([0, 1, 2, 3]);
    expect(triggerFlags('toString')).toBe(-1);
    expect(triggerFlags(undefined)).toBe(-1);
  });
});
