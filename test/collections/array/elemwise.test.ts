import fc from 'fast-check';
import ndarray from 'ndarray';
import { afterAll, describe, expect, it } from 'vitest';
import { shutdownThreadPools } from '../../../src/index.js';
import { DaskArray, fromArray, type ArrayResult, type DType, type NdArray } from '../../../src/collections/array/index.js';
import * as e from '../../../src/collections/array/elemwise.js';
import { alloc, allocLocal } from '../../../src/collections/array/dtype.js';
import { applyInto } from '../../../src/collections/array/chunk/elemwise.js';
import { expectClose, forEachIndex, make, partition, permutation, stridedView, toNested } from './helpers.js';

afterAll(() => shutdownThreadPools());

const sync = { scheduler: 'sync' } as const;
const threads = { scheduler: 'threads' } as const;

/** A shape that broadcasts to `shape`: some leading axes dropped, some axes set to 1. */
const broadcastable = (shape: number[]): fc.Arbitrary<number[]> =>
  fc
    .tuple(fc.integer({ min: 0, max: shape.length }), fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }))
    .map(([drop, ones]) => shape.map((n, i) => (ones[i] ? 1 : n)).slice(drop));

const operandArb = (shape: number[]) => broadcastable(shape).chain((s) => fc.tuple(fc.constant(s), fc.tuple(...s.map(partition))));

const caseArb = fc
  .array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 3 })
  .chain((shape) => fc.tuple(fc.constant(shape), operandArb(shape), operandArb(shape)));

/** The whole-array reference: f applied elementwise with numpy broadcasting, by index arithmetic. */
function reference(shape: number[], f: (...xs: number[]) => number, ...ops: (NdArray | number)[]): ArrayResult {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  for (let flat = 0; flat < n; flat++) {
    const idx: number[] = [];
    for (let k = shape.length - 1, r = flat; k >= 0; k--) {
      idx.unshift(r % shape[k]);
      r = Math.floor(r / shape[k]);
    }
    const xs = ops.map((o) => (typeof o === 'number' ? o : o.get(...idx.slice(shape.length - o.shape.length).map((i, k) => (o.shape[k] === 1 ? 0 : i)))));
    out[flat] = f(...xs);
  }
  return shape.length === 0 ? out[0] : (ndarray(out, shape) as NdArray);
}

const data = (shape: number[], seed: number) => make(shape, (i) => Math.round((Math.sin(i * 1.7 + seed) * 8 + 0.25) * 4) / 4);

const floorMod = (a: number, b: number) => a - Math.floor(a / b) * b;
const BINARY_REFS: [e.BinaryOp, (a: number, b: number) => number][] = [
  ['add', (a, b) => a + b],
  ['sub', (a, b) => a - b],
  ['mul', (a, b) => a * b],
  ['div', (a, b) => a / b],
  ['mod', (a, b) => (b === 0 ? NaN : floorMod(a, b))],
  ['pow', (a, b) => Math.pow(a, b)],
  ['maximum', (a, b) => Math.max(a, b)],
  ['minimum', (a, b) => Math.min(a, b)],
  ['lt', (a, b) => Number(a < b)],
  ['ge', (a, b) => Number(a >= b)],
  ['eq', (a, b) => Number(a === b)],
  ['logicalAnd', (a, b) => Number(a !== 0 && b !== 0)],
];

describe('elemwise: values against the whole-array computation', () => {
  it('binary ops on random broadcast shapes and chunkings', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.nat(BINARY_REFS.length - 1), async ([shape, [sa, ca], [sb, cb]], which) => {
        const [op, f] = BINARY_REFS[which];
        const [da, db] = [data(sa, 1), data(sb, 2)];
        const x = fromArray(da, { chunks: ca });
        const y = fromArray(db, { chunks: cb });
        const z = e.elemwise(op, x, y);
        expect(z.shape).toEqual(broadcastOf(sa, sb));
        const expected = reference(z.shape as number[], f, da, db);
        expectClose(await z.compute(sync), expected, 1e-12);
      }),
      { numRuns: 150 },
    );
  });

  it('ternary where and clip on random broadcast shapes', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ([, [sa, ca], [sb, cb]]) => {
        const [da, db] = [data(sa, 3), data(sb, 4)];
        const x = fromArray(da, { chunks: ca });
        const y = fromArray(db, { chunks: cb });
        const w = e.where(e.gt(x, 0), x, y);
        expectClose(await w.compute(sync), reference(w.shape as number[], (a, b) => (a > 0 ? a : b), da, db));
        const c = e.clip(x, y, 2);
        expectClose(await c.compute(sync), reference(c.shape as number[], (a, lo) => Math.min(Math.max(a, lo), 2), da, db));
      }),
      { numRuns: 60 },
    );
  });

  it('unary ops, including NaN and infinities', async () => {
    const values = [-3.7, -2.5, -1.5, -0.5, -0, 0, 0.5, 1.5, 2.5, 3.2, 1e300, NaN, Infinity, -Infinity, 0.1, 7];
    const d = ndarray(Float64Array.from(values), [4, 4]) as NdArray;
    const x = fromArray(d, { chunks: [3, 3] });
    const half = (v: number) => {
      const r = Math.round(v);
      return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
    };
    const cases: [e.UnaryOp, (v: number) => number][] = [
      ['neg', (v) => -v],
      ['abs', Math.abs],
      ['exp', Math.exp],
      ['log', Math.log],
      ['sqrt', Math.sqrt],
      ['sin', Math.sin],
      ['cos', Math.cos],
      ['tanh', Math.tanh],
      ['floor', Math.floor],
      ['ceil', Math.ceil],
      ['round', half],
      ['isnan', (v) => Number(Number.isNaN(v))],
      ['isinf', (v) => Number(Math.abs(v) === Infinity)],
      ['isfinite', (v) => Number(Number.isFinite(v))],
      ['logicalNot', (v) => Number(v === 0)],
    ];
    for (const [op, f] of cases) {
      const r = await e.elemwise(op, x).compute(sync);
      expectClose(r, reference([4, 4], f, d), 0);
    }
  });

  it('rounds half to even, with decimals', async () => {
    const x = fromArray([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 4.4999], { chunks: 3 });
    expect(toNested(await e.round(x).compute(sync))).toEqual([0, 2, 2, -0, -2, -2, 4, 4]);
    const y = fromArray([2.675, 1250, -0.5, 0.125, 1234.5678], { chunks: 2 });
    expectClose(await e.round(y, 2).compute(sync), ndarray(Float64Array.from([2.68, 1250, -0.5, 0.12, 1234.57]), [5]) as NdArray, 1e-15);
    expectClose(await e.round(y, -2).compute(sync), ndarray(Float64Array.from([0, 1200, -0, 0, 1200]), [5]) as NdArray, 0);
    const i = fromArray(Int32Array.from([1250, 1350, -1250]));
    const ri = e.round(i, -2);
    expect(ri.dtype).toBe('int32');
    expect(toNested(await ri.compute(sync))).toEqual([1200, 1400, -1200]);
  });
});

describe('elemwise: broadcasting', () => {
  it('[3,1] with [1,4], [5] with [2,5], scalars and 0-d arrays', async () => {
    const a = make([3, 1]);
    const b = make([1, 4], (i) => 10 * i);
    const r = e.add(fromArray(a, { chunks: [2, 1] }), fromArray(b, { chunks: [1, 3] }));
    expect(r.shape).toEqual([3, 4]);
    expect(r.chunks).toEqual([[2, 1], [3, 1]]);
    expect(toNested(await r.compute(sync))).toEqual([
      [0, 10, 20, 30],
      [1, 11, 21, 31],
      [2, 12, 22, 32],
    ]);
    const c = e.mul(fromArray(make([5]), { chunks: 2 }), fromArray(make([2, 5], (i) => i + 1), { chunks: [1, 3] }));
    expect(c.chunks).toEqual([[1, 1], [2, 1, 1, 1]]);
    expectClose(await c.compute(sync), reference([2, 5], (x, y) => x * y, make([5]), make([2, 5], (i) => i + 1)));
    expect(toNested(await e.sub(10, fromArray(make([2, 2]), { chunks: 1 })).compute(sync))).toEqual([
      [10, 9],
      [8, 7],
    ]);
    const zero = fromArray(make([], () => 4));
    expect(await e.mul(zero, 2.5).compute(sync)).toBe(10);
    expect(toNested(await e.add(zero, fromArray(make([2, 3]), { chunks: 2 })).compute(sync))).toEqual([
      [4, 5, 6],
      [7, 8, 9],
    ]);
  });

  it('empty arrays', async () => {
    const empty = fromArray(ndarray(new Float64Array(0), [0, 3]) as NdArray);
    const r = e.add(empty, fromArray(make([3])));
    expect(r.shape).toEqual([0, 3]);
    expect(((await r.compute(sync)) as NdArray).shape).toEqual([0, 3]);
    const s = e.add(fromArray(make([2, 1])), fromArray(ndarray(new Float64Array(0), [0]) as NdArray));
    expect(s.shape).toEqual([2, 0]);
    expect(((await s.compute(threads)) as NdArray).shape).toEqual([2, 0]);
  });

  it('aligns differing chunkings to the common refinement', async () => {
    const d1 = make([10, 6]);
    const d2 = make([10, 6], (i) => i * i);
    const x = fromArray(d1, { chunks: [[5, 5], [2, 4]] });
    const y = fromArray(d2, { chunks: [[3, 3, 4], [6]] });
    const z = e.add(x, y);
    expect(z.chunks).toEqual([
      [3, 2, 1, 4],
      [2, 4],
    ]);
    expectClose(await z.compute(sync), reference([10, 6], (a, b) => a + b, d1, d2));
  });

  it('names both shapes when they do not broadcast', () => {
    const a = fromArray(make([3, 4]));
    expect(() => e.add(a, fromArray(make([5])))).toThrow('shapes [3,4] and [5] do not broadcast');
    expect(() => e.where(fromArray(make([2, 1])), a, 1)).toThrow('shapes [2,1] and [3,4] do not broadcast');
    expect(e.broadcastShapes([8, 1, 6, 1], [7, 1, 5])).toEqual([8, 7, 6, 5]);
    expect(e.broadcastShapes([], [2])).toEqual([2]);
    expect(e.broadcastShapes([0], [1])).toEqual([0]);
    expect(() => e.broadcastShapes([0], [2])).toThrow('shapes [0] and [2] do not broadcast');
  });
});

describe('elemwise: dtypes', () => {
  const T: DType[] = ['float64', 'float32', 'int32', 'uint8', 'bool'];
  const arr = (dtype: DType) => fromArray([1, 0], { dtype });
  // numpy 2.4's result types for T x T (row: first operand), for add, mul, maximum, where.
  const ADD = [
    ['float64', 'float64', 'float64', 'float64', 'float64'],
    ['float64', 'float32', 'float64', 'float32', 'float32'],
    ['float64', 'float64', 'int32', 'int32', 'int32'],
    ['float64', 'float32', 'int32', 'uint8', 'uint8'],
    ['float64', 'float32', 'int32', 'uint8', 'bool'],
  ];
  // numpy's true_divide: integers and bools compute in float64.
  const DIV = [
    ['float64', 'float64', 'float64', 'float64', 'float64'],
    ['float64', 'float32', 'float64', 'float32', 'float32'],
    ['float64', 'float64', 'float64', 'float64', 'float64'],
    ['float64', 'float32', 'float64', 'float64', 'float64'],
    ['float64', 'float32', 'float64', 'float64', 'float64'],
  ];

  it('promotes array with array like numpy', () => {
    T.forEach((a, i) =>
      T.forEach((b, j) => {
        expect(e.add(arr(a), arr(b)).dtype, `${a} + ${b}`).toBe(ADD[i][j]);
        expect(e.maximum(arr(a), arr(b)).dtype, `maximum(${a}, ${b})`).toBe(ADD[i][j]);
        expect(e.where(true, arr(a), arr(b)).dtype, `where(${a}, ${b})`).toBe(ADD[i][j]);
        expect(e.div(arr(a), arr(b)).dtype, `${a} / ${b}`).toBe(DIV[i][j]);
        const mod = a === 'bool' && b === 'bool' ? 'int8' : ADD[i][j];
        expect(e.mod(arr(a), arr(b)).dtype, `${a} % ${b}`).toBe(mod);
        expect(e.pow(arr(a), arr(b)).dtype, `${a} ** ${b}`).toBe(mod);
        expect(e.lt(arr(a), arr(b)).dtype).toBe('bool');
        expect(e.logicalXor(arr(a), arr(b)).dtype).toBe('bool');
      }),
    );
  });

  it('treats JS scalars weakly, as numpy 2 treats Python scalars', () => {
    // int, float, bool scalar; numpy gives int64 for bool + int, which is int32 here.
    const expected: Record<DType, DType[]> = {
      float64: ['float64', 'float64', 'float64'],
      float32: ['float32', 'float32', 'float32'],
      int32: ['int32', 'float64', 'int32'],
      uint8: ['uint8', 'float64', 'uint8'],
      bool: ['int32', 'float64', 'bool'],
    } as Record<DType, DType[]>;
    for (const t of T) expect([2, 2.5, true].map((s) => e.add(arr(t), s).dtype), t).toEqual(expected[t]);
    expect(e.where(arr('bool'), 1, 2).dtype).toBe('int32');
    expect(e.where(arr('bool'), arr('uint8'), 2.5).dtype).toBe('float64');
    expect(e.clip(arr('int32'), 2, 7).dtype).toBe('int32');
    expect(e.clip(arr('int32'), 2.5, null).dtype).toBe('float64');
  });

  it('gives floating types for transcendental functions and keeps the type when rounding', () => {
    expect(['float64', 'float32', 'int32', 'uint8'].map((t) => e.sqrt(arr(t as DType)).dtype)).toEqual(['float64', 'float32', 'float64', 'float32']);
    expect(['float32', 'int32', 'uint8', 'bool'].map((t) => e.floor(arr(t as DType)).dtype)).toEqual(['float32', 'int32', 'uint8', 'bool']);
    expect(e.isnan(arr('int32')).dtype).toBe('bool');
  });

  it('wraps integers like numpy', async () => {
    const i32 = (xs: number[]) => fromArray(Int32Array.from(xs), { chunks: 2 });
    const u8 = (xs: number[]) => fromArray(Uint8Array.from(xs), { dtype: 'uint8' });
    const u32 = (xs: number[]) => fromArray(Uint32Array.from(xs));
    const check = async (x: DaskArray, dtype: DType, expected: number[]) => {
      expect(x.dtype).toBe(dtype);
      expect(toNested(await x.compute(sync))).toEqual(expected);
    };
    await check(e.add(i32([2 ** 31 - 1, 5]), i32([1, 1])), 'int32', [-(2 ** 31), 6]);
    await check(e.mul(i32([65536, 46341]), i32([65536, 46341])), 'int32', [0, -2147479015]);
    await check(e.add(u8([200, 1]), u8([100, 2])), 'uint8', [44, 3]);
    await check(e.mul(u8([250]), u8([3])), 'uint8', [238]);
    await check(e.neg(u8([1, 200])), 'uint8', [255, 56]);
    await check(e.abs(fromArray(Int8Array.from([-128, -3]))), 'int8', [-128, 3]);
    await check(e.pow(i32([3, 2, -2]), i32([40, 31, 3])), 'int32', [689956897, -(2 ** 31), -8]);
    await check(e.add(u32([2 ** 32 - 1]), u32([2])), 'uint32', [1]);
    await check(e.mul(u32([70000]), u32([70000])), 'uint32', [605032704]);
    await check(e.mod(i32([-7, 7, -7, 7, 5]), i32([2, -2, -2, 2, 0])), 'int32', [1, -1, -1, 1, 0]);
    await check(e.floordiv(i32([-7, 7, -7, 7, 5]), i32([2, -2, -2, 2, 0])), 'int32', [-4, -4, 3, 3, 0]);
    await check(e.add(fromArray([true, true, false]), fromArray([true, false, false])), 'bool', [1, 1, 0]);
    await check(e.div(i32([1, 7]), 2), 'float64', [0.5, 3.5]);
  });

  it('uses numpy remainder signs for floats', async () => {
    const r = e.mod(fromArray([7, -7, 5, -5, 5]), fromArray([-2.5, 2.5, 0, Infinity, -Infinity]));
    expectClose(await r.compute(sync), ndarray(Float64Array.from([-0.5, 0.5, NaN, Infinity, -Infinity]), [5]) as NdArray, 0);
  });
});

describe('elemwise: errors', () => {
  const x = fromArray(make([2, 2]));
  it('rejects what numpy rejects, naming the op', () => {
    const b = fromArray([true, false]);
    expect(() => e.sub(b, b)).toThrow(/sub: numpy does not support it on booleans/);
    expect(() => e.neg(b)).toThrow(/neg: numpy does not support/);
    expect(() => e.add(fromArray(Uint8Array.from([1]), { dtype: 'uint8' }), 300)).toThrow('add: the scalar 300 is out of bounds for uint8');
    expect(() => e.pow(fromArray(Int32Array.from([2])), -1)).toThrow(/negative integer powers/);
    expect(() => e.clip(x, null, null)).toThrow(/give min, max or both/);
    expect(() => e.round(x, 0.5)).toThrow(/decimals must be an integer/);
  });

  it('rejects bad operands and ops', () => {
    expect(() => e.elemwise('add', 1, 2)).toThrow(/at least one operand must be an array/);
    expect(() => e.elemwise('add', x)).toThrow(/add takes 2 operand\(s\), got 1/);
    expect(() => e.elemwise('nope' as e.ElemwiseOp, x)).toThrow(/unknown op 'nope'/);
    expect(() => e.add(x, 'a' as unknown as number)).toThrow(/operands must be arrays, numbers or booleans/);
  });
});

describe('elemwise: graphs and schedulers', () => {
  it('gives deterministic names and reuses unchanged inputs', () => {
    const a = fromArray(make([4, 4]), { chunks: 2 });
    expect(e.add(a, 1).name).toBe(e.add(a, 1).name);
    expect(e.add(a, 1).name).not.toBe(e.add(a, 2).name);
    // The same computation shares its name; a different result type does not.
    expect(e.add(a, 1).name).toBe(e.add(a, true).name);
    const b = fromArray([true, false]);
    expect(e.add(b, 1).name).not.toBe(e.add(b, true).name);
    expect(e.add(a, 1).name).toMatch(/^add-[0-9a-f]{32}$/);
    expect(e.add(a, a).npartitions).toBe(4);
  });

  it('works on unknown chunk sizes when the chunks match', async () => {
    const x = fromArray(make([5]), { chunks: 2 });
    const u = new DaskArray(x.graph, x.name, [[NaN, NaN, NaN]], 'float64');
    const r = e.mul(e.add(u, 1), u);
    expect(r.chunks).toEqual([[NaN, NaN, NaN]]);
    expect(toNested(await r.compute(sync))).toEqual([0, 2, 6, 12, 20]);
    expect(() => e.add(u, fromArray(make([5]), { chunks: 5 }))).toThrow(/aligning chunks: the array has unknown chunk sizes.*computeChunkSizes/);
  });

  it('computes the same on sync and threads', async () => {
    const d1 = make([40, 30], (i) => Math.sin(i));
    const d2 = make([30], (i) => i - 15);
    const x = fromArray(d1, { chunks: [7, 11] });
    const y = fromArray(d2, { chunks: 8 });
    const z = e.where(e.gt(e.mul(x, y), 0), e.sqrt(e.abs(e.sub(x, y))), e.clip(e.mod(y, 4), 1, 2.5));
    const fz = (a: number, b: number) => (a * b > 0 ? Math.sqrt(Math.abs(a - b)) : Math.min(Math.max(floorMod(b, 4), 1), 2.5));
    const [s, t] = [await z.compute(sync), await z.compute(threads)];
    expect(toNested(t)).toEqual(toNested(s));
    expectClose(s, reference([40, 30], fz, d1, d2), 1e-12);
    const i = fromArray(Int32Array.from({ length: 100 }, (_, k) => k * 40000000), { chunks: 30 });
    const w = e.add(e.mul(i, 3), i);
    expect(toNested(await w.compute(threads))).toEqual(toNested(await w.compute(sync)));
    const expected = alloc('int32', 100);
    for (let k = 0; k < 100; k++) expected[k] = Math.imul(k * 40000000, 3) + k * 40000000;
    expect(toNested(await w.compute(threads))).toEqual(Array.from(expected));
  });
});

describe('elemwise kernel: strided operands against an element-by-element reference', () => {
  type KDType = 'float64' | 'float32' | 'int32';
  /**
   * One operand: a number, or an array of `dtype` whose storage runs in the axis order `perm` (a
   * transposed view of its own shape), backwards along axis `flip` when >= 0.
   */
  interface OperandSpec {
    readonly scalar: number | null;
    readonly shape: number[];
    readonly dtype: KDType;
    readonly perm: number[];
    readonly flip: number;
  }

  const shapeArb = fc.array(fc.integer({ min: 0, max: 19 }), { minLength: 1, maxLength: 3 });
  const operandArb = (shape: number[]): fc.Arbitrary<OperandSpec> =>
    fc.oneof(
      { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }).map((v) => ({ scalar: v, shape: [], dtype: 'float64' as KDType, perm: [], flip: -1 })) },
      {
        weight: 5,
        arbitrary: broadcastable(shape).chain((s) =>
          fc.record({
            scalar: fc.constant(null),
            shape: fc.constant(s),
            dtype: fc.constantFrom<KDType>('float64', 'float32', 'int32'),
            perm: permutation(s.length),
            flip: fc.integer({ min: -1, max: s.length - 1 }),
          }),
        ),
      },
    );

  const CTOR = { float64: Float64Array, float32: Float32Array, int32: Int32Array };
  // Quarters, exact in float32 and int32 (truncated there); `+ 0` makes -0 a 0.
  const value = (idx: number[], seed: number) => Math.round(Math.sin(idx.reduce((a, i, k) => a * 31 + i * (k + 2), seed)) * 40) / 4 + 0;

  const build = (o: OperandSpec, seed: number): NdArray | number =>
    o.scalar !== null ? o.scalar : stridedView(o.shape, CTOR[o.dtype], o.perm, o.flip, (idx) => value(idx, seed));

  /** Operand values at an output index, numpy-broadcast. */
  const at = (ops: (NdArray | number)[], idx: number[]) =>
    ops.map((o) => (typeof o === 'number' ? o : o.get(...idx.slice(idx.length - o.shape.length).map((i, k) => (o.shape[k] === 1 ? 0 : i)))));

  const OPS: [string, (out: KDType) => (...xs: number[]) => number][] = [
    ['add', () => (a, b) => a + b],
    ['sub', () => (a, b) => a - b],
    ['mul', (out) => (out === 'int32' ? Math.imul : (a, b) => a * b)],
    ['maximum', () => Math.max],
    ['where', () => (c, a, b) => (c !== 0 ? a : b)],
    ['clip', () => (a, lo, hi) => Math.min(Math.max(a, lo), hi)],
  ];
  const arity = (op: string) => (op === 'where' || op === 'clip' ? 3 : 2);

  const caseArb = shapeArb.chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      which: fc.nat(OPS.length - 1),
      operands: fc.tuple(operandArb(shape), operandArb(shape), operandArb(shape)),
      seed: fc.integer({ min: 0, max: 99 }),
    }),
  );

  /** The operands of a case, the full shape guaranteed by making the first one an array of it. */
  function operandsOf(c: { shape: number[]; which: number; operands: OperandSpec[]; seed: number }) {
    const specs = c.operands.slice(0, arity(OPS[c.which][0]));
    specs[0] = { ...specs[0], scalar: null, shape: c.shape, perm: specs[0].perm.length === c.shape.length ? specs[0].perm : [...c.shape.keys()] };
    specs[0] = { ...specs[0], flip: Math.min(specs[0].flip, c.shape.length - 1) };
    const ops = specs.map((o, j) => build(o, c.seed + j));
    const kinds = specs.filter((o) => o.scalar === null).map((o) => o.dtype);
    const out: KDType = kinds.includes('float64') ? 'float64' : kinds.includes('float32') ? 'float32' : 'int32';
    return { ops, out };
  }

  it('writes op(operands) for transposed, flipped, broadcast and mixed-type operands of any shape', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { ops, out } = operandsOf(c);
        const [op, f] = OPS[c.which];
        const n = c.shape.reduce((a, b) => a * b, 1);
        const result = ndarray(new CTOR[out](n), c.shape) as NdArray;
        applyInto(op, out, ops, result);
        const expected = new CTOR[out](n);
        let flat = 0;
        forEachIndex(c.shape, (idx) => (expected[flat++] = f(out)(...at(ops, idx))));
        expect(Array.from(result.data as ArrayLike<number>)).toEqual(Array.from(expected));
      }),
      { numRuns: 300 },
    );
  });

  it('adds op(operands) into a float64 accumulator with stride 0 along the summed axes', () => {
    fc.assert(
      fc.property(caseArb, fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), (c, summed) => {
        const { ops } = operandsOf(c);
        const [op, f] = OPS[c.which];
        const axes = c.shape.map((_, k) => k).filter((k) => summed[k]);
        const kept = c.shape.map((s, k) => (axes.includes(k) ? 1 : s));
        const size = kept.reduce((a, b) => a * b, 1);
        const acc = allocLocal('float64', size) as Float64Array;
        acc.forEach((_, i) => (acc[i] = i % 5));
        const expected = Float64Array.from(acc);
        const strides = ndarray(acc, kept).stride.map((s, k) => (axes.includes(k) ? 0 : s));
        applyInto(op, 'float64', ops, ndarray(acc, c.shape, strides, 0) as NdArray, true);
        forEachIndex(c.shape, (idx) => {
          const i = idx.reduce((a, v, k) => a + (axes.includes(k) ? 0 : v * strides[k]), 0);
          expected[i] += f('float64')(...at(ops, idx));
        });
        expect(Array.from(acc)).toEqual(Array.from(expected));
      }),
      { numRuns: 200 },
    );
  });
});

function broadcastOf(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const pa = [...new Array(n - a.length).fill(1), ...a];
  const pb = [...new Array(n - b.length).fill(1), ...b];
  return pa.map((x, i) => (x === 1 ? pb[i] : x));
}
