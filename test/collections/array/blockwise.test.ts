import fc from 'fast-check';
import ndarray from 'ndarray';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdownThreadPools } from '../../../src/index.js';
import { fromArray, type NdArray } from '../../../src/collections/array/index.js';
import { blockwise } from '../../../src/collections/array/blockwise.js';
import { mapBlocks } from '../../../src/collections/array/mapblocks.js';
import { addBlocks, affine, matmulBlocks, matmulLists, repeatRows, threadOf, transposeBlock, withTens } from '../../fixtures/array-module.js';
import { expectClose, make, toNested, partition } from './helpers.js';

afterAll(() => shutdownThreadPools());


function matmulDirect(a: NdArray, b: NdArray): NdArray {
  const out = make([a.shape[0], b.shape[1]], () => 0);
  for (let i = 0; i < a.shape[0]; i++) {
    for (let k = 0; k < b.shape[1]; k++) {
      let s = 0;
      for (let j = 0; j < a.shape[1]; j++) s += a.get(i, j) * b.get(j, k);
      out.set(i, k, s);
    }
  }
  return out;
}

function mapDirect(a: NdArray, f: (v: number, i: number, j: number) => number): NdArray {
  const out = make(a.shape, () => 0);
  for (let i = 0; i < a.shape[0]; i++) for (let j = 0; j < a.shape[1]; j++) out.set(i, j, f(a.get(i, j), i, j));
  return out;
}

describe('blockwise', () => {
  it('maps aligned blocks elementwise for random shapes and chunkings', async () => {
    const arb = fc
      .tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }))
      .chain(([m, n]) => fc.tuple(fc.constant([m, n] as number[]), fc.tuple(partition(m), partition(n)), fc.tuple(partition(m), partition(n))));
    await fc.assert(
      fc.asyncProperty(arb, async ([shape, cx, cy]) => {
        const X = make(shape, (i) => i * 0.5);
        const Y = make(shape, (i) => 100 - i);
        const z = blockwise(addBlocks, 'ij', fromArray(X, { chunks: cx }), 'ij', fromArray(Y, { chunks: cy }), 'ij', { dtype: 'float64' });
        // Differing chunks are aligned to the common refinement.
        expect(z.shape).toEqual(shape);
        expectClose(await z.compute({ scheduler: 'sync' }), mapDirect(X, (v, i, j) => v + Y.get(i, j)));
      }),
      { numRuns: 60 },
    );
  });

  it('contracts an index: blocks along it arrive as lists', async () => {
    const arb = fc
      .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 6 }))
      .chain(([m, n, p]) => fc.tuple(fc.constant([m, n, p]), partition(m), partition(n), partition(p)));
    await fc.assert(
      fc.asyncProperty(arb, async ([[m, n, p], cm, cn, cp]) => {
        const A = make([m, n], (i) => (i % 5) - 2);
        const B = make([n, p], (i) => (i % 3) + 0.5);
        const a = fromArray(A, { chunks: [cm, cn] });
        const b = fromArray(B, { chunks: [cn, cp] });
        const c = blockwise(matmulLists, 'ik', a, 'ij', b, 'jk', { dtype: 'float64' });
        expect(c.chunks).toEqual([cm, cp]);
        expectClose(await c.compute({ scheduler: 'sync' }), matmulDirect(A, B));
        const d = blockwise(matmulBlocks, 'ik', a, 'ij', b, 'jk', { dtype: 'float64', concatenate: true });
        expectClose(await d.compute({ scheduler: 'sync' }), matmulDirect(A, B));
      }),
      { numRuns: 40 },
    );
  });

  it('passes the user function as the task function, unwrapped', () => {
    const a = fromArray(make([4, 4]), { chunks: 2 });
    const t = blockwise(transposeBlock, 'ji', a, 'ij', { dtype: 'float64' });
    const task = t.daskGraph()[t.blockKey(1, 0)] as unknown[];
    expect(task[0]).toBe(transposeBlock);
    expect(task[1]).toBe(a.blockKey(0, 1));
    expect(t.name).toMatch(/^transposeBlock-[0-9a-f]{32}$/);
  });

  it('permutes indices', async () => {
    const A = make([3, 5]);
    const t = blockwise(transposeBlock, 'ji', fromArray(A, { chunks: [2, 3] }), 'ij', { dtype: 'float64' });
    expect(t.chunks).toEqual([[3, 2], [2, 1]]);
    expectClose(await t.compute({ scheduler: 'sync' }), A.transpose(1, 0) as NdArray);
  });

  it('passes constants given with a null index', async () => {
    const A = make([4, 3]);
    const z = blockwise(affine, 'ij', fromArray(A, { chunks: 2 }), 'ij', 3, null, -1, null, { dtype: 'float64' });
    expectClose(await z.compute({ scheduler: 'sync' }), mapDirect(A, (v) => 3 * v - 1));
  });

  it('broadcasts an axis of length 1 in one block', async () => {
    const A = make([5, 4]);
    const R = make([1, 4], (i) => 10 * i);
    const z = blockwise(addBlocks, 'ij', fromArray(A, { chunks: 2 }), 'ij', fromArray(R, { chunks: 3 }), 'ij', { dtype: 'float64' });
    expect(z.chunks).toEqual([[2, 2, 1], [2, 1, 1]]); // j refined from (2, 2) and (3, 1)
    expectClose(await z.compute({ scheduler: 'sync' }), mapDirect(A, (v, _i, j) => v + 10 * j));
  });

  it('adjusts chunks and adds new axes', async () => {
    const A = make([3, 4]);
    const a = fromArray(A, { chunks: [2, 3] });
    const r = blockwise(repeatRows, 'ij', a, 'ij', { dtype: 'float64', adjustChunks: { i: (c: number) => 2 * c } });
    expect(r.chunks).toEqual([[4, 2], [3, 1]]);
    const R = await r.compute({ scheduler: 'sync' });
    expect(toNested(R)).toEqual(Array.from({ length: 6 }, (_, i) => toNested(A.pick(i >> 1, null) as NdArray)));
    const w = blockwise(withTens, 'ijk', a, 'ij', { dtype: 'float64', newAxes: { k: 2 } });
    expect(w.shape).toEqual([3, 4, 2]);
    expect(w.chunks[2]).toEqual([2]);
    const W = (await w.compute({ scheduler: 'sync' })) as NdArray;
    expect(W.get(2, 3, 0)).toBe(A.get(2, 3));
    expect(W.get(2, 3, 1)).toBe(10 * A.get(2, 3));
  });

  it('refuses differing chunks with alignArrays: false, naming the index and both chunkings', () => {
    const a = fromArray(make([4, 4]), { chunks: 2 });
    const b = fromArray(make([4, 4]), { chunks: [2, [3, 1]] });
    expect(() => blockwise(addBlocks, 'ij', a, 'ij', b, 'ij', { dtype: 'float64', alignArrays: false })).toThrow(
      "blockwise: chunks along index 'j' differ: argument 0 has (2, 2) and argument 1 has (3, 1)",
    );
  });

  it('refuses bad arguments with precise errors', () => {
    const a = fromArray(make([4, 3]), { chunks: 2 });
    const b = fromArray(make([5, 3]), { chunks: 2 });
    expect(() => blockwise(addBlocks, 'ij', a, 'ij', b, 'ij', { dtype: 'float64' })).toThrow(
      "blockwise: index 'i' has length 4 in argument 0 (shape [4, 3]) but 5 in argument 1 (shape [5, 3])",
    );
    expect(() => blockwise(addBlocks, 'ij', a, 'i', { dtype: 'float64' })).toThrow("argument 0 has 2 axes (shape [4, 3]) but index 'i' has 1 letters");
    expect(() => blockwise(addBlocks, 'ij', a, 'ii', { dtype: 'float64' })).toThrow("repeats the letter 'i'");
    expect(() => blockwise(addBlocks, 'ik', a, 'ij', { dtype: 'float64' })).toThrow("has the letter 'k', which no input has; declare it in newAxes");
    expect(() => blockwise(addBlocks, 'ij', a, 'ij')).toThrow('expected (array, index) pairs');
    expect(() => blockwise(addBlocks, 'ij', a, 'ij', {} as never)).toThrow('the dtype option is required');
    expect(() => blockwise(addBlocks, 'ij', a, 'ij', { dtype: 'float64', concat: true } as never)).toThrow("unknown option 'concat'");
    expect(() => blockwise(addBlocks, 'ij', make([2, 2]), 'ij', { dtype: 'float64' })).toThrow('is not a dask array; pass null as the index of a constant');
  });

  it('gives the same result on sync and threads, shipping a registered module function', async () => {
    const A = make([6, 5], (i) => i - 7);
    const B = make([5, 4], (i) => (i * 3) % 7);
    const c = blockwise(matmulLists, 'ik', fromArray(A, { chunks: [4, 2] }), 'ij', fromArray(B, { chunks: [2, 3] }), 'jk', { dtype: 'float64' });
    const sync = await c.compute({ scheduler: 'sync' });
    const threads = await c.compute({ scheduler: 'threads', unshippable: 'error' });
    expect(toNested(threads)).toEqual(toNested(sync));
    expectClose(threads, matmulDirect(A, B));
  });
});

describe('mapBlocks', () => {
  it('runs a self-contained arrow function on pool threads; a typed array result becomes the block', async () => {
    const A = make([7, 5], (i) => i / 3);
    const a = fromArray(A, { chunks: [3, 2] });
    const double = (x: NdArray) => {
      const out = new Float64Array(x.size);
      for (let i = 0; i < x.shape[0]; i++) for (let j = 0; j < x.shape[1]; j++) out[i * x.shape[1] + j] = 2 * x.get(i, j);
      return out;
    };
    const y = mapBlocks(double, a);
    expect(y.chunks).toEqual(a.chunks);
    const threads = await y.compute({ scheduler: 'threads', unshippable: 'error' });
    expectClose(threads, mapDirect(A, (v) => 2 * v));
    expect(toNested(await y.compute({ scheduler: 'sync' }))).toEqual(toNested(threads));
  });

  it('runs a registered module function with several arrays, broadcasting from the last axis', async () => {
    const A = make([6, 4]);
    const R = make([4], (i) => 100 * i);
    const r2 = fromArray(ndarray(R.data, [1, 4]) as NdArray, { chunks: [1, 3] });
    const y = mapBlocks(addBlocks, fromArray(A, { chunks: 4 }), r2);
    expect(y.chunks).toEqual([[4, 2], [3, 1]]);
    expectClose(await y.compute({ scheduler: 'threads', unshippable: 'error' }), mapDirect(A, (v, _i, j) => v + 100 * j));
    const where = (await mapBlocks(threadOf, fromArray(A, { chunks: 2 })).compute({ scheduler: 'threads' })) as NdArray;
    expect(Math.max(...(where.data as Float64Array))).toBeGreaterThan(0); // ran on pool threads
  });

  it('passes constants and keeps the first array chunks', async () => {
    const A = make([5, 5], (i) => i % 4);
    const y = mapBlocks(affine, fromArray(A, { chunks: 2 }), 2, 1);
    expectClose(await y.compute({ scheduler: 'sync' }), mapDirect(A, (v) => 2 * v + 1));
  });

  it('drops an axis: blocks along it are joined, and chunks declare the output', async () => {
    const A = make([5, 7], (i) => i);
    const a = fromArray(A, { chunks: [2, 3] });
    const rowSums = (x: NdArray) => {
      const out = new Float64Array(x.shape[0]);
      for (let i = 0; i < x.shape[0]; i++) for (let j = 0; j < x.shape[1]; j++) out[i] += x.get(i, j);
      return out;
    };
    const s = mapBlocks(rowSums, a, { dropAxis: 1 });
    expect(s.chunks).toEqual([[2, 2, 1]]);
    const expected = make([5], (i) => Array.from({ length: 7 }, (_, j) => A.get(i, j)).reduce((x, y) => x + y));
    expectClose(await s.compute({ scheduler: 'threads', unshippable: 'error' }), expected);
  });

  it('adds an axis and changes block sizes with the chunks option', async () => {
    const A = make([4, 3]);
    const a = fromArray(A, { chunks: 2 });
    const w = mapBlocks(withTens, a, { newAxis: 2, chunks: [2, [2, 1], 2] });
    expect(w.chunks).toEqual([[2, 2], [2, 1], [2]]);
    const W = (await w.compute({ scheduler: 'sync' })) as NdArray;
    expect(W.get(3, 2, 1)).toBe(10 * A.get(3, 2));
    const r = mapBlocks(repeatRows, a, { chunks: [4, [2, 1]] });
    expect(r.shape).toEqual([8, 3]);
    expect(toNested(await r.compute({ scheduler: 'sync' }))).toEqual(Array.from({ length: 8 }, (_, i) => toNested(A.pick(i >> 1, null) as NdArray)));
  });

  it('converts the returned elements to the declared dtype', async () => {
    const a = fromArray(make([4], (i) => i + 0.75), { chunks: 3 });
    const y = mapBlocks((x: NdArray) => Float64Array.from({ length: x.size }, (_, i) => x.get(i) * 2), a, { dtype: 'int32' });
    const r = (await y.compute({ scheduler: 'sync' })) as NdArray;
    expect(r.data).toBeInstanceOf(Int32Array);
    expect(toNested(r)).toEqual([1, 3, 5, 7]);
  });

  it('reports a wrong block shape, naming the block and the fix', async () => {
    const a = fromArray(make([4, 4]), { chunks: 2 });
    await expect(mapBlocks(repeatRows, a).compute({ scheduler: 'sync' })).rejects.toThrow(
      'mapBlocks(repeatRows) at block (0, 0): the function returned shape [4, 2] but the output\'s chunks give [2, 2]; pass chunks',
    );
    const short = (x: NdArray) => new Float64Array(x.size - 1);
    await expect(mapBlocks(short, a).compute({ scheduler: 'sync' })).rejects.toThrow('returned a typed array of 3 elements, which does not fit the block shape [2, 2]');
    const nested = () => [[1]];
    await expect(mapBlocks(nested, a).compute({ scheduler: 'sync' })).rejects.toThrow('the function returned a plain array; return an ndarray or a typed array');
  });

  it('validates its arguments', () => {
    const a = fromArray(make([4, 4]), { chunks: 2 });
    expect(() => mapBlocks(addBlocks, a, fromArray(make([3, 4])))).toThrow('mapBlocks: arrays of shapes [4, 4] and [3, 4] do not line up');
    expect(() => mapBlocks(addBlocks, a, { chunks: [2] })).toThrow('chunks must have one entry per output axis (2)');
    expect(() => mapBlocks(addBlocks, a, { chunks: [2, [1, 1, 2]] })).toThrow('chunks along output axis 1 list 3 blocks but the output has 2 there');
    expect(() => mapBlocks(addBlocks, a, { dropAxis: 2 })).toThrow('axis 2 is out of bounds');
    expect(() => mapBlocks(addBlocks, a, { drop: 1 } as never)).toThrow("unknown option 'drop'");
    expect(() => mapBlocks(addBlocks, 3)).toThrow('give at least one dask array');
  });
});
