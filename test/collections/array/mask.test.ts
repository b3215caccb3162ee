import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdownThreadPools } from '../../../src/index.js';
import { DaskArray, fromArray, type NdArray } from '../../../src/collections/array/index.js';
import { concatenate, stack } from '../../../src/collections/array/concatenate.js';
import { computeChunkSizes, mask, requireKnownChunks, UnknownChunksError } from '../../../src/collections/array/mask.js';
import { reshape } from '../../../src/collections/array/reshape.js';
import { newaxis, slice } from '../../../src/collections/array/slicing.js';
import { transpose } from '../../../src/collections/array/transpose.js';
import { make, toNested, partition } from './helpers.js';

afterAll(() => shutdownThreadPools());


/** A shape, two chunkings (array and condition) and a seed for the condition's values. */
const cases = fc
  .array(fc.integer({ min: 0, max: 6 }), { minLength: 0, maxLength: 3 })
  .chain((shape) =>
    fc.tuple(fc.constant(shape), fc.tuple(...shape.map(partition)), fc.tuple(...shape.map(partition)), fc.integer({ min: 1, max: 5 })),
  );

function setup(shape: number[], xChunks: number[][], cChunks: number[][], every: number) {
  const data = make(shape, (i) => i * 3 - 7);
  const keep = make(shape, (i) => Number((i * 7) % every === 0));
  const x = fromArray(data, { chunks: xChunks });
  const cond = fromArray(keep, { chunks: cChunks, dtype: 'bool' });
  const flat = [toNested(shape.length ? data : data.get())].flat(Infinity) as number[];
  const flags = [toNested(shape.length ? keep : keep.get())].flat(Infinity) as number[];
  return { x, cond, expected: flat.filter((_, i) => flags[i]) };
}

describe('mask', () => {
  it('keeps the elements where the condition holds, row-major (sync)', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ([shape, xc, cc, every]) => {
        const { x, cond, expected } = setup(shape, xc, cc, every);
        const m = mask(x, cond);
        expect(m.ndim).toBe(1);
        expect(m.chunks[0].every(Number.isNaN)).toBe(true);
        expect(Number.isNaN(m.shape[0])).toBe(true);
        const r = (await m.compute({ scheduler: 'sync' })) as NdArray;
        expect(r.shape).toEqual([expected.length]);
        expect(toNested(r)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('gives the same result on the thread pool', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ([shape, xc, cc, every]) => {
        const { x, cond, expected } = setup(shape, xc, cc, every);
        expect(toNested(await mask(x, cond).compute({ scheduler: 'threads' }))).toEqual(expected);
      }),
      { numRuns: 20 },
    );
  });

  it('prints unknown chunk sizes and keeps one block per input block', () => {
    const x = fromArray(make([4, 6]), { chunks: [2, 3] });
    const m = mask(x, fromArray(make([4, 6], (i) => i % 2), { chunks: [2, 3], dtype: 'bool' }));
    expect(m.chunks).toEqual([[NaN, NaN, NaN, NaN]]);
    expect(String(m)).toMatch(/^dask\.array<mask, shape=\(nan,\), dtype=float64, chunksize=\(nan,\).*unknown chunk sizes>$/);
  });

  it('accepts in-memory booleans as the condition', async () => {
    const x = fromArray(make([2, 3]), { chunks: 2 });
    const m = mask(x, [
      [true, false, true],
      [false, false, true],
    ]);
    expect(toNested(await m.compute({ scheduler: 'sync' }))).toEqual([0, 2, 5]);
  });

  it('works on 0-d arrays', async () => {
    const x = fromArray(make([], () => 4));
    expect(toNested(await mask(x, fromArray(make([], () => 1), { dtype: 'bool' })).compute())).toEqual([4]);
    expect(toNested(await mask(x, fromArray(make([], () => 0), { dtype: 'bool' })).compute())).toEqual([]);
  });

  it('rejects conditions that are not bool or have another shape', () => {
    const x = fromArray(make([4, 6]), { chunks: 2 });
    expect(() => mask(x, fromArray(make([4, 6])))).toThrow(/must have dtype bool, got float64/);
    expect(() => mask(x, fromArray(make([6, 4]), { dtype: 'bool' }))).toThrow(/condition has shape \[6, 4\] but the array has shape \[4, 6\]/);
  });
});

describe('unknown chunk sizes', () => {
  const x = fromArray(make([5, 4]), { chunks: [2, 3] });
  const m = mask(x, fromArray(make([5, 4], (i) => Number(i % 3 !== 1)), { chunks: 2, dtype: 'bool' }));
  const expected = Array.from({ length: 20 }, (_, i) => i).filter((i) => i % 3 !== 1);

  it('computeChunkSizes fills them in, after which everything works', async () => {
    const known = await computeChunkSizes(m, { scheduler: 'sync' });
    expect(known.chunks[0].every(Number.isInteger)).toBe(true);
    expect(known.shape).toEqual([expected.length]);
    expect(known.name).toBe(m.name);
    expect(String(known)).not.toMatch(/unknown/);
    expect(toNested(await slice(known, [null, null, -2]).compute())).toEqual(expected.filter((_, i) => (expected.length - 1 - i) % 2 === 0).reverse());
    expect(toNested(await reshape(known, [-1, 1]).compute({ scheduler: 'sync' }))).toEqual(expected.map((v) => [v]));
    expect(await computeChunkSizes(known)).toBe(known);
  });

  it('computeChunkSizes runs on the thread pool too', async () => {
    const known = await computeChunkSizes(m, { scheduler: 'threads' });
    expect(known.shape).toEqual([expected.length]);
  });

  it('operations that need sizes refuse, naming the fix', () => {
    const fix = /unknown chunk sizes.*computeChunkSizes\(x\).*compute_chunk_sizes\(\)/;
    expect(() => slice(m, [0, 3])).toThrow(fix);
    expect(() => reshape(m, [2, -1])).toThrow(fix);
    expect(() => stack([m, m])).toThrow(fix);
    expect(() => concatenate([slice(m, newaxis), slice(m, newaxis)], 0)).toThrow(fix);
    expect(() => requireKnownChunks(m, 'sum')).toThrow(UnknownChunksError);
    expect(() => mask(m, [true, false])).toThrow(fix);
    expect(() => mask(m, fromArray([true, false]))).toThrow(/condition has shape \[2\] but the array has shape \[nan\]/);
  });

  it('operations that do not need sizes still work and compute', async () => {
    expect(reshape(m, -1)).toBe(m);
    expect(transpose(m)).toBe(m);
    const both = concatenate([m, m]);
    expect(both.chunks[0]).toHaveLength(2 * m.numblocks[0]);
    expect(toNested(await both.compute({ scheduler: 'sync' }))).toEqual([...expected, ...expected]);
    const col = transpose(slice(m, newaxis));
    expect(col.shape).toEqual([NaN, 1]);
    expect(toNested(await col.compute({ scheduler: 'threads' }))).toEqual(expected.map((v) => [v]));
    expect(m).toBeInstanceOf(DaskArray);
  });
});
