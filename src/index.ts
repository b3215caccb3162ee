/**
 * dask-ts: task graphs as plain objects, collections that emit them, and gets that run them.
 *
 * @example
 * import { delayed, getSync } from 'dask-ts';
 * const inc = (x: number) => x + 1;
 * await getSync({ x: 1, y: [inc, 'x'] }, 'y'); // 2
 * await delayed(inc)(41).compute();            // 42, on the thread pool
 */
export type { Graph, Key, KeyNest, Task, TaskFn } from './graph/spec.js';
export { isTask, literal, Literal } from './graph/spec.js';
export { tupleKey, parseTupleKey, keyName, keyPrefix } from './graph/keys.js';
export { GraphError, CycleError } from './graph/errors.js';
export { toposort } from './graph/toposort.js';
export { cull } from './graph/cull.js';
export { inline, type InlineOptions } from './graph/inline.js';
export { fuse } from './graph/fuse.js';
export { order } from './graph/order.js';
export { tokenize } from './graph/tokenize.js';
export { isDaskCollection, type DaskCollection, type Computed } from './graph/collection.js';
export { compute, persist, optimize, type ComputeOptions, type SchedulerName } from './graph/compute.js';
export { delayed, Delayed, type DelayedOptions, type DelayedFunction, type Lazy } from './graph/delayed.js';
export { defineKernel, registerModule, describeFunction, type FnRef } from './graph/shipping/registry.js';
export { ShippingError } from './graph/shipping/errors.js';
export { getSync } from './schedulers/sync.js';
export { getThreads } from './schedulers/threads.js';
export { shutdownThreadPools } from './schedulers/pool.js';
export { TaskError, RemoteError } from './schedulers/errors.js';
export type { GetFn, GetOptions } from './schedulers/get-options.js';
