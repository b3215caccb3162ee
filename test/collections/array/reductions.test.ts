import fc from 'fast-check';
import ndarray from 'ndarray';
import { afterAll, describe, expect, it } from 'vitest';
import * as da from '../../../src/collections/array/index.js';
import { random } from '../../../src/collections/array/random.js';
import * as red from '../../../src/collections/array/reductions.js';
import * as k from '../../../src/collections/array/chunk/reduce.js';
import type { DaskArray, NdArray } from '../../../src/collections/array/index.js';
import { optimize } from '../../../src/graph/compute.js';
import { compute, shutdownThreadPools } from '../../../src/index.js';
import { forEachIndex, permutation, stridedView, toNested } from './helpers.js';

afterAll(() => shutdownThreadPools());

type Op = 'sum' | 'prod' | 'mean' | 'var' | 'std' | 'min' | 'max' | 'argmin' | 'argmax' | 'any' | 'all';
const OPS: readonly Op[] = ['sum', 'prod', 'mean', 'var', 'std', 'min', 'max', 'argmin', 'argmax', 'any', 'all'];

interface Expected {
  shape: number[];
  values: number[];
}

/**
 * The reference: every output element's inputs gathered from the flat C-order data, then reduced
 * directly. `int` reduces like numpy's fixed-width integers (products wrap modulo 2^32).
 */
function reference(op: Op, data: readonly number[], shape: readonly number[], axes: readonly number[], keepdims: boolean, ddof = 0, int = false): Expected | 'empty' {
  const outShape = shape.flatMap((n, a) => (axes.includes(a) ? (keepdims ? [1] : []) : [n]));
  const size = outShape.reduce((x, y) => x * y, 1);
  const bins: { v: number; at: number }[][] = Array.from({ length: size }, () => []);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < data.length; i++) {
    let rest = i;
    for (let a = shape.length - 1; a >= 0; a--) {
      idx[a] = rest % shape[a];
      rest = Math.floor(rest / shape[a]);
    }
    let out = 0;
    for (let a = 0; a < shape.length; a++) if (!axes.includes(a)) out = out * shape[a] + idx[a];
    // argmin/argmax: the flat index when every axis is reduced, else the position along the axis.
    const at = axes.length === shape.length ? i : idx[axes[0]];
    bins[out].push({ v: data[i], at });
  }
  const values: number[] = [];
  for (const bin of bins) {
    const vs = bin.map((b) => b.v);
    const n = vs.length;
    const mean = vs.reduce((s, v) => s + v, 0) / n;
    const m2 = vs.reduce((s, v) => s + (v - mean) ** 2, 0);
    switch (op) {
      case 'sum':
        values.push(int ? vs.reduce((s, v) => (s + v) | 0, 0) : vs.reduce((s, v) => s + v, 0));
        break;
      case 'prod':
        values.push(int ? vs.reduce((s, v) => Math.imul(s, v), 1) : vs.reduce((s, v) => s * v, 1));
        break;
      case 'mean':
        values.push(mean);
        break;
      case 'var':
      case 'std': {
        const v = n === 0 ? NaN : m2 / Math.max(n - ddof, 0);
        values.push(op === 'std' ? Math.sqrt(v) : v);
        break;
      }
      case 'min':
      case 'max':
        if (n === 0) return 'empty';
        values.push(op === 'min' ? Math.min(...vs) : Math.max(...vs));
        break;
      case 'argmin':
      case 'argmax': {
        if (n === 0) return 'empty';
        let best = 0;
        for (let j = 1; j < n; j++) if (op === 'argmin' ? vs[j] < vs[best] : vs[j] > vs[best]) best = j;
        values.push(bin[best].at);
        break;
      }
      case 'any':
        values.push(vs.some((v) => v !== 0) ? 1 : 0);
        break;
      case 'all':
        values.push(vs.every((v) => v !== 0) ? 1 : 0);
        break;
    }
  }
  return { shape: outShape, values };
}

function flatValues(r: number | NdArray): { shape: number[]; values: number[] } {
  if (typeof r === 'number') return { shape: [], values: [r] };
  return { shape: [...r.shape], values: [toNested(r)].flat(Infinity) as number[] };
}

function expectMatches(actual: number | NdArray, expected: Expected, rtol: number): void {
  const a = flatValues(actual);
  expect(a.shape).toEqual(expected.shape);
  expect(a.values.length).toBe(expected.values.length);
  a.values.forEach((v, i) => {
    const e = expected.values[i];
    if (Number.isNaN(e)) expect(v).toBeNaN();
    else if (!Number.isFinite(e)) expect(v).toBe(e);
    else expect(Math.abs(v - e)).toBeLessThanOrEqual(rtol * Math.max(1, Math.abs(e)));
  });
}

function run(op: Op, x: DaskArray, opts: { axis?: number | number[] | null; keepdims?: boolean; splitEvery?: number; ddof?: number }): DaskArray {
  const { ddof, ...base } = opts;
  if (op === 'var' || op === 'std') return red[op === 'var' ? 'variance' : 'std'](x, { ...base, ddof });
  if (op === 'argmin' || op === 'argmax') return red[op](x, { ...base, axis: base.axis as number | null | undefined });
  return red[op](x, base);
}

/** Block sizes for an axis of length n: a cycle of sizes, cut to fit, with a zero-size block at `zeroAt`. */
function partition(n: number, sizes: readonly number[], zeroAt: number | null): number[] {
  if (n === 0) return [0];
  const out: number[] = [];
  for (let left = n, j = 0; left > 0; j++) {
    const s = Math.min(sizes[j % sizes.length], left);
    out.push(s);
    left -= s;
  }
  if (zeroAt !== null) out.splice(zeroAt % (out.length + 1), 0, 0);
  return out;
}

const caseArb = fc
  .integer({ min: 0, max: 3 })
  .chain((ndim) =>
    fc.record({
      shape: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: ndim, maxLength: ndim }),
      sizes: fc.array(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }), { minLength: ndim, maxLength: ndim }),
      zeros: fc.array(fc.option(fc.nat(8), { freq: 4 }), { minLength: ndim, maxLength: ndim }),
      axisPick: fc.oneof(fc.constant(null), fc.integer({ min: -ndim, max: Math.max(ndim - 1, 0) }), fc.subarray([...Array(ndim).keys()])),
      keepdims: fc.boolean(),
      splitEvery: fc.option(fc.integer({ min: 2, max: 5 })),
      ddof: fc.integer({ min: 0, max: 2 }),
      int: fc.boolean(),
      seed: fc.integer(),
    }),
  );

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function buildCase(c: Case) {
  const size = c.shape.reduce((a, b) => a * b, 1);
  let s = c.seed;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 8) / 2 ** 24;
  const data = Array.from({ length: size }, () => (c.int ? Math.floor(next() * 11) - 5 : next() * 10 - 5));
  const chunks = c.shape.map((n, a) => partition(n, c.sizes[a], c.zeros[a]));
  const arr = ndarray(c.int ? Int32Array.from(data) : Float64Array.from(data), c.shape) as NdArray;
  const x = da.fromArray(arr, { chunks });
  const ndim = c.shape.length;
  const axis = typeof c.axisPick === 'number' && ndim === 0 ? null : c.axisPick;
  const axes = axis === null ? [...Array(ndim).keys()] : (typeof axis === 'number' ? [axis] : axis).map((a) => (a < 0 ? a + ndim : a)).sort();
  return { data, chunks, x, axis, axes };
}

describe('reductions against a direct computation', () => {
  for (const op of OPS) {
    it(`${op} matches the reference for random shapes, chunks (uneven, empty blocks), axes, keepdims and splitEvery`, async () => {
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const { data, x, axis, axes } = buildCase(c);
          const isArg = op === 'argmin' || op === 'argmax';
          // argmin/argmax take one axis or none.
          const useAxis = isArg && Array.isArray(axis) ? (axis.length === 1 ? axis[0] : null) : axis;
          const useAxes = isArg && Array.isArray(axis) && axis.length !== 1 ? [...Array(c.shape.length).keys()] : axes;
          const expected = reference(op, data, c.shape, useAxes, c.keepdims, c.ddof, c.int);
          const y = run(op, x, { axis: useAxis, keepdims: c.keepdims, splitEvery: c.splitEvery ?? undefined, ddof: c.ddof });
          if (expected === 'empty') {
            await expect(y.compute({ scheduler: 'sync' })).rejects.toThrow(isArg ? /attempt to get argm.. of an empty sequence/ : /zero-size array to reduction operation (minimum|maximum) which has no identity/);
            return;
          }
          expect(y.shape).toEqual(expected.shape);
          expectMatches(await y.compute({ scheduler: 'sync' }), expected, 1e-9);
        }),
        { numRuns: 60 },
      );
    });
  }
});

describe('reduction dtypes, as numpy', () => {
  const f = da.ones([4], { chunks: 2 });
  const i = da.ones([4], { chunks: 2, dtype: 'int16' });
  const b = da.ones([4], { chunks: 2, dtype: 'bool' });
  const f32 = da.ones([4], { chunks: 2, dtype: 'float32' });
  it('sum and prod: bool/int accumulate in int32 (numpy int64), floats keep theirs', () => {
    expect([red.sum(f).dtype, red.sum(i).dtype, red.sum(b).dtype, red.sum(f32).dtype]).toEqual(['float64', 'int32', 'int32', 'float32']);
    expect(red.prod(i).dtype).toBe('int32');
    expect(red.sum(da.ones([2], { dtype: 'uint32' })).dtype).toBe('uint32');
    expect(red.sum(i, { dtype: 'float64' }).dtype).toBe('float64');
  });
  it('mean/var/std give float64, float32 stays float32; min/max keep; arg* int32; any/all bool', () => {
    expect([red.mean(i).dtype, red.variance(b).dtype, red.std(f32).dtype, red.mean(f32).dtype]).toEqual(['float64', 'float64', 'float32', 'float32']);
    expect([red.min(i).dtype, red.max(f32).dtype, red.argmin(f).dtype, red.any(f).dtype, red.all(i).dtype]).toEqual(['int16', 'float32', 'int32', 'bool', 'bool']);
  });
  it('integer sums and products wrap modulo 2^32 like int32 arithmetic', async () => {
    const big = da.fromArray(Int32Array.from([2 ** 30, 2 ** 30, 2 ** 30, 3]), { chunks: 1 });
    expect(await red.sum(big).compute()).toBe((3 * 2 ** 30 + 3) | 0);
    const p = da.fromArray(Int32Array.from([65537, 65537, 65537, 7]), { chunks: 2 });
    expect(await red.prod(p).compute()).toBe(Math.imul(Math.imul(Math.imul(65537, 65537), 65537), 7));
  });
});

describe('reduction edge cases', () => {
  it('empty arrays: sum 0, prod 1, mean/var NaN; min/max fail at compute like numpy', async () => {
    const e = da.zeros([0], { chunks: 5 });
    expect(await red.sum(e).compute()).toBe(0);
    expect(await red.prod(e).compute()).toBe(1);
    expect(await red.mean(e).compute()).toBeNaN();
    expect(await red.variance(e).compute()).toBeNaN();
    expect(await red.any(e).compute()).toBe(0);
    expect(await red.all(e).compute()).toBe(1);
    const m = red.min(e); // building is fine, as in dask
    await expect(m.compute()).rejects.toThrow('zero-size array to reduction operation minimum which has no identity');
    await expect(red.max(e).compute({ scheduler: 'sync' })).rejects.toThrow('zero-size array to reduction operation maximum which has no identity');
    await expect(red.argmin(e).compute({ scheduler: 'sync' })).rejects.toThrow('attempt to get argmin of an empty sequence');
    // An empty output is fine even for min: nothing is reduced.
    const e2 = da.zeros([0, 3], { chunks: 2 });
    await expect(red.min(e2, { axis: 0 }).compute()).rejects.toThrow(/no identity/);
    expect(((await red.min(e2, { axis: 1 }).compute()) as NdArray).shape).toEqual([0]);
  });

  it('0-d arrays reduce to themselves', async () => {
    const s = da.fromArray(ndarray(Float64Array.of(4), []) as NdArray);
    expect(await red.sum(s).compute()).toBe(4);
    expect(await red.std(s).compute()).toBe(0);
    expect(await red.argmax(s).compute()).toBe(0);
    expect(() => red.sum(s, { axis: 0 })).toThrow(RangeError);
  });

  it('NaN propagates through min/max and wins argmin/argmax at its first position, as numpy', async () => {
    const x = da.fromArray(Float64Array.from([3, NaN, 1, NaN, 0]), { chunks: 2 });
    expect(await red.min(x).compute()).toBeNaN();
    expect(await red.max(x, { splitEvery: 2 }).compute()).toBeNaN();
    expect(await red.argmin(x).compute()).toBe(1);
    expect(await red.argmax(x).compute()).toBe(1);
    expect(await red.sum(x).compute()).toBeNaN();
    expect(await red.any(da.fromArray(Float64Array.from([0, NaN]), { chunks: 1 })).compute()).toBe(1);
  });

  it('argmin/argmax report the first of equal values across blocks, with global indices', async () => {
    const x = da.fromArray(Int32Array.from([5, 1, 7, 1, 7, 0, 0]), { chunks: 2 });
    expect(await red.argmin(x).compute()).toBe(5);
    expect(await red.argmax(x, { splitEvery: 2 }).compute()).toBe(2);
    const m = da.fromArray([[1, 9, 9], [9, 0, 9], [2, 9, 0]], { chunks: [2, 2] });
    expect(await red.argmin(m).compute()).toBe(4);
    expect(toNested(await red.argmin(m, { axis: 1 }).compute())).toEqual([0, 1, 2]);
    expect(toNested(await red.argmax(m, { axis: 0, keepdims: true }).compute())).toEqual([[1, 0, 0]]);
  });

  it('reduce strided views: transposed, reversed (negative strides) and broadcast (stride 0) blocks', async () => {
    const base = ndarray(Float64Array.from({ length: 24 }, (_, j) => ((j * 7) % 11) - 4), [4, 6]) as NdArray;
    const views: NdArray[] = [
      base.transpose(1, 0) as NdArray,
      base.step(-1, 2) as NdArray,
      ndarray(base.data, [3, 4, 6], [0, 6, 1], 0) as NdArray,
      ndarray(base.data, [4, 6, 3], [6, 1, 0], 0) as NdArray,
    ];
    for (const v of views) {
      const data = [toNested(v)].flat(Infinity) as number[];
      const x = da.fromArray(v, { chunks: 2 });
      for (const op of ['sum', 'prod', 'min', 'max', 'mean', 'var', 'argmin', 'argmax', 'any', 'all'] as const) {
        for (const axis of [null, 0, v.shape.length - 1]) {
          const axes = axis === null ? [...v.shape.keys()] : [axis];
          const expected = reference(op, data, v.shape, axes, false) as Expected;
          expectMatches((await run(op, x, { axis }).compute({ scheduler: 'sync' })) as NdArray, expected, 1e-9);
        }
      }
    }
  });

  it('block partials of sum, mean and var over any axes of strided float64, float32 and int32 blocks', () => {
    const CTORS = { float64: Float64Array, float32: Float32Array, int32: Int32Array };
    const caseArb = fc.array(fc.integer({ min: 0, max: 13 }), { minLength: 1, maxLength: 3 }).chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        dtype: fc.constantFrom<keyof typeof CTORS>('float64', 'float32', 'int32'),
        perm: permutation(shape.length),
        flip: fc.integer({ min: -1, max: shape.length - 1 }),
        summed: fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
      }),
    );
    fc.assert(
      fc.property(caseArb, ({ shape, dtype, perm, flip, summed }) => {
        const axes = shape.map((_, a) => a).filter((a) => summed[a]);
        // Small integers: every sum is exact in any order, so the comparison can be exact.
        const block = stridedView(shape, CTORS[dtype], perm, flip, (idx) => (idx.reduce((a, i) => a * 7 + i, 3) % 9) - 4);
        const data: number[] = [];
        forEachIndex(shape, (idx) => data.push(block.get(...idx)));
        const ctx = { axes, dtype: 'float64' as const, shape };
        const sum = reference('sum', data, shape, axes, true) as Expected;
        expect(Array.from(k.sumChunk(block, ctx).data as Float64Array)).toEqual(sum.values);
        const mean = k.meanChunk(block, ctx);
        expect(Array.from(mean.sum.data as Float64Array)).toEqual(sum.values);
        if (data.length === 0) return;
        const variance = reference('var', data, shape, axes, true) as Expected;
        const m = k.momentChunk(block, ctx);
        expectMatches(ndarray(Float64Array.from(m.m2.data as Float64Array, (q) => q / m.n), m.m2.shape) as NdArray, variance, 1e-12);
      }),
      { numRuns: 200 },
    );
  });

  it('partials of the pieces of a block stay in ordinary memory; what leaves a task is shared', () => {
    const block = ndarray(Float64Array.from({ length: 12 }, (_, j) => j), [3, 4]) as NdArray;
    const ctx = { axes: [0], dtype: 'float64' as const, shape: [3, 4] };
    const local = { ...ctx, local: true };
    const isShared = (a: NdArray) => (a.data as Float64Array).buffer instanceof SharedArrayBuffer;
    expect(isShared(k.sumChunk(block, ctx))).toBe(true);
    expect(isShared(k.sumChunk(block, local))).toBe(false);
    expect(isShared(k.meanChunk(block, local).sum)).toBe(false);
    expect(isShared(k.argminChunk(block, local, [0, 0]).v)).toBe(false);
    const merged = k.meanCombine([k.meanChunk(block, local), k.meanChunk(block, local)]);
    expect(isShared(merged.sum)).toBe(true);
    expect(Array.from(merged.sum.data as Float64Array)).toEqual([24, 30, 36, 42]);
  });

  it('var/std take ddof; ddof >= n gives inf or NaN like numpy', async () => {
    const x = da.fromArray(Float64Array.from([1, 2, 3, 4]), { chunks: 3 });
    expect(await red.variance(x).compute()).toBeCloseTo(1.25, 12);
    expect(await red.variance(x, { ddof: 1 }).compute()).toBeCloseTo(5 / 3, 12);
    expect(await red.std(x, { ddof: 1 }).compute()).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(await red.variance(x, { ddof: 4 }).compute()).toBe(Infinity);
    expect(await red.variance(da.ones([1]), { ddof: 1 }).compute()).toBeNaN();
  });

  it('mean and var stay accurate with a large offset (no sum-of-squares cancellation)', async () => {
    const n = 10_000;
    const data = Float64Array.from({ length: n }, (_, i) => 1e9 + (i % 2 === 0 ? 1 : -1));
    const x = da.fromArray(data, { chunks: 999 });
    expect(await red.mean(x).compute()).toBe(1e9);
    expect(await red.variance(x).compute()).toBeCloseTo(1, 9);
  });

  it('refuses bad axes and options at build time, naming the axis and ndim', () => {
    const x = da.ones([2, 3], { chunks: 1 });
    expect(() => red.sum(x, { axis: 2 })).toThrow(RangeError);
    expect(() => red.sum(x, { axis: 2 })).toThrow(/axis 2 .*2 dimensions/);
    expect(() => red.mean(x, { axis: -3 })).toThrow(/axis -3 .*2 dimensions/);
    expect(() => red.max(x, { axis: [1, -1] })).toThrow(/axis -1 is repeated .*2 dimensions/);
    expect(() => red.sum(x, { axis: 0.5 })).toThrow(TypeError);
    expect(() => red.sum(x, { splitEvery: 1 })).toThrow(/splitEvery must be an integer >= 2/);
    expect(() => red.sum(x, { axes: 0 } as never)).toThrow(/unknown option 'axes'/);
    expect(() => red.argmin(x, { axis: [0, 1] } as never)).toThrow(/single number/);
    expect(() => red.variance(x, { ddof: 'a' } as never)).toThrow(/ddof/);
  });

  it('builds dask-shaped trees: splitEvery partials per merge, levels until one is left', () => {
    const x = da.ones([64], { chunks: 1 });
    const layers = (y: DaskArray) => [...y.graph.layers.keys()].map((n) => n.replace(/-[0-9a-f]{32}$/, ''));
    expect(layers(red.sum(x))).toEqual(['ones', 'sum-chunk', 'sum-partial1', 'sum-partial2', 'sum']);
    expect(layers(red.sum(x, { splitEvery: 64 }))).toEqual(['ones', 'sum-chunk', 'sum']);
    expect(layers(red.sum(x, { splitEvery: 8 }))).toEqual(['ones', 'sum-chunk', 'sum-partial1', 'sum']);
    const y = da.ones([16, 16], { chunks: 1 });
    // 16 over two axes: 4 x 4 per merge.
    expect(layers(red.sum(y, { splitEvery: 16 }))).toEqual(['ones', 'sum-chunk', 'sum-partial1', 'sum']);
    expect(red.sum(y, { axis: 1 }).chunks).toEqual([Array(16).fill(1)]);
    expect(red.sum(y, { axis: 1, keepdims: true }).chunks).toEqual([Array(16).fill(1), [1]]);
  });

  it('fuses each producer block with its partial reduction (one task per block)', () => {
    // Over some axes: the default optimizer fuses each random block into its partial.
    const x = random.random([1000, 4], { chunks: [10, 4], seed: 1 });
    const s = red.sum(x, { axis: 1 });
    const keys = Object.keys(optimize(s.daskGraph(), [s], [s.daskKeys()].flat(2) as string[]));
    expect(keys.filter((key) => key.includes('random_sample'))).toEqual([]);
    expect(keys.filter((key) => key.includes('sum-chunk'))).toHaveLength(0); // the chunks fused into their aggregates
    expect(keys).toHaveLength(100);
    // Over every axis: the partial streams the generator, the random blocks are not even referenced.
    const t = red.sum(random.random([1000], { chunks: 10, seed: 1 }));
    const tkeys = Object.keys(optimize(t.daskGraph(), [t], [t.blockKey()]));
    expect(tkeys.filter((key) => key.includes('random_sample'))).toEqual([]);
    expect(tkeys.filter((key) => key.includes('sum-chunk'))).toHaveLength(100);
  });

  it('a user-defined reduction runs through the same tree', async () => {
    // sum of squares: chunk kernels are plain self-contained functions here (they ship as source).
    const x = da.fromArray(Float64Array.from([1, 2, 3, 4, 5]), { chunks: 2 });
    const y = red.reduction(x, {
      name: 'sumsq',
      dtype: 'float64',
      chunk: (b: NdArray, ctx: red.ReduceContext) => k.sumChunk(ndarray(Float64Array.from({ length: b.size }, (_, j) => b.get(j) ** 2), [b.size]) as NdArray, ctx),
      aggregate: k.sumCombine,
      splitEvery: 2,
    });
    expect(await y.compute({ scheduler: 'sync' })).toBe(55);
  });
});

describe('cumsum and cumprod', () => {
  it('match running sums and products along each axis, uneven chunks', async () => {
    const m = da.fromArray(
      [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [9, 10, 11, 12],
      ],
      { chunks: [[2, 1], [1, 3]] },
    );
    expect(toNested(await red.cumsum(m, { axis: 0 }).compute())).toEqual([[1, 2, 3, 4], [6, 8, 10, 12], [15, 18, 21, 24]]);
    expect(toNested(await red.cumsum(m, { axis: -1 }).compute({ scheduler: 'sync' }))).toEqual([[1, 3, 6, 10], [5, 11, 18, 26], [9, 19, 30, 42]]);
    expect(toNested(await red.cumprod(m, { axis: 1 }).compute())).toEqual([[1, 2, 6, 24], [5, 30, 210, 1680], [9, 90, 990, 11880]]);
    const v = da.fromArray(Float64Array.from([0.5, 2, 3, 4, 5, 6, 7]), { chunks: [[3, 0, 1, 3]] });
    expect(toNested(await red.cumsum(v).compute())).toEqual([0.5, 2.5, 5.5, 9.5, 14.5, 20.5, 27.5]);
    expect(toNested(await red.cumprod(v).compute())).toEqual([0.5, 1, 3, 12, 60, 360, 2520]);
  });

  it('give numpy dtypes, a [1] result for 0-d input, and refuse axis=null on n-d arrays', async () => {
    const b = da.ones([3], { dtype: 'bool', chunks: 2 });
    expect(red.cumsum(b).dtype).toBe('int32');
    expect(toNested(await red.cumsum(b).compute())).toEqual([1, 2, 3]);
    const s = da.fromArray(ndarray(Float64Array.of(4), []) as NdArray);
    expect(toNested(await red.cumsum(s).compute())).toEqual([4]);
    expect(() => red.cumsum(da.ones([2, 2]))).toThrow(/axis=null/);
    expect(() => red.cumsum(da.ones([2, 2]), { axis: 2 })).toThrow(RangeError);
    const big = da.fromArray(Int32Array.from([65537, 65537, 65537]), { chunks: 1 });
    expect(toNested(await red.cumprod(big).compute())).toEqual([65537, Math.imul(65537, 65537), Math.imul(Math.imul(65537, 65537), 65537)]);
  });

  it('matches a direct running sum for random 3-d arrays and chunkings', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.nat(), async (c, pick) => {
        if (c.shape.length === 0) return;
        const { data, x } = buildCase({ ...c, int: true });
        const axis = pick % c.shape.length;
        const got = flatValues(await red.cumsum(x, { axis }).compute({ scheduler: 'sync' }));
        const stride = c.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
        const want = [...data];
        for (let i = 0; i < want.length; i++) if (Math.floor(i / stride) % c.shape[axis] !== 0) want[i] += want[i - stride];
        expect(got.shape).toEqual(c.shape);
        expect(got.values).toEqual(want);
      }),
      { numRuns: 40 },
    );
  });
});

describe('schedulers', () => {
  it('give identical results on sync, threads with 1 worker and threads with 2 workers', async () => {
    const x = random.normal(3, 2, [300, 200], { chunks: [70, 60], seed: 11 });
    const ys = [red.sum(x), red.mean(x, { axis: 0 }), red.std(x, { axis: 1, ddof: 1 }), red.argmax(x), red.min(x, { axis: [0, 1], keepdims: true })];
    const sync = await compute(...ys, { scheduler: 'sync' });
    const one = await compute(...ys, { numWorkers: 1 });
    const two = await compute(...ys, { numWorkers: 2 });
    expect(one.map(flatValues)).toEqual(sync.map(flatValues));
    expect(two.map(flatValues)).toEqual(sync.map(flatValues));
  });
});

describe('streaming', () => {
  it('sums 1.6 GB of random blocks in bounded memory: blocks fuse with their partial sums and are collected', async () => {
    const before = process.memoryUsage.rss();
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    try {
      const total = (await red.sum(random.random([2e8], { chunks: 1e6, seed: 8 })).compute()) as number;
      expect(total / 2e8).toBeCloseTo(0.5, 3);
    } finally {
      clearInterval(timer);
    }
    // Without fusion or without collecting dropped shared blocks this grows by ~1.6 GB.
    expect(peak - before).toBeLessThan(600 * 2 ** 20);
  });
});
