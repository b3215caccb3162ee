/**
 * The client's Futures per key: the KeyState they share, how many there are, and the cancels the
 * scheduler has not answered yet.
 *
 * - Every Future counts as one reference to its key; the scheduler is told the client no longer
 *   wants a key when the count drops to zero (release() or the garbage collector, through a
 *   FinalizationRegistry). Submitting a key the client already holds sends nothing and returns a
 *   Future sharing the key's state (dask does the same), unless that state is cancelled or lost,
 *   in which case the task is sent again.
 * - A cancel is applied here at once. Messages about a key that arrive between the cancel and the
 *   scheduler's `cancelled-key` answer are stale and ignored (counted per key), so a key cancelled
 *   and submitted again is not cancelled or finished by old news.
 */
import type { ClientToScheduler, Key } from '../messages.js';
import { CancelledError } from './errors.js';
import { Future, type FutureLink, type PostProcess } from './future.js';
import { KeyState } from './key-state.js';

/** What the bookkeeping needs of its client. */
export interface RefsHost {
  /** What the Futures made here call back into. */
  readonly link: FutureLink;
  /** Queues a message for the scheduler, unless the client is closed or its connection broke. */
  notify(msg: ClientToScheduler): void;
  /** A key's state is (re)sent to the scheduler (restart.ts keeps note of it). */
  sent(s: KeyState): void;
}

export class Refs {
  readonly #host: RefsHost;
  readonly #states = new Map<Key, KeyState>();
  readonly #refcount = new Map<Key, number>();
  /** Per key: cancel-keys sent whose `cancelled-key` answer has not come back yet. */
  readonly #cancelsInFlight = new Map<Key, number>();
  readonly #finalizer = new FinalizationRegistry<Key>((key) => this.#decref(key));

  constructor(host: RefsHost) {
    this.#host = host;
  }

  /** The state of a key the client holds. */
  state(key: Key): KeyState | undefined {
    return this.#states.get(key);
  }

  /** The state of a held key that still stands for a result: neither cancelled nor lost. */
  live(key: Key): KeyState | undefined {
    const s = this.#states.get(key);
    return s === undefined || s.status === 'cancelled' || s.status === 'lost' ? undefined : s;
  }

  states(): IterableIterator<KeyState> {
    return this.#states.values();
  }

  get size(): number {
    return this.#states.size;
  }

  holds(key: Key): boolean {
    return this.#refcount.has(key);
  }

  /** Futures held per key, a copy. */
  counts(): Map<Key, number> {
    return new Map(this.#refcount);
  }

  /** A new Future of `key`, counted. */
  future(key: Key, state: KeyState, post?: PostProcess): Future {
    const f = new Future(key, state, this.#host.link, post);
    this.#refcount.set(key, (this.#refcount.get(key) ?? 0) + 1);
    this.#finalizer.register(f, key, f);
    return f;
  }

  /** The key's state, pending: a new one, or the held one reset (it was cancelled or lost). */
  fresh(key: Key): KeyState {
    let s = this.#states.get(key);
    if (s === undefined) this.#states.set(key, (s = new KeyState(key)));
    else s.reset();
    this.#host.sent(s);
    return s;
  }

  release(f: Future): void {
    this.#finalizer.unregister(f);
    this.#decref(f.key);
  }

  #decref(key: Key): void {
    const n = (this.#refcount.get(key) ?? 0) - 1;
    if (n > 0) {
      this.#refcount.set(key, n);
      return;
    }
    if (!this.#refcount.delete(key)) return;
    this.#states.delete(key);
    this.#host.notify({ op: 'client-releases-keys', keys: [key] });
  }

  cancel(keys: readonly Key[]): void {
    const sent: Key[] = [];
    for (const k of new Set(keys)) {
      const s = this.#states.get(k);
      if (s === undefined || s.status === 'cancelled') continue;
      s.cancel(new CancelledError(k));
      sent.push(k);
      this.#cancelsInFlight.set(k, (this.#cancelsInFlight.get(k) ?? 0) + 1);
    }
    if (sent.length > 0) this.#host.notify({ op: 'cancel-keys', keys: sent });
  }

  /** Refuses a task whose arguments name Futures the client does not hold. */
  assertHeld(deps: readonly Key[], key: Key): void {
    for (const d of deps) {
      if (!this.#refcount.has(d)) {
        throw new TypeError(`task '${key}': an argument is the future '${d}', which this client does not hold (released, or made by another client)`);
      }
    }
  }

  /**
   * Whether a message `op` about `key` is older than a cancel not yet answered, and so to be
   * ignored; a `cancelled-key` is such an answer.
   */
  stale(key: Key, op: string): boolean {
    const inFlight = this.#cancelsInFlight.get(key);
    if (inFlight === undefined) return false;
    if (op === 'cancelled-key') {
      if (inFlight > 1) this.#cancelsInFlight.set(key, inFlight - 1);
      else this.#cancelsInFlight.delete(key);
    }
    return true;
  }

  /** After a restart the scheduler has forgotten the cancelled keys: their answers never come. */
  forgetCancels(): void {
    this.#cancelsInFlight.clear();
  }
}
