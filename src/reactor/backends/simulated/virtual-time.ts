import { syncBuiltinESMExports } from 'node:module';
// The module objects themselves, to patch: `import * as` would give a copy of getters, which cannot be assigned.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import nodeTimers = require('node:timers');
// eslint-disable-next-line @typescript-eslint/no-require-imports
import timersPromises = require('node:timers/promises');
import type { ManualClock } from '../../../timers';
import { ReactorError } from '../../reactor-error';
import { type Lane, newLane, type Scheduled } from './event-queue';

/** Node's longest timer delay; a longer (or invalid) one becomes 1 ms, as Node makes it. */
const TIMEOUT_MAX = 2 ** 31 - 1;
/** The simulated wall clock's default start: `Date.now()` reads this at simulated time 0 (2026-01-01T00:00:00Z). */
const DEFAULT_EPOCH_MS = Date.UTC(2026, 0, 1);

/** Options of `virtualTime` (see `SimulatedWorldOptions.virtualTime`). */
export interface VirtualTimeOptions {
  /** What `Date.now()` says at simulated time 0, in ms since 1970. Default 2026-01-01T00:00:00Z, the same every run. */
  epochMs?: number;
}

/** What virtual time needs of its world. */
export interface TimeSource {
  readonly clock: ManualClock;
  at(time: number, run: () => void, lane: Lane): Scheduled | undefined;
  cancel(item: Scheduled): void;
  /** A timer's callback ran: let the program's promises settle before time moves on. */
  wakeTest(): void;
}

type Callback = (...args: unknown[]) => void;

/** The one world whose virtual time is installed: Node's globals can follow one clock at a time. */
let installed: VirtualTime | undefined;

/**
 * A timer of virtual time, as `setTimeout` returns it: the same methods as
 * Node's `Timeout` (`ref`, `unref`, `hasRef`, `refresh`, `close`, and a
 * number for `clearTimeout` by id).
 */
export class VirtualTimeout {
  readonly #time: VirtualTime;
  readonly #id: number;
  readonly #callback: Callback;
  readonly #args: unknown[];
  readonly #delayMs: number;
  readonly #repeat: boolean;
  #item: Scheduled | undefined;
  #refed = true;

  /** @internal Made by virtual `setTimeout` and `setInterval`. */
  constructor(time: VirtualTime, id: number, callback: Callback, delayMs: number, repeat: boolean, args: unknown[]) {
    this.#time = time;
    this.#id = id;
    this.#callback = callback;
    this.#delayMs = delayMs;
    this.#repeat = repeat;
    this.#args = args;
  }

  /** @internal Schedules the next firing. */
  arm(): void {
    this.#item = this.#time.source.at(this.#time.source.clock.now() + this.#delayMs, this.#fire, this.#time.lane);
    if (!this.#refed) this.#time.unrefPending++;
  }

  /** @internal Takes the pending firing back. */
  disarm(): void {
    if (this.#item === undefined) return;
    this.#time.source.cancel(this.#item);
    this.#item = undefined;
    if (!this.#refed) this.#time.unrefPending--;
  }

  readonly #fire = (): void => {
    this.#item = undefined;
    if (!this.#refed) this.#time.unrefPending--;
    if (this.#repeat) this.arm();
    else this.#time.forget(this.#id);
    this.#time.run(this.#callback, this.#args);
  };

  /** Keeps the simulation going for this timer (the default). */
  ref(): this {
    if (!this.#refed && this.#item !== undefined) this.#time.unrefPending--;
    this.#refed = true;
    return this;
  }

  /**
   * Lets the simulation stop with this timer pending, as an unref'd Node
   * timer lets the process exit: it fires only while something else keeps
   * the simulation going (a poll, a test's wait, another timer).
   */
  unref(): this {
    if (this.#refed && this.#item !== undefined) this.#time.unrefPending++;
    this.#refed = false;
    return this;
  }

  hasRef(): boolean {
    return this.#refed;
  }

  /** Starts the delay again from now. */
  refresh(): this {
    if (this.#item !== undefined) {
      this.disarm();
      this.arm();
    }
    return this;
  }

  close(): this {
    this.#time.clear(this);
    return this;
  }

  [Symbol.toPrimitive](): number {
    return this.#id;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** What was on the globals and modules before installing, to put back. */
interface Saved {
  globals: Record<'setTimeout' | 'clearTimeout' | 'setInterval' | 'clearInterval' | 'setImmediate' | 'clearImmediate', unknown>;
  Date: DateConstructor;
  performanceNow: PropertyDescriptor | undefined;
  hrtime: NodeJS.HRTime;
  timers: Record<string, unknown>;
  promises: Record<string, unknown>;
}

const GLOBAL_NAMES = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate'] as const;
const PROMISE_NAMES = ['setTimeout', 'setImmediate', 'setInterval', 'scheduler'] as const;

/**
 * The program's clocks and timers on the simulated clock, while a
 * simulation runs (`virtualTime: true` on a world or a SimulatedBackend).
 *
 * Installed: `setTimeout`/`setInterval` (global and `node:timers`), and
 * `setTimeout`/`setInterval`/`scheduler.wait` of `node:timers/promises`,
 * schedule simulator events, so a timer fires at its simulated time, in
 * the order of its deadline among the network's events, and a program
 * waiting on a timer makes the simulation run to it (no heartbeat).
 * `Date` (`Date.now()`, `new Date()`), `performance.now()` and
 * `process.hrtime` read the simulated clock; `Date.now()` starts from a
 * fixed epoch (`epochMs`), so one seed gives byte-identical output even where
 * a program prints dates. `setImmediate` stays Node's own, but the
 * simulation lets the immediates pending when it would move the clock on
 * run first, so they run at the simulated time they were scheduled at.
 * `process.nextTick` and promises need no clock.
 *
 * Uninstalled when the world closes (its reactor's `close()`, `world.close()`,
 * or `simulate` ending, also on failure): everything is put back as it was;
 * virtual timers still pending never fire. One world at a time: a second
 * throws `ERR_SIM_VIRTUAL_TIME`.
 *
 * What it cannot reach: timers Node's own modules set through its internals
 * (a real `net.Socket`'s `setTimeout`, `http.Server`'s header timeouts) run
 * in real time; the simulated network's sockets (`world.net`) use virtual
 * timers.
 */
export class VirtualTime {
  readonly source: TimeSource;
  readonly lane: Lane = newLane();
  readonly #epochMs: number;
  /** Pending timers that are unref'd: they do not keep the simulation going. */
  unrefPending = 0;
  /** `setImmediate` callbacks scheduled and not run yet. */
  immediatesPending = 0;
  readonly #timers = new Map<number, VirtualTimeout>();
  readonly #immediates = new Set<NodeJS.Immediate>();
  #nextId = 1;
  #saved: Saved | undefined;

  constructor(source: TimeSource, options: VirtualTimeOptions = {}) {
    const { epochMs = DEFAULT_EPOCH_MS } = options;
    if (!Number.isFinite(epochMs)) throw new RangeError(`'epochMs' must be a finite number of ms since 1970, got ${String(epochMs)}`);
    this.source = source;
    this.#epochMs = epochMs;
  }

  /** `Date.now()` in virtual time: whole ms. */
  epochNow(): number {
    return Math.floor(this.#epochMs + this.source.clock.now());
  }

  /* ---- Timers --------------------------------------------------------------- */

  readonly setTimeout = (callback: Callback, delayMs?: number, ...args: unknown[]): VirtualTimeout =>
    this.#start(callback, delayMs, false, args);

  readonly setInterval = (callback: Callback, delayMs?: number, ...args: unknown[]): VirtualTimeout =>
    this.#start(callback, delayMs, true, args);

  readonly clearTimeout = (timer: unknown): void => {
    if (timer instanceof VirtualTimeout) this.clear(timer);
    else if (typeof timer === 'number' || typeof timer === 'string') {
      const known = this.#timers.get(Number(timer));
      if (known !== undefined) this.clear(known);
    } else if (timer !== undefined && timer !== null) (this.#saved?.globals.clearTimeout as (t: unknown) => void)(timer); // a real timer
  };

  readonly setImmediate = (callback: Callback, ...args: unknown[]): NodeJS.Immediate => {
    if (typeof callback !== 'function')
      throw new TypeError(`The "callback" argument must be of type function. Received ${typeof callback}`);
    const realSetImmediate = this.#saved?.globals.setImmediate as typeof setImmediate;
    this.immediatesPending++;
    const immediate: NodeJS.Immediate = realSetImmediate(() => {
      this.#immediates.delete(immediate);
      this.immediatesPending--;
      callback(...args);
    });
    this.#immediates.add(immediate);
    return immediate;
  };

  readonly clearImmediate = (immediate: NodeJS.Immediate | undefined): void => {
    if (immediate === undefined) return;
    if (this.#immediates.delete(immediate)) this.immediatesPending--;
    (this.#saved?.globals.clearImmediate as typeof clearImmediate)(immediate);
  };

  #start(callback: Callback, delayMs: number | undefined, repeat: boolean, args: unknown[]): VirtualTimeout {
    if (typeof callback !== 'function')
      throw new TypeError(`The "callback" argument must be of type function. Received ${typeof callback}`);
    const delay = Number(delayMs);
    const id = this.#nextId++;
    const timer = new VirtualTimeout(this, id, callback, delay >= 1 && delay <= TIMEOUT_MAX ? delay : 1, repeat, args);
    this.#timers.set(id, timer);
    timer.arm();
    return timer;
  }

  /** @internal Stops `timer`. */
  clear(timer: VirtualTimeout): void {
    timer.disarm();
    this.#timers.delete(Number(timer));
  }

  /** @internal A timer fired for the last time. */
  forget(id: number): void {
    this.#timers.delete(id);
  }

  /** @internal Runs a timer's callback as Node would: an exception is uncaught (after the simulation's step is safe). */
  run(callback: Callback, args: unknown[]): void {
    try {
      callback(...args);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
    this.source.wakeTest();
  }

  /* ---- timers/promises -------------------------------------------------- */

  readonly #promises = {
    setTimeout: <T = void>(delayMs?: number, value?: T, options: { signal?: AbortSignal; ref?: boolean } = {}): Promise<T> =>
      this.#wait(delayMs, value as T, options),
    setImmediate: <T = void>(value?: T, options: { signal?: AbortSignal } = {}): Promise<T> => {
      const { signal } = options;
      if (signal?.aborted === true) return Promise.reject(abortError(signal));
      return new Promise<T>((resolve, reject) => {
        const onAbort = () => {
          this.clearImmediate(immediate);
          reject(abortError(signal as AbortSignal));
        };
        const immediate = this.setImmediate(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value as T);
        });
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    setInterval: <T = void>(delayMs?: number, value?: T, options: { signal?: AbortSignal; ref?: boolean } = {}): AsyncGenerator<T> =>
      this.#ticks(delayMs, value as T, options),
    scheduler: {
      wait: (delayMs: number, options: { signal?: AbortSignal } = {}): Promise<void> => this.#wait(delayMs, undefined, options),
      yield: (): Promise<void> => this.#promises.setImmediate(),
    },
  };

  #wait<T>(delayMs: number | undefined, value: T, options: { signal?: AbortSignal; ref?: boolean }): Promise<T> {
    const { signal, ref = true } = options;
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.clear(timer);
        reject(abortError(signal as AbortSignal));
      };
      const timer = this.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      }, delayMs);
      if (!ref) timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async *#ticks<T>(delayMs: number | undefined, value: T, options: { signal?: AbortSignal; ref?: boolean }): AsyncGenerator<T> {
    const { signal, ref = true } = options;
    let ticks = 0;
    let wake: (() => void) | undefined;
    const timer = this.setInterval(() => {
      ticks++;
      wake?.();
    }, delayMs);
    if (!ref) timer.unref();
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (signal?.aborted === true) throw abortError(signal);
        if (ticks === 0) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        ticks--;
        yield value;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.clear(timer);
    }
  }

  /* ---- Installing ----------------------------------------------------------- */

  /** Puts the program's clocks and timers on the simulated clock (see the class comment). */
  install(): void {
    if (installed !== undefined) {
      throw new ReactorError(
        'ERR_SIM_VIRTUAL_TIME',
        "another simulation's virtual time is installed: close that world first (one clock can drive Node's timers at a time)",
      );
    }
    const g = globalThis as unknown as Record<string, unknown>;
    const timers = nodeTimers as unknown as Record<string, unknown>;
    const promises = timersPromises as unknown as Record<string, unknown>;
    const saved: Saved = {
      globals: Object.fromEntries(GLOBAL_NAMES.map((name) => [name, g[name]])) as Saved['globals'],
      Date: globalThis.Date,
      performanceNow: Object.getOwnPropertyDescriptor(performance, 'now'),
      hrtime: process.hrtime,
      timers: Object.fromEntries(GLOBAL_NAMES.map((name) => [name, timers[name]])),
      promises: Object.fromEntries(PROMISE_NAMES.map((name) => [name, promises[name]])),
    };
    this.#saved = saved;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the module remembers which one is installed
    installed = this;
    const fakes: Record<(typeof GLOBAL_NAMES)[number], unknown> = {
      setTimeout: this.setTimeout,
      clearTimeout: this.clearTimeout,
      setInterval: this.setInterval,
      clearInterval: this.clearTimeout,
      setImmediate: this.setImmediate,
      clearImmediate: this.clearImmediate,
    };
    for (const name of GLOBAL_NAMES) {
      g[name] = fakes[name];
      timers[name] = fakes[name];
    }
    for (const name of PROMISE_NAMES) promises[name] = this.#promises[name];
    g.Date = virtualDate(saved.Date, () => this.epochNow());
    performance.now = () => this.source.clock.now();
    process.hrtime = virtualHrtime(() => this.source.clock.now());
    syncBuiltinESMExports();
  }

  /** Puts everything back as it was; pending virtual timers never fire. Idempotent. */
  uninstall(): void {
    const saved = this.#saved;
    if (saved === undefined) return;
    this.#saved = undefined;
    if (installed === this) installed = undefined;
    for (const timer of this.#timers.values()) timer.disarm();
    this.#timers.clear();
    const g = globalThis as unknown as Record<string, unknown>;
    const timers = nodeTimers as unknown as Record<string, unknown>;
    const promises = timersPromises as unknown as Record<string, unknown>;
    for (const name of GLOBAL_NAMES) {
      g[name] = saved.globals[name];
      timers[name] = saved.timers[name];
    }
    for (const name of PROMISE_NAMES) promises[name] = saved.promises[name];
    g.Date = saved.Date;
    if (saved.performanceNow === undefined) delete (performance as { now?: unknown }).now;
    else Object.defineProperty(performance, 'now', saved.performanceNow);
    process.hrtime = saved.hrtime;
    syncBuiltinESMExports();
  }
}

/** `Date` on the simulated clock: `new Date()` and `Date.now()` read it; everything else is the real `Date`. */
function virtualDate(RealDate: DateConstructor, now: () => number): DateConstructor {
  const proxy: DateConstructor = new Proxy(RealDate, {
    construct: (target, args: unknown[], newTarget: new (...a: unknown[]) => unknown) =>
      Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget === proxy ? target : newTarget) as object,
    apply: () => new RealDate(now()).toString(),
    get: (target, property, receiver: unknown) => (property === 'now' ? now : (Reflect.get(target, property, receiver) as unknown)),
  });
  return proxy;
}

/** `process.hrtime` (and `.bigint()`) on the simulated clock. */
function virtualHrtime(nowMs: () => number): NodeJS.HRTime {
  const nanoseconds = () => BigInt(Math.round(nowMs() * 1e6));
  const hrtime = (previous?: [number, number]): [number, number] => {
    let ns = nanoseconds();
    if (previous !== undefined) ns -= BigInt(previous[0]) * 1_000_000_000n + BigInt(previous[1]);
    return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
  };
  hrtime.bigint = nanoseconds;
  return hrtime;
}

/** The error an aborted timers/promises wait rejects with, as Node's (`AbortError`, code `ABORT_ERR`). */
function abortError(signal: AbortSignal): Error {
  const error = new Error('The operation was aborted', { cause: signal.reason });
  error.name = 'AbortError';
  (error as Error & { code: string }).code = 'ABORT_ERR';
  return error;
}
