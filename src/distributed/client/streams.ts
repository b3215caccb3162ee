/**
 * Streams: `client.map` over async iterables and `client.gather` of an async iterable, the manual's
 * "data streams with queues" in async-iterator form.
 *
 * ```ts
 * for await (const r of client.gather(client.map(double, client.map(inc, source)))) use(r);
 * ```
 *
 * Design note. A stream is pulled, never pushed, so back pressure is the pull itself:
 * - A map stream is lazy: each next() pulls one element from every source (in order) and submits
 *   one task. It holds nothing, so stacking maps adds no buffering.
 * - A gather stream is where the pipeline runs ahead of the consumer: it keeps a window of at most
 *   `maxInFlight` elements pulled from its input and not yet handed to the consumer, each being
 *   computed and fetched concurrently. The consumer taking one frees a slot, and only then is the
 *   input (and through the lazy maps, the source) pulled again. So the source is never more than
 *   `maxInFlight` elements ahead of the consumer, however many maps sit in between.
 *
 * Ownership. Futures that arrive through an async iterable are handed over to the stage that reads
 * them: a map stream releases the Futures in an element once it has submitted the task that uses
 * them (the task's dependency keeps the data on the cluster), a gather stream releases them once
 * the element's value is here. Futures in ordinary (sync) iterables stay the caller's.
 *
 * Neither stream is an async generator: an async generator awaits what it yields, and a Future is
 * awaitable (it would yield results, not Futures). Both are plain async iterator objects.
 */
import { describe as describeValue } from '../../graph/normalize.js';
import type { Future } from './future.js';
import { callKey, funcName } from './keys.js';
import type { ResolvedCallOptions } from './options.js';
import { collectFutures } from './structure.js';

/** The default bound of a gather stream: elements pulled and not yet handed to the consumer. */
export const DEFAULT_MAX_IN_FLIGHT = 64;

/** What an async iterable yields. */
export type StreamElement<S> = S extends AsyncIterable<infer E> ? E : never;

export function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

type Source = { readonly async: true; readonly it: AsyncIterator<unknown> } | { readonly async: false; readonly it: Iterator<unknown> };

/** Opens each argument of map as an iterator, refusing what is not iterable. */
function openSources(iterables: readonly unknown[]): Source[] {
  return iterables.map((x, i): Source => {
    if (isAsyncIterable(x)) return { async: true, it: x[Symbol.asyncIterator]() };
    if (x !== null && x !== undefined && typeof (x as Iterable<unknown>)[Symbol.iterator] === 'function') {
      return { async: false, it: (x as Iterable<unknown>)[Symbol.iterator]() };
    }
    throw new TypeError(`map: argument ${i + 2} is neither iterable nor async iterable (got ${describeValue(x)})`);
  });
}

/** Ends iterators early (their `finally` blocks run), not waiting for one whose pull is pending. */
async function closeSources(sources: readonly Source[], pulling: boolean): Promise<void> {
  const closing = sources.map((s) => Promise.resolve(s.it.return?.()).catch(() => undefined));
  if (!pulling) await Promise.all(closing);
}

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

/** The key of each call of a map stream: as map's, but a list of keys cannot apply to a stream. */
export function streamKeys(o: ResolvedCallOptions, fn: Function): (args: readonly unknown[]) => string {
  if (Array.isArray(o.key)) {
    throw new TypeError(`map: 'key' must be a prefix string when an argument is an async iterable (a list of keys needs the number of calls in advance)`);
  }
  const prefix = typeof o.key === 'string' ? o.key : funcName(fn);
  return (args) => callKey(fn, args, o.pure, prefix);
}

/**
 * `client.map(fn, ...)` when an argument is an async iterable: one Future per element of the zip
 * of the arguments (sync iterables are pulled in step), ending with the shortest. A source that
 * throws ends the stream with its error; `return()` (a `break` out of `for await`) ends the sources.
 */
export class FutureStream<R = unknown> implements AsyncIterableIterator<Future<R>> {
  readonly #sources: Source[];
  readonly #keyOf: (args: readonly unknown[]) => string;
  readonly #submit: (args: unknown[], key: string) => Future<R>;
  #chain: Promise<unknown> = Promise.resolve();
  #pulling = false;
  #ended = false;

  /** @internal Made by client.map; `submit` submits one call as `key` and returns its Future. */
  constructor(iterables: readonly unknown[], keyOf: (args: readonly unknown[]) => string, submit: (args: unknown[], key: string) => Future<R>) {
    this.#sources = openSources(iterables);
    this.#keyOf = keyOf;
    this.#submit = submit;
  }

  next(): Promise<IteratorResult<Future<R>>> {
    // Calls are served one after the other, so elements keep their order.
    const step = this.#chain.then(() => this.#step());
    this.#chain = step.catch(() => undefined);
    return step;
  }

  return(): Promise<IteratorResult<Future<R>>> {
    return this.#end().then(() => DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async #step(): Promise<IteratorResult<Future<R>>> {
    if (this.#ended) return DONE;
    const args: unknown[] = [];
    const handed: Future[] = [];
    this.#pulling = true;
    try {
      for (const s of this.#sources) {
        const r = s.async ? await s.it.next() : s.it.next();
        if (this.#ended) {
          // return() came while we waited: what arrived is dropped, and its Futures are ours.
          if (s.async && !r.done) handed.push(...collectFutures(r.value));
          return DONE;
        }
        if (r.done) {
          this.#ended = true;
          await closeSources(this.#sources.filter((o) => o !== s), false);
          return DONE;
        }
        args.push(r.value);
        if (s.async) collectFutures(r.value, handed);
      }
    } catch (e) {
      this.#pulling = false;
      await this.#end();
      throw e;
    } finally {
      this.#pulling = false;
      if (this.#ended) for (const f of handed) f.release();
    }
    let future: Future<R>;
    try {
      future = this.#submit(args, this.#keyOf(args));
    } catch (e) {
      for (const f of handed) f.release();
      await this.#end();
      throw e;
    }
    // The task holds its inputs on the cluster now; the handed-over Futures are no longer needed.
    for (const f of handed) f.release();
    return { value: future, done: false };
  }

  async #end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    await closeSources(this.#sources, this.#pulling);
  }
}

type Settled = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

interface Slot {
  /** The Futures in the element, released once its value is here (or the stream ends). */
  readonly futures: Future[];
  readonly settled: Promise<Settled>;
  released: boolean;
}

/**
 * `client.gather(asyncIterable)`: the value of each element, in input order (an element is gathered
 * as `client.gather(element)` would be: Futures anywhere in arrays and plain objects), computed and
 * fetched up to `maxInFlight` elements ahead of the consumer. A failed element (or a source error)
 * is thrown at its place and ends the stream; `return()` releases what is in flight and ends the input.
 */
export class ResultStream<T = unknown> implements AsyncIterableIterator<T> {
  readonly #input: AsyncIterator<unknown>;
  readonly #gather: (element: unknown) => Promise<unknown>;
  readonly #max: number;
  readonly #window: Slot[] = [];
  #chain: Promise<unknown> = Promise.resolve();
  #inputDone = false;
  #pulling = false;
  #stopped = false;
  #wake: (() => void) | undefined;

  /** @internal Made by client.gather; `gather` fetches one element's value. */
  constructor(input: AsyncIterable<unknown>, gather: (element: unknown) => Promise<unknown>, maxInFlight: number) {
    this.#input = input[Symbol.asyncIterator]();
    this.#gather = gather;
    this.#max = maxInFlight;
  }

  /** Elements pulled from the input whose value has not been handed to the consumer yet. */
  get inFlight(): number {
    return this.#window.length;
  }

  next(): Promise<IteratorResult<T>> {
    const step = this.#chain.then(() => this.#step());
    this.#chain = step.catch(() => undefined);
    return step;
  }

  async return(): Promise<IteratorResult<T>> {
    await this.#stop();
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async #step(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.#stopped) return DONE;
      void this.#fill();
      const slot = this.#window[0];
      if (slot === undefined) {
        if (this.#inputDone && !this.#pulling) return DONE;
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      const s = await slot.settled;
      if (this.#stopped) return DONE;
      this.#window.shift();
      release(slot);
      if (!s.ok) {
        await this.#stop();
        throw s.error;
      }
      void this.#fill();
      return { value: s.value as T, done: false };
    }
  }

  /** Pulls from the input until the window is full (one pull at a time). */
  async #fill(): Promise<void> {
    if (this.#pulling) return;
    this.#pulling = true;
    try {
      while (!this.#stopped && !this.#inputDone && this.#window.length < this.#max) {
        let r: IteratorResult<unknown>;
        try {
          r = await this.#input.next();
        } catch (error) {
          // The source failed: the elements before it are still handed over, then its error.
          this.#inputDone = true;
          if (!this.#stopped) this.#window.push({ futures: [], settled: Promise.resolve({ ok: false, error }), released: true });
          break;
        }
        if (r.done) {
          this.#inputDone = true;
          break;
        }
        const futures = collectFutures(r.value);
        if (this.#stopped) {
          for (const f of futures) f.release();
          break;
        }
        const slot: Slot = { futures, settled: settle(this.#gather(r.value)), released: false };
        // The value is here: the cluster may forget it now, though the consumer has not taken it.
        void slot.settled.then((s) => s.ok && release(slot));
        this.#window.push(slot);
        this.#poke();
      }
    } finally {
      this.#pulling = false;
      this.#poke();
    }
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const slot of this.#window.splice(0)) release(slot);
    this.#poke();
    if (this.#inputDone) return;
    this.#inputDone = true;
    const closing = Promise.resolve(this.#input.return?.()).catch(() => undefined);
    // A pull still pending (a source waiting for data) must not hold up a `break`.
    if (!this.#pulling) await closing;
  }
}

function release(slot: Slot): void {
  if (slot.released) return;
  slot.released = true;
  for (const f of slot.futures) f.release();
}

function settle(p: Promise<unknown>): Promise<Settled> {
  return p.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}
