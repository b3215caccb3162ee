/**
 * The collection protocol: what arrays, bags, dataframes and delayed values implement so that
 * `compute`, `persist` and any get (local or distributed) can run them. It is dask's
 * `__dask_graph__ / __dask_keys__ / __dask_postcompute__ / __dask_postpersist__` as methods.
 */
import type { Graph, Key, KeyNest } from './spec.js';

export interface DaskCollection<R = unknown> {
  /** Deterministic name, `${op}-${token}`: equal expressions have equal names. */
  readonly daskName: string;
  /** The graph that computes this collection: keys to tasks or values. */
  daskGraph(): Graph;
  /** The keys whose values make up the result, nested as the collection's blocks are. */
  daskKeys(): KeyNest;
  /** Assembles the computed values of `daskKeys()` (same nesting) into the result the user gets. */
  daskPostCompute(results: unknown): R;
  /** The same collection backed by `data`: one entry per key of `daskKeys()`, already computed. */
  daskPostPersist(data: Graph): DaskCollection<R>;
  /** Optional optimisation of the merged graph before it runs (after cull, before fuse). */
  daskOptimize?(graph: Graph, keys: readonly Key[]): Graph;
}

export function isDaskCollection(x: unknown): x is DaskCollection {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as DaskCollection).daskGraph === 'function' &&
    typeof (x as DaskCollection).daskKeys === 'function' &&
    typeof (x as DaskCollection).daskPostCompute === 'function'
  );
}

/** What computing a value gives: a collection's result, or any other value unchanged. */
export type Computed<T> = T extends DaskCollection<infer R> ? R : T;
