/** The client side of dask-ts.distributed: Client (alias Executor), Future, asCompleted, wait. */
export { Client, ClientView, Executor, type ClientCalls, type ComputedFutures, type HasSchedulerAddress, type MapIterables, type MapStreamIterables } from './client.js';
export { Future, isFuture, type FutureArgs, type FutureOr, type Gathered } from './future.js';
export type { FutureStatus } from './key-state.js';
export { asCompleted, AsCompleted } from './as-completed.js';
export { wait, type WaitResult } from './wait.js';
export type { FutureStream, ResultStream } from './streams.js';
export { CancelledError, ClientClosedError, LostDataError, TimeoutError } from './errors.js';
export type { KeysArg, NbytesOptions, ReplicateOptions, WorkersArg } from './data-ops.js';
export type { RebalanceResult, ReplicateResult, SchedulerInfo, WorkerInfo } from '../messages.js';
export { RunError } from './run.js';
export { UploadError, type UploadOptions } from './upload.js';
export type { RestartOptions } from './restart.js';
export type { CallOptions, ConnectOptions, ScatterOptions, StreamOptions, WaitOptions } from './options.js';
