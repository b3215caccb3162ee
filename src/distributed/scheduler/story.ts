/** The bounded transition log behind `story(key)`, and the ring buffer it (and the notes log) uses. */
import type { Key } from '../messages.js';
import type { TaskStateName } from './model.js';

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

/** Every transition of the given keys still in the log, oldest first; all of the log when no keys are given. */
export function story(log: Ring<TransitionRecord>, keys: readonly Key[]): TransitionRecord[] {
  if (keys.length === 0) return [...log];
  const wanted = new Set(keys);
  const out: TransitionRecord[] = [];
  for (const r of log) if (wanted.has(r.key)) out.push(r);
  return out;
}
