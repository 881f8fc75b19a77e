import { missedTicks, nextNominal } from '../../../src/timers/missed-ticks';
import { firstSetFrom, nextOccupiedSlot, slotFor, slotStart, SLOTS, WHEEL_SLOTS } from '../../../src/timers/wheel-geometry';

const slot = (level: number, index: number) => level * SLOTS + index;

describe('the wheel geometry, as tables', () => {
  test.each([
    // elapsed, deadline, level, index: the lowest level whose slot tells them apart
    [0, 0, 0, 0],
    [0, 63, 0, 63],
    [0, 64, 1, 1],
    [0, 4_095, 1, 63],
    [0, 4_096, 2, 1],
    [100, 127, 0, 63], // same 64-ms block: level 0
    [100, 128, 1, 2], // the next block: level 1, slot 128 / 64
    [4_000, 4_100, 2, 1], // crosses a 4,096-ms boundary: level 2
    [0, 262_144, 3, 1],
    [0, 16_777_216, 4, 1],
    [0, 1_073_741_824, 5, 1],
    [2 ** 31, 2 ** 31 + 5, 0, 5], // past 31 bits: the general path, same answer
    [2 ** 31, 2 ** 31 + 64, 1, ((2 ** 31 + 64) / 64) % 64],
  ])('slotFor(elapsed %d, deadline %d) is level %d, slot %d', (elapsed, deadline, level, index) => {
    expect(slotFor(elapsed, deadline)).toBe(slot(level, index));
  });

  test('a deadline more than a lap of the top level away parks in its farthest slot, just behind the current one', () => {
    const lap = 2 ** 36;
    expect(slotFor(0, lap * 3)).toBe(slot(5, 63));
    expect(slotFor(2 ** 30 * 5, lap * 3)).toBe(slot(5, 4)); // current top slot 5: the farthest is 4
  });

  test.each([
    // slot, elapsed, start: the first tick after elapsed when the slot comes due
    [slot(0, 5), 0, 5],
    [slot(0, 5), 5, 5 + 64], // the current slot: a lap later
    [slot(0, 3), 10, 64 + 3], // already passed in this lap
    [slot(1, 2), 0, 128],
    [slot(2, 1), 100, 4_096],
  ])('slotStart(slot %d, elapsed %d) is %d', (which, elapsed, start) => {
    expect(slotStart(which, elapsed)).toBe(start);
  });

  test('nextOccupiedSlot finds the lowest occupied level, the first slot after the current position, wrapping', () => {
    const occupied = new Uint32Array(WHEEL_SLOTS / 32);
    const mark = (s: number) => (occupied[s >> 5] |= 1 << (s & 31));
    expect(nextOccupiedSlot(occupied, 0)).toBe(-1);
    mark(slot(2, 7));
    expect(nextOccupiedSlot(occupied, 0)).toBe(slot(2, 7));
    mark(slot(0, 40));
    expect(nextOccupiedSlot(occupied, 10)).toBe(slot(0, 40)); // level 0 first
    mark(slot(0, 3));
    expect(nextOccupiedSlot(occupied, 10)).toBe(slot(0, 40)); // after the position before wrapping
    expect(nextOccupiedSlot(occupied, 50)).toBe(slot(0, 3)); // wrapped
  });

  test.each([
    [0b1, 0, 0, 0],
    [0b1000, 0, 1, 3],
    [0, 0b10, 0, 33],
    [0b1, 0b1, 1, 32],
    [0b1, 0, 1, -1],
    [-1, -1, 64, -1],
    [0, 1 << 31, 40, 63],
  ])('firstSetFrom(low %d, high %d, from %d) is %d', (low, high, from, expected) => {
    expect(firstSetFrom(low, high, from)).toBe(expected);
  });
});

describe('missed ticks of a fixed-rate timer, as a table', () => {
  test.each([
    // nominal, interval, fires at, missed, next: skip, delay, burst
    [1_000, 1_000, 1_000, 0, 2_000, 2_000, 2_000],
    [1_000, 1_000, 1_999, 0, 2_000, 2_000, 2_000],
    [1_000, 1_000, 2_000, 1, 3_000, 3_000, 2_000],
    [1_000, 1_000, 3_500, 2, 4_000, 4_500, 2_000],
    [0, 250, 10_000, 40, 10_250, 10_250, 250],
  ])(
    'due %d every %d, fired at %d: %d missed; next %d (skip), %d (delay), %d (burst)',
    (nominal, interval, now, missed, skip, delay, burst) => {
      expect(missedTicks(nominal, interval, now)).toBe(missed);
      expect(nextNominal('skip', nominal, interval, missed, now)).toBe(skip);
      expect(nextNominal('delay', nominal, interval, missed, now)).toBe(delay);
      expect(nextNominal('burst', nominal, interval, missed, now)).toBe(burst);
    },
  );
});
