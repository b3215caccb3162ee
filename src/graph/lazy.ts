/**
 * Lazy task results. A task may return a value that stands for data not yet produced, such as a
 * bag partition still being streamed through map and filter steps; the next step of a fused
 * chain consumes it directly, with no intermediate array. Only when such a value becomes a stored
 * result (the end of a fused chain, or a value sent to another thread) is it materialised, through
 * the method under the MATERIALIZE symbol. This is dask.bag's lazy iterators, made explicit.
 */
export const MATERIALIZE: unique symbol = Symbol.for('dask-ts.materialize');

export interface LazyValue<T = unknown> {
  [MATERIALIZE](): T;
}

export function isLazyValue(x: unknown): x is LazyValue {
  return typeof x === 'object' && x !== null && typeof (x as Partial<LazyValue>)[MATERIALIZE] === 'function';
}

/** The value a task's result is stored as: lazy values materialised, everything else as is. */
export function settle(x: unknown): unknown {
  return isLazyValue(x) ? x[MATERIALIZE]() : x;
}
