import { afterAll, describe, expect, it } from 'vitest';
import { delayed, shutdownThreadPools, ShippingError, TaskError } from '../../../src/index.js';
import * as db from '../../../src/collections/bag/index.js';
import { failOn13, isOdd, parity, threadOf, triple } from '../../fixtures/bag-module.js';
import { cases, NUMBERS, SCHEDULERS, sorted } from './helpers.js';

afterAll(() => shutdownThreadPools());

describe.each(SCHEDULERS)('element-wise operations on $name', ({ opts }) => {
  it('map equals Array.prototype.map, with self-contained arrows and module functions', async () => {
    for (const { label, data, bag } of cases(NUMBERS)) {
      expect(await db.map(bag, (x: number) => x * 2 + 1).compute(opts), label).toEqual(data.map((x) => x * 2 + 1));
      expect(await db.map(bag, triple).compute(opts), label).toEqual(data.map((x) => x * 3));
      expect(await db.map(bag, (x: number) => ({ x, s: String(x) })).compute(opts), label).toEqual(data.map((x) => ({ x, s: String(x) })));
    }
  });

  it('map zips bags with the same partitioning, and passes Items, Delayed and plain values', async () => {
    const other = NUMBERS.map((x) => x * 100);
    for (const n of [1, 3, 7, 50]) {
      const a = db.fromSequence(NUMBERS, { npartitions: n });
      const b = db.fromSequence(other, { npartitions: n });
      const zipped = db.map(a, (x: number, y: number, z: number) => x + y + z, b, a);
      expect(await zipped.compute(opts), `npartitions ${n}`).toEqual(NUMBERS.map((x, i) => x + other[i] + x));
      const total = db.sum(a);
      const fromDelayed = delayed((k: number) => k * 2)(5);
      const mixed = db.map(a, (x: number, t: number, d: number, key: string, arr: number[]) => [x, t, d, key, arr.length], total, fromDelayed, a.partitionKey(0), [1, 2]);
      const sumAll = NUMBERS.reduce((s, x) => s + x, 0);
      expect(await mixed.compute(opts)).toEqual(NUMBERS.map((x) => [x, sumAll, 10, a.partitionKey(0), 2]));
    }
  });

  it('map passes a function given as an extra argument', async () => {
    const apply = (x: number, f: (y: number) => number) => f(x);
    const b = db.fromSequence([1, 2, 3], { npartitions: 2 });
    expect(await db.map(b, apply, (y: number) => y - 1).compute(opts)).toEqual([0, 1, 2]);
    expect(await db.map(b, apply, triple).compute(opts)).toEqual([3, 6, 9]);
  });

  it('starmap spreads each element into the arguments', async () => {
    const pairs = NUMBERS.map((x, i) => [x, i] as [number, number]);
    for (const { label, data, bag } of cases(pairs)) {
      expect(await db.starmap(bag, (a: number, b: number) => a * b).compute(opts), label).toEqual(data.map(([a, b]) => a * b));
      expect(await db.starmap(bag, (a: number, b: number, c: number) => a + b + c, 1000).compute(opts), label).toEqual(data.map(([a, b]) => a + b + 1000));
    }
  });

  it('mapPartitions gets each partition whole, with bags and lazy values among the extras', async () => {
    for (const { label, data, bag } of cases(NUMBERS)) {
      expect(await db.mapPartitions(bag, (p: number[]) => p.map((x) => -x)).compute(opts), label).toEqual(data.map((x) => -x));
      const lengths = await db.mapPartitions(bag, (p: number[]) => [p.length]).compute(opts);
      expect(lengths.length, label).toBe(bag.npartitions);
      expect(lengths.reduce((s, x) => s + x, 0), label).toBe(data.length);
      const withExtras = db.mapPartitions(bag, (p: number[], q: number[], c: number) => p.map((x, i) => x + q[i] + c), bag, db.count(bag));
      expect(await withExtras.compute(opts), label).toEqual(data.map((x) => 2 * x + data.length));
    }
    const set = db.mapPartitions(db.fromSequence([1, 1, 2, 3, 3], { npartitions: 1 }), (p: number[]) => new Set(p));
    expect(await set.compute(opts)).toEqual([1, 2, 3]);
    const later = db.mapPartitions(db.fromSequence([1, 2, 3], { npartitions: 2 }), async (p: number[]) => p.map((x) => x * 10));
    expect(await later.compute(opts)).toEqual([10, 20, 30]);
    const bad = db.mapPartitions(db.fromSequence([1, 2, 3], { npartitions: 1 }), (p: number[]) => p.length as never);
    await expect(bad.compute(opts)).rejects.toThrow(/mapPartitions: the function returned number for partition 0; it must return an array/);
  });

  it('filter and remove keep the truthy and the falsy', async () => {
    for (const { label, data, bag } of cases(NUMBERS)) {
      expect(await db.filter(bag, (x: number) => x % 3 === 0).compute(opts), label).toEqual(data.filter((x) => x % 3 === 0));
      expect(await db.remove(bag, (x: number) => x % 3 === 0).compute(opts), label).toEqual(data.filter((x) => x % 3 !== 0));
      expect(await db.filter(bag, isOdd).compute(opts), label).toEqual(data.filter((x) => x % 2 === 1));
      expect(await db.filter(bag, (x: number) => x || null).compute(opts), label).toEqual(data.filter(Boolean));
    }
  });

  it('flatten concatenates arrays and other iterables', async () => {
    const nested = NUMBERS.map((x) => Array.from({ length: x % 4 }, (_, j) => x * 10 + j));
    for (const { label, data, bag } of cases(nested)) {
      expect(await db.flatten(bag).compute(opts), label).toEqual(data.flat());
    }
    const mixed = db.fromSequence<Iterable<unknown>>([[1, 2], new Set([3]), 'ab', []], { npartitions: 3 });
    expect(await db.flatten(mixed).compute(opts)).toEqual([1, 2, 3, 'a', 'b']);
    const bad = db.flatten(db.fromSequence<unknown>([[1], [2], 7], { npartitions: 1 }) as db.Bag<number[]>);
    await expect(bad.compute(opts)).rejects.toThrow(/flatten: partition 0, element 2 \(value: 7\) is not an array or other iterable/);
  });

  it('pluck reads one field, several fields, with a default, and negative indices', async () => {
    const people = NUMBERS.map((x, i) => ({ name: `p${i}`, age: x, tags: [x, i] }));
    for (const { label, data, bag } of cases(people)) {
      expect(await db.pluck(bag, 'name').compute(opts), label).toEqual(data.map((p) => p.name));
      expect(await db.pluck(bag, ['age', 'name']).compute(opts), label).toEqual(data.map((p) => [p.age, p.name]));
      expect(await db.pluck(db.pluck(bag, 'tags'), -1).compute(opts), label).toEqual(data.map((p) => p.tags[1]));
    }
    const ragged = db.fromSequence<Record<string, unknown>>([{ a: 1 }, { b: 2 }, { a: undefined }], { npartitions: 2 });
    expect(await db.pluck(ragged, 'a', { default: 'none' }).compute(opts)).toEqual([1, 'none', undefined]);
    await expect(db.pluck(ragged, 'a').compute(opts)).rejects.toThrow(/pluck: partition 1, element 0 \(value: \{"b":2\}\) has no key "a"/);
    expect(() => db.pluck(ragged, 'a', { dflt: 1 } as never)).toThrow(/unknown option 'dflt'/);
    expect(() => db.pluck(ragged, {} as never)).toThrow(/property name or index/);
  });

  it('zip pairs elements of bags with the same partitioning', async () => {
    for (const n of [1, 3, 50]) {
      const a = db.fromSequence(NUMBERS, { npartitions: n });
      const b = db.map(a, (x: number) => String(x));
      const c = db.range(NUMBERS.length, { npartitions: n });
      expect(await db.zip(a, b, c).compute(opts)).toEqual(NUMBERS.map((x, i) => [x, String(x), i]));
    }
    expect(() => db.zip(db.range(3, { npartitions: 1 }), db.range(3, { npartitions: 2 }))).toThrow(/bag 1 has 1 partitions but bag 2 has 2/);
    const unequal = db.zip(db.range(4, { npartitions: 2 }), db.range(5, { npartitions: 2 }));
    await expect(unequal.compute(opts)).rejects.toThrow(/zip: partition 1 has 2 elements in the first bag but 3 in bag 2/);
  });

  it('product is the cartesian product, npartitions multiply', async () => {
    const xs = [1, 2, 3, 4, 5];
    const ys = ['a', 'b', 'c'];
    for (const [n, m] of [[1, 1], [2, 3], [7, 1]]) {
      const p = db.product(db.fromSequence(xs, { npartitions: n }), db.fromSequence(ys, { npartitions: m }));
      expect(p.npartitions).toBe(n * m);
      expect(sorted(await p.compute(opts))).toEqual(sorted(xs.flatMap((x) => ys.map((y) => [x, y]))));
    }
    expect(await db.product(db.fromSequence<number>([]), db.range(3, { npartitions: 2 })).compute(opts)).toEqual([]);
  });

  it('join matches elements with an in-memory sequence, a Delayed, or a bag of one partition', async () => {
    const cities = [
      { id: 1, city: 'Oslo' },
      { id: 3, city: 'Lima' },
      { id: 1, city: 'Bergen' },
      { id: 12, city: 'Quito' },
    ];
    const expected = (data: readonly number[]) => data.flatMap((x) => cities.filter((c) => c.id === x).map((c) => [c, x]));
    for (const { label, data, bag } of cases(NUMBERS)) {
      expect(await db.join(bag, cities, (x: number) => x, 'id').compute(opts), label).toEqual(expected(data));
    }
    const b = db.fromSequence(NUMBERS, { npartitions: 3 });
    expect(await db.join(b, delayed(cities), (x: number) => x, (c: { id: number }) => c.id).compute(opts)).toEqual(expected(NUMBERS));
    expect(await db.join(b, db.fromSequence(cities, { npartitions: 1 }), (x: number) => x, 'id').compute(opts)).toEqual(expected(NUMBERS));
    const pairs = db.fromSequence([{ k: [1, 2] }, { k: [2, 1] }], { npartitions: 2 });
    expect(await db.join(pairs, [{ k: [1, 2], v: 'x' }], 'k').compute(opts)).toEqual([[{ k: [1, 2], v: 'x' }, { k: [1, 2] }]]);
    expect(() => db.join(b, db.range(3, { npartitions: 2 }), (x: number) => x)).toThrow(/other bag has 2 partitions/);
    expect(() => db.join(b, 5 as never, (x: number) => x)).toThrow(/'other' must be an array/);
  });

  it('accumulate is the running fold across partitions, with or without an initial value', async () => {
    const running = (xs: readonly number[], init?: number) => {
      const out: number[] = init === undefined ? [] : [init];
      let acc = init;
      for (const x of xs) out.push((acc = acc === undefined ? x : acc + x));
      return out;
    };
    for (const { label, data, bag } of cases(NUMBERS)) {
      expect(await db.accumulate(bag, (a: number, x: number) => a + x).compute(opts), label).toEqual(running(data));
      expect(await db.accumulate(bag, (a: number, x: number) => a + x, -1).compute(opts), label).toEqual(running(data, -1));
    }
    const maxSoFar = db.accumulate(db.fromSequence([3, 1, 4, 1, 5, 9, 2, 6], { npartitions: 3 }), (a: number, x: number) => Math.max(a, x));
    expect(await maxSoFar.compute(opts)).toEqual([3, 3, 4, 4, 5, 9, 9, 9]);
  });

  it('persists a pipeline and continues from the computed partitions', async () => {
    const b = db.map(db.fromSequence(['x', 'y', 'z'], { npartitions: 2 }), (s: string) => [s, s.toUpperCase()]);
    const p = await b.persist(opts);
    expect(p.npartitions).toBe(2);
    expect(p.name).toBe(b.name);
    expect(await db.flatten(p).compute(opts)).toEqual(['x', 'X', 'y', 'Y', 'z', 'Z']);
  });

  it('pipelines of several steps equal the same steps on arrays', async () => {
    for (const { label, data, bag } of cases(NUMBERS)) {
      const pipeline = db.filter(
        db.flatten(db.map(bag, (x: number) => [x, x + 1])),
        (x: number) => x % 2 === 0,
      );
      expect(await pipeline.compute(opts), label).toEqual(data.flatMap((x) => [x, x + 1]).filter((x) => x % 2 === 0));
    }
  });
});

describe('function shipping and errors', () => {
  it('runs module functions on pool threads', async () => {
    const threads = await db.map(db.range(40, { npartitions: 8 }), threadOf).compute({ scheduler: 'threads', unshippable: 'error', numWorkers: 2 });
    expect(threads.some((t) => t !== 0)).toBe(true);
  });

  it('refuses a closure over a local variable with unshippable: error, naming the variable', async () => {
    const offset = 5;
    const addOffset = (x: number) => x + offset;
    const b = db.map(db.range(4, { npartitions: 2 }), addOffset);
    const err = await b.compute({ scheduler: 'threads', unshippable: 'error' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShippingError);
    expect(String((err as Error).message)).toMatch(/'offset'/);
    expect(String((err as Error).message)).toMatch(/addOffset/);
    // The same closure runs on the calling thread with the sync scheduler.
    expect(await b.compute({ scheduler: 'sync' })).toEqual([5, 6, 7, 8]);
    const key = 'k';
    const byKey = db.groupby(db.fromSequence([{ k: 1 }]), (x: Record<string, number>) => x[key]);
    await expect(byKey.compute({ scheduler: 'threads', unshippable: 'error' })).rejects.toThrow(/reads the variable 'key'/);
  });

  it.each(SCHEDULERS)('names the partition and the element when a function throws ($name)', async ({ opts }) => {
    const b = db.map(db.range(20, { npartitions: 4 }), failOn13);
    const err = await b.compute(opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/BagFunctionError: map: the function 'failOn13' threw on partition 2, element 3 \(value: 13\): RangeError: thirteen is unlucky/);
    const cause = (err as TaskError).cause;
    expect(cause.name).toBe('BagFunctionError');
    if (opts.scheduler === 'sync') {
      const e = cause as db.BagFunctionError;
      expect([e.op, e.partition, e.element]).toEqual(['map', 2, 3]);
      expect((e.cause as Error).message).toBe('thirteen is unlucky');
    }
    const records = db.fromSequence([{ id: 1 }, { id: 2, bad: true }], { npartitions: 2 });
    const f = db.filter(records, (r: { bad?: boolean }) => {
      if (r.bad) throw new Error('bad record');
      return true;
    });
    await expect(f.compute(opts)).rejects.toThrow(/filter: the function threw on partition 1, element 0 \(value: \{"id":2,"bad":true\}\): Error: bad record/);
    const long = db.map(db.fromSequence(['x'.repeat(500)]), (s: string) => JSON.parse(s));
    const e2 = (await long.compute(opts).catch((e: unknown) => e)) as Error;
    expect(e2.message).toMatch(/\(value: "x{50,}…\)/);
    expect(e2.message.length).toBeLessThan(400);
  });

  it('refuses bad arguments with TypeErrors naming them', () => {
    const b = db.range(5, { npartitions: 2 });
    expect(() => db.map(b, 5 as never)).toThrow(/map: 'fn' must be a function, got 5/);
    expect(() => db.filter(b, 'x' as never)).toThrow(/filter: 'predicate' must be a function/);
    expect(() => db.map(b, (x: number, y: number) => x + y, db.range(5, { npartitions: 3 }))).toThrow(
      /map: extra argument 1 is a bag with 3 partitions but the bag has 2/,
    );
    expect(() => db.accumulate(b, null as never)).toThrow(/'binop' must be a function/);
    expect(() => db.product(b, [1] as never)).toThrow(/'other' must be a Bag/);
  });

  it('reports bags of unequal partition lengths mapped together', async () => {
    const b = db.map(db.range(4, { npartitions: 2 }), (x: number, y: number) => x + y, db.range(5, { npartitions: 2 }));
    await expect(b.compute({ scheduler: 'sync' })).rejects.toThrow(/map: partition 1 has 2 elements but partition 1 of the bag passed as extra argument 1 has 3/);
  });

  it('names results deterministically from the input, the function and the arguments', () => {
    const b = db.range(5, { npartitions: 2 });
    const f = (x: number) => x + 1;
    expect(db.map(b, f).name).toBe(db.map(b, f).name);
    expect(db.map(b, (x: number) => x * 5).name).toBe(db.map(b, (x: number) => x * 5).name);
    expect(db.map(b, f).name).not.toBe(db.map(b, (x: number) => x + 2).name);
    expect(db.map(b, (x: number, y: number) => x + y, 1).name).not.toBe(db.map(b, (x: number, y: number) => x + y, 2).name);
    expect(db.map(b, f).name).not.toBe(db.map(db.range(6, { npartitions: 2 }), f).name);
    expect(db.map(b, f).name).toMatch(/^map-[0-9a-f]{32}$/);
    expect(db.filter(b, parity).name).toBe(db.filter(b, parity).name);
  });
});
