import { afterAll, describe, expect, it } from 'vitest';
import { compute, shutdownThreadPools } from '../../../src/index.js';
import * as db from '../../../src/collections/bag/index.js';
import { add } from '../../fixtures/bag-module.js';
import { cases, NUMBERS, SCHEDULERS, sorted } from './helpers.js';

afterAll(() => shutdownThreadPools());

const total = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

function variance(xs: readonly number[], ddof: number): number {
  const m = total(xs) / xs.length;
  return xs.length - ddof > 0 ? total(xs.map((x) => (x - m) ** 2)) / (xs.length - ddof) : NaN;
}

function expectClose(actual: number, expected: number, rtol = 1e-9): void {
  if (Number.isNaN(expected)) expect(actual).toBeNaN();
  else expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rtol * Math.max(1, Math.abs(expected)));
}

describe.each(SCHEDULERS)('reductions on $name', ({ opts }) => {
  it('count, sum, any and all equal direct computation', async () => {
    for (const { label, data, bag } of cases(NUMBERS)) {
      const [c, s, an, al, anyBig, allPositive] = await compute(
        db.count(bag),
        db.sum(bag),
        db.any(db.map(bag, (x: number) => x > 11)),
        db.all(bag),
        db.any(db.map(bag, (x: number) => x > 100)),
        db.all(db.map(bag, (x: number) => x >= 0)),
        opts,
      );
      expect([c, s, an, al, anyBig, allPositive], label).toEqual([
        data.length,
        total(data),
        data.some((x) => x > 11),
        data.every(Boolean),
        false,
        true,
      ]);
    }
  });

  it('min and max equal Math.min and Math.max; an empty bag is an error', async () => {
    for (const { label, data, bag } of cases(NUMBERS)) {
      if (data.length === 0) {
        await expect(db.min(bag).compute(opts)).rejects.toThrow(/min: the bag is empty/);
        await expect(db.max(bag).compute(opts)).rejects.toThrow(/max: the bag is empty/);
        continue;
      }
      expect(await db.min(bag).compute(opts), label).toBe(Math.min(...data));
      expect(await db.max(bag).compute(opts), label).toBe(Math.max(...data));
    }
    const words = db.fromSequence(['pear', 'apple', 'fig'], { npartitions: 2 });
    expect(await db.min(words).compute(opts)).toBe('apple');
    const tuples = db.fromSequence([[2, 'b'], [2, 'a'], [1, 'z']], { npartitions: 3 });
    expect(await db.max(tuples).compute(opts)).toEqual([2, 'b']);
  });

  it('mean, var and std equal the direct formulas (ddof 0 and 1); NaN when undefined', async () => {
    for (const { label, data, bag } of cases(NUMBERS)) {
      const [m, v0, v1, s1] = await compute(db.mean(bag), db.variance(bag), db.var(bag, { ddof: 1 }), db.std(bag, { ddof: 1 }), opts);
      expectClose(m, data.length ? total(data) / data.length : NaN);
      expectClose(v0, data.length ? variance(data, 0) : NaN);
      expectClose(v1, data.length ? variance(data, 1) : NaN);
      expectClose(s1, data.length ? Math.sqrt(variance(data, 1)) : NaN);
      void label;
    }
    // Large offsets do not lose precision (the partial moments are centred; the naive
    // sum-of-squares formula would lose every digit here).
    const shifted = NUMBERS.map((x) => x + 1e9);
    expectClose(await db.variance(db.fromSequence(shifted, { npartitions: 5 })).compute(opts), variance(NUMBERS, 0), 1e-8);
    await expect(db.mean(db.fromSequence(['a'] as unknown as number[])).compute(opts)).rejects.toThrow(/partition 0, element 0 \(value: "a"\) is not a number/);
  });

  it('reduction follows dask: empty partitions skipped, aggregate([]) for an empty bag', async () => {
    for (const { label, data, bag } of cases(NUMBERS)) {
      const r = db.reduction(
        bag,
        (p: number[]) => [p.length, p.reduce((s, x) => s + x, 0)],
        (ps: number[][]) => ps.reduce((a, b) => [a[0] + b[0], a[1] + b[1]], [0, 0]),
      );
      expect(await r.compute(opts), label).toEqual([data.length, total(data)]);
      // One aggregation step sees the results of the non-empty partitions only.
      const seen = db.reduction(bag, (p: number[]) => p.length, (ps: number[]) => ps, { splitEvery: false });
      const lengths = await seen.compute(opts);
      if (bag.npartitions === 1) expect(lengths, label).toEqual([data.length]);
      else expect(lengths, label).toEqual(lengths.filter((n) => n > 0));
      expect(total(lengths), label).toBe(data.length);
    }
  });

  it('fold with and without initial values and combine', async () => {
    for (const { label, data, bag } of cases(NUMBERS)) {
      expect(await db.fold(bag, (a: number, x: number) => a + x, null, 0).compute(opts), label).toBe(total(data));
      expect(await db.fold(bag, add, add, 0).compute(opts), label).toBe(total(data));
      const asSet = db.fold(
        bag,
        (acc: number[], x: number) => (acc.includes(x) ? acc : [...acc, x]),
        (a: number[], b: number[]) => [...a, ...b.filter((x) => !a.includes(x))],
        [],
      );
      expect(sorted(await asSet.compute(opts)), label).toEqual(sorted([...new Set(data)]));
      if (data.length) expect(await db.fold(bag, (a: number, x: number) => Math.max(a, x)).compute(opts), label).toBe(Math.max(...data));
      else await expect(db.fold(bag, (a: number, x: number) => a + x).compute(opts)).rejects.toThrow(/fold: the bag is empty and no initial value was given/);
    }
  });

  it('splitEvery builds a tree with the same result', async () => {
    const b = db.fromSequence(Array.from({ length: 200 }, (_, i) => i), { npartitions: 50 });
    for (const splitEvery of [2, 3, 8, false] as const) {
      expect(await db.sum(b, { splitEvery }).compute(opts)).toBe(19900);
      expect(await db.count(b, { splitEvery }).compute(opts)).toBe(200);
      expect(await db.reduction(b, (p: number[]) => Math.max(...p), (ms: number[]) => Math.max(...ms), { splitEvery }).compute(opts)).toBe(199);
      expect((await db.frequencies(db.map(b, (x: number) => x % 7), { splitEvery }).compute(opts)).length).toBe(7);
      expectClose(await db.std(b, { splitEvery }).compute(opts), Math.sqrt(variance(Array.from({ length: 200 }, (_, i) => i), 0)));
    }
  });

  it('distinct keeps the first of each value or key, equal arrays and objects being equal', async () => {
    for (const { label, data, bag } of cases(NUMBERS)) {
      expect(await db.distinct(bag).compute(opts), label).toEqual([...new Set(data)]);
      const firstOfEach = new Map<number, number>();
      for (const x of data) if (!firstOfEach.has(x % 2)) firstOfEach.set(x % 2, x);
      expect(await db.distinct(bag, (x: number) => x % 2).compute(opts), label).toEqual([...firstOfEach.values()]);
    }
    const recs = db.fromSequence([{ a: 1, b: [1] }, { b: [1], a: 1 }, { a: 2, b: [1] }, [1, 2], [1, 2]], { npartitions: 3 });
    expect(await db.distinct(recs).compute(opts)).toEqual([{ a: 1, b: [1] }, { a: 2, b: [1] }, [1, 2]]);
    const people = db.fromSequence([{ name: 'Alice' }, { name: 'Bob' }, { name: 'Alice' }], { npartitions: 2 });
    expect(await db.distinct(people, 'name').compute(opts)).toEqual([{ name: 'Alice' }, { name: 'Bob' }]);
    expect(db.distinct(people).npartitions).toBe(1);
  });

  it('frequencies counts each value, optionally most frequent first', async () => {
    for (const { label, data, bag } of cases(NUMBERS)) {
      const counts = new Map<number, number>();
      for (const x of data) counts.set(x, (counts.get(x) ?? 0) + 1);
      expect(sorted(await db.frequencies(bag).compute(opts)), label).toEqual(sorted([...counts]));
      const bySort = await db.frequencies(bag, { sort: true }).compute(opts);
      expect(bySort.map(([, c]) => c), label).toEqual([...counts.values()].sort((a, b) => b - a));
    }
    const pairs = db.fromSequence([[1, 'a'], [1, 'a'], [2, 'b']], { npartitions: 3 });
    expect(await db.frequencies(pairs).compute(opts)).toEqual([[[1, 'a'], 2], [[2, 'b'], 1]]);
  });

  it('topk gives the k largest, largest first, by value or key, ties in order', async () => {
    for (const { label, data, bag } of cases(NUMBERS)) {
      for (const k of [0, 1, 4, 100]) {
        expect(await db.topk(bag, k).compute(opts), `${label}, k=${k}`).toEqual([...data].sort((a, b) => b - a).slice(0, k));
      }
      const byNeg = await db.topk(bag, 3, (x: number) => -x).compute(opts);
      expect(byNeg, label).toEqual([...data].sort((a, b) => a - b).slice(0, 3));
    }
    const words = db.fromSequence([['a', 3], ['b', 5], ['c', 3], ['d', 1], ['e', 5]] as [string, number][], { npartitions: 2 });
    expect(await db.topk(words, 3, ([, n]: [string, number]) => n).compute(opts)).toEqual([['b', 5], ['e', 5], ['a', 3]]);
    expect(await db.topk(words, 2, 1).compute(opts)).toEqual([['b', 5], ['e', 5]]);
  });

  it('names a throwing function in reductions', async () => {
    const b = db.range(20, { npartitions: 4 });
    const bad = db.fold(b, (a: number, x: number) => {
      if (x === 7) throw new Error('no sevens');
      return a + x;
    }, null, 0);
    await expect(bad.compute(opts)).rejects.toThrow(/fold: the function threw on partition 1, element 2 \(value: 7\): Error: no sevens/);
    const badKey = db.topk(b, 2, (x: number) => {
      if (x === 18) throw new TypeError('bad key');
      return x;
    });
    await expect(badKey.compute(opts)).rejects.toThrow(/topk: the function threw on partition 3, element 3 \(value: 18\): TypeError: bad key/);
    const badAgg = db.reduction(b, (p: number[]) => p.length, () => {
      throw new Error('cannot aggregate');
    });
    await expect(badAgg.compute(opts)).rejects.toThrow(/reduction \(aggregate\): the function threw while combining partitions: Error: cannot aggregate/);
  });
});

describe('reductions', () => {
  it('any and all stop at the element that decides, as in dask', async () => {
    const failsAfter = (x: number) => {
      if (x >= 3) throw new Error(`element ${x} was computed`);
      return x;
    };
    for (const { name, opts } of SCHEDULERS) {
      const b = db.map(db.range(10, { npartitions: 1 }), failsAfter);
      expect(await db.any(b).compute(opts), name).toBe(true); // 1 decides
      expect(await db.all(b).compute(opts), name).toBe(false); // 0 decides
      const undecided = db.map(db.range(10, { npartitions: 1 }), (x: number) => (x >= 3 ? Number.NaN.toFixed(x - 100) : 0));
      await expect(db.any(undecided).compute(opts), name).rejects.toThrow(/toFixed\(\) digits argument/);
    }
  });

  it('return Items that compute, persist, and feed further operations', async () => {
    const b = db.fromSequence(NUMBERS, { npartitions: 4 });
    const s = db.sum(b);
    expect(s).toBeInstanceOf(db.Item);
    const persisted = await s.persist({ scheduler: 'sync' });
    expect(await persisted.compute({ scheduler: 'sync' })).toBe(total(NUMBERS));
    const centred = db.map(b, (x: number, m: number) => x - m, db.mean(b));
    expectClose(await db.sum(centred).compute({ scheduler: 'threads' }), 0);
  });

  it('fuse the per-partition step with the element-wise steps before it', async () => {
    const finished: string[] = [];
    const b = db.fromSequence(NUMBERS, { npartitions: 4 });
    const n = db.count(db.filter(db.map(b, (x: number) => x * 2), (x: number) => x > 5));
    expect(await n.compute({ scheduler: 'sync', onTaskFinished: (k) => finished.push(k) })).toBe(NUMBERS.filter((x) => x * 2 > 5).length);
    expect(finished).toHaveLength(4 + 1);
  });

  it('refuse bad options with TypeErrors naming them', () => {
    const b = db.range(5, { npartitions: 2 });
    expect(() => db.sum(b, { splitEvery: 1 })).toThrow(/sum: 'splitEvery' must be an integer >= 2 or false, got 1/);
    expect(() => db.count(b, { split: 2 } as never)).toThrow(/count: unknown option 'split'; known options are splitEvery/);
    expect(() => db.variance(b, { ddof: -1 })).toThrow(/var: 'ddof' must be a non-negative integer/);
    expect(() => db.frequencies(b, { sort: 'yes' } as never)).toThrow(/frequencies: 'sort' must be a boolean/);
    expect(() => db.topk(b, -1)).toThrow(/topk: 'k' must be a non-negative integer/);
    expect(() => db.topk(b, 2, {} as never)).toThrow(/topk: 'key' must be a function or a property name/);
    expect(() => db.reduction(b, 1 as never, (x: unknown) => x)).toThrow(/reduction: 'perPartition' must be a function/);
    expect(() => db.fold(b, undefined as never)).toThrow(/fold: 'binop' must be a function/);
  });
});
