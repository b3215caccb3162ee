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
let sinceMajor = 0;
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
  sinceMajor += bytes;
  if (sinceCollect < COLLECT_EVERY_BYTES) return;
  sinceCollect = 0;
  const gc = exposedGc();
  if (!gc) return;
  if (++collections % FULL_EVERY !== 0) return gc({ type: 'minor', execution: 'sync' });
  sinceMajor = 0;
  // gc() with no options, not { type: 'major' }: on Node 20 only the former gave the blocks back
  // (measured: RSS flat across runs instead of +770 MB per run).
  gc();
}

/**
 * Which collection runs before a large block that arrives from outside (collectBeforeLargeBlock).
 * 'minor' (the default): a young-generation collection, 1-4 ms, which gives back blocks that died
 * young, the common case of a client that gathers, uses and drops results. A full one costs about
 * 1 ms per MB of heap here (30-60 ms in a benchmark process holding 50 MB, 105-117 ms with 87 MB),
 * more than the page faults it saves on a 100 MB frame, and a client's heap is the user's
 * (measured: 100 MB gathers with an 87 MB heap took 87-114 ms with a full collection first,
 * 30-41 ms with a minor one). 'full': worker processes (tuneWorkerProcess), whose heap is small
 * (~12 MB: 6-25 ms) and whose data lives long enough to be old when it is released: with minor
 * collections only, a worker receiving 200 MB moves kept an extra 200-400 MB and now and then
 * received into fresh memory (measured).
 */
export type LargeBlockCollection = 'minor' | 'full';

let largeBlockCollection: LargeBlockCollection = 'minor';

export function setLargeBlockCollection(kind: LargeBlockCollection): void {
  if (kind !== 'minor' && kind !== 'full') throw new TypeError(`setLargeBlockCollection: expected 'minor' or 'full', got ${String(kind)}`);
  largeBlockCollection = kind;
}

/**
 * Before a large block that arrives from outside (a received frame) is allocated: a collection,
 * so the blocks dropped since the last are given back first and their memory is reused
 * (block-pool.ts, or the allocator's free lists in worker processes) rather than fresh memory
 * faulted in, at about 0.45 ms per MB here (measured). A full one ('full') only when at least as
 * many shared bytes came to this thread since the last full one. The block is counted without
 * prompting a collection of its own, which would come too late to help it and, when full, would
 * reset the count that the next block's collection depends on (measured: every fourth 200 MB move
 * then received into fresh memory, 700 ms instead of 90).
 */
export function collectBeforeLargeBlock(bytes: number): void {
  if (largeBlockCollection === 'minor') exposedGc()?.({ type: 'minor', execution: 'sync' });
  else if (sinceMajor >= bytes) fullCollection();
  sinceCollect += bytes;
  sinceMajor += bytes;
}

/**
 * After large data was dropped (a worker freeing keys the scheduler released), on a later turn: in
 * 'full' mode, the full collection the next large block would otherwise run in its receive path
 * (6-25 ms in a worker), now while the worker waits; it resets the count, so the next block needs
 * none of its own. In 'minor' mode nothing: that collection is cheap where it is.
 */
export function collectReleased(): void {
  if (largeBlockCollection === 'full' && sinceMajor > 0) fullCollection();
}

/**
 * A full collection when this thread came to hold at least COLLECT_EVERY_BYTES of shared memory
 * since the last full one. The threads scheduler calls it when a computation ends (on the next
 * macrotask, once the computation's own references are gone), a pool thread when a batch ends.
 * Blocks that lived through a computation (inputs used by several tasks) are old by then, and
 * only a full collection gives them back: without this, 6 runs of `x.add(x.T).mean()` on 10000²
 * grew the main thread's RSS from 1 to 4 GB, and the page faults of ever-fresh memory made later
 * runs up to 2x slower (measured).
 */
export function collectDeadShared(): void {
  if (sinceMajor >= COLLECT_EVERY_BYTES) fullCollection();
}

function fullCollection(): void {
  const gc = exposedGc();
  if (!gc) return;
  sinceMajor = 0;
  sinceCollect = 0;
  gc();
}
