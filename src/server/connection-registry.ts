import type { TimerWheel } from '../timers';
import type { Connection } from './connection';

/**
 * What happens to a new connection once `maxConnections` are open:
 * - `'pause-accepting'` (default): stop accepting until one closes. New
 *   connections wait in the kernel's backlog (and are refused once it is
 *   full), so a burst is absorbed and nothing is accepted only to be closed.
 * - `'reject'`: accept and close at once, counted as a drop: clients learn
 *   immediately, at the cost of accepting them.
 */
export type MaxConnectionsPolicy = 'pause-accepting' | 'reject';

/** Options of {@link ConnectionRegistry}. */
export interface ConnectionRegistryOptions {
  /** The most connections open at once. Default Infinity. */
  maxConnections?: number;
  /** See {@link MaxConnectionsPolicy}. */
  maxConnectionsPolicy?: MaxConnectionsPolicy;
  /** Close a connection after this long without reading or writing. Default 0: never. */
  idleTimeoutMs?: number;
}

/**
 * Every live connection of an event loop, with the limit on how many may be
 * open and their idle timeouts.
 *
 * The connections are kept in an intrusive list (each connection carries its
 * two links), oldest first: adding and removing are O(1) and cost no map
 * entry per connection. `get(id)` walks the list.
 *
 * Idle timeouts live on the reactor's timer wheel: one timer per connection,
 * with a shared callback and the connection as context (no closure per
 * connection). Activity re-arms it with `reschedule`, which only records the
 * later deadline: the timer is not relinked, so a busy connection costs a
 * clock read and a store per activity, and an idle one exactly one expiry.
 *
 * @example
 * ```ts
 * import { EventLoop } from 'tsreactor';
 *
 * const loop = new EventLoop({ maxConnections: 10_000, idleTimeoutMs: 30_000 });
 * console.log(loop.registry.size, loop.registry.full);
 * ```
 */
export class ConnectionRegistry {
  readonly maxConnections: number;
  readonly policy: MaxConnectionsPolicy;
  readonly idleTimeoutMs: number;
  #oldest: Connection | undefined;
  #newest: Connection | undefined;
  #size = 0;
  readonly #timers: TimerWheel;
  readonly #onIdle: (connection: Connection) => void;

  constructor(timers: TimerWheel, onIdle: (connection: Connection) => void, options: ConnectionRegistryOptions = {}) {
    const { maxConnections = Infinity, maxConnectionsPolicy = 'pause-accepting', idleTimeoutMs = 0 } = options;
    if (maxConnections !== Infinity && !(Number.isInteger(maxConnections) && maxConnections >= 1)) {
      throw new RangeError(`'maxConnections' must be a whole number >= 1 (or Infinity), got ${String(maxConnections)}`);
    }
    if ((maxConnectionsPolicy as string) !== 'pause-accepting' && (maxConnectionsPolicy as string) !== 'reject') {
      throw new RangeError(`'maxConnectionsPolicy' must be 'pause-accepting' or 'reject', got ${String(maxConnectionsPolicy)}`);
    }
    if (!(idleTimeoutMs >= 0) || !Number.isFinite(idleTimeoutMs)) {
      throw new RangeError(`'idleTimeoutMs' must be a finite number >= 0 (0: no idle timeout), got ${String(idleTimeoutMs)}`);
    }
    this.maxConnections = maxConnections;
    this.policy = maxConnectionsPolicy;
    this.idleTimeoutMs = idleTimeoutMs;
    this.#timers = timers;
    this.#onIdle = onIdle;
  }

  get size(): number {
    return this.#size;
  }

  /** `true` once `maxConnections` are open. */
  get full(): boolean {
    return this.#size >= this.maxConnections;
  }

  /** The connection with this id, if it is live (O(n): it walks the list). */
  get(id: number): Connection | undefined {
    for (const connection of this.values()) if (connection.id === id) return connection;
    return undefined;
  }

  /** The live connections, oldest first. Safe to close the current one while iterating. */
  *values(): IterableIterator<Connection> {
    for (let connection = this.#oldest; connection !== undefined;) {
      const next = connection.newer;
      yield connection;
      connection = next;
    }
  }

  add(connection: Connection): void {
    connection.older = this.#newest;
    connection.newer = undefined;
    if (this.#newest !== undefined) this.#newest.newer = connection;
    else this.#oldest = connection;
    this.#newest = connection;
    this.#size++;
    if (this.idleTimeoutMs > 0) connection.idleTimer = this.#timers.schedule(this.idleTimeoutMs, this.#onIdle, connection);
  }

  /** Activity on `connection`: its idle deadline moves later (recorded, not relinked). */
  touch(connection: Connection): void {
    if (connection.idleTimer !== 0) this.#timers.reschedule(connection.idleTimer, this.idleTimeoutMs);
  }

  remove(connection: Connection): boolean {
    if (connection.idleTimer !== 0) this.#timers.cancel(connection.idleTimer);
    connection.idleTimer = 0;
    const { older, newer } = connection;
    if (older === undefined && newer === undefined && this.#oldest !== connection) return false; // not ours
    if (older !== undefined) older.newer = newer;
    else this.#oldest = newer;
    if (newer !== undefined) newer.older = older;
    else this.#newest = older;
    connection.older = undefined;
    connection.newer = undefined;
    this.#size--;
    return true;
  }
}
