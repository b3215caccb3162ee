/** The client side of dask-ts.distributed: Client (alias Executor), Future, asCompleted, wait. */
export { Client, ClientView, Executor, type ClientCalls, type ComputedFutures, type HasSchedulerAddress, type MapIterables } from './client.js';
export { Future, isFuture, type FutureArgs, type FutureOr, type Gathered } from './future.js';
export type { FutureStatus } from './key-state.js';
export { asCompleted, AsCompleted } from './as-completed.js';
export { wait, type WaitResult } from './wait.js';
export { CancelledError, ClientClosedError, LostDataError, TimeoutError } from './errors.js';
export type { CallOptions, ConnectOptions, ScatterOptions, WaitOptions } from './options.js';
