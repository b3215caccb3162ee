/**
 * The code each pool thread runs: resolve the batch's functions (kernels by name, modules by
 * import, sources compiled once and cached), run the tasks in order, and send back results in
 * shared memory where they are typed arrays. Dependencies named by `[4, key]` (the distributed
 * worker's batches) are looked up in the batch's `data`.
 */
import '../kernels.js';
import { settle } from '../graph/lazy.js';
import { resolveFunction } from '../graph/shipping/registry.js';
import { errorInfo } from './errors.js';
import { decode, encode } from './transfer.js';
import { runWire, type Batch, type BatchResult, type Wire } from './wire.js';

export default async function runBatch(batch: Batch): Promise<BatchResult> {
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
