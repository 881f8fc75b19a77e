import { compactFront } from '../reactor/compact-front';

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

/**
 * One priority's FIFO: an array read from `head`. Taken slots are cleared at
 * once (nothing taken stays reachable) and the array is compacted once the
 * taken part is at least half of it, so both ends cost O(1) amortised
 * however long the queue grows, and a queue that keeps a few tasks behind
 * does not grow without end.
 */
class TaskList {
  #items: (Task | undefined)[] = [];
  #head = 0;
  /** Tasks in the list not cancelled. */
  live = 0;

  /** Entries held, cancelled ones included. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  push(task: Task): void {
    this.#items.push(task);
    this.live++;
  }

  /** The oldest entry (the caller knows the list is not empty). */
  shift(): Task {
    const items = this.#items;
    const task = items[this.#head] as Task;
    items[this.#head++] = undefined;
    if (this.#head === items.length) {
      items.length = 0;
      this.#head = 0;
    } else {
      this.#head = compactFront(items, this.#head);
    }
    return task;
  }

  /** Drops the cancelled entries, keeping the order of the rest. */
  sweep(): void {
    const kept: Task[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const task = this.#items[i] as Task;
      if (!task.cancelled) kept.push(task);
    }
    this.#items = kept;
    this.#head = 0;
  }
}

/** The lower priorities' shares of a short budget: low an eighth, normal a quarter. */
const SHARES = [
  [2, 8],
  [1, 4],
] as const;

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
 * Every operation is O(1) amortised, however many tasks wait: a turn costs
 * the tasks it runs (and the cancelled ones it steps over), never the
 * length of the queue. Cancelled tasks are dropped as a turn reaches them,
 * when the queue empties, or in a sweep once they outnumber the live ones,
 * so cancelling costs no memory over time.
 *
 * @example
 * const queue = new DeferredQueue();
 * queue.add(() => console.log('second'), 'low');
 * queue.add(() => console.log('first'), 'high');
 * queue.runTurn(1024, (run) => run()); // first, second
 */
export class DeferredQueue {
  /** By priority: high, normal, low. */
  readonly #lists = [new TaskList(), new TaskList(), new TaskList()] as const;
  #pending = 0;
  #cancelled = 0;
  /** A turn is running: a sweep waits for its end (the turn counts entries from each list's head). */
  #inTurn = false;

  /** Tasks waiting (cancelled ones are not counted). */
  get size(): number {
    return this.#pending;
  }

  /** Entries held, cancelled ones included: what the queue costs in memory. */
  get held(): number {
    return this.#lists[0].length + this.#lists[1].length + this.#lists[2].length;
  }

  add(run: () => void, priority: DeferPriority = 'normal'): DeferHandle {
    const task: Task = { run, cancelled: false, done: false };
    const list = this.#lists[priority === 'high' ? 0 : priority === 'normal' ? 1 : 2];
    list.push(task);
    this.#pending++;
    return {
      cancel: () => {
        if (task.cancelled || task.done) return false;
        task.cancelled = true;
        list.live--;
        this.#pending--;
        this.#cancelled++;
        this.#tidy();
        return true;
      },
    };
  }

  /**
   * Runs up to `budget` tasks; `call` invokes each (so the caller can time
   * and isolate it). Returns how many ran. If `call` throws, the task it was
   * running counts as run and everything else stays queued, in order.
   */
  runTurn(budget: number, call: (run: () => void) => void): number {
    const lists = this.#lists;
    // What was queued before the turn began: entries (cancelled included) from each head.
    const eligible = [lists[0].length, lists[1].length, lists[2].length];
    const allowance = this.#allowance(budget, [lists[0].live, lists[1].live, lists[2].live]);
    let ran = 0;
    this.#inTurn = true;
    try {
      for (let i = 0; i < 3; i++) {
        const list = lists[i];
        let runs = 0;
        for (let left = eligible[i]; runs < allowance[i] && left > 0; left--) {
          const task = list.shift();
          if (task.cancelled) {
            this.#cancelled--;
            continue;
          }
          task.done = true;
          list.live--;
          this.#pending--;
          runs++;
          ran++;
          call(task.run);
        }
      }
    } finally {
      this.#inTurn = false;
      this.#tidy();
    }
    return ran;
  }

  /** How many of each priority a turn of `budget` runs, given how many wait. */
  #allowance(budget: number, live: number[]): number[] {
    const allowance = [0, 0, 0];
    let left = budget;
    for (const [i, share] of SHARES) {
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
    return allowance;
  }

  /** Drops cancelled entries once nothing live is left, or once they outnumber the live ones. */
  #tidy(): void {
    if (this.#inTurn || this.#cancelled === 0) return;
    if (this.#pending === 0 || (this.#cancelled > 64 && this.#cancelled > this.#pending)) {
      for (const list of this.#lists) list.sweep();
      this.#cancelled = 0;
    }
  }
}
