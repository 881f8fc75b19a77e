import { Event } from './event';
import type { Registration } from './registration';

const DEFAULT_CAPACITY = 1024;
const MAX_CAPACITY = 1 << 20;

/** Internal: empties a buffer before a poll fills it. */
export let resetEvents: <T>(events: Events<T>) => void;
/** Internal: appends one gathered event; `false` when the buffer is full. */
export let addEvent: <T>(events: Events<T>, registration: Registration<T>, flags: number) => boolean;
/** Internal: records that the poll that filled the buffer was woken by `wake()`. */
export let setWoken: <T>(events: Events<T>, woken: boolean) => void;

/**
 * A reusable buffer that `poll` fills with events, like the array passed to
 * `epoll_wait`. Its capacity bounds one batch (rule 14: the rest come with the
 * next poll, in order).
 *
 * Iterate it with `for...of`, or by index with `get(i)` for `i < length`.
 * Each event is checked when it is handed out, not when it was gathered: an
 * event whose descriptor was unregistered or closed since is skipped (rule 5),
 * and its bits are cut to the registration's interest at that moment (rule 7).
 *
 * @example
 * ```ts
 * import { Events, Reactor } from 'tsreactor';
 *
 * const reactor = new Reactor();
 * const events = new Events(256);
 * async function loop() {
 *   for (;;) {
 *     await reactor.poll(events);
 *     for (const event of events) {
 *       if (event.readable) console.log('fd', event.fd, 'can be read');
 *     }
 *   }
 * }
 * ```
 */
export class Events<T = unknown> implements Iterable<Event<T>> {
  readonly capacity: number;
  readonly #registrations: (Registration<T> | undefined)[];
  readonly #flags: Uint8Array;
  readonly #views: (Event<T> | undefined)[];
  #length = 0;
  #woken = false;

  static {
    resetEvents = (events) => {
      events.#registrations.fill(undefined, 0, events.#length);
      events.#length = 0;
      events.#woken = false;
    };
    addEvent = (events, registration, flags) => {
      if (events.#length === events.capacity) return false;
      events.#registrations[events.#length] = registration;
      events.#flags[events.#length] = flags;
      events.#length++;
      return true;
    };
    setWoken = (events, woken) => {
      events.#woken = woken;
    };
  }

  /** @param capacity the most events one poll returns, 1 to 1,048,576 (default 1024). */
  constructor(capacity: number = DEFAULT_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new RangeError(`'capacity' must be an integer from 1 to ${MAX_CAPACITY}, got ${String(capacity)}`);
    }
    this.capacity = capacity;
    this.#registrations = new Array<Registration<T> | undefined>(capacity).fill(undefined);
    this.#flags = new Uint8Array(capacity);
    this.#views = new Array<Event<T> | undefined>(capacity).fill(undefined);
  }

  /** How many events the last poll gathered (some may since have been dropped: see `get`). */
  get length(): number {
    return this.#length;
  }

  /** `true` if the poll that filled this buffer was ended by `reactor.wake()`. */
  get woken(): boolean {
    return this.#woken;
  }

  /**
   * Event `index` as it stands now, or `undefined` if its registration has
   * ended since it was gathered or none of its bits are still of interest.
   * The returned object is reused by the next poll.
   */
  get(index: number): Event<T> | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    const registration = this.#registrations[index];
    if (registration === undefined || !registration.live) return undefined;
    const flags = this.#flags[index] & registration.mask;
    if (flags === 0) return undefined;
    const view = (this.#views[index] ??= new Event<T>());
    view.fd = registration.fd;
    view.token = registration.token;
    view.flags = flags;
    return view;
  }

  *[Symbol.iterator](): Iterator<Event<T>> {
    for (let i = 0; i < this.#length; i++) {
      const event = this.get(i);
      if (event !== undefined) yield event;
    }
  }
}
