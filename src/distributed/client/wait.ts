/**
 * wait: until all Futures are done (or the first one is), as dask's `wait(fs, timeout, return_when)`.
 * Done includes erred, cancelled and lost: wait never rejects for a Future's error, only for the
 * timeout.
 */
import { Future, futureInternals } from './future.js';
import { TimeoutError } from './errors.js';
import { resolveWaitOptions, type WaitOptions } from './options.js';

export interface WaitResult<T> {
  /** The Futures that are done, in the order given. */
  readonly done: Future<T>[];
  readonly notDone: Future<T>[];
}

/**
 * Resolves once every Future is done (`returnWhen: 'ALL_COMPLETED'`, the default) or once one is
 * (`'FIRST_COMPLETED'`). With `timeout` (ms), rejects with a TimeoutError if that takes longer.
 */
export async function wait<T>(futures: Iterable<Future<T>>, options?: WaitOptions): Promise<WaitResult<T>> {
  const { timeout, returnWhen } = resolveWaitOptions(options);
  const list = [...futures];
  for (const f of list) if (!(f instanceof Future)) throw new TypeError(`wait: expected Futures, got ${typeof f}`);
  const waits = list.map((f) => futureInternals.state(f).wait());
  const all = returnWhen === 'ALL_COMPLETED' ? Promise.all(waits) : list.length === 0 ? Promise.resolve() : Promise.race(waits);
  if (timeout !== undefined) {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const left = list.filter((f) => !f.done()).length;
        reject(new TimeoutError(`wait: ${left} of ${list.length} futures still pending after ${timeout} ms`));
      }, timeout);
    });
    try {
      await Promise.race([all, expired]);
    } finally {
      clearTimeout(timer);
    }
  } else {
    await all;
  }
  return { done: list.filter((f) => f.done()), notDone: list.filter((f) => !f.done()) };
}
