/**
 * What a client knows about one key: its status and, once it is done, its error. Every Future of
 * the key in this client shares one KeyState (dask's FutureState), so a message from the scheduler
 * updates them all at once.
 *
 *     pending ──► finished      key-in-memory
 *        │  ├───► error         task-erred (the task, or one of its inputs, failed)
 *        │  ├───► cancelled     cancel(), cancelled-key, restart, client closed
 *        │  └───► lost          lost-data, or the connection to the scheduler broke
 *        └◄────── (any)         reset(): submitted again, or its data must be recomputed
 *
 * A finished key may be finished again (the scheduler reports it each time a client asks), and
 * an error may follow finished (a worker died and the recomputation failed).
 */
import { abortError } from '../../schedulers/errors.js';
import type { Key } from '../messages.js';

export type FutureStatus = 'pending' | 'finished' | 'error' | 'cancelled' | 'lost';

export class KeyState {
  #status: FutureStatus = 'pending';
  /** The result's type name as the worker reported it. */
  typeName: string | undefined;
  /** Workers that held the data when it was reported (a hint: it may have moved since). */
  holders: readonly string[] | undefined;
  /** Why the key has no result: set in status 'error', 'cancelled' and 'lost'. */
  error: Error | undefined;
  /** The remote stack of a failed task. */
  traceback: string | undefined;
  #done: Promise<void> | undefined;
  #resolve: (() => void) | undefined;

  constructor(readonly key: Key) {}

  get status(): FutureStatus {
    return this.#status;
  }

  /** Whether the key has left 'pending' (finished, erred, cancelled or lost). */
  get done(): boolean {
    return this.#status !== 'pending';
  }

  /** Resolves (never rejects) once the key is done. */
  wait(): Promise<void> {
    if (this.done) return Promise.resolve();
    if (this.#done === undefined) this.#done = new Promise<void>((resolve) => (this.#resolve = resolve));
    return this.#done;
  }

  finish(typeName?: string, holders?: readonly string[]): void {
    this.error = undefined;
    this.traceback = undefined;
    if (typeName !== undefined) this.typeName = typeName;
    this.holders = holders;
    this.#settle('finished');
  }

  fail(error: Error, traceback?: string): void {
    this.error = error;
    this.traceback = traceback;
    this.#settle('error');
  }

  cancel(error: Error): void {
    this.error = error;
    this.#settle('cancelled');
  }

  lose(error: Error): void {
    this.error = error;
    this.#settle('lost');
  }

  /** Back to pending: the key was submitted again, or its data has to be recomputed. */
  reset(): void {
    this.#status = 'pending';
    this.error = undefined;
    this.traceback = undefined;
    this.holders = undefined;
  }

  #settle(status: FutureStatus): void {
    this.#status = status;
    const resolve = this.#resolve;
    this.#done = undefined;
    this.#resolve = undefined;
    resolve?.();
  }
}

/** Resolves once every state is done; rejects with the first error, or when `signal` aborts. */
export function waitAll(states: readonly KeyState[], signal?: AbortSignal): Promise<void> {
  const pending = states.filter((s) => !s.done);
  const failed = states.find((s) => s.done && s.status !== 'finished');
  if (failed) return Promise.reject(failed.error);
  if (pending.length === 0) return Promise.resolve();
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    let left = pending.length;
    let settled = false;
    const onAbort = () => finish(abortError(signal!));
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    for (const s of pending) {
      void s.wait().then(() => {
        if (s.status !== 'finished') finish(s.error ?? new Error(`key '${s.key}' is ${s.status}`));
        else if (--left === 0) finish();
      });
    }
  });
}

