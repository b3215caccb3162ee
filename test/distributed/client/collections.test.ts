/** compute and persist of collections on a cluster: delayed values, arrays and bags. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as da from '../../../src/collections/array/index.js';
import * as db from '../../../src/collections/bag/index.js';
import { Future, wait, type Client } from '../../../src/distributed/index.js';
import { delayed } from '../../../src/index.js';
import { useClientFixture } from './fixture.js';

const inc = (x: number) => x + 1;
const add = (a: number, b: number) => a + b;

let client: Client;
useClientFixture((f) => {
  client = f.client;
});

describe('delayed', () => {
  const d = delayed(add)(delayed(inc)(1), 10);

  it('computes through client.get, and as Futures through client.compute', async () => {
    expect(await d.compute({ get: client.get })).toBe(12);
    const [f] = client.compute(d);
    expect(f).toBeInstanceOf(Future);
    expect(f.key).toBe(d.key);
    expect(await f).toBe(12);
    const [a, b] = client.compute([d, delayed(inc)(5)]);
    expectTypeOf(a).toEqualTypeOf<Future<number>>();
    expect(await client.gather([a, b])).toEqual([12, 6]);
  });

  it('persists: the same value, backed by a future; later graphs depend on it without recomputing', async () => {
    const dp = client.persist(d);
    expect(dp.key).toBe(d.key);
    const held = dp.daskGraph()[d.key];
    expect(held).toBeInstanceOf(Future);
    expect(await (held as Future<number>)).toBe(12);
    expect(await dp.compute({ get: client.get })).toBe(12);
    expect(await delayed(inc)(dp).compute({ get: client.get })).toBe(13);
    const [f] = client.compute(delayed(add)(dp, dp));
    expect(await f).toBe(24);
    expect((await client.whoHas(held))[d.key]).toHaveLength(1);
  });
});

describe('arrays', () => {
  const x = da.arange(100, { chunks: 10 });

  it('runs x.sum().compute({ get: client.get }) on the cluster', async () => {
    expect(await x.sum().compute({ get: client.get })).toBe(4950);
    expect(await x.add(1).mean().compute({ get: client.get })).toBe(50.5);
  });

  it('compute gives one Future per collection, assembled by post-compute when gathered', async () => {
    const [s, whole] = client.compute([x.sum(), x]);
    expect(await s).toBe(4950);
    expect(s.key).toBe(x.sum().daskKeys());
    const arr = (await whole) as { data: ArrayLike<number>; shape: number[] };
    expect(arr.shape).toEqual([100]);
    expect(Array.from(arr.data).slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(whole.key).toMatch(/^finalize-/);
  });

  it('persist keeps the chunks on the cluster; computations on the persisted array use them', async () => {
    const xp = client.persist(x);
    const graph = xp.daskGraph();
    expect(Object.values(graph).every((v) => v instanceof Future)).toBe(true);
    expect(Object.keys(graph)).toHaveLength(10);
    expect(await xp.sum().compute({ get: client.get })).toBe(4950);
    // The sum's key may be one the client already holds (computed above): then nothing waited for
    // the chunks yet. They are computed all the same, because the persisted array wants them.
    await wait(Object.values(graph) as Future[]);
    const who = await client.whoHas(Object.values(graph));
    expect(Object.values(who).map((holders) => holders.length)).toEqual(Array(10).fill(1));
  });
});

describe('bags', () => {
  const b = db.fromSequence([1, 2, 3, 4, 5], { npartitions: 2 }).map((v: number) => v * 10);

  it('computes and persists a bag', async () => {
    expect(await b.compute({ get: client.get })).toEqual([10, 20, 30, 40, 50]);
    expect(await b.sum().compute({ get: client.get })).toBe(150);
    const bp = client.persist(b);
    expect(await bp.filter((v: number) => v > 20).compute({ get: client.get })).toEqual([30, 40, 50]);
    const [total] = client.compute(bp.sum());
    expect(await total).toBe(150);
  });
});

describe('bad input', () => {
  it('refuses to compute what is not a collection; persist passes it through', () => {
    expect(() => client.compute(5 as never)).toThrow(/argument 0 is number, not a collection/);
    expect(client.persist(5)).toBe(5);
    expect(client.persist([5, 'a'] as const)).toEqual([5, 'a']);
  });
});
