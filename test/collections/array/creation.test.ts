import ndarray from 'ndarray';
import { afterAll, describe, expect, it } from 'vitest';
import * as da from '../../../src/collections/array/index.js';
import { delayed, shutdownThreadPools } from '../../../src/index.js';
import { expectClose, make, toNested } from './helpers.js';

afterAll(() => shutdownThreadPools());

describe('array creation', () => {
  it('describes itself: shape, chunks, dtype, sizes and a dask-like repr', () => {
    const x = da.ones([10, 7], { chunks: [4, 3] });
    expect(x.shape).toEqual([10, 7]);
    expect(x.chunks).toEqual([
      [4, 4, 2],
      [3, 3, 1],
    ]);
    expect([x.ndim, x.size, x.nbytes, x.npartitions]).toEqual([2, 70, 560, 9]);
    expect(x.numblocks).toEqual([3, 3]);
    expect(String(x)).toBe('dask.array<ones, shape=(10, 7), dtype=float64, chunksize=(4, 3), chunktype=ndarray>');
  });

  it('accepts chunks as a number, per-axis entries, explicit tuples, -1/null and auto', () => {
    expect(da.zeros([5, 6], { chunks: 2 }).chunks).toEqual([[2, 2, 1], [2, 2, 2]]);
    expect(da.zeros([5, 6], { chunks: [5, -1] }).chunks).toEqual([[5], [6]]);
    expect(da.zeros([5, 6], { chunks: [[1, 4], null] }).chunks).toEqual([[1, 4], [6]]);
    expect(da.zeros([1000, 1000]).chunks).toEqual([[1000], [1000]]);
    const big = da.zeros([100_000, 1000], { chunks: 'auto' });
    expect(big.chunks[0].length).toBeGreaterThan(1);
    expect(big.chunksize[0] * big.chunksize[1] * 8).toBeLessThanOrEqual(128 * 2 ** 20);
    expect(da.zeros([4, 8], { chunks: [2, 'auto'] }).chunks).toEqual([[2, 2], [8]]);
  });

  it('refuses chunk specs that do not fit the shape, naming the axis', () => {
    expect(() => da.ones([7, 2], { chunks: [[3, 3], 2] })).toThrow(/along axis 0 sum to 6 but the axis has length 7/);
    expect(() => da.ones([7], { chunks: [1, 2] })).toThrow(/2 entries but the array has 1 axes/);
    expect(() => da.ones([7], { chunks: 0 })).toThrow(/positive integer/);
    expect(() => da.ones([-1])).toThrow(/non-negative integers/);
    expect(() => da.ones([3], { dtype: 'complex128' as never })).toThrow(/unknown dtype 'complex128'/);
    expect(() => da.ones([3], { chunk: 1 } as never)).toThrow(/unknown option 'chunk'/);
  });

  it('makes constants, ranges and identity matrices equal to direct computation', async () => {
    expectClose(await da.full([3, 4], 7, { chunks: 2 }).compute(), make([3, 4], () => 7));
    expect(toNested(await da.arange(10, { chunks: 3 }).compute())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(toNested(await da.arange(2, 11, 3, { chunks: 2 }).compute({ scheduler: 'sync' }))).toEqual([2, 5, 8]);
    expect(toNested(await da.arange(5, 0, -2).compute())).toEqual([5, 3, 1]);
    expect(da.arange(4).dtype).toBe('int32');
    expect(da.arange(0, 1, 0.25).dtype).toBe('float64');
    expect(toNested(await da.linspace(0, 1, 5, { chunks: 2 }).compute())).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(toNested(await da.linspace(0, 1, 4, { endpoint: false }).compute())).toEqual([0, 0.25, 0.5, 0.75]);
    expect(toNested(await da.eye(3, { chunks: 2, k: 1, M: 4 }).compute())).toEqual([
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ]);
    expect(() => da.arange(0, 5, 0)).toThrow(/step must not be zero/);
  });

  it('creates from ndarrays, typed arrays with a shape, and nested arrays', async () => {
    const base = make([4, 5]);
    expectClose(await da.fromArray(base, { chunks: [3, 2] }).compute(), base);
    const view = base.transpose(1, 0) as typeof base;
    expectClose(await da.fromArray(view, { chunks: 2 }).compute(), view);
    const typed = da.fromArray(new Int32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3], chunks: [1, 2] });
    expect(typed.dtype).toBe('int32');
    expect(toNested(await typed.compute())).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(da.fromArray([true, false]).dtype).toBe('bool');
    expect(da.fromArray([1.5, 2]).dtype).toBe('float64');
    expect(toNested(await da.fromArray([[1, 2], [3, 4]], { chunks: 1 }).compute({ scheduler: 'sync' }))).toEqual([[1, 2], [3, 4]]);
    expect(() => da.fromArray(new Float64Array(5), { shape: [2, 3] })).toThrow(/holds 6 elements but the typed array has 5/);
    expect(() => da.fromArray([[1, 2], [3]])).toThrow(/ragged/);
  });

  it('gives equal inputs equal names and different inputs different names', () => {
    expect(da.fromArray(make([3])).name).toBe(da.fromArray(make([3])).name);
    expect(da.fromArray(make([3])).name).not.toBe(da.fromArray(make([3], (i) => i + 1)).name);
    expect(da.ones([3], { chunks: 1 }).name).not.toBe(da.ones([3], { chunks: 3 }).name);
  });

  it('handles 0-d and empty arrays', async () => {
    expect(await da.full([], 5).compute()).toBe(5);
    const e = da.zeros([0, 3], { chunks: 2 });
    expect(e.shape).toEqual([0, 3]);
    const r = await e.compute();
    expect(typeof r === 'number' ? r : r.shape).toEqual([0, 3]);
  });

  it('builds a one-block array from a delayed value', async () => {
    const mk = (n: number) => ndarray(new Float64Array(n).fill(3), [n]);
    const x = da.fromDelayed(delayed(mk)(4), [4]);
    expect(toNested(await x.compute())).toEqual([3, 3, 3, 3]);
    const wrong = da.fromDelayed(delayed(mk)(3), [4]);
    await expect(wrong.compute({ scheduler: 'sync' })).rejects.toThrow(/shape \[3\] but \[4\] was declared/);
  });

  it('persists: the persisted array is backed by computed blocks', async () => {
    const x = da.arange(6, { chunks: 4 });
    const p = await x.persist();
    expect(p.name).toBe(x.name);
    expect(Object.keys(p.daskGraph())).toHaveLength(2);
    expect(toNested(await p.compute())).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('fromArray with a dtype', () => {
  it('converts the data to the requested dtype, as numpy astype does', async () => {
    const x = da.fromArray(new Float64Array([1.7, -2.2, 0, 3]), { dtype: 'int32', chunks: 2 });
    expect(x.dtype).toBe('int32');
    expect(toNested(await x.compute())).toEqual([1, -2, 0, 3]);
    const b = da.fromArray(make([4], (i) => i - 1), { dtype: 'bool' });
    expect(toNested(await b.compute({ scheduler: 'sync' }))).toEqual([1, 0, 1, 1]);
  });
});
