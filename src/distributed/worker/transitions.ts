/**
 * The worker's transition table, the error for a transition outside it, and the bounded log that
 * `story(key)` reads.
 */
import type { Key } from '../messages.js';
import type { TaskStateName } from './task.js';

/** Every `(start, finish)` the state machine may take, and why. */
const TABLE: Record<TaskStateName, readonly TaskStateName[]> = {
  // compute-task (waiting/ready); needed as a dependency or replica (fetch/missing); scatter
  released: ['waiting', 'ready', 'fetch', 'missing', 'memory'],
  // the last dependency arrived; freed or stolen; scatter
  waiting: ['ready', 'released', 'memory'],
  // a thread is free; freed or stolen; scatter
  ready: ['executing', 'released', 'memory'],
  // done; failed; freed while running; failed but needed as a dependency (fetch it instead)
  executing: ['memory', 'error', 'cancelled', 'fetch', 'missing'],
  // wanted again (back to what it was doing); its result came back unwanted; scatter
  cancelled: ['executing', 'flight', 'released', 'memory'],
  // sent out; computed here after all; holders gone; no longer needed; scatter
  fetch: ['flight', 'waiting', 'ready', 'missing', 'released', 'memory'],
  // arrived; the peer lacked it or failed (other holders, none, or compute it here); freed
  flight: ['memory', 'fetch', 'missing', 'waiting', 'ready', 'cancelled'],
  // new holders; computed here after all; no longer needed; scatter
  missing: ['fetch', 'waiting', 'ready', 'released', 'memory'],
  // freed
  memory: ['released'],
  // freed; needed as a dependency that a peer holds; scatter
  error: ['released', 'fetch', 'memory'],
};

const ALLOWED = new Set<string>(
  Object.entries(TABLE).flatMap(([start, finishes]) => finishes.map((finish) => `${start}>${finish}`)),
);

export function isAllowed(start: TaskStateName, finish: TaskStateName): boolean {
  return ALLOWED.has(`${start}>${finish}`);
}

/** A transition outside the table: a bug in the state machine or in what was fed to it. */
export class InvalidTransitionError extends Error {
  override name = 'InvalidTransitionError';
  constructor(
    readonly key: Key,
    readonly start: TaskStateName,
    readonly finish: TaskStateName,
    readonly stimulusId: string,
  ) {
    super(`worker task '${key}': invalid transition ${start} -> ${finish} (stimulus ${stimulusId})`);
  }
}

/** An invariant of the worker state does not hold (validate mode). */
export class InvalidWorkerStateError extends Error {
  override name = 'InvalidWorkerStateError';
  constructor(
    message: string,
    readonly stimulusId: string,
  ) {
    super(`${message} (after stimulus ${stimulusId})`);
  }
}

export interface TransitionRecord {
  readonly key: Key;
  readonly start: TaskStateName;
  readonly finish: TaskStateName;
  readonly stimulusId: string;
  /** Position in the worker's whole history (records past the log's bound are dropped). */
  readonly seq: number;
}

/** A ring buffer of the last `capacity` transitions. */
export class TransitionLog {
  private readonly buf: TransitionRecord[] = [];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new TypeError(`logLength must be a positive integer, got ${capacity}`);
    }
  }

  get total(): number {
    return this.count;
  }

  add(key: Key, start: TaskStateName, finish: TaskStateName, stimulusId: string): void {
    const r: TransitionRecord = { key, start, finish, stimulusId, seq: this.count++ };
    this.buf[this.next] = r;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Records in order, oldest first; only those of `keys` when some are given. */
  records(keys?: ReadonlySet<Key>): TransitionRecord[] {
    const ordered = this.buf.length < this.capacity ? this.buf : [...this.buf.slice(this.next), ...this.buf.slice(0, this.next)];
    return keys ? ordered.filter((r) => keys.has(r.key)) : [...ordered];
  }
}
