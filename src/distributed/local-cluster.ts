/**
 * LocalCluster: a scheduler and workers on this machine, for `Client.connect()` with no address,
 * for tests and for trying things out.
 *
 *     const cluster = await LocalCluster.start({ nWorkers: 2, threadsPerWorker: 1 });
 *     cluster.schedulerAddress;   // 'tcp://127.0.0.1:40211'
 *     await cluster.close();
 *
 * The scheduler always runs in this process (on 127.0.0.1, a free port unless `port` is given).
 * Workers run in this process too (`processes: false`, the default: each has its own thread pool,
 * so this event loop stays free), or each in a child process started through the `dworker`
 * program (`processes: true`), as dask's LocalCluster does with nannies.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from './rpc/logger.js';
import { SchedulerServer } from './scheduler/server.js';
import { WorkerServer } from './worker/server.js';
import { workerProcessEnv } from './worker/process-env.js';

export interface LocalClusterOptions {
  /** Default 2. */
  readonly nWorkers?: number;
  /** Default 1. */
  readonly threadsPerWorker?: number;
  /** Workers as child processes (default false: in this process). */
  readonly processes?: boolean;
  /** The scheduler's port (default 0: a free one). */
  readonly port?: number;
  /** Check both state machines' invariants after every event (tests; in-process workers only). */
  readonly validate?: boolean;
  /** Budget for each worker to start and register (default 30,000 ms). */
  readonly startTimeoutMs?: number;
  readonly logger?: Logger;
}

/** A worker of the cluster: in this process (`server`) or a child process (`process`). */
export interface LocalWorker {
  readonly address: string;
  readonly name: string;
  readonly server?: WorkerServer;
  readonly process?: ChildProcess;
}

export class LocalCluster {
  readonly scheduler: SchedulerServer;
  readonly workers: readonly LocalWorker[];
  #closing: Promise<void> | undefined;

  private constructor(scheduler: SchedulerServer, workers: LocalWorker[]) {
    this.scheduler = scheduler;
    this.workers = workers;
  }

  /** 'tcp://127.0.0.1:port'. */
  get schedulerAddress(): string {
    return this.scheduler.address;
  }

  /** Starts the scheduler, then the workers; resolves once every worker has registered. */
  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const nWorkers = options.nWorkers ?? 2;
    const nthreads = options.threadsPerWorker ?? 1;
    if (!Number.isSafeInteger(nWorkers) || nWorkers < 0) throw new TypeError(`LocalCluster: nWorkers must be an integer >= 0, got ${String(nWorkers)}`);
    if (!Number.isSafeInteger(nthreads) || nthreads < 1) throw new TypeError(`LocalCluster: threadsPerWorker must be a positive integer, got ${String(nthreads)}`);
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    const scheduler = await SchedulerServer.start({
      host: '127.0.0.1',
      port: options.port ?? 0,
      ...(options.validate !== undefined ? { validate: options.validate } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    const started = await Promise.allSettled(
      Array.from({ length: nWorkers }, (_, i) =>
        options.processes
          ? startProcess(scheduler.address, nthreads, `local-${i}`, timeoutMs)
          : WorkerServer.start({
              scheduler: scheduler.address,
              nthreads,
              name: `local-${i}`,
              connectTimeoutMs: timeoutMs,
              ...(options.validate !== undefined ? { validate: options.validate } : {}),
              ...(options.logger ? { logger: options.logger } : {}),
            }).then((w): LocalWorker => ({ address: w.address, name: w.name, server: w })),
      ),
    );
    const workers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const cluster = new LocalCluster(scheduler, workers);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await cluster.close();
      throw failed.reason;
    }
    return cluster;
  }

  /** Closes the workers (they unregister), then the scheduler. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all(this.workers.map((w) => (w.server ? w.server.close() : stopProcess(w.process!))));
      await this.scheduler.close();
    })();
    return this.#closing;
  }
}

/** The dworker program beside this module: compiled (.js), or the source (.ts) run through tsx. */
function dworkerEntry(): { file: string; execArgv: string[] } {
  const here = import.meta.url;
  const js = fileURLToPath(new URL('./cli/dworker.js', here));
  if (here.endsWith('.js') && existsSync(js)) return { file: js, execArgv: [] };
  const ts = fileURLToPath(new URL('./cli/dworker.ts', here));
  const hasTsx = process.execArgv.some((a) => a.includes('tsx'));
  const loader = pathToFileURL(createRequire(here).resolve('tsx')).href;
  return { file: ts, execArgv: hasTsx ? process.execArgv : [...process.execArgv, '--import', loader] };
}

function startProcess(scheduler: string, nthreads: number, name: string, timeoutMs: number): Promise<LocalWorker> {
  const { file, execArgv } = dworkerEntry();
  const child = fork(file, [scheduler, '--nthreads', String(nthreads), '--name', name], {
    execArgv,
    env: workerProcessEnv(),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise<LocalWorker>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`LocalCluster: worker process '${name}' did not register within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (m: unknown) => {
      const msg = m as { op?: unknown; address?: unknown; name?: unknown };
      if (msg?.op !== 'worker-started') return;
      clearTimeout(timer);
      resolve({ address: String(msg.address), name: String(msg.name), process: child });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`LocalCluster: worker process '${name}' exited (${signal ?? `code ${code}`}) before it registered`));
    });
  });
}

/** SIGTERM (the worker closes cleanly), then SIGKILL if it has not exited within 5 s. */
function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
