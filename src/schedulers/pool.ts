/**
 * The pool of worker threads (piscina) that the threads scheduler, and later the distributed
 * worker, run tasks on. One pool per thread count, created on first use, warmed to its full size,
 * and unref'd so that a program that has finished computing exits without closing it.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Batch, BatchResult } from './wire.js';

const pools = new Map<number, Piscina<Batch, BatchResult>>();

export function defaultThreadCount(): number {
  return Math.max(1, availableParallelism());
}

/** Where the thread code lives: the compiled .js next to this module, or the .ts source via tsx. */
function workerFile(): { filename: string } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    return { filename: new URL('./dev-worker.mjs', here).href };
  }
  return { filename: new URL('./worker-thread.js', here).href };
}

export function threadPool(threads = defaultThreadCount()): Piscina<Batch, BatchResult> {
  let pool = pools.get(threads);
  if (pool === undefined) {
    pool = createThreadPool(threads);
    pools.set(threads, pool);
  }
  return pool;
}

/**
 * A pool of its own, which its owner closes (`close({ force: true })`): the distributed worker's
 * executor, so that workers sharing a process do not share threads, as dask's workers do not.
 */
export function createThreadPool(threads: number): Piscina<Batch, BatchResult> {
  return new Piscina<Batch, BatchResult>({
    ...workerFile(),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    // One batch waiting per thread hides the message latency between batches.
    concurrentTasksPerWorker: 1,
  });
}

/** Closes every pool; later computations start new ones. */
export async function shutdownThreadPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close({ force: true })));
}
