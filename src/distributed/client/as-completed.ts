/**
 * asCompleted: Futures in the order in which they complete (dask's as_completed).
 *
 * ```ts
 * for await (const f of asCompleted(futures)) console.log(f.key, await f.result());
 * ```
 *
 * It yields the Futures themselves, not their results: the iterator is a plain object, not an async
 * generator, because an async generator awaits what it yields and a Future is awaitable (it would
 * yield results). A Future that errs or is cancelled is yielded too; its result() rejects.
 */
import { Future, futureInternals } from './future.js';

export class AsCompleted<T = unknown> implements AsyncIterableIterator<Future<T>> {
  #ready: Future<T>[] = [];
  #pending = 0;
  #waiters: ((r: IteratorResult<Future<T>>) => void)[] = [];
  #stopped = false;

  constructor(futures: Iterable<Future<T>> = []) {
    for (const f of futures) this.add(f);
  }

  /** Adds a Future to wait for (also while iterating). */
  add(future: Future<T>): void {
    if (!(future instanceof Future)) throw new TypeError(`asCompleted: expected Futures, got ${typeof future}`);
    if (this.#stopped) return;
    this.#pending++;
    void futureInternals.state(future).wait().then(() => {
      if (this.#stopped) return;
      this.#pending--;
      const waiter = this.#waiters.shift();
      if (waiter) waiter({ value: future, done: false });
      else this.#ready.push(future);
      this.#wakeIfFinished();
    });
  }

  /** Futures not yet yielded (done or not). */
  get count(): number {
    return this.#pending + this.#ready.length;
  }

  next(): Promise<IteratorResult<Future<T>>> {
    const f = this.#ready.shift();
    if (f !== undefined) return Promise.resolve({ value: f, done: false });
    if (this.#pending === 0 || this.#stopped) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Stops the iteration (a `break` out of `for await` calls it). */
  return(): Promise<IteratorResult<Future<T>>> {
    this.#stopped = true;
    this.#ready = [];
    this.#wakeIfFinished();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #wakeIfFinished(): void {
    if (this.#pending > 0 && !this.#stopped) return;
    for (const w of this.#waiters.splice(0)) w({ value: undefined, done: true });
  }
}

/** An async iterator over `futures` in the order in which they complete. */
export function asCompleted<T>(futures: Iterable<Future<T>>): AsCompleted<T> {
  return new AsCompleted(futures);
}
