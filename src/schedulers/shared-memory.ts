/**
 * Shared memory that is given back.
 *
 * V8 does not count SharedArrayBuffer backing stores as external memory (they may belong to
 * several isolates at once), so dropping them never prompts a garbage collection. A thread that
 * allocates chunk after chunk but little else on its JavaScript heap (a pool thread generating and
 * reducing blocks) then grows without bound: 1 GB per 125 dropped blocks of 1e6 float64, measured.
 * So every thread counts the shared bytes it allocates and, every COLLECT_EVERY_BYTES, asks V8 for
 * a collection itself: a young-generation one, which frees blocks that died young (the common
 * case, about 1-2 ms), and a full one every FULL_EVERY-th time, for blocks that were promoted
 * before they died. `gc` is exposed the way jest's leak detector does it; when that is impossible
 * nothing is collected early, which is only a memory cost.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

export const COLLECT_EVERY_BYTES = 128 * 2 ** 20;
const FULL_EVERY = 4;

type GcFn = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let gcFn: GcFn | null | undefined;
let sinceCollect = 0;
let collections = 0;

function exposedGc(): GcFn | null {
  if (gcFn !== undefined) return gcFn;
  const existing = (globalThis as { gc?: GcFn }).gc;
  if (typeof existing === 'function') return (gcFn = existing);
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn = vm.runInNewContext('gc') as unknown;
    gcFn = typeof fn === 'function' ? (fn as GcFn) : null;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/** A new zeroed SharedArrayBuffer of `bytes`, counted towards this thread's next collection. */
export function sharedBuffer(bytes: number): SharedArrayBuffer {
  countShared(bytes);
  return new SharedArrayBuffer(bytes);
}

/**
 * Counts shared memory this thread came to hold without allocating it (blocks received from pool
 * threads): the main thread drops those as results are released, and only a collection of the
 * small objects that hold them gives the memory back.
 */
export function countShared(bytes: number): void {
  sinceCollect += bytes;
  if (sinceCollect < COLLECT_EVERY_BYTES) return;
  sinceCollect = 0;
  const gc = exposedGc();
  if (gc) gc({ type: ++collections % FULL_EVERY === 0 ? 'major' : 'minor', execution: 'sync' });
}
