/**
 * The code each pool thread runs: resolve the batch's functions (kernels by name, modules by
 * import, sources compiled once and cached), run the tasks in order, and send back results in
 * shared memory where they are typed arrays. Dependencies named by `[4, key]` (the distributed
 * worker's batches) are looked up in the batch's `data`.
 *
 * Shared memory. A typed array that arrives here over shared memory keeps its whole buffer alive
 * until this thread's isolate collects the small object holding it, and V8 does not count shared
 * memory towards its collection heuristics. An idle pool thread never collects on its own: a
 * distributed worker whose trivial task read a 200 MB dependency on the pool kept every such
 * dependency alive, 200 MB of fresh memory more per task (measured). So a batch's shared bytes are
 * counted once the batch is over, and collected then (countShared, collectDeadShared).
 */
import '../kernels.js';
import { settle } from '../graph/lazy.js';
import { resolveFunction } from '../graph/shipping/registry.js';
import { errorInfo } from './errors.js';
import { collectDeadShared, countShared } from './shared-memory.js';
import { decode, encode } from './transfer.js';
import { runWire, type Batch, type BatchResult, type Wire } from './wire.js';

export default async function runBatch(batch: Batch): Promise<BatchResult> {
  const shared = sharedBytes(batch.data);
  const result = await runTasks(batch);
  if (shared > 0) {
    // Now, not on a later turn: between batches piscina parks this thread in Atomics.wait, so
    // nothing scheduled here runs before the next batch. The message object is piscina's until
    // the result is posted: its data is let go first.
    (batch as { data?: unknown }).data = undefined;
    collectAfterBatch(shared);
  }
  return result;
}

async function runTasks(batch: Batch): Promise<BatchResult> {
  const values: unknown[] = [];
  const durations: number[] = [];
  const starts: number[] = [];
  let tagged = false;
  let index = 0;
  try {
    const fns = await Promise.all(batch.fns.map(resolveFunction));
    const tasks = batch.tagged ? (decode(batch.tasks, true) as Wire[]) : batch.tasks;
    const data = batch.data !== undefined && batch.tagged ? (decode(batch.data, true) as Record<string, unknown>) : batch.data;
    for (; index < tasks.length; index++) {
      const t0 = performance.now();
      let v = runWire(tasks[index], fns, data);
      if (v instanceof Promise) v = await v;
      v = settle(v);
      durations.push(performance.now() - t0);
      starts.push(performance.timeOrigin + t0);
      const e = encode(v);
      tagged ||= e.tagged;
      values.push(e.value);
    }
    return { values, durations, starts, tagged };
  } catch (err) {
    return { values, durations, starts, tagged, error: { index, info: errorInfo(err) } };
  }
}

/**
 * Counts what a batch held, and gives it back: a young-generation collection from countShared
 * frees what died young, and the full one (collectDeadShared) what a long task let grow old.
 */
function collectAfterBatch(bytes: number): void {
  countShared(bytes);
  collectDeadShared();
}

/**
 * Bytes of shared memory held by the batch's dependencies as typed arrays (ndarrays are counted as
 * transfer.ts decodes them).
 */
function sharedBytes(data: Record<string, unknown> | undefined): number {
  let n = 0;
  for (const k in data) {
    const v = data[k];
    if (ArrayBuffer.isView(v) && v.buffer instanceof SharedArrayBuffer) n += v.byteLength;
  }
  return n;
}
