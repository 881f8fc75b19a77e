/** Which deferred work runs first: `'high'` before `'normal'` before `'low'`. */
export type DeferPriority = 'high' | 'normal' | 'low';

/** A handle for cancelling deferred work; `cancel` it before it runs. */
export interface DeferHandle {
  cancel(): boolean;
}

interface Task {
  run: () => void;
  cancelled: boolean;
  done: boolean;
}

/** Per round, how many tasks each priority may run: weighted round-robin, so low always gets a share. */
const WEIGHTS: readonly [DeferPriority, number][] = [
  ['high', 4],
  ['normal', 2],
  ['low', 1],
];

/**
 * Work deferred to after the current dispatch, by priority. `runTurn` runs at
 * most `budget` tasks: round after round, up to 4 high, 2 normal and 1 low
 * (FIFO within each), so high goes first but low is never starved. Tasks
 * deferred while a turn runs wait for the next turn.
 */
export class DeferredQueue {
  readonly #queues: Record<DeferPriority, Task[]> = { high: [], normal: [], low: [] };
  #heads: Record<DeferPriority, number> = { high: 0, normal: 0, low: 0 };
  #pending = 0;

  /** Tasks waiting (cancelled ones are not counted). */
  get size(): number {
    return this.#pending;
  }

  add(run: () => void, priority: DeferPriority = 'normal'): DeferHandle {
    const task: Task = { run, cancelled: false, done: false };
    this.#queues[priority].push(task);
    this.#pending++;
    return {
      cancel: () => {
        if (task.cancelled || task.done) return false;
        task.cancelled = true;
        this.#pending--;
        return true;
      },
    };
  }

  /**
   * Runs up to `budget` tasks; `call` invokes each (so the caller can time
   * and isolate it). Returns how many ran.
   */
  runTurn(budget: number, call: (run: () => void) => void): number {
    const limits = { high: this.#queues.high.length, normal: this.#queues.normal.length, low: this.#queues.low.length };
    let ran = 0;
    let progress = true;
    while (ran < budget && progress) {
      progress = false;
      for (const [priority, weight] of WEIGHTS) {
        for (let n = 0; n < weight && ran < budget; n++) {
          const task = this.#next(priority, limits);
          if (task === undefined) break;
          progress = true;
          task.done = true;
          this.#pending--;
          ran++;
          call(task.run);
        }
      }
    }
    this.#compact();
    return ran;
  }

  /** The next live task of `priority` that was queued before the turn began. */
  #next(priority: DeferPriority, limits: Record<DeferPriority, number>): Task | undefined {
    const queue = this.#queues[priority];
    while (this.#heads[priority] < limits[priority]) {
      const task = queue[this.#heads[priority]++];
      if (!task.cancelled) return task;
    }
    return undefined;
  }

  #compact(): void {
    for (const priority of ['high', 'normal', 'low'] as const) {
      const head = this.#heads[priority];
      if (head > 0) {
        this.#queues[priority] = this.#queues[priority].slice(head);
        this.#heads[priority] = 0;
      }
    }
  }
}
