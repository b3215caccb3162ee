/**
 * Mixing (issue 6): Futures inside raw graphs given to client.get, Futures as arguments of delayed
 * calls, and persisted collections in new graphs — the blog post's "mix and match" of pool results
 * and dask graphs.
 */
import { describe, expect, it } from 'vitest';
import * as da from '../../../src/collections/array/index.js';
import * as db from '../../../src/collections/bag/index.js';
import { Client, Future, type Client as ClientType } from '../../../src/distributed/index.js';
import { delayed, tupleKey } from '../../../src/index.js';
import { useClientFixture, type ClientFixture } from './fixture.js';

const inc = (x: number) => x + 1;
const add = (a: number, b: number) => a + b;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const sumArray = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
const randomArray = (n: number) => Float64Array.from({ length: n }, () => Math.random());
const sumFields = (o: { a: number; b: number[] }) => o.a + o.b[0] + o.b[1];

let fx: ClientFixture;
let client: ClientType;
useClientFixture((f) => {
  fx = f;
  client = f.client;
});

/** How many times the scheduler saw `key` reach memory (a recomputation is a second time). */
const timesComputed = (key: string) => fx.cluster.scheduler.state.story(key).filter((r) => r.finish === 'memory').length;

describe('Futures inside graphs given to client.get', () => {
  it('runs the blog post’s mix: pool results as inputs of a hand-written graph', async () => {
    const arrays = client.with({ pure: false }).map(randomArray, Array(20).fill(1000));
    const dsk: Record<string, unknown> = {};
    arrays.forEach((x, i) => (dsk[tupleKey('sum', i)] = [sumArray, x]));
    dsk.total = [sum, arrays.map((_, i) => tupleKey('sum', i))];
    const total = (await client.get(dsk, 'total')) as number;
    const local = (await client.gather(arrays)).reduce((s, a) => s + sumArray(a), 0);
    expect(total).toBeCloseTo(local, 6);
    expect(arrays.every((f) => timesComputed(f.key) === 1)).toBe(true);
    for (const f of arrays) f.release();
  });

  it('takes a Future anywhere: an argument, nested in lists and objects, a graph value, its own key', async () => {
    const [f] = await client.scatter([10]);
    const g = client.submit(inc, 1);
    const dsk = {
      a: [inc, f], // an argument
      b: [sum, [f, g, 'a']], // inside a list, beside a key of the graph
      c: [sumFields, { a: f, b: [g, 1] }], // inside a plain object argument
      d: g, // a graph value: an alias of g's key
      e: [add, 'd', [inc, f]], // the alias used by name, and a nested task on a Future
      [f.key]: f, // the Future of its own key: data already there, named by its key
      h: [add, f.key, 1],
    };
    expect(await client.get(dsk, ['a', 'b', 'c', 'd', 'e', 'h'])).toEqual([11, 23, 13, 2, 13, 11]);
    expect(await client.get(dsk, f.key)).toBe(10);
    expect(timesComputed(g.key)).toBe(1);
    f.release();
    g.release();
  });

  it('refuses a released Future and another client’s, naming them', async () => {
    const g = client.submit(inc, 41);
    expect(await g).toBe(42);
    g.release();
    await expect(client.get({ y: [inc, g] }, 'y')).rejects.toThrow(new RegExp(`the future '${g.key}', which this client does not hold`));
    await expect(client.get({ [g.key]: g, y: [inc, g.key] }, 'y')).rejects.toThrow(new RegExp(`future '${g.key}', which this client does not hold`));
    const other = await Client.connect(fx.cluster, { timeoutMs: 5000 });
    try {
      const theirs = other.submit(inc, 1);
      await theirs;
      await expect(client.get({ y: [inc, theirs] }, 'y')).rejects.toThrow(/of another client/);
      theirs.release();
    } finally {
      await other.close();
    }
  });
});

describe('Futures as arguments of delayed calls', () => {
  it('computes delayed calls on Futures with client.get and client.compute', async () => {
    const [f] = await client.scatter([5]);
    const g = client.submit(inc, 5);
    // delayed's argument types do not list Futures (Lazy<T> is T or Delayed<T>); at run time they
    // are values that the client turns into references to their keys.
    const fv = f as unknown as number;
    const gv = g as unknown as number;
    const d = delayed(add)(fv, delayed(sum)([fv, gv, 1]));
    expect(await d.compute({ get: client.get })).toBe(5 + 12);
    const [r] = client.compute(delayed(inc)(d));
    expect(await r).toBe(18);
    expect(timesComputed(g.key)).toBe(1);
    for (const x of [f, g, r]) x.release();
  });
});

describe('persisted collections in new graphs', () => {
  it('an array: new computations use the persisted chunks without recomputing them', async () => {
    const x = da.random.random([1000], { chunks: 100, seed: 7 });
    const xp = await client.persist(x);
    const chunkKeys = Object.keys(xp.daskGraph());
    expect(chunkKeys).toHaveLength(10);
    const s = (await xp.sum().compute({ get: client.get })) as number;
    expect(await xp.add(1).sum().compute({ get: client.get })).toBeCloseTo(s + 1000, 9);
    const [m] = client.compute(xp.mul(2).mean());
    expect(await m).toBeCloseTo((2 * s) / 1000, 9);
    expect(chunkKeys.every((k) => timesComputed(k) === 1)).toBe(true);
    // A hand-written graph over the persisted chunks: the collection's graph holds their Futures.
    const dsk = { ...xp.daskGraph(), total: [sum, chunkKeys.map((k) => [sumArrayView, k])] };
    expect(await client.get(dsk, 'total')).toBeCloseTo(s, 9);
    expect(chunkKeys.every((k) => timesComputed(k) === 1)).toBe(true);
  });

  it('a bag: map, filter and reductions over the persisted partitions', async () => {
    const b = db.range(20, { npartitions: 4 }).map((v: number) => v * 3);
    const bp = await client.persist(b);
    const parts = Object.keys(bp.daskGraph());
    expect(await bp.filter((v: number) => v % 2 === 0).map((v: number) => v + 1).compute({ get: client.get })).toEqual(
      Array.from({ length: 10 }, (_, i) => 6 * i + 1),
    );
    const [total] = client.compute(bp.sum());
    expect(await total).toBe(3 * 190);
    expect(await bp.count().compute({ get: client.get })).toBe(20);
    expect(parts.every((k) => timesComputed(k) === 1)).toBe(true);
  });

  it('a persisted delayed value as an argument of new delayed calls', async () => {
    const base = delayed(sum)([1, 2, 3]);
    const bp = await client.persist(base);
    expect(await delayed(add)(bp, delayed(inc)(bp)).compute({ get: client.get })).toBe(13);
    expect(timesComputed(base.key)).toBe(1);
  });
});

/** The sum of an array chunk (an ndarray over a typed array). */
function sumArrayView(a: { data: ArrayLike<number> }): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i];
  return s;
}
