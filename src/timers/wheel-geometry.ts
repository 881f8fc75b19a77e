/**
 * The geometry of {@link TimerWheel}, as pure functions: which level and
 * slot a deadline falls in, the next occupied slot, and when a slot comes
 * due. Six levels of 64 slots over 1 ms ticks, each level 64 times coarser
 * than the one below (see the level table on `TimerWheel`). A slot is named
 * by one number, `level * 64 + index`; `elapsed` is the wheel's current
 * tick. Internal; not exported from the package.
 */

export const LEVELS = 6;
export const SLOT_BITS = 6;
export const SLOTS = 1 << SLOT_BITS; // 64
/** SPAN[L]: milliseconds covered by one slot of level L; SPAN[6] is the wheel's whole span. */
export const SPAN: readonly number[] = [1, 64, 4096, 262_144, 16_777_216, 1_073_741_824, 68_719_476_736];
export const TOP = LEVELS - 1;
/** All slots of all levels: 384. */
export const WHEEL_SLOTS = LEVELS * SLOTS;

/**
 * The slot for `deadline` (a tick at or after `elapsed`): the lowest level
 * whose slot still tells it apart from `elapsed`, that is the highest bit in
 * which the two differ, divided by six. Fast path in 32-bit integer
 * arithmetic while ticks fit in 31 bits (the first 24.8 days of a
 * `performance.now()` clock); the general path divides. A deadline more than
 * one lap of the top level away parks in the top level's farthest slot (the
 * one just behind the current position), to be filed again from there.
 */
export function slotFor(elapsed: number, deadline: number): number {
  if (deadline < 0x8000_0000) {
    const highest = 31 - Math.clz32((deadline ^ elapsed) | (SLOTS - 1));
    const level = (highest / SLOT_BITS) | 0;
    return (level << SLOT_BITS) | ((deadline >>> (level * SLOT_BITS)) & (SLOTS - 1));
  }
  for (let level = 0; level < TOP; level++) {
    const parent = SPAN[level + 1];
    if (Math.floor(deadline / parent) === Math.floor(elapsed / parent)) {
      return (level << SLOT_BITS) | (Math.floor(deadline / SPAN[level]) % SLOTS);
    }
  }
  const current = Math.floor(elapsed / SPAN[TOP]);
  const wanted = Math.floor(deadline / SPAN[TOP]);
  const slot = wanted - current < SLOTS ? wanted % SLOTS : (current + SLOTS - 1) % SLOTS;
  return (TOP << SLOT_BITS) | slot;
}

/**
 * The earliest occupied slot after `elapsed`, or -1: the lowest occupied
 * level holds it, at the first set bit of its 64-bit occupancy word after
 * the current position (the top level's ring wraps). `occupied` holds two
 * 32-bit words per level, low half first.
 */
export function nextOccupiedSlot(occupied: Uint32Array, elapsed: number): number {
  for (let level = 0; level < LEVELS; level++) {
    const low = occupied[level * 2];
    const high = occupied[level * 2 + 1];
    if ((low | high) === 0) continue;
    const position = Math.floor(elapsed / SPAN[level]) & (SLOTS - 1);
    let slot = firstSetFrom(low, high, position + 1);
    if (slot < 0) slot = firstSetFrom(low, high, 0);
    return (level << SLOT_BITS) | slot;
  }
  return -1;
}

/** The first tick after `elapsed` at which `slot` comes due (a full lap later if it is the current one). */
export function slotStart(slot: number, elapsed: number): number {
  const span = SPAN[slot >> SLOT_BITS];
  const current = Math.floor(elapsed / span);
  const ahead = ((slot & (SLOTS - 1)) - (current & (SLOTS - 1))) & (SLOTS - 1);
  return (current + (ahead === 0 ? SLOTS : ahead)) * span;
}

/** Index of the lowest set bit of a non-zero 32-bit word. */
export function lowestBit(word: number): number {
  return 31 - Math.clz32(word & -word);
}

/** First set bit at index >= from (0..64) in a 64-bit word given as two halves; -1 if none. */
export function firstSetFrom(low: number, high: number, from: number): number {
  if (from < 32) {
    const word = low & (-1 << from);
    if (word !== 0) return lowestBit(word);
    return high !== 0 ? 32 + lowestBit(high) : -1;
  }
  if (from < 64) {
    const word = high & (-1 << (from - 32));
    return word !== 0 ? 32 + lowestBit(word) : -1;
  }
  return -1;
}
