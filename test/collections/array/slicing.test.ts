import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { getSync, shutdownThreadPools } from '../../../src/index.js';
import { fromArray, type NdArray } from '../../../src/collections/array/index.js';
import { mask, UnknownChunksError } from '../../../src/collections/array/mask.js';
import { ellipsis, newaxis, resolveSlice, slice, squeeze, type IndexSpec, type SliceTuple } from '../../../src/collections/array/slicing.js';
import { expectClose, make, toNested, partition } from './helpers.js';

afterAll(() => shutdownThreadPools());


/** CPython's slice semantics, written as its loop (independent of the count formula under test). */
function pyIndices(n: number, [start, stop, step]: SliceTuple): number[] {
  const s = step ?? 1;
  const adjust = (v: number | null | undefined, dflt: number, lo: number, hi: number) => {
    if (v === null || v === undefined) return dflt;
    if (v < 0) return Math.max(v + n, lo);
    return Math.min(v, hi);
  };
  const out: number[] = [];
  if (s > 0) {
    for (let i = adjust(start, 0, 0, n), e = adjust(stop, n, 0, n); i < e; i += s) out.push(i);
  } else {
    for (let i = adjust(start, n - 1, -1, n - 1), e = adjust(stop, -1, -1, n - 1); i > e; i += s) out.push(i);
  }
  return out;
}

/** numpy's `data[specs]` on nested arrays, and its shape. */
function reference(nested: unknown, shape: readonly number[], specs: readonly IndexSpec[]): { value: unknown; shape: number[] } {
  const used = specs.filter((s) => s !== newaxis).length;
  const all = [...specs, ...new Array<IndexSpec>(shape.length - used).fill(null)];
  const outShape: number[] = [];
  let axis = 0;
  for (const s of all) {
    if (s === newaxis) outShape.push(1);
    else if (s === null) outShape.push(shape[axis++]);
    else if (Array.isArray(s)) outShape.push(pyIndices(shape[axis++], s as SliceTuple).length);
    else axis++;
  }
  const walk = (v: unknown, dims: readonly number[], rest: readonly IndexSpec[]): unknown => {
    if (rest.length === 0) return v;
    const [s, ...tail] = rest;
    if (s === newaxis) return [walk(v, dims, tail)];
    const n = dims[0];
    const arr = v as unknown[];
    if (typeof s === 'number') return walk(arr[s < 0 ? s + n : s], dims.slice(1), tail);
    const idx = s === null ? pyIndices(n, [null, null, null]) : pyIndices(n, s as SliceTuple);
    return idx.map((i) => walk(arr[i], dims.slice(1), tail));
  };
  return { value: walk(nested, shape, all), shape: outShape };
}

const bound = (n: number) => fc.option(fc.integer({ min: -n - 3, max: n + 3 }), { nil: null });
const sliceSpec = (n: number): fc.Arbitrary<IndexSpec> =>
  fc.oneof(
    fc.tuple(bound(n), bound(n), fc.option(fc.integer({ min: -4, max: 4 }).filter((s) => s !== 0), { nil: null })) as fc.Arbitrary<IndexSpec>,
    fc.constant(null),
    ...(n > 0 ? [fc.integer({ min: -n, max: n - 1 })] : []),
  );

/** A shape, a chunking of it, and index specs (maybe fewer than the axes, maybe with newaxis). */
const cases = fc
  .array(fc.integer({ min: 0, max: 7 }), { minLength: 0, maxLength: 3 })
  .chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.tuple(...shape.map(partition)),
      fc.tuple(...shape.map(sliceSpec)),
      fc.integer({ min: 0, max: shape.length }),
      fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
    ),
  )
  .map(([shape, chunks, specs, keep, newAt]) => {
    const s: IndexSpec[] = specs.slice(0, keep);
    for (const at of newAt) s.splice(Math.min(at, s.length), 0, newaxis);
    return { shape, chunks, specs: s };
  });

async function check(shape: number[], chunks: number[][], specs: IndexSpec[], scheduler: 'sync' | 'threads'): Promise<void> {
  const data = make(shape, (i) => i * 2 - 5);
  const x = fromArray(data, { chunks });
  const y = slice(x, ...specs);
  const ref = reference(toNested(shape.length ? data : data.get()), shape, specs);
  expect(y.shape).toEqual(ref.shape);
  for (const c of y.chunks) {
    const total = c.reduce((a, b) => a + b, 0);
    // Empty parts are dropped; an empty axis keeps exactly one empty block, as in dask.
    expect(total === 0 ? c : c.every((n) => n > 0)).toEqual(total === 0 ? [0] : true);
  }
  const r = await y.compute({ scheduler });
  if (ref.shape.length === 0) expect(r).toBe(ref.value);
  else {
    expect((r as NdArray).shape).toEqual(ref.shape);
    expect(toNested(r)).toEqual(ref.value);
  }
}

describe('slice', () => {
  it('resolves slices like Python (checked against numpy)', () => {
    const table: [SliceTuple, number[]][] = [
      [[null, null, -3], [9, 6, 3, 0]],
      [[-100, 100, 2], [0, 2, 4, 6, 8]],
      [[8, 2, -2], [8, 6, 4]],
      [[5, -100, -1], [5, 4, 3, 2, 1, 0]],
      [[-1, -11, -1], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]],
      [[3, 3], []],
      [[7, 2], []],
      [[-3], [7, 8, 9]],
      [[2, -2, 3], [2, 5]],
      [[100, null, -4], [9, 5, 1]],
      [[null, -100, -1], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]],
    ];
    for (const [spec, expected] of table) {
      expect(pyIndices(10, spec)).toEqual(expected);
      const { start, step, count } = resolveSlice(spec, 10);
      expect(Array.from({ length: count }, (_, j) => start + j * step)).toEqual(expected);
    }
  });

  it('equals direct indexing for random shapes, chunkings and specs (sync)', async () => {
    await fc.assert(
      fc.asyncProperty(cases, ({ shape, chunks, specs }) => check(shape, chunks, specs, 'sync')),
      { numRuns: 300 },
    );
  });

  it('equals direct indexing on the thread pool too', async () => {
    await fc.assert(
      fc.asyncProperty(cases, ({ shape, chunks, specs }) => check(shape, chunks, specs, 'threads')),
      { numRuns: 25 },
    );
  });

  it('cuts chunks as dask does', () => {
    const x = fromArray(make([10]), { chunks: 3 });
    expect(slice(x, [1, 8, 2]).chunks).toEqual([[1, 2, 1]]);
    expect(slice(x, [null, null, -1]).chunks).toEqual([[1, 3, 3, 3]]);
    expect(slice(x, [null, null, -4]).chunks).toEqual([[1, 1, 1]]);
    expect(slice(x, [5, 5]).chunks).toEqual([[0]]);
    expect(slice(x, [2, 7]).chunks).toEqual([[1, 3, 1]]);
    const m = fromArray(make([6, 8]), { chunks: [4, 3] });
    expect(slice(m, 5, [null, null, 2]).chunks).toEqual([[2, 1, 1]]);
    expect(slice(m, newaxis, [1, 5], newaxis).chunks).toEqual([[1], [3, 1], [1], [3, 3, 2]]);
  });

  it('gives a number for a 0-d result, on both schedulers', async () => {
    const data = make([4, 5, 6], (i) => i / 4);
    const x = fromArray(data, { chunks: [3, 2, 4] });
    for (const scheduler of ['sync', 'threads'] as const) {
      expect(await slice(x, 3, -1, 4).compute({ scheduler })).toBe(data.get(3, 4, 4));
      expect(await slice(x, 0, 0, -6).compute({ scheduler })).toBe(data.get(0, 0, 0));
    }
    const y = slice(x, 1, 2, 3);
    expect(y.ndim).toBe(0);
    expect(y.chunks).toEqual([]);
  });

  it('expands an ellipsis into whole axes', async () => {
    const data = make([3, 4, 5]);
    const x = fromArray(data, { chunks: 2 });
    expect(slice(x, ellipsis, 1).shape).toEqual([3, 4]);
    expect(slice(x, 0, ellipsis, newaxis, [1, 3]).shape).toEqual([4, 1, 2]);
    expect(slice(x, 1, 2, ellipsis, 3).shape).toEqual([]);
    expect(toNested(await slice(x, ellipsis, 1).compute({ scheduler: 'sync' }))).toEqual(toNested(data.pick(null, null, 1) as NdArray));
    expect(() => slice(x, ellipsis, 0, ellipsis)).toThrow(/single ellipsis/);
  });

  it('returns the array itself for whole-axis specs', () => {
    const x = fromArray(make([4, 5]), { chunks: 2 });
    expect(slice(x)).toBe(x);
    expect(slice(x, null, [null, null])).toBe(x);
    expect(slice(x, [0, 4], [-100, 100, 1])).toBe(x);
  });

  it('makes blocks that are views of the input, not copies', async () => {
    const x = fromArray(make([6, 6]), { chunks: 3 });
    const y = slice(x, [null, null, -2], [1, null]);
    const graph = y.daskGraph();
    const [src, out] = (await getSync(graph, [x.blockKey(0, 0), y.blockKey(0, 0)])) as NdArray[];
    expect(out.data).toBe(src.data);
  });

  it('names equal selections equally', () => {
    const x = fromArray(make([10]), { chunks: 3 });
    expect(slice(x, [-3, null]).name).toBe(slice(x, [7, 10]).name);
    expect(slice(x, -1).name).toBe(slice(x, 9).name);
    expect(slice(x, [1, null]).name).not.toBe(slice(x, [2, null]).name);
  });

  it('rejects bad indices with errors that name the problem', () => {
    const x = fromArray(make([4, 5]), { chunks: 2 });
    expect(() => slice(x, 0, 5)).toThrow(RangeError);
    expect(() => slice(x, 0, 5)).toThrow(/index 5 is out of bounds for axis 1 with length 5/);
    expect(() => slice(x, -5)).toThrow(/index -5 is out of bounds for axis 0 with length 4/);
    expect(() => slice(x, 0, 0, 0)).toThrow(/too many indices.*\[4, 5\]/);
    expect(() => slice(x, [0, 4, 0])).toThrow(/step for axis 0 must not be zero/);
    expect(() => slice(x, 1.5)).toThrow(TypeError);
    expect(() => slice(x, null, [0.5, 2])).toThrow(/axis 1 must hold integers/);
    expect(() => slice(x, 'a' as unknown as IndexSpec)).toThrow(TypeError);
  });

  it('refuses to cut axes of unknown size, naming the fix', () => {
    const x = fromArray(make([6]), { chunks: 2 });
    const m = mask(x, fromArray(make([6], (i) => i % 2), { chunks: 3, dtype: 'bool' }));
    expect(() => slice(m, [1, 3])).toThrow(UnknownChunksError);
    expect(() => slice(m, 0)).toThrow(/unknown chunk sizes.*computeChunkSizes.*compute_chunk_sizes/);
    expect(slice(m, null)).toBe(m);
    expect(slice(m, newaxis).shape).toEqual([1, Number.NaN]);
  });
});

describe('squeeze', () => {
  it('drops length-1 axes, all or the given ones', async () => {
    const data = make([1, 3, 1, 2]);
    const x = fromArray(data, { chunks: [1, 2, 1, 1] });
    expect(squeeze(x).shape).toEqual([3, 2]);
    expect(squeeze(x, -2).shape).toEqual([1, 3, 2]);
    expect(squeeze(x, [0, 2]).chunks).toEqual([[2, 1], [1, 1]]);
    expectClose(await squeeze(x).compute({ scheduler: 'sync' }), data.pick(0, null, 0, null) as NdArray);
    expect(await squeeze(fromArray(make([1, 1], () => 7))).compute()).toBe(7);
    const y = fromArray(make([2, 3]));
    expect(squeeze(y)).toBe(y);
  });

  it('refuses axes whose length is not 1', () => {
    const x = fromArray(make([1, 3]));
    expect(() => squeeze(x, 1)).toThrow(/cannot remove axis 1 of length 3 \(shape \[1, 3\]\)/);
    expect(() => squeeze(x, 2)).toThrow(/axis 2 is out of bounds/);
    expect(() => squeeze(x, [0, -2])).toThrow(/repeated axis/);
  });
});
