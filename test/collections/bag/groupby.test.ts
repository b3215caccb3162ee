import { afterAll, describe, expect, it } from 'vitest';
import { shutdownThreadPools } from '../../../src/index.js';
import * as db from '../../../src/collections/bag/index.js';
import { add, parity } from '../../fixtures/bag-module.js';
import { cases, NUMBERS, SCHEDULERS, sorted } from './helpers.js';

afterAll(() => shutdownThreadPools());

/** Groups of `data` by key, keys and elements in order of appearance. */
function groups<T, K>(data: readonly T[], key: (x: T) => K): [K, T[]][] {
  const m = new Map<K, T[]>();
  for (const x of data) {
    const k = key(x);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(x);
  }
  return [...m];
}

describe.each(SCHEDULERS)('groupby on $name', ({ opts }) => {
  it('groups every element by key, each group whole in one partition, elements in order', async () => {
    for (const { label, data, bag } of cases(NUMBERS)) {
      const g = db.groupby(bag, (x: number) => x % 4);
      expect(g.npartitions, label).toBe(bag.npartitions);
      expect(sorted(await g.compute(opts)), label).toEqual(sorted(groups(data, (x) => x % 4)));
      const perPartition = await db.mapPartitions(g, (p: [number, number[]][]) => [p.map(([k]) => k)]).compute(opts);
      const keys = perPartition.flat();
      expect(new Set(keys).size, label).toBe(keys.length);
    }
  });

  it('groups by a property name, a module function, structured keys, into npartitions partitions', async () => {
    const people = NUMBERS.map((x, i) => ({ name: `p${i}`, team: ['red', 'blue', 'green'][x % 3], pos: [x % 2, x % 3] }));
    const b = db.fromSequence(people, { npartitions: 5 });
    expect(sorted(await db.groupby(b, 'team').compute(opts))).toEqual(sorted(groups(people, (p) => p.team)));
    const byPos = await db.groupby(b, (p: { pos: number[] }) => p.pos, { npartitions: 2 }).compute(opts);
    expect(sorted(byPos)).toEqual(sorted(groups(people, (p) => JSON.stringify(p.pos)).map(([k, v]) => [JSON.parse(k), v])));
    const byParity = db.groupby(db.fromSequence(NUMBERS, { npartitions: 3 }), parity, { npartitions: 7 });
    expect(byParity.npartitions).toBe(7);
    expect(sorted(await byParity.compute(opts))).toEqual(sorted(groups(NUMBERS, parity)));
  });

  it('shuffles in several stages beyond maxBranch partitions, with the same groups', async () => {
    const data = Array.from({ length: 300 }, (_, i) => (i * 37) % 101);
    for (const [nin, nout, maxBranch] of [[10, 10, 3], [9, 4, 2], [3, 17, 4], [40, 40, 32], [40, 7, 6]]) {
      const g = db.groupby(db.fromSequence(data, { npartitions: nin }), (x: number) => x % 23, { npartitions: nout, maxBranch });
      expect(g.npartitions).toBe(nout);
      const label = `${nin} -> ${nout} partitions, maxBranch ${maxBranch}`;
      expect(sorted(await g.compute(opts)), label).toEqual(sorted(groups(data, (x) => x % 23)));
    }
  });

  it('names the partition and element when the key function throws', async () => {
    const b = db.groupby(db.range(10, { npartitions: 2 }), (x: number) => {
      if (x === 6) throw new Error('no key for six');
      return x % 2;
    });
    await expect(b.compute(opts)).rejects.toThrow(/groupby: the function threw on partition 1, element 1 \(value: 6\): Error: no key for six/);
  });
});

describe('the shuffle plan', () => {
  it('uses one stage up to maxBranch slots, then the fewest stages with the smallest branching', () => {
    expect(db.shufflePlan(1, 32)).toEqual({ stages: 1, k: 1 });
    expect(db.shufflePlan(32, 32)).toEqual({ stages: 1, k: 32 });
    expect(db.shufflePlan(33, 32)).toEqual({ stages: 2, k: 6 });
    expect(db.shufflePlan(100, 32)).toEqual({ stages: 2, k: 10 });
    expect(db.shufflePlan(1024, 32)).toEqual({ stages: 2, k: 32 });
    expect(db.shufflePlan(1025, 32)).toEqual({ stages: 3, k: 11 });
    expect(db.shufflePlan(9, 2)).toEqual({ stages: 4, k: 2 });
  });
});

describe.each(SCHEDULERS)('foldby on $name', ({ opts }) => {
  it('folds per key with an initial value, as dask (sum of evens and odds)', async () => {
    for (const { label, data, bag } of cases(NUMBERS)) {
      const r = db.foldby(bag, (x: number) => x % 2 === 0, (acc: number, x: number) => acc + x, 0);
      expect(r.npartitions).toBe(1);
      const expected = groups(data, (x) => x % 2 === 0).map(([k, xs]) => [k, xs.reduce((s, x) => s + x, 0)]);
      expect(sorted(await r.compute(opts)), label).toEqual(sorted(expected));
      const viaModule = db.foldby(bag, parity, add, 0, add, 0);
      expect(sorted(await viaModule.compute(opts)), label).toEqual(sorted(groups(data, parity).map(([k, xs]) => [k, xs.reduce((s, x) => s + x, 0)])));
    }
  });

  it('folds from the first element without initial, with combine and combineInitial', async () => {
    const pairs = NUMBERS.map((x, i) => [String.fromCharCode(97 + (x % 5)), i] as [string, number]);
    for (const n of [1, 4, 40]) {
      const b = db.fromSequence(pairs, { npartitions: n });
      // The maximum (key, value) pair per key, dask's example.
      const maxPair = db.foldby(
        b,
        (p: [string, number]) => p[0],
        (acc: [string, number], p: [string, number]) => (p[1] > acc[1] ? p : acc),
      );
      const expected = groups(pairs, (p) => p[0]).map(([k, ps]) => [k, ps.reduce((a, p) => (p[1] > a[1] ? p : a))]);
      expect(sorted(await maxPair.compute(opts)), `npartitions ${n}`).toEqual(sorted(expected));
      // Counts per key: binop counts elements, combine adds counts.
      const counts = db.foldby(b, 0, (c: number) => c + 1, 0, (x: number, y: number) => x + y, 0);
      expect(sorted(await counts.compute(opts))).toEqual(sorted(groups(pairs, (p) => p[0]).map(([k, ps]) => [k, ps.length])));
      // A function initial value makes a fresh accumulator per key (toolz.reduceby).
      const lists = db.foldby(
        b,
        0,
        (acc: number[], p: [string, number]) => [...acc, p[1]],
        () => [] as number[],
        (a: number[], c: number[]) => [...a, ...c],
        () => [] as number[],
        { splitEvery: 2 },
      );
      expect(sorted(await lists.compute(opts))).toEqual(sorted(groups(pairs, (p) => p[0]).map(([k, ps]) => [k, ps.map((p) => p[1])])));
    }
  });

  it('names the partition and element when binop throws, and refuses bad arguments', async () => {
    const r = db.foldby(db.range(12, { npartitions: 3 }), (x: number) => x % 3, (a: number, x: number) => {
      if (x === 9) throw new Error('nine');
      return a + x;
    }, 0);
    await expect(r.compute(opts)).rejects.toThrow(/foldby: the function threw on partition 2, element 1 \(value: 9\): Error: nine/);
    expect(() => db.foldby(db.range(3, { npartitions: 1 }), {} as never, add)).toThrow(/foldby: 'key' must be a function or a property name/);
    expect(() => db.foldby(db.range(3, { npartitions: 1 }), 0, 'add' as never)).toThrow(/foldby: 'binop' must be a function/);
    expect(() => db.groupby(db.range(3, { npartitions: 1 }), 0, { npartitions: 0 })).toThrow(/groupby: 'npartitions' must be a positive integer/);
    expect(() => db.groupby(db.range(3, { npartitions: 1 }), 0, { n: 1 } as never)).toThrow(/groupby: unknown option 'n'/);
  });
});
