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

const PRIORITIES: readonly DeferPriority[] = ['high', 'normal', 'low'];

/**
 * Work deferred to after the current dispatch, by priority.
 *
 * A turn runs what was queued before it began (work deferred during a turn
 * waits for the next one), at most `budget` tasks, in strict priority order:
 * all high, then normal, then low, FIFO within each. When more is waiting
 * than the budget allows, the lower priorities keep a share of it (normal a
 * quarter, low an eighth, at least one task each), so a flood of high work
 * delays low work but never starves it.
 *
 * Cancelled tasks are dropped when the queue empties, or in a sweep once
 * they outnumber the live ones, so cancelling costs no memory over time.
 */
export class DeferredQueue {
  readonly #queues: Record<DeferPriority, Task[]> = { high: [], normal: [], low: [] };
  #pending = 0;
  #cancelled = 0;

  /** Tasks waiting (cancelled ones are not counted). */
  get size(): number {
    return this.#pending;
  }

  /** Entries held, cancelled ones included: what the queue costs in memory. */
  get held(): number {
    return this.#queues.high.length + this.#queues.normal.length + this.#queues.low.length;
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
        this.#cancelled++;
        if (this.#pending === 0) this.#clear();
        else if (this.#cancelled > 64 && this.#cancelled > this.#pending) this.#sweep();
        return true;
      },
    };
  }

  /**
   * Runs up to `budget` tasks; `call` invokes each (so the caller can time
   * and isolate it). Returns how many ran.
   */
  runTurn(budget: number, call: (run: () => void) => void): number {
    const batches = PRIORITIES.map((p) => this.#take(p));
    const live = batches.map((b) => b.filter((t) => !t.cancelled).length);
    // Shares when the budget is short: lower priorities keep a slice of it.
    const allowance = [0, 0, 0];
    let left = budget;
    for (const [i, share] of [
      [2, 8],
      [1, 4],
    ] as const) {
      allowance[i] = Math.min(live[i], Math.max(1, Math.floor(budget / share)), left);
      left -= allowance[i];
    }
    allowance[0] = Math.min(live[0], left);
    left -= allowance[0];
    for (const i of [1, 2]) {
      const more = Math.min(live[i] - allowance[i], left); // what high did not use goes down the line
      allowance[i] += more;
      left -= more;
    }
    let ran = 0;
    batches.forEach((batch, i) => {
      let runs = 0;
      for (const task of batch) {
        if (task.cancelled) continue;
        if (runs === allowance[i]) {
          this.#queues[PRIORITIES[i]].unshift(...batch.slice(batch.indexOf(task)).filter((t) => !t.cancelled));
          break;
        }
        task.done = true;
        this.#pending--;
        runs++;
        ran++;
        call(task.run);
      }
    });
    this.#cancelled = 0;
    for (const priority of PRIORITIES) this.#cancelled += this.#queues[priority].filter((t) => t.cancelled).length;
    return ran;
  }

  /** Takes the tasks queued so far for `priority`, leaving new ones for the next turn. */
  #take(priority: DeferPriority): Task[] {
    const queue = this.#queues[priority];
    this.#queues[priority] = [];
    return queue;
  }

  #clear(): void {
    for (const priority of PRIORITIES) this.#queues[priority] = [];
    this.#cancelled = 0;
  }

  #sweep(): void {
    for (const priority of PRIORITIES) this.#queues[priority] = this.#queues[priority].filter((t) => !t.cancelled);
    this.#cancelled = 0;
  }
}
