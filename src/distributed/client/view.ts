/**
 * The calls that take per-call options (submit, map, compute, persist, run), and ClientView, which
 * carries such options: `client.with({ pure: false }).submit(Math.random)`. Options never share an
 * argument list with the user's arguments, where a plain object is a real argument.
 */
import type { Computed } from '../../graph/collection.js';
import type { Address } from '../messages.js';
import type { Future, FutureArgs, FutureOr } from './future.js';
import { resolveCallOptions, type CallOptions, type ResolvedCallOptions } from './options.js';
import type { FutureStream } from './streams.js';

export type AnyFn = (...args: any[]) => any;

/** One iterable per parameter of `fn`: map calls `fn` on their zip. */
export type MapIterables<P extends readonly unknown[]> = { [K in keyof P]: Iterable<FutureOr<P[K]>> };

/** map's arguments when some are async iterables (sync ones are pulled in step): a stream of Futures. */
export type MapStreamIterables<P extends readonly unknown[]> = { [K in keyof P]: Iterable<FutureOr<P[K]>> | AsyncIterable<FutureOr<P[K]>> };

/** One Future per collection, of what computing it gives. */
export type ComputedFutures<T extends readonly unknown[]> = { -readonly [K in keyof T]: Future<Computed<T[K]>> };

/** The calls that take per-call options: on the client (defaults) and on its views. */
export interface ClientCalls {
  /** `fn(...args)` on the cluster; arguments may be Futures (also inside arrays and plain objects). */
  submit<F extends AnyFn>(fn: F, ...args: FutureArgs<Parameters<F>>): Future<Awaited<ReturnType<F>>>;
  /** `fn` on the zip of the iterables (as Python's map: the shortest one ends it); one Future per call. */
  map<F extends AnyFn>(fn: F, ...iterables: MapIterables<Parameters<F>>): Future<Awaited<ReturnType<F>>>[];
  /** With an async iterable among them: a stream that submits one call per element as it arrives (streams.ts). */
  map<F extends AnyFn>(fn: F, ...iterables: MapStreamIterables<Parameters<F>>): FutureStream<Awaited<ReturnType<F>>>;
  /** One Future per collection, for its computed result (post-compute applied when gathered). */
  compute<T extends readonly unknown[]>(collections: readonly [...T]): ComputedFutures<T>;
  compute<T extends readonly unknown[]>(...collections: T): ComputedFutures<T>;
  /** The same collection(s), backed by data computed on the cluster (its graph holds the Futures). */
  persist<T extends readonly unknown[]>(collections: readonly [...T]): T;
  persist<T>(collection: T): T;
  /**
   * `fn(...args)` once on every worker (of `with({ workers })`), outside the task system:
   * `{ [address]: value }`; a RunError when it failed on some (run.ts).
   */
  run<F extends AnyFn>(fn: F, ...args: Parameters<F>): Promise<Record<Address, Awaited<ReturnType<F>>>>;
  /** A view of the client whose calls use these options. */
  with(options: CallOptions): ClientView;
}

/** @internal What a view calls on its client. */
export interface ViewCalls {
  submit(o: ResolvedCallOptions, fn: AnyFn, args: unknown[]): Future;
  map(o: ResolvedCallOptions, fn: AnyFn, iterables: unknown[]): Future[] | FutureStream;
  compute(o: ResolvedCallOptions, args: unknown[]): Future[];
  persist(o: ResolvedCallOptions, args: unknown[]): unknown;
  run(o: ResolvedCallOptions, fn: AnyFn, args: unknown[]): Promise<Record<Address, unknown>>;
}

/**
 * The client with per-call options: `client.with({ pure: false }).submit(Math.random)`. A view can
 * be kept (`const gpu = client.with({ workers: ['gpu-1'] })`), and `view.with(...)` adds options.
 */
export class ClientView implements ClientCalls {
  readonly options: ResolvedCallOptions;
  readonly #calls: ViewCalls;

  /** @internal Views come from `client.with(options)`. */
  constructor(calls: ViewCalls, options: ResolvedCallOptions) {
    this.#calls = calls;
    this.options = options;
  }

  submit<F extends AnyFn>(fn: F, ...args: FutureArgs<Parameters<F>>): Future<Awaited<ReturnType<F>>> {
    return this.#calls.submit(this.options, fn, args) as Future<Awaited<ReturnType<F>>>;
  }

  map<F extends AnyFn>(fn: F, ...iterables: MapIterables<Parameters<F>>): Future<Awaited<ReturnType<F>>>[];
  map<F extends AnyFn>(fn: F, ...iterables: MapStreamIterables<Parameters<F>>): FutureStream<Awaited<ReturnType<F>>>;
  map(fn: AnyFn, ...iterables: unknown[]): Future[] | FutureStream {
    return this.#calls.map(this.options, fn, iterables);
  }

  compute<T extends readonly unknown[]>(collections: readonly [...T]): ComputedFutures<T>;
  compute<T extends readonly unknown[]>(...collections: T): ComputedFutures<T>;
  compute(...args: unknown[]): Future[] {
    return this.#calls.compute(this.options, args);
  }

  persist<T extends readonly unknown[]>(collections: readonly [...T]): T;
  persist<T>(collection: T): T;
  persist(...args: unknown[]): unknown {
    return this.#calls.persist(this.options, args);
  }

  run<F extends AnyFn>(fn: F, ...args: Parameters<F>): Promise<Record<Address, Awaited<ReturnType<F>>>> {
    return this.#calls.run(this.options, fn, args) as Promise<Record<Address, Awaited<ReturnType<F>>>>;
  }

  with(options: CallOptions): ClientView {
    return new ClientView(this.#calls, resolveCallOptions(options, this.options, 'with'));
  }
}
