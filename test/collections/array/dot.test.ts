import fc from 'fast-check';
import ndarray from 'ndarray';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdownThreadPools } from '../../../src/index.js';
import { fromArray, type DaskArray, type NdArray } from '../../../src/collections/array/index.js';
import { gemmJs, gemmSumJs, type Mat, type Product } from '../../../src/collections/array/chunk/gemm.js';
import { wasmGemm, wasmGemmFma, wasmGemmSum, wasmGemmTuning } from '../../../src/collections/array/chunk/gemm-wasm.js';
import { dot, matmul, outer, tensordot } from '../../../src/collections/array/dot.js';
import { transpose } from '../../../src/collections/array/transpose.js';
import { expectClose, make, toNested, partition } from './helpers.js';

afterAll(() => shutdownThreadPools());


/** Every index of a shape, row-major. */
function indices(shape: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const n of shape) out = out.flatMap((p) => Array.from({ length: n }, (_, i) => [...p, i]));
  return out;
}

/** numpy's tensordot by definition, on whole arrays. */
function tensordotDirect(a: NdArray, b: NdArray, aAxes: number[], bAxes: number[]): NdArray | number {
  const aFree = a.shape.map((_, i) => i).filter((i) => !aAxes.includes(i));
  const bFree = b.shape.map((_, i) => i).filter((i) => !bAxes.includes(i));
  const outShape = [...aFree.map((i) => a.shape[i]), ...bFree.map((i) => b.shape[i])];
  const out = make(outShape, () => 0);
  const sumShape = aAxes.map((i) => a.shape[i]);
  for (const o of indices(outShape)) {
    let s = 0;
    for (const c of indices(sumShape)) {
      const ai = new Array<number>(a.shape.length);
      const bi = new Array<number>(b.shape.length);
      aFree.forEach((axis, n) => (ai[axis] = o[n]));
      bFree.forEach((axis, n) => (bi[axis] = o[aFree.length + n]));
      aAxes.forEach((axis, p) => (ai[axis] = c[p]));
      bAxes.forEach((axis, p) => (bi[axis] = c[p]));
      s += a.get(...ai) * b.get(...bi);
    }
    out.set(...o, s);
  }
  return outShape.length === 0 ? out.get() : out;
}

describe('gemm', () => {
  it('has the WebAssembly SIMD path on Node 20', () => {
    expect(wasmGemm).toBeTypeOf('function');
  });

  it('uses fused multiply-add (relaxed SIMD) unless DASK_TS_WASM_FMA=0 turns it off', () => {
    // The other gemm tests then check the fused kernel's results (the mul+add one with the variable set).
    expect(wasmGemmFma).toBe(process.env.DASK_TS_WASM_FMA !== '0');
  });

  it('does a large C a band of rows at a time (WebAssembly)', () => {
    const saved = wasmGemmTuning.cPanelBytes;
    wasmGemmTuning.cPanelBytes = 1; // bands of MC = 128 rows
    try {
      const [m, n, k] = [150, 11, 7];
      const A = make([m, k], (i) => (i % 13) - 6);
      const B = make([k, n], (i) => (i % 5) + 1);
      const c = new Float64Array(m * n);
      wasmGemm!(m, n, k, { data: A.data, offset: 0, rs: k, cs: 1 }, { data: B.data, offset: 0, rs: n, cs: 1 }, c, n, 0);
      for (const [i, j] of [[0, 0], [63, 10], [64, 0], [128, 5], [149, 10]]) {
        let s = 0;
        for (let q = 0; q < k; q++) s += A.get(i, q) * B.get(q, j);
        expect(c[i * n + j]).toBe(s);
      }
    } finally {
      wasmGemmTuning.cPanelBytes = saved;
    }
  });

  for (const [label, fn] of [['plain JavaScript', gemmJs], ['WebAssembly', wasmGemm ?? gemmJs]] as const) {
    it(`accumulates A·B across tile, panel and slice edges with strided inputs (${label})`, () => {
      // Edges of the 2x8 and 4x4 tiles, of MC = 64 / 128 rows, KC = 256 / 384 and NC = 2048 columns; 1xN, Nx1, empty.
      const sizes = [[1, 1, 1], [5, 7, 3], [67, 9, 300], [4, 16, 256], [130, 5, 2], [3, 70, 513], [2, 8, 0], [129, 17, 385], [257, 3, 769], [3, 2049, 2], [1, 41, 9], [41, 1, 9], [0, 5, 3], [5, 0, 3]];
      for (const [m, n, k] of sizes) {
        const A = make([k, m], (i) => ((i * 37) % 11) - 5); // read transposed: A(i, q) = A[q, i]
        const B = make([k, n], (i) => ((i * 13) % 7) / 2);
        const c = new Float64Array(3 + m * (n + 2)).fill(1); // offset 3, row stride n + 2
        fn(m, n, k, { data: A.data, offset: 0, rs: 1, cs: m }, { data: B.data, offset: 0, rs: n, cs: 1 }, c, n + 2, 3);
        for (let i = 0; i < m; i++) {
          expect(c[3 + i * (n + 2) + n]).toBe(1); // the gap between rows is untouched
          for (let j = 0; j < n; j++) {
            let s = 1;
            for (let q = 0; q < k; q++) s += A.get(q, i) * B.get(q, j);
            expect(c[3 + i * (n + 2) + j]).toBeCloseTo(s, 9);
          }
        }
      }
    });
  }
});

/** Σ_p A_p·B_p by definition, at (i, j). */
function sumOfProducts(products: readonly Product[], i: number, j: number): number {
  let s = 0;
  for (const { k, a, b } of products) for (let q = 0; q < k; q++) s += a.data[a.offset + i * a.rs + q * a.cs] * b.data[b.offset + q * b.rs + j * b.cs];
  return s;
}

describe('gemmSum', () => {
  for (const [label, fn] of [['plain JavaScript', gemmSumJs], ['WebAssembly', wasmGemmSum ?? gemmSumJs]] as const) {
    it(`writes the sum of products of different k and layouts over C's old values (${label})`, () => {
      for (const [m, n] of [[1, 1], [3, 9], [130, 17], [1, 20], [20, 1]]) {
        const products: Product[] = [5, 1, 400, 0].map((k, p) => {
          const A = make([k, m], (i) => ((i * (p + 3)) % 11) - 5); // read transposed
          const B = make([k, n], (i) => ((i * 13 + p) % 7) / 2);
          const a: Mat = { data: A.data, offset: 0, rs: 1, cs: m };
          // The second B is read transposed too (its rows of n become columns), the others row-major.
          const b: Mat = p === 1 ? { data: B.data, offset: 0, rs: 1, cs: k } : { data: B.data, offset: 0, rs: n, cs: 1 };
          return { k, a, b };
        });
        const c = new Float64Array(2 + m * (n + 1)).fill(Number.NaN); // old values must never be read
        fn(m, n, products, c, n + 1, 2);
        for (let i = 0; i < m; i++) {
          expect(c[2 + i * (n + 1) + n]).toBeNaN(); // the gap between rows is untouched
          for (let j = 0; j < n; j++) expect(c[2 + i * (n + 1) + j]).toBeCloseTo(sumOfProducts(products, i, j), 9);
        }
      }
    });

    it(`writes zeros for an empty contraction and nothing for an empty C (${label})`, () => {
      const c = new Float64Array(6).fill(7);
      const none: Mat = { data: new Float64Array(0), offset: 0, rs: 0, cs: 0 };
      fn(2, 3, [{ k: 0, a: none, b: none }], c, 3, 0);
      expect([...c]).toEqual([0, 0, 0, 0, 0, 0]);
      fn(0, 3, [{ k: 4, a: none, b: { data: new Float64Array(12), offset: 0, rs: 3, cs: 1 } }], c.fill(7), 3, 0);
      expect([...c]).toEqual([7, 7, 7, 7, 7, 7]);
    });
  }

  it('sums every product a band of rows at a time (WebAssembly)', () => {
    const saved = wasmGemmTuning.cPanelBytes;
    wasmGemmTuning.cPanelBytes = 1; // bands of 128 rows
    try {
      const [m, n] = [300, 10];
      const products: Product[] = [3, 7].map((k, p) => {
        const A = make([m, k], (i) => (i % (13 + p)) - 6);
        const B = make([k, n], (i) => (i % 5) + p);
        return { k, a: { data: A.data, offset: 0, rs: k, cs: 1 }, b: { data: B.data, offset: 0, rs: n, cs: 1 } };
      });
      const c = new Float64Array(m * n).fill(Number.NaN);
      wasmGemmSum!(m, n, products, c, n, 0);
      for (const [i, j] of [[0, 0], [127, 9], [128, 0], [256, 5], [299, 9]]) expect(c[i * n + j]).toBe(sumOfProducts(products, i, j));
    } finally {
      wasmGemmTuning.cPanelBytes = saved;
    }
  });
});

describe('dot', () => {
  it('equals the direct product for random 2-D shapes and chunkings', async () => {
    const arb = fc
      .tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }))
      .chain(([m, n, p]) => fc.tuple(fc.constant([m, n, p]), fc.tuple(partition(m), partition(n)), fc.tuple(partition(n), partition(p))));
    await fc.assert(
      fc.asyncProperty(arb, async ([[m, n, p], ca, cb]) => {
        const A = make([m, n], (i) => Math.sin(i));
        const B = make([n, p], (i) => Math.cos(i) * 2);
        const c = dot(fromArray(A, { chunks: ca }), fromArray(B, { chunks: cb }));
        expect(c.shape).toEqual([m, p]);
        expect(c.chunks).toEqual([ca[0], cb[1]]);
        expectClose(await c.compute({ scheduler: 'sync' }), tensordotDirect(A, B, [1], [0]));
      }),
      { numRuns: 80 },
    );
  });

  it('handles 1-D operands as numpy does', async () => {
    const v = make([7], (i) => i - 3);
    const w = make([7], (i) => i * i);
    const M = make([4, 7], (i) => i % 5);
    const N = make([7, 3], (i) => i % 4);
    const dv = fromArray(v, { chunks: 3 });
    const inner = await dot(dv, fromArray(w, { chunks: 2 })).compute({ scheduler: 'sync' });
    expect(inner).toBe(tensordotDirect(v, w, [0], [0]));
    expectClose(await dot(fromArray(M, { chunks: [3, 4] }), dv).compute({ scheduler: 'sync' }), tensordotDirect(M, v, [1], [0]));
    expectClose(await dot(dv, fromArray(N, { chunks: 2 })).compute({ scheduler: 'sync' }), tensordotDirect(v, N, [0], [0]));
    expectClose(await matmul(fromArray(M, { chunks: 2 }), fromArray(N, { chunks: 3 })).compute({ scheduler: 'sync' }), tensordotDirect(M, N, [1], [0]));
  });

  it('contracts the last axis of a with the second-to-last of b for N-D arrays', async () => {
    const A = make([2, 3, 4], (i) => i / 7);
    const B = make([5, 4, 2], (i) => 1 - i / 9);
    const c = dot(fromArray(A, { chunks: 2 }), fromArray(B, { chunks: [3, 3, 1] }));
    expect(c.shape).toEqual([2, 3, 5, 2]);
    expectClose(await c.compute({ scheduler: 'sync' }), tensordotDirect(A, B, [2], [1]));
  });

  it('names both shapes and the axis when they do not align', () => {
    const a = fromArray(make([3, 4]));
    const b = fromArray(make([5, 2]));
    expect(() => dot(a, b)).toThrow('dot: shapes [3, 4] and [5, 2] are not aligned: axis 1 of the first has length 4 but axis 0 of the second has length 5');
    expect(() => matmul(a, b)).toThrow('matmul: shapes [3, 4] and [5, 2] are not aligned');
    expect(() => matmul(fromArray(make([2, 2, 2])), a)).toThrow('matmul: stacks of matrices (shapes [2, 2, 2] and [3, 4]) are not supported yet');
    expect(() => dot(fromArray(make([])), a)).toThrow('dot: 0-d arrays');
    expect(() => tensordot(a, b, [[0, 1], [0]])).toThrow('tensordot: 2 axes of the first array but 1 of the second');
    expect(() => tensordot(a, b, 3)).toThrow('tensordot: axes=3 must be an integer from 0 to 2');
  });

  it('reads transposed (strided) blocks without copying them first', async () => {
    const X = make([9, 4], (i) => (i % 7) - 3);
    const x = fromArray(X, { chunks: [4, 3] });
    const xtx = dot(transpose(x), x);
    expect(xtx.shape).toEqual([4, 4]);
    expectClose(await xtx.compute({ scheduler: 'sync' }), tensordotDirect(X, X, [0], [0]));
  });

  it('splits a long contraction into groups summed by a tree', async () => {
    const A = make([3, 23], (i) => (i % 9) - 4);
    const B = make([23, 2], (i) => (i % 5) / 4);
    const c = dot(fromArray(A, { chunks: [2, 2] }), fromArray(B, { chunks: [2, 1] })); // 12 contracted blocks
    const ops = (x: DaskArray) => new Set(Object.keys(x.daskGraph()).map((key) => key.replace(/^\('([^']*)'.*$/, '$1').replace(/-[0-9a-f]{32}.*$/, '')));
    expect([...ops(c)].filter((n) => n.startsWith('dot-')).sort()).toEqual(['dot-part-0', 'dot-part-1', 'dot-part-2']);
    expect(c.name).toMatch(/^dot-[0-9a-f]{32}$/); // the sum of the three parts
    expectClose(await c.compute({ scheduler: 'sync' }), tensordotDirect(A, B, [1], [0]));
    const t = tensordot(fromArray(A, { chunks: 1 }), fromArray(B, { chunks: 1 }), 1, { splitEvery: 2 }); // 23 blocks: 12 parts, 4 levels of sums
    expect([...ops(t)].filter((n) => n.startsWith('tensordot-sum-')).length).toBeGreaterThanOrEqual(3);
    expectClose(await t.compute({ scheduler: 'sync' }), tensordotDirect(A, B, [1], [0]));
  });

  it('gives the same result on sync and threads', async () => {
    const A = make([130, 90], (i) => Math.sin(i));
    const B = make([90, 70], (i) => Math.cos(i));
    const c = dot(fromArray(A, { chunks: [50, 40] }), fromArray(B, { chunks: [40, 30] }));
    const sync = await c.compute({ scheduler: 'sync' });
    const threads = await c.compute({ scheduler: 'threads', unshippable: 'error' });
    expect(toNested(threads)).toEqual(toNested(sync));
    expectClose(threads, tensordotDirect(A, B, [1], [0]));
  });

  it('multiplies float32 blocks into a float32 result', async () => {
    const A = ndarray(Float32Array.from({ length: 35 }, (_, i) => Math.sin(i)), [5, 7]) as NdArray;
    const B = ndarray(Float32Array.from({ length: 21 }, (_, i) => Math.cos(i)), [7, 3]) as NdArray;
    const c = dot(fromArray(A, { chunks: [2, 3] }), fromArray(B, { chunks: [3, 2] }));
    expect(c.dtype).toBe('float32');
    const r = (await c.compute({ scheduler: 'sync' })) as NdArray;
    expect(r.data).toBeInstanceOf(Float32Array);
    expectClose(r, tensordotDirect(A, B, [1], [0]), 1e-6); // float32 rounding of the result
  });

  it('gives zeros for an empty contraction and an empty array for an empty side', async () => {
    const empty = (shape: number[]) => fromArray(ndarray(new Float64Array(0), shape) as NdArray);
    const z = dot(empty([2, 0]), empty([0, 3]));
    expect(z.shape).toEqual([2, 3]);
    expect(toNested(await z.compute({ scheduler: 'sync' }))).toEqual([[0, 0, 0], [0, 0, 0]]);
    const e = dot(empty([0, 4]), fromArray(make([4, 3])));
    expect(e.shape).toEqual([0, 3]);
    expect(((await e.compute({ scheduler: 'sync' })) as NdArray).shape).toEqual([0, 3]);
  });

  it('keeps integer and bool dtypes as numpy does', async () => {
    const A = ndarray(Int32Array.from({ length: 6 }, (_, i) => i - 2), [2, 3]) as NdArray;
    const B = ndarray(Int32Array.from({ length: 6 }, (_, i) => 3 * i), [3, 2]) as NdArray;
    const c = dot(fromArray(A, { chunks: 2 }), fromArray(B, { chunks: 1 }));
    expect(c.dtype).toBe('int32');
    const r = (await c.compute({ scheduler: 'sync' })) as NdArray;
    expect(r.data).toBeInstanceOf(Int32Array);
    expect(toNested(r)).toEqual(toNested(tensordotDirect(A, B, [1], [0])));
    const P = fromArray([[true, false], [false, false]]);
    const Q = fromArray([[true, true], [true, false]]);
    const pq = dot(P, Q);
    expect(pq.dtype).toBe('bool');
    expect(toNested(await pq.compute({ scheduler: 'sync' }))).toEqual([[1, 1], [0, 0]]);
  });
});

describe('tensordot', () => {
  it('equals the direct sum for random axes of 3-D arrays', async () => {
    const arb = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 })).chain(([p, q, r, s]) =>
      fc.tuple(
        fc.constant([p, q, r, s]),
        fc.tuple(partition(p), partition(q), partition(r)),
        fc.tuple(partition(r), partition(s), partition(q)),
        fc.constantFrom<[number[], number[]]>([[2], [0]], [[1], [2]], [[1, 2], [2, 0]], [[2, 1], [0, 2]]),
      ),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([[p, q, r, s], ca, cb, [aAxes, bAxes]]) => {
        const A = make([p, q, r], (i) => (i % 7) - 3);
        const B = make([r, s, q], (i) => (i % 4) + 0.25);
        const t = tensordot(fromArray(A, { chunks: ca }), fromArray(B, { chunks: cb }), [aAxes, bAxes]);
        expectClose(await t.compute({ scheduler: 'sync' }), tensordotDirect(A, B, aAxes, bAxes));
      }),
      { numRuns: 60 },
    );
  });

  it('contracts the last n axes of a with the first n of b for a number', async () => {
    const A = make([3, 2, 4], (i) => i);
    const B = make([2, 4, 5], (i) => i % 3);
    expectClose(await tensordot(fromArray(A, { chunks: 2 }), fromArray(B, { chunks: 3 })).compute({ scheduler: 'sync' }), tensordotDirect(A, B, [1, 2], [0, 1]));
    const o = tensordot(fromArray(make([2])), fromArray(make([3])), 0);
    expect(o.shape).toEqual([2, 3]);
  });
});

describe('outer', () => {
  it('multiplies every pair of 1-D entries', async () => {
    const v = make([5], (i) => i + 1);
    const w = make([3], (i) => 2 - i);
    const o = outer(fromArray(v, { chunks: 2 }), fromArray(w, { chunks: 2 }));
    expect(o.chunks).toEqual([[2, 2, 1], [2, 1]]);
    expect(toNested(await o.compute({ scheduler: 'sync' }))).toEqual(Array.from({ length: 5 }, (_, i) => Array.from({ length: 3 }, (_, j) => (i + 1) * (2 - j))));
    expect(() => outer(fromArray(make([2, 2])), fromArray(v))).toThrow('outer: only 1-D arrays are supported (got shapes [2, 2] and [5])');
  });
});
