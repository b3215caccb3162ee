import fc from 'fast-check';
import ndarray from 'ndarray';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdownThreadPools } from '../../../src/index.js';
import { DaskArray, fromArray, type NdArray } from '../../../src/collections/array/index.js';
import { axisPlan, rechunk, refineChunks, unifyChunks } from '../../../src/collections/array/rechunk.js';
import { LayeredGraph } from '../../../src/graph/layers.js';
import { expectClose, make, toNested, partition } from './helpers.js';

afterAll(() => shutdownThreadPools());


const shapeAndTwoChunkings = fc
  .array(fc.integer({ min: 0, max: 7 }), { minLength: 0, maxLength: 3 })
  .chain((shape) => fc.tuple(fc.constant(shape), fc.tuple(...shape.map(partition)), fc.tuple(...shape.map(partition))));

describe('rechunk', () => {
  it('keeps the values for random shapes and chunkings (sync)', async () => {
    await fc.assert(
      fc.asyncProperty(shapeAndTwoChunkings, async ([shape, from, to]) => {
        const data = make(shape, (i) => i * 1.5 - 3);
        const x = fromArray(data, { chunks: from });
        const y = rechunk(x, to);
        expect(y.chunks).toEqual(to);
        expect(y.shape).toEqual(shape);
        const r = await y.compute({ scheduler: 'sync' });
        expectClose(r, shape.length === 0 ? data.get() : data);
      }),
      { numRuns: 150 },
    );
  });

  it('gives the same result on the threads scheduler', async () => {
    const data = make([13, 9], (i) => Math.sin(i));
    const x = fromArray(data, { chunks: [4, 2] });
    for (const to of [[[13], [9]], [5, 5], [[1, 12], [3, 3, 3]], [13, 1]] as const) {
      const y = rechunk(x, to as never);
      const [s, t] = [await y.compute({ scheduler: 'sync' }), await y.compute({ scheduler: 'threads' })];
      expect(toNested(t)).toEqual(toNested(s));
      expectClose(t, data);
    }
  });

  it('returns the array itself when the chunks do not change', () => {
    const x = fromArray(make([6, 4]), { chunks: [3, 2] });
    expect(rechunk(x, [3, 2])).toBe(x);
    expect(rechunk(x, [[3, 3], [2, 2]])).toBe(x);
    const s = fromArray(make([]), {});
    expect(rechunk(s, [])).toBe(s);
  });

  it('aliases whole blocks and views single partial blocks', () => {
    const x = fromArray(make([6, 4]), { chunks: [3, 4] });
    const y = rechunk(x, [[3, 1, 2], [4]]);
    const layer = y.graph.layers.get(y.name)!;
    expect(layer[y.blockKey(0, 0)]).toBe(x.blockKey(0, 0));
    expect((layer[y.blockKey(1, 0)] as unknown[]).length).toBe(4); // [subBlock, key, lo, shape]
    expect((layer[y.blockKey(1, 0)] as unknown[])[1]).toBe(x.blockKey(1, 0));
  });

  it('accepts dask forms: a number, -1, null keeps an axis, an object of axes', async () => {
    const data = make([10, 6]);
    const x = fromArray(data, { chunks: [3, 2] });
    expect(rechunk(x, 5).chunks).toEqual([[5, 5], [5, 1]]);
    expect(rechunk(x, [-1, null]).chunks).toEqual([[10], [2, 2, 2]]);
    expect(rechunk(x, { 1: 6 }).chunks).toEqual([[3, 3, 3, 1], [6]]);
    expect(rechunk(x, { [-2]: 4 }).chunks).toEqual([[4, 4, 2], [2, 2, 2]]);
    expectClose(await rechunk(x, { 0: -1, 1: 4 }).compute({ scheduler: 'sync' }), data);
  });

  it('handles empty arrays and zero-length blocks', async () => {
    const x = fromArray(ndarray(new Float64Array(0), [0, 4]) as NdArray, { chunks: [1, 2] });
    const y = rechunk(x, [[0], [4]]);
    const r = (await y.compute({ scheduler: 'sync' })) as NdArray;
    expect(r.shape).toEqual([0, 4]);
    const data = make([5]);
    const z = fromArray(data, { chunks: [[2, 0, 3]] });
    expectClose(await rechunk(z, [[1, 4]]).compute({ scheduler: 'sync' }), data);
    expectClose(await rechunk(fromArray(data, { chunks: 5 }), [[3, 0, 2]]).compute({ scheduler: 'sync' }), data);
  });

  it('rejects bad chunk specs with clear errors', () => {
    const x = fromArray(make([5, 4]), { chunks: 2 });
    expect(() => rechunk(x, [[2, 2], 2])).toThrow(/sum to 4 but the axis has length 5/);
    expect(() => rechunk(x, [2])).toThrow(/1 entries but the array has 2 axes/);
    expect(() => rechunk(x, 0)).toThrow(/positive integer/);
    expect(() => rechunk(x, [[2, -1, 4], 2])).toThrow(/non-negative integers/);
    expect(() => rechunk(x, { 2: 1 })).toThrow(/axis 2 is out of range/);
  });

  it('refuses to rechunk unknown chunk sizes', () => {
    const x = fromArray(make([4]), { chunks: 2 });
    const u = new DaskArray(LayeredGraph.of('u', {}, x.graph), 'u', [[NaN, NaN]], 'float64');
    expect(() => rechunk(u, 2)).toThrow(/unknown chunk sizes/);
  });
});

describe('axisPlan', () => {
  it('lists the pieces of input blocks covering each output block', () => {
    expect(axisPlan([3, 3], [2, 4])).toEqual([
      [{ block: 0, start: 0, stop: 2 }],
      [
        { block: 0, start: 2, stop: 3 },
        { block: 1, start: 0, stop: 3 },
      ],
    ]);
  });
});

describe('refineChunks and unifyChunks', () => {
  it('refines to the union of block boundaries', () => {
    expect(refineChunks([5, 5], [3, 3, 4])).toEqual([3, 2, 1, 4]);
    expect(refineChunks([2, 2], [2, 2])).toEqual([2, 2]);
    expect(refineChunks([0], [0])).toEqual([0]);
    expect(refineChunks([4], [1, 3], [2, 2])).toEqual([1, 1, 2]);
    expect(() => refineChunks([4], [5])).toThrow(/different lengths/);
    expect(() => refineChunks([NaN], [2])).toThrow(/unknown sizes/);
    expect(refineChunks([NaN, 2], [NaN, 2])).toEqual([NaN, 2]);
  });

  it('aligns arrays under broadcasting, leaving length-1 axes alone', () => {
    const a = fromArray(make([6, 4]), { chunks: [[2, 4], [3, 1]] });
    const b = fromArray(make([4]), { chunks: [[2, 2]] });
    const c = fromArray(make([6, 1]), { chunks: [[3, 3], [1]] });
    const [ua, ub, uc] = unifyChunks(a, b, c);
    expect(ua.chunks).toEqual([[2, 1, 3], [2, 1, 1]]);
    expect(ub.chunks).toEqual([[2, 1, 1]]);
    expect(uc.chunks).toEqual([[2, 1, 3], [1]]);
    const [sa, sb] = unifyChunks(a, a);
    expect(sa).toBe(a);
    expect(sb).toBe(a);
  });
});
