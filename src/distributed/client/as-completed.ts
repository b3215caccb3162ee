/**
 * asCompleted: Futures in the order in which they complete (dask's as_completed).
 *
 * ```ts
 * for await (const f of asCompleted(futures)) console.log(f.key, await f.result());
 * for await (const f of asCompleted(client.map(inc, source), { maxInFlight: 8 })) ...
 * ```
 *
 * It yields the Futures themselves, not their results: the iterator is a plain object, not an async
 * generator, because an async generator awaits what it yields and a Future is awaitable (it would
 * yield results). A Future that errs or is cancelled is yielded too; its result() rejects.
 *
 * Over an async iterable (a stream, streams.ts) it pulls Futures as they arrive, keeping at most
 * `maxInFlight` pulled and not yet yielded, so a slow consumer holds the source back. The yielded
 * Futures are the consumer's; those pulled but never yielded (after a `break`) are released.
 */
import { Future, futureInternals } from './future.js';
import { resolveStreamOptions, type StreamOptions } from './options.js';
import { DEFAULT_MAX_IN_FLIGHT, isAsyncIterable } from './streams.js';

export class AsCompleted<T = unknown> implements AsyncIterableIterator<Future<T>> {
  #ready: Future<T>[] = [];
  readonly #pending = new Set<Future<T>>();
  #waiters: { resolve: (r: IteratorResult<Future<T>>) => void; reject: (e: unknown) => void }[] = [];
  #stopped = false;
  readonly #source: AsyncIterator<Future<T>> | undefined;
  readonly #max: number = Infinity;
  #pulling = false;
  #sourceDone = true;
  #sourceError: { error: unknown } | undefined;

  constructor(futures: Iterable<Future<T>> | AsyncIterable<Future<T>> = [], options?: StreamOptions) {
    if (isAsyncIterable(futures)) {
      this.#max = resolveStreamOptions(options, 'asCompleted', DEFAULT_MAX_IN_FLIGHT).maxInFlight;
      this.#source = (futures as AsyncIterable<Future<T>>)[Symbol.asyncIterator]();
      this.#sourceDone = false;
      return;
    }
    if (options !== undefined) throw new TypeError('asCompleted: options apply to an async iterable (a stream) of Futures');
    for (const f of futures as Iterable<Future<T>>) this.add(f);
  }

  /** Adds a Future to wait for (also while iterating). */
  add(future: Future<T>): void {
    if (!(future instanceof Future)) throw new TypeError(`asCompleted: expected Futures, got ${typeof future}`);
    if (this.#stopped) return;
    this.#pending.add(future);
    void futureInternals.state(future).wait().then(() => {
      if (this.#stopped || !this.#pending.delete(future)) return;
      const waiter = this.#waiters.shift();
      if (waiter) waiter.resolve({ value: future, done: false });
      else this.#ready.push(future);
      void this.#fill();
      this.#wakeIfFinished();
    });
  }

  /** Futures not yet yielded (done or not). */
  get count(): number {
    return this.#pending.size + this.#ready.length;
  }

  next(): Promise<IteratorResult<Future<T>>> {
    void this.#fill();
    const f = this.#ready.shift();
    if (f !== undefined) {
      void this.#fill();
      return Promise.resolve({ value: f, done: false });
    }
    if (this.#finished()) return this.#end();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Stops the iteration (a `break` out of `for await` calls it). */
  return(): Promise<IteratorResult<Future<T>>> {
    if (!this.#stopped && this.#source !== undefined) {
      // Futures from a stream that the consumer never saw are ours to release.
      for (const f of [...this.#pending, ...this.#ready]) f.release();
      if (!this.#sourceDone) {
        this.#sourceDone = true;
        const closing = Promise.resolve(this.#source.return?.()).catch(() => undefined);
        if (!this.#pulling) return this.#stop(closing);
      }
    }
    return this.#stop(Promise.resolve());
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async #stop(closing: Promise<unknown>): Promise<IteratorResult<Future<T>>> {
    this.#stopped = true;
    this.#ready = [];
    this.#pending.clear();
    this.#wakeIfFinished();
    await closing;
    return { value: undefined, done: true };
  }

  /** Pulls Futures from the source while fewer than maxInFlight are waiting to be yielded. */
  async #fill(): Promise<void> {
    if (this.#source === undefined || this.#pulling) return;
    this.#pulling = true;
    try {
      while (!this.#stopped && !this.#sourceDone && this.count < this.#max) {
        let r: IteratorResult<Future<T>>;
        try {
          r = await this.#source.next();
        } catch (error) {
          this.#sourceDone = true;
          this.#sourceError = { error };
          break;
        }
        if (r.done) {
          this.#sourceDone = true;
          break;
        }
        if (this.#stopped) {
          if (r.value instanceof Future) r.value.release();
          break;
        }
        this.add(r.value);
      }
    } catch (e) {
      // add() refused an element that is not a Future: the stream ends with that error.
      this.#sourceError = { error: e };
      this.#sourceDone = true;
      void Promise.resolve(this.#source.return?.()).catch(() => undefined);
    } finally {
      this.#pulling = false;
      this.#wakeIfFinished();
    }
  }

  #finished(): boolean {
    return this.#stopped || (this.#pending.size === 0 && this.#ready.length === 0 && this.#sourceDone && !this.#pulling);
  }

  /** Done, or the source's error once every Future pulled before it was yielded. */
  #end(): Promise<IteratorResult<Future<T>>> {
    const failed = this.#sourceError;
    if (failed !== undefined && !this.#stopped) {
      this.#sourceError = undefined;
      this.#stopped = true;
      return Promise.reject(failed.error);
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  #wakeIfFinished(): void {
    if (!this.#finished()) return;
    for (const w of this.#waiters.splice(0)) this.#end().then(w.resolve, w.reject);
  }
}

/** An async iterator over `futures` in the order in which they complete. */
export function asCompleted<T>(futures: Iterable<Future<T>> | AsyncIterable<Future<T>>, options?: StreamOptions): AsCompleted<T> {
  return new AsCompleted(futures, options);
}
