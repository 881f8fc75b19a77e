import type { Clock } from './clock';
import { SystemClock } from './system-clock';
import * as recurring from './missed-ticks';
import * as geometry from './wheel-geometry';

// Bound once here: read through the module object in the hot loops, each use would be a property load.
const { LEVELS, SLOT_BITS, SLOTS, SPAN, WHEEL_SLOTS, nextOccupiedSlot, slotFor, slotStart } = geometry;
const { missedTicks, nextNominal } = recurring;

/**
 * A timer handle: a number that names one scheduled timer. It packs the slab
 * index and a generation, so once the timer fires or is cancelled the handle
 * goes stale and every call with it is a harmless no-op, even after the
 * index is reused. An index is retired once its generation runs out (after
 * 2^27 timers), so a stale handle can never name a newer timer. `0` is never
 * a pending handle.
 */
export type TimerHandle = number;

/**
 * Called when a timer fires, with the context given at scheduling time and
 * the number of ticks a recurring timer missed (always 0 for one-shot
 * timers). Passing state as `context` lets a hot path schedule without
 * allocating a closure per timer.
 */
export type TimerCallback<C = unknown> = (context: C, missedTicks: number) => void;

/**
 * What a recurring timer does when it fires late, after one or more of its
 * ticks have passed unseen (the process stalled, or `advance` was not called):
 * - `'skip'` (default): fire once, report the missed count, and carry on at
 *   the next tick of the original schedule that is still in the future.
 * - `'delay'`: fire once, report the missed count, and restart the schedule
 *   one interval after now (the period shifts; nothing catches up).
 * - `'burst'`: fire once for every missed tick, back to back, each reporting
 *   how many are still behind it, until caught up with the original schedule.
 */
export type MissedTickPolicy = 'skip' | 'delay' | 'burst';

/** Options of {@link TimerWheel}'s constructor. */
export interface TimerWheelOptions {
  /** The time source. Default: {@link SystemClock}. */
  clock?: Clock;
  /**
   * The most callbacks one `advance` call fires when none is given to it, so
   * that after a stall the caller can serve I/O between batches (default
   * 1024; `Infinity` for no limit).
   */
  advanceBudget?: number;
  /** Uniform random numbers in [0, 1) for jitter. Default: `Math.random`. */
  random?: () => number;
  /** Timers to make room for up front (the slab grows by doubling anyway). */
  initialCapacity?: number;
}

/** Options of {@link TimerWheel.schedule}. */
export interface ScheduleOptions {
  /** Cancels the timer when aborted. If already aborted, nothing is scheduled. */
  signal?: AbortSignal;
}

/** Options of {@link TimerWheel.every}. */
export interface EveryOptions<C> {
  /** What to do about ticks missed while late. Default `'skip'`. */
  missed?: MissedTickPolicy;
  /**
   * Each tick fires up to this many milliseconds after its nominal time,
   * chosen at random (uniformly) when the tick is scheduled; never before.
   * The nominal schedule does not drift. Keep it below the interval: a tick
   * pushed past the next nominal time counts that tick as missed.
   */
  jitterMs?: number;
  /** Handed to the callback on each tick. */
  context?: C;
  /** Cancels the recurring timer when aborted. If already aborted, nothing is scheduled. */
  signal?: AbortSignal;
}

/** Receives the deadline that made a {@link TimerWheel.setWaker} waker fire. */
export type TimerWaker = (deadlineMs: number) => void;

/* ---- Slab layout --------------------------------------------------------
 * Every list is circular with a sentinel node that lives in the slab itself,
 * so unlinking an entry needs no knowledge of the list it is in, and a list
 * that becomes empty is recognised by its sentinel being the neighbour on both
 * sides. Sentinels 0..383 are the 6 x 64 wheel slots (id = level * 64 + slot),
 * then two queues of due timers. Entries start after them.
 */
/** Due now, in firing order: what the current or next `advance` fires first. */
const READY = WHEEL_SLOTS;
/**
 * Due at insertion (deadline at or before the wheel's current tick, as with
 * a zero delay). Fired by the next `advance` call, not the running one, so a
 * callback that re-arms itself with no delay cannot keep one call spinning.
 */
const DUE_NEXT = WHEEL_SLOTS + 1;
const FIRST_ENTRY = WHEEL_SLOTS + 2;
/** `prev` of an entry on the free list. */
const FREE = -1;

const INDEX_BITS = 26;
const INDEX_SPACE = 2 ** INDEX_BITS; // at most 67,108,864 timers
const INDEX_MASK = INDEX_SPACE - 1;
const GENERATIONS = 2 ** 27; // INDEX_SPACE * GENERATIONS = 2^53: handles stay exact integers

const DEFAULT_BUDGET = 1024;
const DEFAULT_CAPACITY = 1024;

/** Marks a recurring entry; its context slot then holds a {@link Recurring}. */
function recurringMarker(): void {}

interface Recurring {
  callback: TimerCallback;
  context: unknown;
  intervalMs: number;
  policy: MissedTickPolicy;
  jitterMs: number;
  /** When the pending tick was due before jitter (fractional ms). */
  nominalMs: number;
}

interface AbortLink {
  signal: AbortSignal;
  listener: () => void;
}

/**
 * A hierarchical timing wheel: O(1) schedule, cancel and reschedule, and
 * `advance` that costs O(levels) per occupied slot it passes, however far
 * time jumps.
 *
 * ## Algorithm
 * Varghese & Lauck, "Hashed and Hierarchical Timing Wheels: Data Structures
 * for the Efficient Implementation of a Timer Facility" (SOSP 1987), scheme 7,
 * laid out as Tokio's timer wheel is: six levels of 64 slots over 1 ms ticks,
 * each level 64 times coarser than the one below.
 *
 * | level | one slot covers      | the level spans      |
 * |-------|----------------------|----------------------|
 * | 0     | 1 ms                 | 64 ms                |
 * | 1     | 64 ms                | 4,096 ms (~4.1 s)    |
 * | 2     | 4,096 ms (~4.1 s)    | 262,144 ms (~4.4 min)|
 * | 3     | ~4.4 min             | ~4.7 h               |
 * | 4     | ~4.7 h               | ~12.4 days           |
 * | 5     | ~12.4 days           | 2^36 ms (~795 days)  |
 *
 * A timer goes to the lowest level whose slot still tells its deadline apart
 * from the wheel's current tick: the level is the index of the highest bit in
 * which `deadline` and `elapsed` differ, divided by six. When `advance` reaches
 * the start of an occupied slot of level L > 0, it re-files that slot's timers
 * one or more levels down ("cascading"); a level-0 slot holds timers due at
 * exactly its tick, which then fire.
 *
 * Each level keeps a 64-bit occupancy bitmap (two 32-bit words), so the next
 * occupied slot is found with a count of leading zeros per level, and a jump
 * of ten minutes costs a handful of steps, not 600,000.
 *
 * Timers live in a slab of typed arrays (deadline, sequence number, next,
 * prev, generation) plus one array each for callbacks and contexts: 44 bytes
 * an entry, no object per timer, nothing for the garbage collector to trace.
 * The slab's capacity is a power of two, so a million pending timers cost
 * about 46 bytes each (a Node `Timeout` costs 160 or more). Slot lists are intrusive, circular and doubly linked through the
 * slab, so cancelling is an unlink. Free entries form a LIFO list.
 *
 * Moving a deadline later only records it: the timer stays in its old slot,
 * and when that slot comes due it is re-filed instead of fired. Moving it
 * earlier relinks it at once.
 *
 * ## Guarantees
 * - Never early. Deadlines are rounded up to the next whole millisecond, and a
 *   timer fires only once `advance` is given a time at or after its deadline.
 * - Order. Timers fire in deadline order; timers of one tick fire in the order
 *   they were scheduled (a `reschedule` counts as scheduling anew).
 * - Stalls. After a jump of any size, `advance` fires everything due, in that
 *   order, at most `budget` callbacks per call; the rest wait for the next
 *   call, still in order.
 * - Zero delay. A timer whose deadline is already at or before the wheel's
 *   current tick when it is scheduled (a zero delay, once the wheel has caught
 *   up with the clock) fires on the next `advance` call, never inside the
 *   call that is running, so a callback that re-arms itself with no delay
 *   cannot spin. (During a stall's catch-up the current tick is behind the
 *   clock, so such a timer is simply due later in the same call, in order.)
 *   A recurring timer's own next tick is exempt: a burst catching up fires
 *   all its due ticks in one call, in deadline order.
 * - Range. Any delay up to {@link TimerWheel.MAX_DELAY_MS} (2^47 ms, about
 *   4,460 years) is exact. A deadline beyond the wheel's span (2^36 ms, about
 *   795 days) is parked in the top level's farthest slot and re-filed each
 *   time that slot comes round; it still fires at its own deadline.
 * - Idle. The wheel never ticks on its own: whoever drives it (the reactor's
 *   `poll`, or a {@link TimerDriver}) waits for {@link nextExpiration}, the
 *   exact deadline of the earliest timer, and nothing while it is empty.
 *
 * Callbacks may throw: the exception propagates out of `advance`, the timer
 * that threw counts as fired, and the next `advance` call carries on.
 * `advance` is not re-entrant: called from inside a callback it returns 0.
 *
 * @example
 * ```ts
 * import { ManualClock, TimerWheel } from 'tsreactor';
 *
 * const clock = new ManualClock();
 * const wheel = new TimerWheel({ clock });
 * const fired: string[] = [];
 * const log = (name: string) => fired.push(name);
 *
 * wheel.schedule(5_000, log, 'idle timeout');
 * const retry = wheel.schedule(250, log, 'retry');
 * wheel.every(1_000, log, { context: 'heartbeat' });
 * wheel.cancel(retry);
 *
 * clock.advance(5_000);
 * wheel.advance();
 * // The heartbeat fires once, reporting 4 missed ticks ('skip' is the
 * // default policy), then the idle timeout: [ 'heartbeat', 'idle timeout' ]
 * console.log(fired);
 * ```
 */
export class TimerWheel {
  /** The longest delay accepted: 2^47 ms, about 4,460 years. */
  static readonly MAX_DELAY_MS = 2 ** 47;
  /** How many timers one wheel can hold at once. */
  static readonly MAX_TIMERS = INDEX_SPACE - FIRST_ENTRY;

  readonly #clock: Clock;
  readonly #budget: number;
  readonly #random: () => number;

  // Slab, indexed by entry (sentinels first).
  #capacity: number;
  #deadline: Float64Array; // tick (whole ms) at which the timer is due
  #seq: Float64Array; // scheduling order, for ties within one tick
  #next: Int32Array;
  #prev: Int32Array; // FREE for entries on the free list
  #gen: Uint32Array;
  #callbacks: unknown[];
  #contexts: unknown[];
  #top = FIRST_ENTRY; // entries below this index have been handed out at least once
  #freeHead = -1;
  #size = 0;
  #seqCounter = 0;

  /** One bit per wheel slot: word `id >> 5`, bit `id & 31`. */
  readonly #occupied = new Uint32Array(WHEEL_SLOTS / 32);
  /**
   * Ticks are whole milliseconds counted from `#origin` (the clock's time at
   * construction, rounded down), so they start near 0 whatever the clock's
   * origin: the 32-bit fast path then covers the wheel's first 24.8 days.
   */
  readonly #origin: number;
  /** The last tick fully processed: every timer due at or before it has been moved to READY. */
  #elapsed = 0;
  #advancing = false;

  /** Earliest pending deadline, valid while #cacheValid; Infinity when empty. */
  #cache = Infinity;
  #cacheValid = true;

  #wakeBefore = -Infinity;
  #waker: TimerWaker | undefined;
  /** The earliest deadline inserted below #wakeBefore since the waker was last called. */
  #wakeFor = Infinity;

  #aborts: Map<number, AbortLink> | undefined;

  constructor(options: TimerWheelOptions = {}) {
    const { clock = SystemClock.instance, advanceBudget = DEFAULT_BUDGET, random = Math.random } = options;
    const { initialCapacity = DEFAULT_CAPACITY } = options;
    if (typeof (clock as Partial<Clock> | null)?.now !== 'function') {
      throw new TypeError(`'clock' must have a now() method`);
    }
    if (typeof advanceBudget !== 'number' || !(advanceBudget >= 1)) {
      throw new RangeError(`'advanceBudget' must be a number >= 1 (or Infinity), got ${String(advanceBudget)}`);
    }
    if (typeof random !== 'function') {
      throw new TypeError(`'random' must be a function returning numbers in [0, 1)`);
    }
    if (!Number.isInteger(initialCapacity) || initialCapacity < 0 || initialCapacity > TimerWheel.MAX_TIMERS) {
      throw new RangeError(`'initialCapacity' must be an integer from 0 to ${TimerWheel.MAX_TIMERS}, got ${String(initialCapacity)}`);
    }
    this.#clock = clock;
    this.#budget = advanceBudget;
    this.#random = random;
    this.#origin = Math.floor(clock.now());

    // Powers of two: a million timers fit in 2^20 entries with 5% to spare.
    const capacity = 2 ** Math.ceil(Math.log2(FIRST_ENTRY + Math.max(initialCapacity, 1)));
    this.#capacity = capacity;
    this.#deadline = new Float64Array(capacity);
    this.#seq = new Float64Array(capacity);
    this.#next = new Int32Array(capacity);
    this.#prev = new Int32Array(capacity);
    this.#gen = new Uint32Array(capacity).fill(1);
    this.#callbacks = growArray([], capacity);
    this.#contexts = growArray([], capacity);
    for (let s = 0; s < FIRST_ENTRY; s++) {
      this.#next[s] = s;
      this.#prev[s] = s;
    }
  }

  /** The clock this wheel reads when no time is passed to it. */
  get clock(): Clock {
    return this.#clock;
  }

  /** How many timers are pending (a recurring timer counts once). */
  get size(): number {
    return this.#size;
  }

  /**
   * Schedules `callback(context, 0)` to run once, `delayMs` from now.
   *
   * @param delayMs finite, from 0 to {@link TimerWheel.MAX_DELAY_MS}; fractions
   *   are kept and the deadline rounded up to the next whole millisecond.
   * @returns a handle for `cancel`, `reschedule` and `deadlineOf`.
   * @throws RangeError naming `delayMs`; TypeError if `callback` is not a function.
   *
   * @example
   * ```ts
   * import { TimerWheel } from 'tsreactor';
   *
   * const wheel = new TimerWheel();
   * const onIdle = (conn: { id: number }) => console.log('idle', conn.id);
   * const handle = wheel.schedule(30_000, onIdle, { id: 7 }); // no closure per timer
   * wheel.cancel(handle);
   * ```
   */
  schedule(delayMs: number, callback: TimerCallback<undefined>, context?: undefined, options?: ScheduleOptions): TimerHandle;
  schedule<C>(delayMs: number, callback: TimerCallback<C>, context: C, options?: ScheduleOptions): TimerHandle;
  schedule<C>(delayMs: number, callback: TimerCallback<C>, context?: C, options?: ScheduleOptions): TimerHandle {
    checkDelay(delayMs, 'delayMs');
    if (typeof callback !== 'function') {
      throw new TypeError(`'callback' must be a function`);
    }
    const signal = options?.signal;
    if (signal?.aborted) return 0;
    const i = this.#alloc();
    this.#callbacks[i] = callback;
    this.#contexts[i] = context;
    this.#deadline[i] = this.#tickAtOrAfter(this.#clock.now() + delayMs);
    this.#seq[i] = ++this.#seqCounter;
    this.#insert(i, DUE_NEXT);
    const handle = this.#gen[i] * INDEX_SPACE + i;
    if (signal !== undefined) this.#linkAbort(i, handle, signal);
    this.#callWaker();
    return handle;
  }

  /**
   * Schedules `callback(context, missedTicks)` every `intervalMs`, first
   * `intervalMs` from now, at a fixed rate: tick k is due at `start + k *
   * intervalMs` (plus jitter), however late earlier ticks ran. The handle stays
   * the same for every tick; `cancel` stops it, `reschedule(handle, d)` moves
   * the next tick to `d` from now and restarts the schedule there.
   *
   * `missedTicks` is how many further ticks of the schedule had also come due
   * when this one fired; `options.missed` says what happens to them
   * (see {@link MissedTickPolicy}).
   *
   * @param intervalMs finite, from 1 to {@link TimerWheel.MAX_DELAY_MS}.
   * @throws RangeError naming `intervalMs` or `jitterMs`, or a bad `missed`.
   *
   * @example
   * ```ts
   * import { ManualClock, TimerWheel } from 'tsreactor';
   *
   * const clock = new ManualClock();
   * const wheel = new TimerWheel({ clock });
   * wheel.every(100, (_ctx, missed) => console.log('tick, missed', missed));
   * clock.advance(350); // a stall: ticks at 100, 200 and 300 are due
   * wheel.advance();    // 'skip': prints "tick, missed 2"; next tick at 400
   * ```
   */
  every(intervalMs: number, callback: TimerCallback<undefined>, options?: EveryOptions<undefined>): TimerHandle;
  every<C>(intervalMs: number, callback: TimerCallback<C>, options: EveryOptions<C> & { context: C }): TimerHandle;
  every<C>(intervalMs: number, callback: TimerCallback<C>, options: EveryOptions<C> = {}): TimerHandle {
    checkDelay(intervalMs, 'intervalMs');
    if (intervalMs < 1) {
      throw new RangeError(`'intervalMs' must be at least 1 (the wheel's tick), got ${intervalMs}`);
    }
    if (typeof callback !== 'function') {
      throw new TypeError(`'callback' must be a function`);
    }
    const { missed = 'skip', jitterMs = 0, context, signal } = options;
    if (!isMissedTickPolicy(missed)) {
      throw new RangeError(`'missed' must be 'skip', 'delay' or 'burst', got ${String(missed)}`);
    }
    checkDelay(jitterMs, 'jitterMs');
    if (signal?.aborted) return 0;
    const nominalMs = this.#clock.now() + intervalMs;
    const state: Recurring = {
      callback: callback as TimerCallback,
      context,
      intervalMs,
      policy: missed,
      jitterMs,
      nominalMs,
    };
    const i = this.#alloc();
    this.#callbacks[i] = recurringMarker;
    this.#contexts[i] = state;
    this.#deadline[i] = this.#tickAtOrAfter(nominalMs + this.#jitter(jitterMs));
    this.#seq[i] = ++this.#seqCounter;
    this.#insert(i, DUE_NEXT);
    const handle = this.#gen[i] * INDEX_SPACE + i;
    if (signal !== undefined) this.#linkAbort(i, handle, signal);
    this.#callWaker();
    return handle;
  }

  /**
   * Cancels a pending timer. Returns `true` if it was pending, `false` for a
   * handle that already fired, was cancelled, or was never issued.
   */
  cancel(handle: TimerHandle): boolean {
    const i = this.#indexOf(handle);
    if (i < 0) return false;
    if (this.#deadline[i] === this.#cache) this.#cacheValid = false;
    this.#unlink(i);
    this.#free(i);
    return true;
  }

  /**
   * Moves a pending timer's deadline to `delayMs` from now, earlier or later.
   * It then orders after timers already scheduled for the same tick. Returns
   * `false` (and changes nothing) if the handle is not pending.
   *
   * Cost: O(1) either way. Later only records the new deadline; earlier
   * relinks the timer.
   * @throws RangeError naming `delayMs`, even for a stale handle.
   */
  reschedule(handle: TimerHandle, delayMs: number): boolean {
    checkDelay(delayMs, 'delayMs');
    const i = this.#indexOf(handle);
    if (i < 0) return false;
    const nowMs = this.#clock.now();
    const deadline = this.#tickAtOrAfter(nowMs + delayMs);
    const old = this.#deadline[i];
    if (this.#callbacks[i] === recurringMarker) {
      (this.#contexts[i] as Recurring).nominalMs = nowMs + delayMs;
    }
    if (old === this.#cache) this.#cacheValid = false;
    this.#seq[i] = ++this.#seqCounter;
    if (deadline >= old && old > this.#elapsed) {
      // In a wheel slot and moving later: record it; the slot re-files it when it comes due.
      this.#deadline[i] = deadline;
      return true;
    }
    this.#unlink(i);
    this.#deadline[i] = deadline;
    this.#insert(i, DUE_NEXT);
    this.#callWaker();
    return true;
  }

  /** `true` while the handle names a pending timer. */
  has(handle: TimerHandle): boolean {
    return this.#indexOf(handle) >= 0;
  }

  /**
   * The absolute time (in the clock's milliseconds, a whole number) at which
   * a pending timer is due, or `undefined` if the handle is not pending.
   */
  deadlineOf(handle: TimerHandle): number | undefined {
    const i = this.#indexOf(handle);
    return i < 0 ? undefined : this.#deadline[i] + this.#origin;
  }

  /**
   * The exact deadline of the earliest pending timer (absolute ms, a whole
   * number, possibly already past), or `undefined` when no timer is pending.
   * A driver waits until then and no longer.
   *
   * Cost: O(1) while the earliest timer stays put. After it fires, is
   * cancelled or moved later, the next call looks at the earliest occupied
   * slot: O(levels) to find it, plus one pass over the timers in it (and it
   * files there any timer whose deadline was moved out of that slot).
   */
  nextExpiration(): number | undefined {
    const next = this.#next;
    let due = Infinity;
    if (next[READY] !== READY) due = this.#deadline[next[READY]];
    if (next[DUE_NEXT] !== DUE_NEXT) due = Math.min(due, this.#deadline[next[DUE_NEXT]]);
    if (due !== Infinity) return due + this.#origin;
    if (!this.#cacheValid) {
      this.#cache = this.#earliestInWheel();
      this.#cacheValid = true;
    }
    return this.#cache === Infinity ? undefined : this.#cache + this.#origin;
  }

  /**
   * Fires every timer due at or before `nowMs` (default: the clock's time), in
   * deadline order, at most `budget` callbacks (default: the wheel's
   * `advanceBudget`). Returns how many fired. If the budget ran out, what is
   * left fires first on the next call; `nextExpiration()` is then already
   * due.
   *
   * @throws RangeError if `nowMs` is not a finite number or `budget` < 0;
   *   whatever a callback throws (the wheel stays consistent).
   */
  advance(nowMs?: number, budget: number = this.#budget): number {
    const now = nowMs ?? this.#clock.now();
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new RangeError(`'nowMs' must be a finite number, got ${String(now)}`);
    }
    if (typeof budget !== 'number' || !(budget >= 0)) {
      throw new RangeError(`'budget' must be a number >= 0, got ${String(budget)}`);
    }
    if (this.#advancing) return 0;
    this.#advancing = true;
    const target = Math.floor(now) - this.#origin;
    let fired = 0;
    try {
      this.#mergeDueNext();
      for (;;) {
        // Callbacks may grow the slab, replacing #next: read it afresh each time.
        while (this.#next[READY] !== READY) {
          if (fired >= budget) return fired;
          fired++;
          this.#fire(this.#next[READY], now);
        }
        if (this.#elapsed >= target) return fired;
        const slot = nextOccupiedSlot(this.#occupied, this.#elapsed);
        const start = slot < 0 ? Infinity : slotStart(slot, this.#elapsed);
        if (start > target) {
          this.#elapsed = target;
          return fired;
        }
        this.#elapsed = start;
        this.#expire(start);
      }
    } finally {
      this.#advancing = false;
      if (fired > 0) this.#cacheValid = false;
    }
  }

  /**
   * Arms a one-shot waker: `waker(deadlineMs)` is called, synchronously and
   * once, the first time a timer is scheduled, or moved earlier, to a deadline
   * before `beforeMs` (it is called last, once that operation is complete). A
   * driver sleeping until `beforeMs` (its earliest deadline) uses it to wake
   * sooner; a move later never needs that.
   * A wheel has one waker; setting it replaces the previous one, and
   * `setWaker(-Infinity)` (or no waker) disarms it.
   *
   * @example
   * ```ts
   * import { TimerWheel } from 'tsreactor';
   *
   * const wheel = new TimerWheel();
   * const sleepUntil = wheel.nextExpiration() ?? Infinity;
   * wheel.setWaker(sleepUntil, (deadline) => console.log('wake for', deadline));
   * wheel.schedule(10, () => {}); // prints "wake for ..."
   * ```
   */
  setWaker(beforeMs: number, waker?: TimerWaker): void {
    if (typeof beforeMs !== 'number' || Number.isNaN(beforeMs)) {
      throw new RangeError(`'beforeMs' must be a number, got ${String(beforeMs)}`);
    }
    this.#waker = waker;
    this.#wakeBefore = waker === undefined ? -Infinity : beforeMs - this.#origin;
    this.#wakeFor = Infinity;
  }

  /* ---- Internals ------------------------------------------------------- */

  /** The first tick at or after absolute time `ms`: rounding up is what makes timers never early. */
  #tickAtOrAfter(ms: number): number {
    return Math.ceil(ms) - this.#origin;
  }

  #jitter(jitterMs: number): number {
    return jitterMs > 0 ? this.#random() * jitterMs : 0;
  }

  #indexOf(handle: TimerHandle): number {
    if (typeof handle !== 'number') return -1;
    const i = handle & INDEX_MASK;
    if (i < FIRST_ENTRY || i >= this.#top) return -1;
    if (this.#gen[i] * INDEX_SPACE + i !== handle || this.#prev[i] === FREE) return -1;
    return i;
  }

  #alloc(): number {
    let i = this.#freeHead;
    if (i >= 0) {
      this.#freeHead = this.#next[i];
    } else {
      if (this.#top === this.#capacity) this.#grow();
      i = this.#top++;
    }
    this.#size++;
    return i;
  }

  #free(i: number): void {
    this.#callbacks[i] = undefined;
    this.#contexts[i] = undefined;
    this.#prev[i] = FREE;
    this.#size--;
    const gen = this.#gen[i] + 1;
    this.#gen[i] = gen;
    if (gen < GENERATIONS) {
      this.#next[i] = this.#freeHead;
      this.#freeHead = i;
    } // else: retired for good (44 bytes), so no handle can ever name it twice
    if (this.#aborts !== undefined) this.#unlinkAbort(i);
  }

  #grow(): void {
    const old = this.#capacity;
    if (old >= INDEX_SPACE) {
      throw new RangeError(`TimerWheel holds at most ${TimerWheel.MAX_TIMERS} timers`);
    }
    const capacity = Math.min(old * 2, INDEX_SPACE);
    this.#deadline = growFloat64(this.#deadline, capacity);
    this.#seq = growFloat64(this.#seq, capacity);
    this.#next = growInt32(this.#next, capacity);
    this.#prev = growInt32(this.#prev, capacity);
    const gen = new Uint32Array(capacity).fill(1);
    gen.set(this.#gen);
    this.#gen = gen;
    this.#callbacks = growArray(this.#callbacks, capacity);
    this.#contexts = growArray(this.#contexts, capacity);
    this.#capacity = capacity;
  }

  /**
   * Files entry `i` by its deadline: a wheel slot, or, if it is already due,
   * the due list `dueList` (DUE_NEXT for timers scheduled by callers, READY
   * for a recurring timer's own next tick), in deadline order. A deadline
   * before the waker's threshold is noted for #callWaker.
   */
  #insert(i: number, dueList: number): void {
    const deadline = this.#deadline[i];
    if (deadline <= this.#elapsed) {
      this.#linkInOrder(dueList, i);
    } else {
      const slot = slotFor(this.#elapsed, deadline);
      this.#linkTail(slot, i);
      this.#occupied[slot >> 5] |= 1 << (slot & 31);
    }
    if (this.#cacheValid && deadline < this.#cache) this.#cache = deadline;
    if (deadline < this.#wakeBefore && deadline < this.#wakeFor) this.#wakeFor = deadline;
  }

  /**
   * Calls the waker if an insert went below its threshold. Public operations
   * call this last, once the wheel and the returned handle are complete, so a
   * waker that throws or re-enters sees a consistent wheel.
   */
  #callWaker(): void {
    const deadline = this.#wakeFor;
    if (deadline === Infinity) return;
    this.#wakeFor = Infinity;
    const waker = this.#waker as TimerWaker;
    this.#wakeBefore = -Infinity;
    this.#waker = undefined;
    waker(deadline + this.#origin);
  }

  /**
   * Links `i` into a due list kept sorted by (deadline, scheduling order):
   * after every entry due no later. `i` was just (re)scheduled, so its
   * sequence number is the highest; normally this is the tail.
   */
  #linkInOrder(list: number, i: number): void {
    const prev = this.#prev;
    const deadline = this.#deadline;
    let after = prev[list];
    while (after !== list && deadline[after] > deadline[i]) after = prev[after];
    const before = this.#next[after];
    this.#next[after] = i;
    prev[i] = after;
    this.#next[i] = before;
    prev[before] = i;
  }

  #linkTail(list: number, i: number): void {
    const next = this.#next;
    const prev = this.#prev;
    const tail = prev[list];
    next[tail] = i;
    prev[i] = tail;
    next[i] = list;
    prev[list] = i;
  }

  #unlink(i: number): void {
    const next = this.#next;
    const prev = this.#prev;
    const p = prev[i];
    const n = next[i];
    next[p] = n;
    prev[n] = p;
    // Both neighbours are the sentinel: that list is now empty.
    if (p === n && p < WHEEL_SLOTS) this.#occupied[p >> 5] &= ~(1 << (p & 31));
  }

  /** Tick `tick` has come: move its timers to READY and re-file the rest of its slots. */
  #expire(tick: number): void {
    const next = this.#next;
    const deadline = this.#deadline;
    for (let level = 0; level < LEVELS && tick % SPAN[level] === 0; level++) {
      const slot = (level << SLOT_BITS) | (Math.floor(tick / SPAN[level]) & (SLOTS - 1));
      if ((this.#occupied[slot >> 5] & (1 << (slot & 31))) === 0) continue;
      // Detach the whole list, then send each entry on.
      let i = next[slot];
      this.#prev[slot] = slot;
      next[slot] = slot;
      this.#occupied[slot >> 5] &= ~(1 << (slot & 31));
      while (i !== slot) {
        const following = next[i];
        if (deadline[i] <= tick) this.#linkTail(READY, i);
        else this.#refile(i);
        i = following;
      }
    }
    this.#sortReady();
  }

  /** Re-files entry `i` (not linked anywhere) into its wheel slot; no cache or waker checks. */
  #refile(i: number): void {
    const slot = slotFor(this.#elapsed, this.#deadline[i]);
    this.#linkTail(slot, i);
    this.#occupied[slot >> 5] |= 1 << (slot & 31);
  }

  /**
   * READY holds one tick's timers, normally already in scheduling order. A
   * deadline moved later is re-filed behind timers scheduled after the move,
   * so check, and sort in the rare case that left them out of order.
   */
  #sortReady(): void {
    const next = this.#next;
    const seq = this.#seq;
    let sorted = true;
    for (let i = next[READY]; next[i] !== READY; i = next[i]) {
      if (seq[next[i]] < seq[i]) {
        sorted = false;
        break;
      }
    }
    if (sorted) return;
    const entries: number[] = [];
    for (let i = next[READY]; i !== READY; i = next[i]) entries.push(i);
    entries.sort((a, b) => seq[a] - seq[b]);
    this.#next[READY] = READY;
    this.#prev[READY] = READY;
    for (const i of entries) this.#linkTail(READY, i);
  }

  /**
   * Moves DUE_NEXT into READY, keeping (deadline, scheduling order). Usually
   * everything in DUE_NEXT is due at the current tick and was scheduled last,
   * so it goes on the end; a clock behind the time given to `advance` can
   * make it interleave, and then the two sorted lists are merged.
   */
  #mergeDueNext(): void {
    const next = this.#next;
    if (next[DUE_NEXT] === DUE_NEXT) return;
    const deadline = this.#deadline;
    const tail = this.#prev[READY];
    if (tail !== READY && deadline[next[DUE_NEXT]] < deadline[tail]) {
      // Rare: insert each due-next entry in order (lists are short).
      for (let i = next[DUE_NEXT]; i !== DUE_NEXT;) {
        const following = next[i];
        this.#unlink(i);
        this.#linkInOrder(READY, i);
        i = following;
      }
      return;
    }
    const first = next[DUE_NEXT];
    const last = this.#prev[DUE_NEXT];
    next[tail] = first;
    this.#prev[first] = tail;
    next[last] = READY;
    this.#prev[READY] = last;
    next[DUE_NEXT] = DUE_NEXT;
    this.#prev[DUE_NEXT] = DUE_NEXT;
  }

  /** Fires entry `i`, the head of READY. State is consistent before the callback runs. */
  #fire(i: number, now: number): void {
    const callback = this.#callbacks[i];
    const context = this.#contexts[i];
    if (this.#deadline[i] === this.#cache) this.#cacheValid = false; // for nextExpiration() inside the callback
    this.#unlink(i);
    if (callback === recurringMarker) {
      this.#fireRecurring(i, context as Recurring, now);
      return;
    }
    this.#free(i);
    (callback as TimerCallback)(context, 0);
  }

  #fireRecurring(i: number, state: Recurring, now: number): void {
    const missed = missedTicks(state.nominalMs, state.intervalMs, now);
    state.nominalMs = nextNominal(state.policy, state.nominalMs, state.intervalMs, missed, now);
    this.#deadline[i] = this.#tickAtOrAfter(state.nominalMs + this.#jitter(state.jitterMs));
    this.#seq[i] = ++this.#seqCounter;
    // A tick already due (a burst catching up, with jitter) joins this advance, in order.
    this.#insert(i, READY);
    this.#callWaker();
    state.callback(state.context, missed);
  }

  /**
   * The earliest deadline in the wheel's slots, or Infinity. Scans the
   * earliest occupied slot; a timer found there whose deadline was moved
   * beyond the slot is filed where it now belongs, and the scan goes on to
   * the next slot if that empties this one.
   */
  #earliestInWheel(): number {
    const next = this.#next;
    const deadline = this.#deadline;
    for (;;) {
      const slot = nextOccupiedSlot(this.#occupied, this.#elapsed);
      if (slot < 0) return Infinity;
      let earliest = Infinity;
      for (let i = next[slot]; i !== slot;) {
        const following = next[i];
        const due = deadline[i];
        const home = slotFor(this.#elapsed, due);
        if (home !== slot) {
          this.#unlink(i);
          this.#linkTail(home, i);
          this.#occupied[home >> 5] |= 1 << (home & 31);
        } else if (due < earliest) {
          earliest = due;
        }
        i = following;
      }
      if (earliest !== Infinity) return earliest;
    }
  }

  #linkAbort(i: number, handle: TimerHandle, signal: AbortSignal): void {
    const listener = (): void => {
      this.cancel(handle);
    };
    signal.addEventListener('abort', listener, { once: true });
    (this.#aborts ??= new Map()).set(i, { signal, listener });
  }

  #unlinkAbort(i: number): void {
    const link = (this.#aborts as Map<number, AbortLink>).get(i);
    if (link === undefined) return;
    link.signal.removeEventListener('abort', link.listener);
    (this.#aborts as Map<number, AbortLink>).delete(i);
  }
}

/** Checks a value from a caller who may not be typed. */
function isMissedTickPolicy(value: unknown): value is MissedTickPolicy {
  return value === 'skip' || value === 'delay' || value === 'burst';
}

function checkDelay(value: number, name: string): void {
  if (typeof value !== 'number' || !(value >= 0 && value <= TimerWheel.MAX_DELAY_MS)) {
    throw new RangeError(`'${name}' must be a finite number from 0 to ${TimerWheel.MAX_DELAY_MS}, got ${String(value)}`);
  }
}

function growFloat64(array: Float64Array, capacity: number): Float64Array {
  const grown = new Float64Array(capacity);
  grown.set(array);
  return grown;
}

/**
 * A copy of `array` with room for exactly `capacity` elements. Allocated at
 * its full length (8 bytes an element) rather than grown by push, which
 * over-allocates by up to half again.
 */
function growArray(array: unknown[], capacity: number): unknown[] {
  const grown: unknown[] = new Array<unknown>(capacity).fill(undefined);
  for (let i = 0; i < array.length; i++) grown[i] = array[i];
  return grown;
}

function growInt32(array: Int32Array, capacity: number): Int32Array {
  const grown = new Int32Array(capacity);
  grown.set(array);
  return grown;
}
