/**
 * Test fixtures for the distributed servers (dask's gen_cluster): a scheduler and workers in this
 * process on 127.0.0.1:0 with validate on, bounded waits, and cleanup; a raw client that drives the
 * scheduler stream by hand (no Client class).
 */
import { connect } from '../../src/distributed/comm/connect.js';
import type { Comm } from '../../src/distributed/comm/comm.js';
import type { ClientToScheduler, SchedulerOps, SchedulerToClient, WorkerOps } from '../../src/distributed/messages.js';
import { createLogger, type Logger, type LogRecord } from '../../src/distributed/rpc/logger.js';
import { rpc } from '../../src/distributed/rpc/rpc.js';
import { SchedulerServer, type SchedulerServerOptions } from '../../src/distributed/scheduler/server.js';
import { WorkerServer, type WorkerServerOptions } from '../../src/distributed/worker/server.js';
import { sleep, within } from './comm/helpers.js';

export { sleep, within } from './comm/helpers.js';

export interface ClusterOptions {
  readonly nWorkers?: number;
  readonly nthreads?: number;
  /** The test body's budget (default 20 s). */
  readonly timeoutMs?: number;
  readonly scheduler?: Omit<SchedulerServerOptions, 'host' | 'port' | 'validate' | 'logger'>;
  readonly worker?: Omit<WorkerServerOptions, 'scheduler' | 'nthreads' | 'host' | 'port' | 'validate' | 'logger' | 'name'>;
  /** Fail the test if an error was logged (default true; tests that send bad input on purpose turn it off). */
  readonly noErrorLogs?: boolean;
}

export interface Cluster {
  readonly scheduler: SchedulerServer;
  /** Named w0, w1, ... */
  readonly workers: WorkerServer[];
  /** Every log record of the scheduler and workers, debug level included. */
  readonly logs: LogRecord[];
  readonly logger: Logger;
}

/** A logger that keeps its records in `records` (and prints nothing). */
export function recordingLogger(name: string, records: LogRecord[]): Logger {
  return createLogger(name, { level: 'debug', sink: (r) => records.push(r) });
}

/**
 * Runs `body` against a fresh scheduler and `nWorkers` workers (each `nthreads` threads), all on
 * 127.0.0.1:0 in this process with validate on; closes them all afterwards, and fails when a state
 * machine erred (or, by default, when anything logged an error).
 */
export async function withCluster(options: ClusterOptions, body: (c: Cluster) => Promise<void>): Promise<void> {
  const logs: LogRecord[] = [];
  const logger = recordingLogger('dask-ts.test-cluster', logs);
  const nWorkers = options.nWorkers ?? 2;
  const scheduler = await SchedulerServer.start({ port: 0, validate: true, logger: logger.child('scheduler'), ...options.scheduler });
  const workers: WorkerServer[] = [];
  let failure: unknown;
  try {
    for (let i = 0; i < nWorkers; i++) {
      workers.push(
        await WorkerServer.start({
          scheduler: scheduler.address,
          nthreads: options.nthreads ?? 1,
          name: `w${i}`,
          validate: true,
          connectTimeoutMs: 5000,
          logger: logger.child(`w${i}`),
          ...options.worker,
        }),
      );
    }
    await until(() => scheduler.workerAddresses.length === nWorkers, 5000, `${nWorkers} workers registered`);
    await within(options.timeoutMs ?? 20_000, body({ scheduler, workers, logs, logger }), 'the test body');
  } catch (e) {
    failure = e;
  } finally {
    try {
      await within(10_000, Promise.all(workers.map((w) => w.close())), 'closing the workers');
      await within(5000, scheduler.close(), 'closing the scheduler');
    } catch (e) {
      failure ??= e;
    }
  }
  if (failure !== undefined) throw failure;
  const internal = [...scheduler.errors, ...workers.flatMap((w) => w.errors)];
  if (internal.length > 0) throw new AggregateError(internal, `state machine errors: ${internal.map((e) => e.message).join('; ')}`);
  const errors = logs.filter((r) => r.level === 'error');
  if ((options.noErrorLogs ?? true) && errors.length > 0) {
    throw new Error(`errors were logged:\n${errors.map((r) => `${r.name}: ${r.message}`).join('\n')}`);
  }
}

/** Polls `cond` every 5 ms; rejects after `ms`. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(5);
  }
}

/**
 * A client without the Client class: a comm to the scheduler, registered with `register-client`,
 * that sends ClientToScheduler batches and collects the SchedulerToClient messages it receives.
 */
export class RawClient {
  readonly received: SchedulerToClient[] = [];
  readonly #waiters = new Set<() => void>();
  #closedWith: unknown;
  #ended = false;

  private constructor(
    readonly id: string,
    readonly comm: Comm,
  ) {
    void this.#readLoop();
  }

  static async connect(address: string, id = `raw-client-${Math.random().toString(36).slice(2, 10)}`): Promise<RawClient> {
    const comm = await connect(address, { timeoutMs: 2000 });
    await comm.write({ op: 'register-client', client: id });
    return new RawClient(id, comm);
  }

  /** Sends messages as one batch, as a BatchedSend would. */
  send(...msgs: ClientToScheduler[]): Promise<void> {
    return this.comm.write(msgs);
  }

  /** Whether the scheduler closed this stream. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The first received message (past or future) that matches; rejects after `ms` or if the stream ends first. */
  async waitFor<M extends SchedulerToClient>(pred: (m: SchedulerToClient) => m is M, ms?: number): Promise<M>;
  async waitFor(pred: (m: SchedulerToClient) => boolean, ms?: number): Promise<SchedulerToClient>;
  async waitFor(pred: (m: SchedulerToClient) => boolean, ms = 5000): Promise<SchedulerToClient> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.received.find(pred);
      if (found !== undefined) return found;
      if (this.#ended) throw new Error(`the stream ended before the message came (${String(this.#closedWith ?? 'closed')})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${ms} ms; received: ${JSON.stringify(this.received.map((m) => [m.op, 'key' in m ? m.key : '']))}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
  }

  /** Waits for key-in-memory (or fails with the task's error) of `key`. */
  async inMemory(key: string, ms = 5000): Promise<void> {
    const m = await this.waitFor((m) => 'key' in m && m.key === key && (m.op === 'key-in-memory' || m.op === 'task-erred' || m.op === 'lost-data'), ms);
    if (m.op !== 'key-in-memory') throw new Error(`'${key}': ${m.op}${m.op === 'task-erred' ? ` ${String((m.exception as unknown as Error)?.message)}` : ''}`);
  }

  /** Resolves when the scheduler has closed the stream. */
  async whenEnded(ms = 5000): Promise<void> {
    await within(ms, this.comm.finished, 'the stream to end');
  }

  async close(): Promise<void> {
    await this.comm.close();
  }

  async #readLoop(): Promise<void> {
    try {
      for (;;) {
        const batch = await this.comm.read();
        for (const m of Array.isArray(batch) ? batch : [batch]) this.received.push(m as SchedulerToClient);
        this.#wake();
      }
    } catch (e) {
      this.#closedWith = e;
      this.#ended = true;
      this.#wake();
    }
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}

/** A scheduler RPC (a fresh pool per call, closed afterwards). */
export async function schedulerCall<K extends keyof SchedulerOps & string>(
  address: string,
  msg: { op: K } & SchedulerOps[K]['request'],
): Promise<SchedulerOps[K]['reply']> {
  const r = rpc<SchedulerOps>(address, { connectTimeoutMs: 2000 });
  try {
    return await r.call(msg as never, { timeoutMs: 5000 });
  } finally {
    await r.close();
  }
}

/** A worker RPC (a fresh pool per call, closed afterwards). */
export async function workerCall<K extends keyof WorkerOps & string>(
  address: string,
  msg: { op: K } & WorkerOps[K]['request'],
): Promise<WorkerOps[K]['reply']> {
  const r = rpc<WorkerOps>(address, { connectTimeoutMs: 2000 });
  try {
    return await r.call(msg as never, { timeoutMs: 5000 });
  } finally {
    await r.close();
  }
}
