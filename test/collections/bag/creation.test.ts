import { afterAll, describe, expect, it } from 'vitest';
import { delayed, shutdownThreadPools } from '../../../src/index.js';
import * as db from '../../../src/collections/bag/index.js';
import { NUMBERS, SCHEDULERS } from './helpers.js';

afterAll(() => shutdownThreadPools());

/** Sizes of the partitions, computed. */
async function sizes(b: db.Bag<unknown>, opts = {}): Promise<number[]> {
  return db.mapPartitions(b, (p: unknown[]) => [p.length]).compute(opts);
}

describe('fromSequence', () => {
  it('makes min(100, length) partitions by default, about what dask does', async () => {
    expect(db.fromSequence([1, 2, 3]).npartitions).toBe(3);
    expect(db.fromSequence([]).npartitions).toBe(1);
    const big = db.fromSequence(Array.from({ length: 1050 }, (_, i) => i));
    expect(big.npartitions).toBe(100);
    const s = await sizes(big, { scheduler: 'sync' });
    expect(Math.max(...s) - Math.min(...s)).toBeLessThanOrEqual(1);
    expect(await big.compute({ scheduler: 'sync' })).toEqual(Array.from({ length: 1050 }, (_, i) => i));
  });

  it('honours npartitions exactly, with nearly equal sizes (empty partitions when there are more partitions than elements)', async () => {
    const b = db.fromSequence(NUMBERS, { npartitions: 4 });
    expect(b.npartitions).toBe(4);
    expect(await sizes(b, { scheduler: 'sync' })).toEqual([7, 7, 7, 8]);
    const wide = db.fromSequence([1, 2, 3], { npartitions: 5 });
    expect(wide.npartitions).toBe(5);
    expect(await sizes(wide, { scheduler: 'sync' })).toEqual([0, 1, 0, 1, 1]);
    expect(await wide.compute({ scheduler: 'sync' })).toEqual([1, 2, 3]);
  });

  it('cuts by partitionSize', async () => {
    const b = db.fromSequence(['a', 'b', 'c', 'd', 'e'], { partitionSize: 2 });
    expect(b.npartitions).toBe(3);
    expect(await sizes(b, { scheduler: 'sync' })).toEqual([2, 2, 1]);
    expect(await b.compute({ scheduler: 'sync' })).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('keeps values exactly, even strings that look like keys and arrays that start with functions', async () => {
    const b0 = db.fromSequence([1]);
    const tricky = [b0.partitionKey(0), ['x', 1], { a: [1, 2] }, null, true, 'plain'];
    for (const { opts } of SCHEDULERS) {
      expect(await db.fromSequence(tricky, { npartitions: 2 }).compute(opts)).toEqual(tricky);
    }
  });

  it('accepts any iterable', async () => {
    expect(await db.fromSequence(new Set([3, 1, 2]), { npartitions: 2 }).compute({ scheduler: 'sync' })).toEqual([3, 1, 2]);
    function* gen() {
      yield 'x';
      yield 'y';
    }
    expect(await db.fromSequence(gen()).compute({ scheduler: 'sync' })).toEqual(['x', 'y']);
  });

  it('gives equal inputs equal names and different inputs different names', () => {
    expect(db.fromSequence([1, 2, 3]).name).toBe(db.fromSequence([1, 2, 3]).name);
    expect(db.fromSequence([1, 2, 3]).name).not.toBe(db.fromSequence([1, 2, 4]).name);
    expect(db.fromSequence([1, 2, 3], { npartitions: 1 }).name).not.toBe(db.fromSequence([1, 2, 3], { npartitions: 2 }).name);
    expect(db.fromSequence([1, 2, 3]).name).toMatch(/^from_sequence-[0-9a-f]{32}$/);
    expect(String(db.fromSequence([1, 2], { npartitions: 2 }))).toBe('dask.bag<from_sequence, npartitions=2>');
  });

  it('refuses bad options with a TypeError naming the option', () => {
    expect(() => db.fromSequence([1], { npartitions: 0 })).toThrow(/'npartitions' must be a positive integer, got 0/);
    expect(() => db.fromSequence([1], { npartitions: 1.5 })).toThrow(TypeError);
    expect(() => db.fromSequence([1], { partitionSize: -1 })).toThrow(/'partitionSize' must be a positive integer/);
    expect(() => db.fromSequence([1], { npartitions: 1, partitionSize: 1 })).toThrow(/'npartitions' or 'partitionSize', not both/);
    expect(() => db.fromSequence([1], { npartition: 2 } as never)).toThrow(/unknown option 'npartition'; known options are npartitions, partitionSize/);
    expect(() => db.fromSequence(5 as never)).toThrow(/array or other iterable/);
    expect(() => db.fromSequence('abc' as never)).toThrow(TypeError);
  });
});

describe('range', () => {
  it('gives 0 .. n-1 in npartitions nearly equal partitions', async () => {
    for (const { opts } of SCHEDULERS) {
      for (const [n, p] of [[10, 1], [10, 3], [3, 5], [0, 2], [100, 7]] as const) {
        const b = db.range(n, { npartitions: p });
        expect(b.npartitions).toBe(p);
        expect(await b.compute(opts)).toEqual(Array.from({ length: n }, (_, i) => i));
      }
    }
    expect(await sizes(db.range(10, { npartitions: 3 }), { scheduler: 'sync' })).toEqual([3, 3, 4]);
  });

  it('requires npartitions and checks its arguments', () => {
    expect(() => db.range(5, undefined as never)).toThrow(/'npartitions' is required/);
    expect(() => db.range(-1, { npartitions: 1 })).toThrow(/'n' must be a non-negative integer/);
    expect(() => db.range(5, { npartitions: 0 })).toThrow(/'npartitions' must be a positive integer/);
    expect(db.range(5, { npartitions: 2 }).name).toBe(db.range(5, { npartitions: 2 }).name);
    expect(db.range(5, { npartitions: 2 }).name).not.toBe(db.range(6, { npartitions: 2 }).name);
  });
});

describe('fromDelayed', () => {
  it('makes one partition per Delayed value', async () => {
    const load = (i: number) => Array.from({ length: i }, (_, j) => `${i}:${j}`);
    const parts = [0, 1, 2, 3].map((i) => delayed(load)(i));
    const b = db.fromDelayed<string>(parts);
    expect(b.npartitions).toBe(4);
    const expected = [0, 1, 2, 3].flatMap(load);
    for (const { opts } of SCHEDULERS) expect(await b.compute(opts)).toEqual(expected);
    expect(await db.count(b).compute({ scheduler: 'sync' })).toBe(6);
  });

  it('accepts a single Delayed, an Item, iterables, and an empty list', async () => {
    const single = db.fromDelayed<number>(delayed([1, 2, 3]));
    expect(single.npartitions).toBe(1);
    expect(await single.compute({ scheduler: 'sync' })).toEqual([1, 2, 3]);
    const s = delayed((n: number) => new Set(Array.from({ length: n }, (_, i) => i * i)))(4);
    expect(await db.fromDelayed<number>([s]).compute({ scheduler: 'threads' })).toEqual([0, 1, 4, 9]);
    const item = db.reduction(db.range(4, { npartitions: 2 }), (p: number[]) => p, (ps: number[][]) => ps.flat());
    expect(await db.fromDelayed<number>([item, item]).compute({ scheduler: 'sync' })).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    const empty = db.fromDelayed([]);
    expect(empty.npartitions).toBe(1);
    expect(await empty.compute({ scheduler: 'sync' })).toEqual([]);
  });

  it('reports a value that is not a partition, naming the partition', async () => {
    const b = db.fromDelayed([delayed([1]), delayed(42)]);
    await expect(b.compute({ scheduler: 'sync' })).rejects.toThrow(/partition 1 computed to number, not an array/);
    expect(() => db.fromDelayed([[1, 2]] as never)).toThrow(/element 0 must be a Delayed/);
  });
});

describe('concat', () => {
  it('puts bags end to end, keeping their partitions', async () => {
    const a = db.fromSequence([1, 2, 3], { npartitions: 2 });
    const b = db.range(4, { npartitions: 3 });
    const c = db.fromSequence<number>([]);
    const all = db.concat([a, b, c, a]);
    expect(all.npartitions).toBe(2 + 3 + 1 + 2);
    for (const { opts } of SCHEDULERS) expect(await all.compute(opts)).toEqual([1, 2, 3, 0, 1, 2, 3, 1, 2, 3]);
    expect(db.concat([a, b]).name).toBe(db.concat([a, b]).name);
    expect(db.concat([a, b]).name).not.toBe(db.concat([b, a]).name);
    expect(() => db.concat([])).toThrow(/non-empty array of bags/);
    expect(() => db.concat([a, [1] as never])).toThrow(/'bags\[1\]' must be a Bag/);
  });
});
