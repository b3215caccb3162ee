/**
 * The pool thread's batch runner, called on this thread: what it gives back once a batch is over.
 */
import { describe, expect, it } from 'vitest';
import runBatch from '../../src/schedulers/worker-thread.js';
import type { Batch } from '../../src/schedulers/wire.js';

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

describe('runBatch', () => {
  it('returns the dependency a task names, from the batch data', async () => {
    const a = new Float64Array(new SharedArrayBuffer(16)).fill(2);
    const res = await runBatch({ fns: [], tasks: [[4, 'a']], data: { a }, tagged: false } as unknown as Batch);
    expect(res.error).toBeUndefined();
    expect(Array.from(res.values[0] as Float64Array)).toEqual([2, 2]);
  });

  it('gives back the shared memory a batch held, without waiting for this thread to collect', async () => {
    // An idle pool thread never collects on its own (piscina parks it in Atomics.wait between
    // batches), and shared memory does not count towards V8's heuristics: without the collection
    // at the end of the batch, the dependency's buffer stays alive.
    let freed = false;
    const registry = new FinalizationRegistry(() => (freed = true));
    // As a pool thread gets it: nothing but the batch refers to the dependency.
    const batch = (): Batch => {
      const sab = new SharedArrayBuffer(160 * 2 ** 20);
      registry.register(sab, 'dependency');
      const fns = [{ kind: 'global', path: 'Array.isArray' }];
      return { fns, tasks: [[1, 0, [4, 'a']]], data: { a: new Float64Array(sab) }, tagged: false } as unknown as Batch;
    };
    const res = await runBatch(batch());
    expect(res.values).toEqual([false]);
    expect(await until(() => freed, 5000)).toBe(true);
  });
});
