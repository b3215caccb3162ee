/**
 * Large shared blocks that are reused once freed: the memory the comm receives large frames into.
 *
 * The first touch of fresh memory costs a page fault per 4 KiB (in this VM ~0.45 ms per MB, about
 * what copying the bytes out of the socket costs), and glibc maps every block above 32 MB afresh
 * and unmaps it on free: a process receiving 100 MB frames one after another faults in 100 MB each
 * time. Worker processes we start keep freed memory through allocator settings (process-env.ts);
 * a client process is not ours to start. So large frames come from a pool of blocks that a small
 * native helper maps itself (native/block-pool.cc, built by `npm install`) and gives to V8 as
 * SharedArrayBuffers. V8 tells the helper when the last SharedArrayBuffer over a block is gone,
 * on every thread that held one, so a block is never reused while anything can still see it; it
 * then waits for the next frame of about its size (at most 1.25x). Measured on a 100 MB gather,
 * three runs each of 5: 51-53 ms from the pool against 100-105 ms without; 30-40 ms once the
 * collection before a frame was a young-generation one (shared-memory.ts).
 *
 * Freed blocks wait up to DEFAULT_MAX_FREE_BYTES in all (the least recently freed are unmapped
 * first); DASK_TS_BLOCK_POOL_BYTES=N changes that, DASK_TS_BLOCK_POOL=0 turns the pool off. Where
 * the helper was not built (no compiler at install) blocks are ordinary SharedArrayBuffers.
 */
import { createRequire } from 'node:module';

/** Freed memory kept for reuse unless DASK_TS_BLOCK_POOL_BYTES says otherwise: two 100 MB frames, or one of 200 MB. */
export const DEFAULT_MAX_FREE_BYTES = 256 * 2 ** 20;

export interface BlockPoolStats {
  /** Blocks mapped, reused from the free list, and unmapped past the limit, since the process started. */
  readonly mapped: number;
  readonly reused: number;
  readonly unmapped: number;
  readonly freeBlocks: number;
  readonly freeBytes: number;
  readonly maxFreeBytes: number;
}

interface Helper {
  allocate(bytes: number): SharedArrayBuffer;
  stats(): BlockPoolStats;
  setMaxFreeBytes(bytes: number): void;
}

let helper: Helper | null | undefined;

/** The native helper, set up on first use; null when it is not built or turned off. */
export function blockPool(): Helper | null {
  if (helper !== undefined) return helper;
  if (process.env.DASK_TS_BLOCK_POOL === '0') return (helper = null);
  try {
    // src/schedulers and dist/schedulers are both two levels below the package.
    helper = createRequire(import.meta.url)('../../build/Release/block_pool.node') as Helper;
  } catch {
    return (helper = null);
  }
  helper.setMaxFreeBytes(maxFreeBytes(process.env.DASK_TS_BLOCK_POOL_BYTES));
  return helper;
}

/**
 * The limit DASK_TS_BLOCK_POOL_BYTES sets. It is read when the first large frame arrives, where an
 * exception would cost that frame's connection, so a bad value is a warning naming the variable,
 * and the default applies.
 */
export function maxFreeBytes(setting: string | undefined): number {
  if (setting === undefined || setting === '') return DEFAULT_MAX_FREE_BYTES;
  const n = Number(setting);
  if (Number.isSafeInteger(n) && n >= 0) return n;
  process.emitWarning(
    `DASK_TS_BLOCK_POOL_BYTES must be a number of bytes (a non-negative integer), got '${setting}'; using ${DEFAULT_MAX_FREE_BYTES}`,
    { code: 'DASK_TS_BAD_BLOCK_POOL_BYTES' },
  );
  return DEFAULT_MAX_FREE_BYTES;
}

/** A SharedArrayBuffer of `bytes` over a pooled block, or a new ordinary one without the helper. */
export function pooledSharedBuffer(bytes: number): SharedArrayBuffer {
  return blockPool()?.allocate(bytes) ?? new SharedArrayBuffer(bytes);
}
