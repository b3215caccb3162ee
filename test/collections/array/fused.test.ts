import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import * as da from '../../../src/collections/array/index.js';
import type { DaskArray } from '../../../src/collections/array/index.js';
import { fusedChunk, fusedElemwise } from '../../../src/collections/array/chunk/fused.js';
import { fuseElementwise } from '../../../src/collections/array/optimize.js';
import { random } from '../../../src/collections/array/random.js';
import * as red from '../../../src/collections/array/reductions.js';
import { optimize } from '../../../src/graph/compute.js';
import { isTask, type Graph } from '../../../src/graph/spec.js';
import { compute, shutdownThreadPools } from '../../../src/index.js';
import { expectClose, forEachIndex, partition } from './helpers.js';

afterAll(() => shutdownThreadPools());

/** The functions that the tasks of a graph call, nested tasks included. */
function functionsOf(graph: Graph): Function[] {
  const walk = (x: unknown): Function[] => (Array.isArray(x) ? [...(isTask(x) ? [x[0]] : []), ...x.flatMap(walk)] : []);
  return Object.values(graph).flatMap(walk);
}

function optimised(x: DaskArray): Graph {
  return optimize(x.daskGraph(), [x], ([x.daskKeys()] as unknown[]).flat(Infinity) as string[]);
}

/** Chunk sizes summing to n, cut at random places (uneven last chunks included). */
const chunksOf = (n: number) =>
  fc.array(fc.integer({ min: 1, max: Math.max(1, n) }), { minLength: 1, maxLength: 4 }).map((cuts) => {
    const out: number[] = [];
    let left = n;
    for (const c of cuts) {
      if (left === 0) break;
      out.push(Math.min(c, left));
      left -= Math.min(c, left);
    }
    if (left > 0) out.push(left);
    return out.length ? out : [0];
  });

const REDUCTIONS = ['sum', 'mean', 'var', 'max', 'argmin', 'any'] as const;

function reduce(op: (typeof REDUCTIONS)[number], x: DaskArray, axis: number | null): DaskArray {
  if (op === 'argmin') return red.argmin(x, { axis });
  if (op === 'var') return red.variance(x, { axis, ddof: 1 });
  return red[op](x, { axis });
}

describe('blockwise fusion of elementwise expressions into reductions', () => {
  it('x + x.T reduced along axis 0 never makes the sum block and matches the unoptimised graph', async () => {
    const x = random.random([9, 9], { chunks: [[4, 5], [2, 7]], seed: 5 });
    const m = red.mean(x.add(x.T), { axis: 0 });
    const g = optimised(m);
    expect(functionsOf(g)).toContain(fusedChunk);
    expect(Object.keys(g).some((k) => k.startsWith("('add-"))).toBe(false);
    const [fused] = await compute(m, { scheduler: 'sync' });
    const [plain] = await compute(m, { scheduler: 'sync', optimize: false });
    expectClose(fused, plain, 1e-12);
    const [threaded] = await compute(m);
    expectClose(threaded, plain, 1e-12);
  });

  it('any expression, reduction and axis, with uneven chunks and broadcasting, gives the unoptimised result', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 7 }).chain((rows) =>
          fc.integer({ min: 1, max: 7 }).chain((cols) =>
            fc.record({
              rows: fc.constant(rows),
              cols: fc.constant(cols),
              rowChunks: chunksOf(rows),
              colChunks: chunksOf(cols),
              expr: fc.integer({ min: 0, max: 3 }),
              op: fc.constantFrom(...REDUCTIONS),
              axis: fc.constantFrom(0, 1, -1, null),
              seed: fc.integer({ min: 0, max: 1000 }),
            }),
          ),
        ),
        async ({ rows, cols, rowChunks, colChunks, expr, op, axis, seed }) => {
          const x = random.random([rows, cols], { chunks: [rowChunks, colChunks], seed });
          const y = random.normal(0, 1, [rows, cols], { chunks: [rowChunks, colChunks], seed: seed + 1 });
          const v = random.random([cols], { chunks: [colChunks], seed: seed + 2 });
          const e = [
            () => x.mul(2).sub(y),
            () => da.exp(x.add(v)).mul(y.abs()), // a broadcast row, a chain of three
            () => da.where(x.gt(0.5), y, v.neg()),
            () => x.sub(v).add(1).mul(x.sub(v)), // x - v used twice: left unfused, the rest fused
          ][expr]();
          const r = reduce(op, op === 'any' ? e.gt(0.7) : e, axis);
          const plain = await compute(r, { scheduler: 'sync', optimize: false }).then(
            ([v]) => ({ v }),
            (err: Error) => ({ err }),
          );
          // An empty max or argmin fails as numpy's does, fused or not.
          if ('err' in plain) return void (await expect(compute(r, { scheduler: 'sync' })).rejects.toThrow((plain.err.cause as Error).message));
          const [fused] = await compute(r, { scheduler: 'sync' });
          expectClose(fused, plain.v, 1e-9);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('blocks larger than one slab are reduced slab by slab with the same result', async () => {
    // 230 x 300 blocks: 109 rows of 300 per slab along axis 0, 2 slabs + a short one.
    const x = random.random([460, 300], { chunks: [[230, 230], [300]], seed: 9 });
    const y = random.random([300, 460], { chunks: [[300], [230, 230]], seed: 10 });
    const v = random.random([300], { chunks: 300, seed: 11 });
    const e = x.mul(2).sub(y.T).add(v);
    for (const op of REDUCTIONS) {
      for (const axis of [0, 1, null]) {
        const r = reduce(op, op === 'any' ? e.gt(1.9) : e, axis);
        expect(functionsOf(optimised(r))).toContain(fusedChunk);
        const [fused] = await compute(r, { scheduler: 'sync' });
        const [plain] = await compute(r, { scheduler: 'sync', optimize: false });
        expectClose(fused, plain, 1e-9);
      }
    }
  });

  it('x + x.T summed or averaged along each axis, uneven chunks, equals a direct sum over x', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            chunks: partition(n),
            op: fc.constantFrom('sum', 'mean'),
            axis: fc.constantFrom<number | null>(0, 1, null),
            seed: fc.nat(1000),
          }),
        ),
        async ({ n, chunks, op, axis, seed }) => {
          const x = random.random([n, n], { chunks: [chunks, chunks], seed });
          const r = red[op as 'sum' | 'mean'](x.add(x.T), { axis });
          expect(functionsOf(optimised(r))).toContain(fusedChunk);
          const [xv] = (await compute(x, { scheduler: 'sync' })) as [da.NdArray];
          const sums = axis === null ? [0] : new Array<number>(n).fill(0);
          forEachIndex([n, n], ([i, j]) => (sums[axis === null ? 0 : axis === 0 ? j : i] += xv.get(i, j) + xv.get(j, i)));
          const count = axis === null ? n * n : n;
          const expected = sums.map((v) => (op === 'mean' ? v / count : v));
          const [fused] = (await compute(r, { scheduler: 'sync' })) as [da.ArrayResult];
          expect([typeof fused === 'number' ? fused : Array.from(fused.data as Float64Array)].flat()).toEqual(
            expected.map((v) => expect.closeTo(v, 9)),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('3-d sums with an inner pair transposed and a broadcast row, float64, float32 and int32 operands', async () => {
    const x = random.random([5, 13, 13], { chunks: [[2, 3], [6, 7], [13]], seed: 3 });
    const f = random.random([5, 13, 13], { chunks: [[2, 3], [6, 7], [13]], seed: 4, dtype: 'float32' });
    const i = random.randint(-9, 9, [5, 13, 13], { chunks: [[2, 3], [6, 7], [13]], seed: 5 });
    const v = random.random([13], { chunks: 13, seed: 6 });
    const [xv, fv, iv, vv] = (await compute(x, f, i, v, { scheduler: 'sync' })) as da.NdArray[];
    // [expression, its value at (a, b, c) from the materialised inputs, its dtype]
    const cases: [DaskArray, (a: number, b: number, c: number) => number, string][] = [
      [x.add(x.transpose([0, 2, 1])).mul(v), (a, b, c) => (xv.get(a, b, c) + xv.get(a, c, b)) * vv.get(c), 'float64'],
      [f.sub(i.transpose([0, 2, 1])), (a, b, c) => fv.get(a, b, c) - iv.get(a, c, b), 'float64'],
      [f.add(f.transpose([0, 2, 1])).mul(2), (a, b, c) => Math.fround(Math.fround(fv.get(a, b, c) + fv.get(a, c, b)) * 2), 'float32'],
      [i.add(i.transpose([0, 2, 1])).mul(i), (a, b, c) => (iv.get(a, b, c) + iv.get(a, c, b)) * iv.get(a, b, c), 'int32'],
    ];
    for (const [e, value, dtype] of cases) {
      expect(e.dtype).toBe(dtype);
      for (const axes of [[0], [1], [2], [0, 1], [1, 2], [0, 1, 2]]) {
        const r = red.sum(e, { axis: axes });
        expect(functionsOf(optimised(r))).toContain(fusedChunk);
        const keep = [0, 1, 2].filter((k) => !axes.includes(k));
        const shape = keep.map((k) => (k === 0 ? 5 : 13));
        const expected = new Float64Array(shape.reduce((a, b) => a * b, 1));
        forEachIndex([5, 13, 13], (idx) => {
          const at = keep.reduce((a, k, j) => a * shape[j] + idx[k], 0);
          expected[at] += value(idx[0], idx[1], idx[2]);
        });
        const [got] = (await compute(r, { scheduler: 'sync' })) as [da.ArrayResult];
        const values = typeof got === 'number' ? [got] : Array.from(got.data as ArrayLike<number>);
        expect(values).toEqual(Array.from(expected, (q) => expect.closeTo(q, dtype === 'float32' ? 3 : 9)));
      }
    }
    const [threaded] = (await compute(red.mean(cases[0][0], { axis: 1 }))) as [da.NdArray];
    const [plain] = (await compute(red.mean(cases[0][0], { axis: 1 }), { scheduler: 'sync', optimize: false })) as [da.NdArray];
    expectClose(threaded, plain, 1e-12);
  });

  it('leaves an elementwise block alone when it is requested or used twice', async () => {
    const x = random.random([6, 4], { chunks: 3, seed: 1 });
    const y = x.add(1);
    const s = red.sum(y);
    const g = fuseElementwise({ ...y.daskGraph(), ...s.daskGraph() }, [...(y.daskKeys() as string[][]).flat(), s.blockKey()]);
    expect(functionsOf(g)).not.toContain(fusedChunk);
    const [yv, sv] = await compute(y, s, { scheduler: 'sync' });
    const [plain] = await compute(s, { scheduler: 'sync', optimize: false });
    expect(sv).toBeCloseTo(plain as number, 12);
    expect((yv as da.NdArray).get(5, 3)).toBeGreaterThanOrEqual(1);

    const twice = red.sum(y.mul(y), { axis: 0 });
    expect(Object.keys(optimised(twice)).some((k) => k.startsWith("('add-"))).toBe(true);
  });
});

describe('fused elementwise chains', () => {
  it('a chain of elementwise ops runs as one task per block and matches the unoptimised graph', async () => {
    const x = random.random([7, 5], { chunks: [[3, 4], [5]], seed: 2 });
    const v = random.random([5], { chunks: 5, seed: 3 });
    const z = da.sqrt(x.mul(v).add(x.T.T)).round(3);
    const g = optimised(z);
    expect(functionsOf(g).filter((f) => f === fusedElemwise)).toHaveLength(2);
    const [fused] = await compute(z);
    const [plain] = await compute(z, { scheduler: 'sync', optimize: false });
    expectClose(fused, plain, 0);
  });

  it('an elementwise op on a 0-d array and on an empty array', async () => {
    const s = red.sum(da.fromArray([1, 2], { chunks: 1 })); // 0-d: 3
    const empty = random.random([0, 3], { chunks: 2, seed: 1 });
    const [a, b] = await compute(da.exp(s.add(1)).mul(2), red.sum(empty.add(1).mul(2), { axis: 0 }), { scheduler: 'sync' });
    expect(a).toBeCloseTo(2 * Math.exp(4), 12);
    expectClose(b, (await compute(red.sum(empty.add(1).mul(2), { axis: 0 }), { scheduler: 'sync', optimize: false }))[0], 0);
  });
});
