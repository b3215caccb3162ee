import { afterAll, describe, expect, it, vi } from 'vitest';
import { shutdownThreadPools } from '../../../src/index.js';
import { parseTupleKey } from '../../../src/graph/keys.js';
import * as db from '../../../src/collections/bag/index.js';
import { cases, NUMBERS, SCHEDULERS } from './helpers.js';

afterAll(() => shutdownThreadPools());

async function sizes(b: db.Bag<unknown>): Promise<number[]> {
  return db.mapPartitions(b, (p: unknown[]) => [p.length]).compute({ scheduler: 'sync' });
}

/** Collects process warnings emitted while `f` runs. */
async function warnings<T>(f: () => Promise<T>): Promise<{ value: T; messages: string[] }> {
  const messages: string[] = [];
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation(((w: string | Error) => {
    messages.push(String(w));
  }) as typeof process.emitWarning);
  try {
    return { value: await f(), messages };
  } finally {
    spy.mockRestore();
  }
}

describe.each(SCHEDULERS)('repartition on $name', ({ opts }) => {
  it('keeps the elements in order for fewer and more partitions', async () => {
    for (const { label, data, bag } of cases(NUMBERS)) {
      for (const n of [1, 2, 5, 13, 60]) {
        const r = db.repartition(bag, n);
        expect(r.npartitions, label).toBe(n);
        expect(await r.compute(opts), `${label} -> ${n}`).toEqual(data);
      }
    }
  });
});

describe('repartition', () => {
  it('merges neighbours evenly and splits partitions into nearly equal pieces', async () => {
    const b = db.fromSequence(Array.from({ length: 12 }, (_, i) => i), { npartitions: 6 });
    expect(await sizes(db.repartition(b, 3))).toEqual([4, 4, 4]);
    expect(await sizes(db.repartition(b, 4))).toEqual([2, 4, 2, 4]);
    expect(await sizes(db.repartition(b, 12))).toEqual(Array(12).fill(1));
    expect(await sizes(db.repartition(db.fromSequence([1, 2, 3, 4, 5], { npartitions: 1 }), 2))).toEqual([2, 3]);
    expect(db.repartition(b, 6)).toBe(b);
    expect(db.repartition(b, 3).name).toBe(db.repartition(b, 3).name);
    expect(() => db.repartition(b, 0)).toThrow(/repartition: 'npartitions' must be a positive integer, got 0/);
  });
});

describe.each(SCHEDULERS)('take on $name', ({ opts }) => {
  it('takes the first n elements of the first partitions', async () => {
    const b = db.fromSequence(NUMBERS, { npartitions: 3 });
    expect(await db.take(b, 4, opts)).toEqual(NUMBERS.slice(0, 4));
    expect(await db.take(b, 0, opts)).toEqual([]);
    expect(await db.take(b, 15, { ...opts, npartitions: 2 })).toEqual(NUMBERS.slice(0, 15));
    expect(await db.take(b, 29, { ...opts, npartitions: -1 })).toEqual(NUMBERS);
    const lazy = db.take(db.map(b, (x: number) => x * 2), 3, { compute: false });
    expect(lazy).toBeInstanceOf(db.Bag);
    expect(lazy.npartitions).toBe(1);
    expect(await lazy.compute(opts)).toEqual(NUMBERS.slice(0, 3).map((x) => x * 2));
  });

  it('warns and returns what exists when the partitions hold fewer than n, as dask', async () => {
    const b = db.fromSequence(NUMBERS, { npartitions: 3 });
    const { value, messages } = await warnings(() => db.take(b, 20, opts));
    expect(value).toEqual(NUMBERS.slice(0, 9));
    expect(messages).toEqual([
      'Insufficient elements for `take`. 20 elements requested, only 9 elements available. Try passing larger `npartitions` to `take`.',
    ]);
    const all = await warnings(() => db.take(b, 100, { ...opts, npartitions: -1 }));
    expect(all.value).toEqual(NUMBERS);
    expect(all.messages).toHaveLength(1);
    const quiet = await warnings(() => db.take(b, 100, { ...opts, warn: false }));
    expect(quiet.messages).toEqual([]);
    const empty = await warnings(() => db.take(db.fromSequence<number>([]), 1, opts));
    expect(empty.value).toEqual([]);
    expect(empty.messages).toHaveLength(1);
  });
});

describe('take', () => {
  it('computes only the partitions it needs', async () => {
    let calls = 0;
    const counted = (x: number) => {
      calls++;
      return x + 1;
    };
    const b = db.map(db.range(100, { npartitions: 10 }), counted);
    expect(await db.take(b, 3, { scheduler: 'sync' })).toEqual([1, 2, 3]);
    expect(calls).toBe(3); // the first partition, and in it only the elements taken
    calls = 0;
    expect(await db.take(b, 15, { scheduler: 'sync', npartitions: 2 })).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    // Two partitions are two inputs of the take task, computed whole before it (no fusion).
    expect(calls).toBe(20);

    // The same through the keys that ran, unfused, on threads.
    const finished: string[] = [];
    const pipeline = db.filter(db.map(db.range(100, { npartitions: 10 }), (x: number) => x * 2), (x: number) => x % 3 === 0);
    await db.take(pipeline, 2, { scheduler: 'threads', optimize: false, onTaskFinished: (k) => finished.push(k) });
    const partitionsRun = new Set(finished.map((k) => parseTupleKey(k)).filter((t) => t && !t[0].startsWith('take')).map((t) => t![1]));
    expect([...partitionsRun]).toEqual([0]);
    expect(finished).toHaveLength(4); // range, map, filter of partition 0, and take
  });

  it('stops a partition at the n-th element: later elements are never computed, as in dask', async () => {
    const failsAfter = (x: number) => {
      if (x >= 3) throw new Error(`element ${x} was computed`);
      return x;
    };
    for (const { name, opts } of SCHEDULERS) {
      const b = db.filter(db.map(db.range(10, { npartitions: 1 }), failsAfter), () => true);
      expect(await db.take(b, 3, opts), name).toEqual([0, 1, 2]);
      // Past the n-th element, an error still raises.
      await expect(db.take(b, 4, opts), name).rejects.toThrow(/element 3 was computed/);
    }
  });

  it('refuses bad arguments', () => {
    const b = db.range(10, { npartitions: 2 });
    expect(() => db.take(b, 1, { npartitions: 3 })).toThrow(/the bag has only 2 partitions, take was asked for 3/);
    expect(() => db.take(b, -1)).toThrow(/take: 'n' must be a non-negative integer/);
    expect(() => db.take(b, 1, { npartitions: 0 })).toThrow(/'npartitions' must be a positive integer or -1/);
    expect(() => db.take(b, 1, { npartitions: -2 })).toThrow(/'npartitions' must be an integer >= -1/);
    expect(() => db.take(b, 1, { computed: false } as never)).toThrow(/take: unknown option 'computed'/);
    expect(() => db.take(b, 1, { compute: 'no' } as never)).toThrow(/'compute' must be a boolean/);
  });
});
