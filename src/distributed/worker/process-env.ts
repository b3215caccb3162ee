/**
 * The environment worker processes are started with (LocalCluster `processes: true`, `dworker
 * --nprocs`), as dask's nanny sets MALLOC_TRIM_THRESHOLD_ for the workers it spawns.
 *
 * Why: a worker receives large values into memory it has just allocated, and in this VM the first
 * touch of a fresh page costs about 0.45 ms per MB, more than the copy out of the socket (a 200 MB
 * frame: ~90 ms of page faults against ~60 ms of copying, measured). glibc serves every allocation
 * above 32 MB with its own mmap and unmaps it on free, so every large frame is fresh memory. With
 * mmap off (`mmap_max=0`) large blocks come from the heap, and with a high `trim_threshold` the
 * heap keeps up to 1 GiB of freed memory instead of returning it at once: the next large frame
 * lands in pages already faulted in. The cost is that a worker's resident size falls back more
 * slowly after a peak (by at most the threshold at the heap's top; freed blocks in the middle of
 * the heap were never returned anyway).
 *
 * GLIBC_TUNABLES is read once, when a process starts, so it can only be given to processes we
 * start. A GLIBC_TUNABLES the user set is kept as it is, and DASK_TS_WORKER_MALLOC=system starts
 * workers with the allocator's defaults. Other C libraries (musl) ignore the variable.
 *
 * Freeing at the collection. Reuse needs the previous frame given back before the next is
 * allocated: a worker runs a full collection after freeing large data or else before a large
 * frame (shared-memory.ts collectReleased, collectBeforeLargeBlock). But V8 frees dead ArrayBuffers' memory on a background thread after a collection, so the
 * allocation that follows at once raced the freeing and now and then won: a fresh 200 MB, and a
 * move of 600-700 ms instead of 90 (measured: the worker's RSS grew by a frame at those moves).
 * A worker process therefore turns V8's concurrent array-buffer sweeping off for itself
 * (tuneWorkerProcess): the memory is freed within the collection, on the main thread, where giving
 * a block back (to the block pool, block-pool.ts, or to a heap that keeps it) costs next to
 * nothing.
 */
import v8 from 'node:v8';
import { setLargeBlockCollection } from '../../schedulers/shared-memory.js';

/** glibc tunables for a worker process (see the design note). */
export const WORKER_MALLOC_TUNABLES = 'glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=1073741824';

/** `env` with the worker's allocator settings added, unless the user chose otherwise. */
export function workerProcessEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env.GLIBC_TUNABLES !== undefined || env.DASK_TS_WORKER_MALLOC === 'system') return env;
  return { ...env, GLIBC_TUNABLES: WORKER_MALLOC_TUNABLES };
}

/**
 * What a worker process sets for itself when it starts (see the design note): V8 frees dead
 * buffers within a collection, and a full collection (not a young-generation one) runs before a
 * large frame when one is due (shared-memory.ts setLargeBlockCollection).
 */
export function tuneWorkerProcess(): void {
  v8.setFlagsFromString('--no-concurrent-array-buffer-sweeping');
  setLargeBlockCollection('full');
}
