/**
 * The code each pool thread runs: resolve the batch's functions (kernels by name, modules by
 * import, sources compiled once and cached), run the tasks in order, and send back results in
 * shared memory where they are typed arrays.
 */
import '../kernels.js';
import { settle } from '../graph/lazy.js';
import { resolveFunction } from '../graph/shipping/registry.js';
import { errorInfo } from './errors.js';
import { decode, encode } from './transfer.js';
import type { Batch, BatchResult, Wire } from './wire.js';

export default async function runBatch(batch: Batch): Promise<BatchResult> {
  const values: unknown[] = [];
  const durations: number[] = [];
  let tagged = false;
  let index = 0;
  try {
    const fns = await Promise.all(batch.fns.map(resolveFunction));
    const tasks = batch.tagged ? (decode(batch.tasks, true) as Wire[]) : batch.tasks;
    for (; index < tasks.length; index++) {
      const t0 = performance.now();
      let v = run(tasks[index], fns);
      if (v instanceof Promise) v = await v;
      v = settle(v);
      durations.push(performance.now() - t0);
      const e = encode(v);
      tagged ||= e.tagged;
      values.push(e.value);
    }
    return { values, durations, tagged };
  } catch (err) {
    return { values, durations, tagged, error: { index, info: errorInfo(err) } };
  }
}

function run(w: Wire, fns: readonly Function[]): unknown {
  switch (w[0]) {
    case 0:
      return w[1];
    case 1: {
      const fn = fns[w[1]];
      const args = runAll(w, 2, fns);
      return args instanceof Promise ? args.then((a) => fn(...a)) : fn(...args);
    }
    case 2:
      return runAll(w, 1, fns);
    case 3:
      return fns[w[1]];
  }
}

function runAll(w: readonly unknown[], from: number, fns: readonly Function[]): unknown[] | Promise<unknown[]> {
  const out = new Array<unknown>(w.length - from);
  let pending = false;
  for (let j = from; j < w.length; j++) {
    const v = run(w[j] as Wire, fns);
    if (v instanceof Promise) pending = true;
    out[j - from] = v;
  }
  return pending ? Promise.all(out) : out;
}
