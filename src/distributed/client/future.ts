/**
 * Future: a local handle on a result that lives on the cluster.
 *
 * A Future is made by a client (submit, map, compute, scatter, ...), never by user code. All the
 * Futures of one key in one client share that key's KeyState, and the client counts them: when the
 * last one is released (`release()`, or collected by the garbage collector), the client tells the
 * scheduler it no longer wants the key, and the cluster frees its data.
 *
 * A Future is awaitable: `await future` is `await future.result()`. That has one consequence to
 * know about: JavaScript unwraps anything with a `then` method wherever a promise is resolved with
 * it, so an async function that returns a Future returns its result, and `Promise.resolve(future)`
 * and `Promise.all(futures)` give results. To pass Futures out of an async function, return them
 * inside an array or an object (`return [future]`), which is never unwrapped. The client's own
 * methods follow that rule: none resolves to a bare Future.
 */
import { inspect } from 'node:util';
import type { Key } from '../messages.js';
import type { FutureStatus, KeyState } from './key-state.js';

/** @internal What a Future asks of the client that made it. */
export interface FutureLink {
  readonly clientId: string;
  /** The values of `futures` (each after its post-processing), in order. */
  gather(futures: readonly Future[]): Promise<unknown[]>;
  cancel(futures: readonly Future[]): Promise<void>;
  /** Gives up this Future's reference to its key. */
  release(future: Future): void;
}

/** Applied to the fetched value before it is returned (a collection's post-compute). */
export type PostProcess = (value: unknown) => unknown;

let stateOf: (f: Future) => KeyState;
let postOf: (f: Future) => PostProcess | undefined;
let linkOf: (f: Future) => FutureLink;
let isReleased: (f: Future) => boolean;

export class Future<T = unknown> implements PromiseLike<T> {
  readonly key: Key;
  readonly #state: KeyState;
  readonly #link: FutureLink;
  readonly #post: PostProcess | undefined;
  #released = false;

  static {
    stateOf = (f) => f.#state;
    postOf = (f) => f.#post;
    linkOf = (f) => f.#link;
    isReleased = (f) => f.#released;
  }

  /** @internal Futures come from a client: submit, map, compute, persist, scatter, get. */
  constructor(key: Key, state: KeyState, link: FutureLink, post?: PostProcess) {
    this.key = key;
    this.#state = state;
    this.#link = link;
    this.#post = post;
  }

  /** 'pending', then 'finished', 'error', 'cancelled' or 'lost'. */
  get status(): FutureStatus {
    return this.#state.status;
  }

  /** The key on the cluster: how run specs (client/run-spec.ts) recognise a Future in arguments. */
  get daskFutureKey(): Key {
    return this.key;
  }

  /** A Future's token is its key: a task that takes it as an argument is named after the key. */
  daskTokenize(): string {
    return `future:${this.key}`;
  }

  /** The type name of the result, as the worker reported it, once finished. */
  get type(): string | undefined {
    return this.#state.typeName;
  }

  /** Whether the computation is over: finished, erred, cancelled or lost. */
  done(): boolean {
    return this.#state.done;
  }

  cancelled(): boolean {
    return this.#state.status === 'cancelled';
  }

  /**
   * Waits for the computation and brings its result here. Rejects with a TaskError (its `key` is
   * the task that raised, its `cause` the remote error with the worker's stack) if the task or an
   * input failed, a CancelledError if cancelled, a LostDataError if lost.
   */
  async result(): Promise<T> {
    const [v] = await this.#link.gather([this]);
    return v as T;
  }

  /**
   * Waits until done; then the error that keeps this future from having a result (a TaskError, a
   * CancelledError or a LostDataError), or undefined if it finished.
   */
  async exception(): Promise<Error | undefined> {
    await this.#state.wait();
    return this.#state.status === 'finished' ? undefined : this.#state.error;
  }

  /** Waits until done; then the remote stack of the failed task, or undefined if it did not fail. */
  async traceback(): Promise<string | undefined> {
    await this.#state.wait();
    if (this.#state.status !== 'error') return undefined;
    return this.#state.traceback ?? (this.#state.error?.cause as Error | undefined)?.stack;
  }

  /** Cancels the computation (for every Future of this key in this client). */
  cancel(): Promise<void> {
    return this.#link.cancel([this]);
  }

  /**
   * Gives up this Future's reference. When it was the last reference to its key in the client,
   * the scheduler is told, and the cluster forgets the key once nothing else needs it. Idempotent;
   * the garbage collector does the same for Futures that become unreachable.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#link.release(this);
  }

  /** `await future` is `await future.result()`; see the module comment for what that implies. */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.result().then(onfulfilled, onrejected);
  }

  toString(): string {
    return `<Future: status: ${this.status}, key: ${this.key}>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** @internal The client's view of a Future's internals. */
export const futureInternals = {
  state: (f: Future): KeyState => stateOf(f),
  post: (f: Future): PostProcess | undefined => postOf(f),
  link: (f: Future): FutureLink => linkOf(f),
  released: (f: Future): boolean => isReleased(f),
};

export function isFuture(x: unknown): x is Future {
  return x instanceof Future;
}

// ---- types of arguments and results

/**
 * An argument of a function submitted to a cluster: the value itself, or a Future of it, also
 * inside arrays and plain objects (those travel as keys and become dependencies).
 */
export type FutureOr<T> =
  | T
  | Future<T>
  | (T extends Function | ArrayBufferView
      ? never
      : T extends readonly (infer E)[]
        ? readonly FutureOr<E>[]
        : T extends object
          ? { [K in keyof T]: FutureOr<T[K]> }
          : never);

/** Each parameter of a function, as a FutureOr. */
export type FutureArgs<P extends readonly unknown[]> = { [K in keyof P]: FutureOr<P[K]> };

/** What gathering gives: each Future replaced by its result, through arrays and plain objects. */
export type Gathered<T> =
  T extends Future<infer R>
    ? R
    : T extends Function | ArrayBufferView
      ? T
      : T extends readonly unknown[]
        ? { -readonly [K in keyof T]: Gathered<T[K]> }
        : T extends object
          ? { [K in keyof T]: Gathered<T[K]> }
          : T;
