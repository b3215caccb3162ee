/** The bounded transition log behind `story(key)`, and the ring buffer it (and the notes log) uses. */
import type { Key } from '../messages.js';
import { TASK_STATES, type TaskStateName } from './model.js';

export interface TransitionRecord {
  readonly key: Key;
  readonly start: TaskStateName;
  readonly finish: TaskStateName;
  readonly stimulusId: string;
  /** Seconds, from the state's clock. */
  readonly time: number;
}

/** Something the scheduler did not act on (a stale or unknown message), kept for debugging. */
export interface Note {
  readonly stimulusId: string;
  readonly message: string;
  readonly time: number;
}

/** The last `capacity` items pushed, oldest first. A capacity of 0 keeps nothing. */
export class Ring<T> {
  readonly #items: T[] = [];
  #next = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new TypeError(`ring capacity must be a non-negative integer, got ${capacity}`);
  }

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    if (this.capacity === 0) return;
    if (this.#items.length < this.capacity) this.#items.push(item);
    else this.#items[this.#next] = item;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** Oldest first. */
  *[Symbol.iterator](): IterableIterator<T> {
    const n = this.#items.length;
    const start = n < this.capacity ? 0 : this.#next;
    for (let i = 0; i < n; i++) yield this.#items[(start + i) % n];
  }
}

/**
 * The last `capacity` transitions, stored column-wise: a transition is logged for every state change
 * (several per task), and an object per record, kept alive until overwritten, made the log the
 * largest source of old-generation garbage of the scheduler. Records are built only when read.
 */
export class TransitionLog {
  readonly #keys: Key[] = [];
  readonly #stimuli: string[] = [];
  readonly #states: Uint8Array;
  readonly #times: Float64Array;
  #next = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new TypeError(`ring capacity must be a non-negative integer, got ${capacity}`);
    this.#states = new Uint8Array(2 * capacity);
    this.#times = new Float64Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(key: Key, start: TaskStateName, finish: TaskStateName, stimulusId: string, time: number): void {
    if (this.capacity === 0) return;
    const i = this.#next;
    this.#keys[i] = key;
    this.#stimuli[i] = stimulusId;
    this.#states[2 * i] = STATE_CODE[start];
    this.#states[2 * i + 1] = STATE_CODE[finish];
    this.#times[i] = time;
    this.#next = i + 1 === this.capacity ? 0 : i + 1;
    if (this.#size < this.capacity) this.#size++;
  }

  /** Oldest first; only those of `keys` when given. */
  records(keys?: ReadonlySet<Key>): TransitionRecord[] {
    const out: TransitionRecord[] = [];
    const n = this.#size;
    const first = n < this.capacity ? 0 : this.#next;
    for (let j = 0; j < n; j++) {
      const i = (first + j) % this.capacity;
      const key = this.#keys[i];
      if (keys !== undefined && !keys.has(key)) continue;
      out.push({
        key,
        start: TASK_STATES[this.#states[2 * i]],
        finish: TASK_STATES[this.#states[2 * i + 1]],
        stimulusId: this.#stimuli[i],
        time: this.#times[i],
      });
    }
    return out;
  }
}

const STATE_CODE = Object.fromEntries(TASK_STATES.map((s, i) => [s, i])) as Record<TaskStateName, number>;

/** Every transition of the given keys still in the log, oldest first; all of the log when no keys are given. */
export function story(log: TransitionLog, keys: readonly Key[]): TransitionRecord[] {
  return log.records(keys.length === 0 ? undefined : new Set(keys));
}
