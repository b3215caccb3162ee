/**
 * Kernels of dot, tensordot and outer. A tensordot block sums the products of every pair of
 * blocks along the contracted axes into one float64 accumulator with one `gemmSum` call, so no
 * partial product is ever allocated (and the WebAssembly path moves C in and out of its memory
 * once for the whole sum); integer and bool results are converted at the end.
 */
import ndarray from 'ndarray';
import { defineKernel } from '../../../graph/shipping/registry.js';
import type { NdArray } from '../core.js';
import type { DType, TypedArray } from '../dtype.js';
import { gemmSum, type Mat, type Product } from './gemm.js';
import { copyInto, empty, forEachRow } from './strided.js';

type Nested = NdArray | readonly Nested[];

/**
 * One output block of tensordot: Σ over the contracted blocks of tensordot(aBlock, bBlock).
 * `aNest` holds a's blocks nested one level per contracted axis in increasing axis order (as
 * blockwise passes them), likewise `bNest`; pair p contracts a's axis aAxes[p] with b's bAxes[p].
 */
export const tensordot = defineKernel(
  'array.tensordot',
  (aNest: Nested, bNest: Nested, aAxes: readonly number[], bAxes: readonly number[], dtype: DType): NdArray => {
    const aLevel = levels(aAxes);
    const bLevel = levels(bAxes);
    const counts = aAxes.map((_, p) => countAt(aNest, aLevel.indexOf(p)));
    const idx = counts.map(() => 0);
    const products: (Product & { rows: number; cols: number })[] = [];
    let shape: number[] = [];
    for (;;) {
      const a = pick(aNest, aLevel, idx);
      const b = pick(bNest, bLevel, idx);
      if (products.length === 0) shape = [...free(a.shape, aAxes), ...free(b.shape, bAxes)];
      products.push(asProduct(a, b, aAxes, bAxes));
      let p = idx.length - 1;
      for (; p >= 0 && ++idx[p] === counts[p]; p--) idx[p] = 0;
      if (p < 0) break;
    }
    const acc = dtype === 'float64' ? (empty('float64', [size(shape)]).data as Float64Array) : new Float64Array(size(shape));
    gemmSum(products[0].rows, products[0].cols, products, acc, products[0].cols);
    return toDtype(acc, shape, dtype);
  },
);

/** For each nesting level (contracted axes in increasing order), the pair it belongs to. */
function levels(axes: readonly number[]): number[] {
  return axes.map((axis, p) => [axis, p]).sort((x, y) => x[0] - y[0]).map(([, p]) => p);
}

function countAt(nest: Nested, level: number): number {
  let x = nest;
  for (let l = 0; l < level; l++) x = (x as readonly Nested[])[0];
  return (x as readonly Nested[]).length;
}

function pick(nest: Nested, level: readonly number[], idx: readonly number[]): NdArray {
  let x = nest;
  for (const p of level) x = (x as readonly Nested[])[idx[p]];
  return x as NdArray;
}

function free(shape: readonly number[], contracted: readonly number[]): number[] {
  return shape.filter((_, axis) => !contracted.includes(axis));
}

function size(shape: readonly number[]): number {
  return shape.reduce((x, y) => x * y, 1);
}

/** tensordot(a, b) for one pair of blocks as one matrix product: rows x k times k x cols. */
function asProduct(a: NdArray, b: NdArray, aAxes: readonly number[], bAxes: readonly number[]): Product & { rows: number; cols: number } {
  const aFree = a.shape.map((_, axis) => axis).filter((axis) => !aAxes.includes(axis));
  const bFree = b.shape.map((_, axis) => axis).filter((axis) => !bAxes.includes(axis));
  const A = asMatrix(a, aFree, aAxes);
  const B = asMatrix(b, bAxes, bFree);
  return { k: A.cols, a: A, b: B, rows: A.rows, cols: B.cols };
}

/**
 * `x` as a rows x cols matrix whose rows run over `rowAxes` and columns over `colAxes` (each in
 * C order): a strided view when each group of axes collapses to one stride, else a C-order copy.
 */
function asMatrix(x: NdArray, rowAxes: readonly number[], colAxes: readonly number[]): Mat & { rows: number; cols: number } {
  const rows = size(rowAxes.map((axis) => x.shape[axis]));
  const cols = size(colAxes.map((axis) => x.shape[axis]));
  const rs = collapse(x, rowAxes);
  const cs = collapse(x, colAxes);
  if (rs !== undefined && cs !== undefined) return { data: x.data as TypedArray, offset: x.offset, rs, cs, rows, cols };
  const t = x.transpose(...rowAxes, ...colAxes) as NdArray;
  const copy = ndarray(new Float64Array(size(t.shape)), t.shape) as NdArray;
  copyInto(copy, t);
  return { data: copy.data as Float64Array, offset: 0, rs: cols, cs: 1, rows, cols };
}

/** The one stride that walks `axes` in C order, or undefined when they do not collapse. */
function collapse(x: NdArray, axes: readonly number[]): number | undefined {
  const live = axes.filter((axis) => x.shape[axis] !== 1);
  if (live.length === 0) return 0;
  for (let i = 0; i + 1 < live.length; i++) {
    if (x.stride[live[i]] !== x.stride[live[i + 1]] * x.shape[live[i + 1]]) return undefined;
  }
  return x.stride[live[live.length - 1]];
}

/** The float64 accumulator as a block of `dtype` (bool: nonzero is 1; integers wrap as numpy's do). */
function toDtype(acc: Float64Array, shape: readonly number[], dtype: DType): NdArray {
  if (dtype === 'float64') return ndarray(acc, [...shape]) as NdArray;
  const out = empty(dtype, shape);
  const d = out.data as TypedArray;
  if (dtype === 'bool') for (let i = 0; i < acc.length; i++) d[i] = acc[i] !== 0 ? 1 : 0;
  else d.set(acc);
  return out;
}

/** The elementwise sum of blocks of one shape: a level of the tree that adds partial products. */
export const sumBlocks = defineKernel('array.sumBlocks', (dtype: DType, ...blocks: NdArray[]): NdArray => {
  const out = empty(dtype, blocks[0].shape);
  copyInto(out, blocks[0]);
  const d = out.data as TypedArray;
  const nd = out.shape.length;
  for (const b of blocks.slice(1)) {
    const s = b.data as TypedArray;
    const ss = nd ? b.stride[nd - 1] : 1;
    forEachRow(out.shape, [out, b], ([od, os], n) => {
      if (dtype === 'bool') for (let i = 0; i < n; i++) d[od + i] = d[od + i] || s[os + i * ss] ? 1 : 0;
      else for (let i = 0; i < n; i++) d[od + i] += s[os + i * ss];
    });
  }
  return out;
});

/** out[i, j] = a[i] · b[j] for two 1-D blocks. */
export const outer = defineKernel('array.outer', (a: NdArray, b: NdArray, dtype: DType): NdArray => {
  const [m] = a.shape;
  const [n] = b.shape;
  const out = empty(dtype, [m, n]);
  const d = out.data as TypedArray;
  const ad = a.data as TypedArray;
  const bd = b.data as TypedArray;
  for (let i = 0; i < m; i++) {
    const x = ad[a.offset + i * a.stride[0]];
    for (let j = 0; j < n; j++) {
      const v = x * bd[b.offset + j * b.stride[0]];
      d[i * n + j] = dtype === 'bool' ? (v !== 0 ? 1 : 0) : v;
    }
  }
  return out;
});
