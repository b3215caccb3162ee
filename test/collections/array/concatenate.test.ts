import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdownThreadPools } from '../../../src/index.js';
import { fromArray, type DType, type NdArray } from '../../../src/collections/array/index.js';
import { concatenate, stack } from '../../../src/collections/array/concatenate.js';
import { make, toNested, partition } from './helpers.js';

afterAll(() => shutdownThreadPools());


/** Nested arrays joined along `axis` (numpy's concatenate on lists). */
function concatNested(parts: unknown[], axis: number): unknown {
  if (axis === 0) return parts.flatMap((p) => p as unknown[]);
  const first = parts[0] as unknown[];
  return first.map((_, i) => concatNested(parts.map((p) => (p as unknown[])[i]), axis - 1));
}

function stackNested(parts: unknown[], axis: number): unknown {
  if (axis === 0) return parts;
  const first = parts[0] as unknown[];
  return first.map((_, i) => stackNested(parts.map((p) => (p as unknown[])[i]), axis - 1));
}

/** Two to three arrays of one rank, equal except along `axis`, each chunked at random. */
const concatCases = fc
  .tuple(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 }), fc.nat(), fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 2, maxLength: 3 }))
  .chain(([base, pick, lengths]) => {
    const axis = pick % base.length;
    const shapes = lengths.map((n) => base.map((b, a) => (a === axis ? n : b)));
    return fc.tuple(fc.constant(axis), fc.constant(shapes), fc.tuple(...shapes.map((s) => fc.tuple(...s.map(partition)))), fc.boolean());
  });

describe('concatenate', () => {
  it('equals direct concatenation for random shapes and chunkings (sync), with negative axes', async () => {
    await fc.assert(
      fc.asyncProperty(concatCases, async ([axis, shapes, chunkings, negative]) => {
        const datas = shapes.map((s, j) => make(s, (i) => i + 100 * j));
        const xs = datas.map((d, j) => fromArray(d, { chunks: chunkings[j] }));
        const y = concatenate(xs, negative ? axis - shapes[0].length : axis);
        const total = shapes.reduce((a, s) => a + s[axis], 0);
        expect(y.shape).toEqual(shapes[0].map((n, a) => (a === axis ? total : n)));
        expect(y.chunks[axis]).toEqual(chunkings.flatMap((c) => c[axis]));
        const r = await y.compute({ scheduler: 'sync' });
        expect((r as NdArray).shape).toEqual(y.shape);
        expect(toNested(r)).toEqual(concatNested(datas.map(toNested), axis));
      }),
      { numRuns: 200 },
    );
  });

  it('gives the same results on the thread pool', async () => {
    await fc.assert(
      fc.asyncProperty(concatCases, async ([axis, shapes, chunkings]) => {
        const datas = shapes.map((s, j) => make(s, (i) => i - j));
        const y = concatenate(datas.map((d, j) => fromArray(d, { chunks: chunkings[j] })), axis);
        expect(toNested(await y.compute({ scheduler: 'threads' }))).toEqual(concatNested(datas.map(toNested), axis));
      }),
      { numRuns: 15 },
    );
  });

  it('cuts the other axes alike (the common refinement of the inputs)', () => {
    const a = fromArray(make([2, 6]), { chunks: [2, [4, 2]] });
    const b = fromArray(make([3, 6]), { chunks: [[1, 2], [3, 3]] });
    expect(concatenate([a, b]).chunks).toEqual([[2, 1, 2], [3, 1, 2]]);
  });

  it('promotes dtypes as numpy does', async () => {
    const cases: [DType, DType, DType][] = [
      ['int32', 'float64', 'float64'],
      ['int8', 'uint8', 'int16'],
      ['bool', 'int16', 'int16'],
      ['float32', 'int16', 'float32'],
      ['uint16', 'uint16', 'uint16'],
    ];
    for (const [p, q, r] of cases) {
      // fromArray converts as numpy's astype: -1 stored as uint8 is 255, as uint16 65535.
      const a = p === 'bool' ? fromArray([[false, true], [true, true]]) : fromArray(make([2, 2], (i) => i), { dtype: p });
      const b = fromArray(make([1, 2], (i) => 0 - i), { dtype: q });
      const y = concatenate([a, b]);
      expect(y.dtype).toBe(r);
      const out = (await y.compute({ scheduler: 'sync' })) as NdArray;
      const expected = p === 'bool' ? [[0, 1], [1, 1], [0, -1]] : [[0, 1], [2, 3], [0, -1]];
      const wrapped = { uint8: 255, uint16: 65535 } as Record<string, number>;
      if (q in wrapped) expected[2][1] = wrapped[q];
      expect(toNested(out)).toEqual(expected);
    }
  });

  it('returns a lone array as is', () => {
    const a = fromArray(make([3]));
    expect(concatenate([a])).toBe(a);
  });

  it('rejects mismatched inputs, naming the shapes', () => {
    const a = fromArray(make([2, 3]));
    expect(() => concatenate([a, fromArray(make([2, 4]))], 0)).toThrow(/shapes \[2, 3\] and \[2, 4\] differ on axis 1; they must match on all but axis 0/);
    expect(() => concatenate([a, fromArray(make([2, 4]))], 1)).not.toThrow();
    expect(() => concatenate([a, fromArray(make([6]))])).toThrow(/same number of dimensions, but shapes \[2, 3\] and \[6\] differ/);
    expect(() => concatenate([])).toThrow(TypeError);
    expect(() => concatenate([a, make([2, 3]) as never])).toThrow(/item 1 is not a DaskArray/);
    expect(() => concatenate([a, a], 2)).toThrow(/axis 2 is out of bounds/);
    expect(() => concatenate([fromArray(make([], () => 1)), fromArray(make([], () => 2))])).toThrow(/0-d arrays cannot be concatenated/);
  });
});

describe('stack', () => {
  const stackCases = fc
    .tuple(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 }), fc.integer({ min: 1, max: 3 }), fc.nat())
    .chain(([shape, count, pick]) =>
      fc.tuple(fc.constant(shape), fc.constant(pick % (shape.length + 1)), fc.array(fc.tuple(...shape.map(partition)), { minLength: count, maxLength: count })),
    );

  it('equals direct stacking for random shapes, chunkings and axes (sync)', async () => {
    await fc.assert(
      fc.asyncProperty(stackCases, async ([shape, axis, chunkings]) => {
        const datas = chunkings.map((_, j) => make(shape, (i) => i * 10 + j));
        const y = stack(datas.map((d, j) => fromArray(d, { chunks: chunkings[j] })), axis);
        const expectedShape = [...shape];
        expectedShape.splice(axis, 0, datas.length);
        expect(y.shape).toEqual(expectedShape);
        expect(y.chunks[axis]).toEqual(datas.map(() => 1));
        const nest = datas.map((d) => toNested(shape.length ? d : d.get()));
        expect(toNested(await y.compute({ scheduler: 'sync' }))).toEqual(stackNested(nest, axis));
      }),
      { numRuns: 150 },
    );
  });

  it('works on the thread pool, with negative axes and dtype promotion', async () => {
    const a = fromArray(make([2, 3]), { chunks: 2, dtype: 'int32' });
    const b = fromArray(make([2, 3], (i) => i / 2), { chunks: [1, 3] });
    for (const scheduler of ['sync', 'threads'] as const) {
      const y = stack([a, b], -1);
      expect(y.dtype).toBe('float64');
      expect(y.shape).toEqual([2, 3, 2]);
      expect(toNested(await y.compute({ scheduler }))).toEqual(stackNested([toNested(make([2, 3])), toNested(make([2, 3], (i) => i / 2))], 2));
    }
  });

  it('rejects arrays of different shapes, naming them', () => {
    const a = fromArray(make([2, 3]));
    expect(() => stack([a, fromArray(make([3, 3]))])).toThrow(/shapes \[2, 3\] and \[3, 3\] differ on axis 0; they must match on every axis/);
    expect(() => stack([a, a], 3)).toThrow(/axis 3 is out of bounds for an array of 3 dimensions/);
    expect(stack([a, a], -3).shape).toEqual([2, 2, 3]);
  });
});
