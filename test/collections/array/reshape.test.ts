import fc from 'fast-check';
import ndarray from 'ndarray';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdownThreadPools } from '../../../src/index.js';
import { fromArray, type NdArray } from '../../../src/collections/array/index.js';
import { contractChunks, expandChunks, reshape, reshapeRechunk } from '../../../src/collections/array/reshape.js';
import { moveaxis, swapaxes, transpose } from '../../../src/collections/array/transpose.js';
import { make, toNested, partition } from './helpers.js';

afterAll(() => shutdownThreadPools());


const divisors = (n: number) => Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);

/** A shape of `size` elements chosen by `picks` (1s included; a 0 somewhere when size is 0). */
function factorShape(size: number, picks: readonly number[]): number[] {
  if (size === 0) return [0, ...picks.map((p) => p % 4)];
  const out: number[] = [];
  let rest = size;
  for (const p of picks) {
    const ds = divisors(rest);
    const d = ds[p % ds.length];
    out.push(d);
    rest /= d;
  }
  return [...out, rest];
}

const cases = fc
  .array(fc.integer({ min: 0, max: 6 }), { minLength: 0, maxLength: 4 })
  .chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.tuple(...shape.map(partition)),
      fc.array(fc.nat(), { maxLength: 4 }),
      fc.option(fc.nat(), { nil: undefined }),
    ),
  )
  .map(([shape, chunks, picks, minusOne]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const target = factorShape(size, picks);
    const spec = size > 0 && minusOne !== undefined ? target.map((n, i) => (i === minusOne % target.length ? -1 : n)) : target;
    return { shape, chunks, target, spec };
  });

const nested = (a: NdArray) => toNested(a.shape.length ? a : a.get());

describe('reshape', () => {
  it('equals numpy-style reshape for random shapes, chunkings and targets, and round-trips (sync)', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ shape, chunks, target, spec }) => {
        const data = make(shape, (i) => i - 4);
        const x = fromArray(data, { chunks });
        const y = reshape(x, spec);
        expect(y.shape).toEqual(target);
        expect(y.chunks.map((c) => c.reduce((a, b) => a + b, 0))).toEqual(target);
        const expected = ndarray(data.data, target) as NdArray;
        expect(toNested(await y.compute({ scheduler: 'sync' }))).toEqual(nested(expected));
        const back = reshape(y, shape);
        expect(toNested(await back.compute({ scheduler: 'sync' }))).toEqual(nested(data));
      }),
      { numRuns: 250 },
    );
  });

  it('gives the same results on the thread pool', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ shape, chunks, target, spec }) => {
        const data = make(shape, (i) => i * 0.5);
        const y = reshape(fromArray(data, { chunks }), spec);
        expect(toNested(await y.compute({ scheduler: 'threads' }))).toEqual(nested(ndarray(data.data, target) as NdArray));
      }),
      { numRuns: 20 },
    );
  });

  it('plans chunks as dask reshape_rechunk does', () => {
    const table: [number[], number[], number[][], number[][], number[][]][] = [
      [[4], [2, 2], [[2, 2]], [[2, 2]], [[1, 1], [2]]],
      [[4], [4, 1], [[2, 2]], [[2, 2]], [[2, 2], [1]]],
      [[4], [1, 4], [[2, 2]], [[2, 2]], [[1], [2, 2]]],
      [[1, 4], [4], [[1], [2, 2]], [[1], [2, 2]], [[2, 2]]],
      [[4, 1, 4], [4, 4], [[2, 2], [1], [2, 2]], [[2, 2], [1], [2, 2]], [[2, 2], [2, 2]]],
      [[2, 2], [4], [[2], [2]], [[2], [2]], [[4]]],
      [[2, 2], [4], [[1, 1], [2]], [[1, 1], [2]], [[2, 2]]],
      [[2, 2], [4], [[2], [1, 1]], [[1, 1], [2]], [[2, 2]]],
      [[64], [4, 4, 4], [[8, 8, 8, 8, 8, 8, 8, 8]], [[16, 16, 16, 16]], [[1, 1, 1, 1], [4], [4]]],
      [[64], [4, 4, 4], [[32, 32]], [[32, 32]], [[2, 2], [4], [4]]],
      [[64], [4, 4, 4], [[20, 44]], [[16, 48]], [[1, 3], [4], [4]]],
      [[64, 4], [8, 8, 4], [[16, 16, 16, 16], [2, 2]], [[16, 16, 16, 16], [2, 2]], [[2, 2, 2, 2], [8], [2, 2]]],
      [[4, 4, 4], [64], [[2, 2], [2, 2], [2, 2]], [[1, 1, 1, 1], [4], [4]], [[16, 16, 16, 16]]],
    ];
    for (const [inShape, outShape, chunks, inChunks, outChunks] of table) {
      expect(reshapeRechunk(inShape, outShape, chunks)).toEqual({ inChunks, outChunks });
    }
    expect(expandChunks([7, 4], 3)).toEqual([2, 2, 3, 1, 1, 2]);
    expect(expandChunks([3, 4], 2)).toEqual([1, 2, 2, 2]);
    expect(contractChunks([2, 2, 8, 4], 4)).toEqual([4, 8, 4]);
  });

  it('also handles groups that both merge and split, which dask does not', async () => {
    expect(reshapeRechunk([4, 6], [6, 4], [[2, 2], [3, 3]])).toEqual({ inChunks: [[2, 2], [6]], outChunks: [[3, 3], [4]] });
    const data = make([4, 6]);
    const y = reshape(fromArray(data, { chunks: [1, 5] }), [3, 8]);
    expect(toNested(await y.compute({ scheduler: 'sync' }))).toEqual(toNested(ndarray(data.data, [3, 8]) as NdArray));
  });

  it('returns the array itself when nothing changes', () => {
    const x = fromArray(make([3, 4]), { chunks: 2 });
    expect(reshape(x, [3, 4])).toBe(x);
    expect(reshape(x, [-1, 4])).toBe(x);
    const v = fromArray(make([5]), { chunks: 2 });
    expect(reshape(v, -1)).toBe(v);
  });

  it('rejects impossible shapes, naming both', () => {
    const x = fromArray(make([3, 4]), { chunks: 2 });
    expect(() => reshape(x, [5, 2])).toThrow(/cannot reshape an array of shape \[3, 4\] \(size 12\) into shape \[5, 2\]/);
    expect(() => reshape(x, [-1, -1])).toThrow(/only one length can be -1/);
    expect(() => reshape(x, [5, -1])).toThrow(/no length for -1/);
    expect(() => reshape(x, [2.5, 2])).toThrow(RangeError);
    expect(() => reshape(fromArray(make([0, 3])), [-1, 0])).toThrow(/no length for -1/);
  });
});

/** All permutations of 0..n-1. */
const perms = (n: number): number[][] =>
  n === 0 ? [[]] : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));

describe('transpose', () => {
  const shapesAndChunks = fc
    .array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 4 })
    .chain((shape) => fc.tuple(fc.constant(shape), fc.tuple(...shape.map(partition)), fc.nat()));

  it('equals ndarray transpose for random permutations (sync), with negative axes', async () => {
    await fc.assert(
      fc.asyncProperty(shapesAndChunks, async ([shape, chunks, pick]) => {
        const data = make(shape, (i) => 2 * i);
        const x = fromArray(data, { chunks });
        const all = perms(shape.length);
        const perm = all[pick % all.length];
        const y = transpose(x, perm.map((p, i) => (i % 2 ? p - shape.length : p)));
        expect(y.chunks).toEqual(perm.map((p) => chunks[p]));
        expect(toNested(await y.compute({ scheduler: 'sync' }))).toEqual(nested(data.transpose(...perm) as NdArray));
      }),
      { numRuns: 200 },
    );
  });

  it('reverses the axes by default (x.T), on both schedulers', async () => {
    const data = make([2, 3, 4]);
    const x = fromArray(data, { chunks: [1, 2, 3] });
    for (const scheduler of ['sync', 'threads'] as const) {
      expect(toNested(await transpose(x).compute({ scheduler }))).toEqual(toNested(data.transpose(2, 1, 0) as NdArray));
    }
    expect(transpose(transpose(x)).shape).toEqual([2, 3, 4]);
    expect(transpose(x, [0, 1, 2])).toBe(x);
  });

  it('swapaxes and moveaxis permute as numpy does', async () => {
    const data = make([2, 3, 4]);
    const x = fromArray(data, { chunks: 2 });
    expect(swapaxes(x, 0, -1).shape).toEqual([4, 3, 2]);
    expect(moveaxis(x, 0, -1).shape).toEqual([3, 4, 2]);
    expect(moveaxis(x, -1, 0).shape).toEqual([4, 2, 3]);
    expect(toNested(await moveaxis(x, 0, -1).compute({ scheduler: 'sync' }))).toEqual(toNested(data.transpose(1, 2, 0) as NdArray));
  });

  it('rejects axes that are not a permutation', () => {
    const x = fromArray(make([2, 3]));
    expect(() => transpose(x, [0])).toThrow(/do not match an array of 2 dimensions/);
    expect(() => transpose(x, [0, 0])).toThrow(/repeated axis/);
    expect(() => transpose(x, [0, 2])).toThrow(/axis 2 is out of bounds for an array of 2 dimensions/);
  });
});
