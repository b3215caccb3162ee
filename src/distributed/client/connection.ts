/**
 * Opening a client's connection to a scheduler (a ConnectError within the timeout when there is
 * none), and the LocalCluster that Client.connect() starts when given no address.
 */
import { randomUUID } from 'node:crypto';
import type { Comm } from '../comm/comm.js';
import { connect } from '../comm/connect.js';
import { ConnectError } from '../comm/errors.js';
import type { Logger } from '../rpc/logger.js';
import { ConnectionPool } from '../rpc/pool.js';
import type { ResolvedConnectOptions } from './options.js';

/** What Client.connect() needs of a cluster it starts (src/distributed/local-cluster.ts). */
export interface OwnedCluster {
  readonly schedulerAddress: string;
  close(): Promise<void>;
}

/** A registered client's connections: its stream to the scheduler and its pool for requests. */
export interface SchedulerConnection {
  readonly id: string;
  readonly comm: Comm;
  readonly pool: ConnectionPool;
}

/** Checks that a scheduler answers at `address`, then opens the stream and registers a new client id on it. */
export async function openScheduler(address: string, timeoutMs: number): Promise<SchedulerConnection> {
  const deadline = Date.now() + timeoutMs;
  const pool = new ConnectionPool({ connectTimeoutMs: timeoutMs });
  let comm: Comm | undefined;
  try {
    await identify(pool, address, timeoutMs);
    comm = await connect(address, { timeoutMs: Math.max(1, deadline - Date.now()) });
    const id = `Client-${randomUUID()}`;
    await comm.write({ op: 'register-client', client: id });
    return { id, comm, pool };
  } catch (e) {
    comm?.abort();
    await pool.close();
    throw e;
  }
}

/** A LocalCluster in this process, with the connect options that apply to it. */
export async function startLocalCluster(opts: ResolvedConnectOptions): Promise<OwnedCluster> {
  const { LocalCluster } = await loadLocalCluster();
  const clusterOptions: { nWorkers?: number; threadsPerWorker?: number; logger?: Logger } = {};
  if (opts.nWorkers !== undefined) clusterOptions.nWorkers = opts.nWorkers;
  if (opts.threadsPerWorker !== undefined) clusterOptions.threadsPerWorker = opts.threadsPerWorker;
  if (opts.logger !== undefined) clusterOptions.logger = opts.logger;
  return LocalCluster.start(clusterOptions);
}

/** Asks the server at `address` who it is: a ConnectError within the timeout if it is not a scheduler. */
async function identify(pool: ConnectionPool, address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  try {
    pool.reuse(address, await pool.connect(address)); // within the pool's connect timeout (timeoutMs)
    await pool.call(address, { op: 'identity' }, { timeoutMs: Math.max(1, deadline - Date.now()) });
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err instanceof ConnectError) {
      throw new ConnectError(address, err.code ?? 'ECONNREFUSED', `could not connect to the scheduler at ${address} within ${timeoutMs} ms (${err.code}); is a scheduler running there? (npx dscheduler)`, { cause: e });
    }
    if (err.name === 'TimeoutError') {
      throw new ConnectError(address, 'ETIMEDOUT', `connected to ${address}, but it did not answer as a scheduler within ${timeoutMs} ms`, { cause: e });
    }
    throw new ConnectError(address, err.code ?? 'EPROTO', `the server at ${address} did not answer as a dask-ts scheduler: ${err.message}`, { cause: e });
  }
}

/** Loaded on first use, so that a client of a remote cluster never loads scheduler and worker code. */
async function loadLocalCluster(): Promise<{ LocalCluster: { start(options: { nWorkers?: number; threadsPerWorker?: number; logger?: Logger }): Promise<OwnedCluster> } }> {
  return import('../local-cluster.js');
}
