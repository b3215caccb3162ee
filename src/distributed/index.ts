/**
 * dask-ts/distributed: a scheduler, workers and a client with futures, over TCP.
 *
 * @example
 * import { Client } from 'dask-ts/distributed';
 * const client = await Client.connect();          // a LocalCluster in this process
 * const total = client.submit(sum, client.map(square, range(10)));
 * await total;                                    // 285
 * await client.close();
 */
export * from './client/index.js';
export { TaskError, RemoteError } from '../schedulers/errors.js';
export { ConnectError, CommClosedError } from './comm/errors.js';
export { ShippingError } from '../graph/shipping/errors.js';
export { LocalCluster, type LocalClusterOptions, type LocalWorker } from './local-cluster.js';
export { SchedulerServer, DEFAULT_SCHEDULER_PORT, type SchedulerServerOptions } from './scheduler/server.js';
export { WorkerServer, type WorkerServerOptions } from './worker/server.js';
export type { RunContext } from './worker/run-function.js';
