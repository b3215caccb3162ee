/**
 * Reduction kernels: per-block partial reductions and the combines of a reduction tree
 * (reductions.ts builds the tree), plus the blockwise steps of cumulative sums and products.
 *
 * Design: a partial reduction keeps the reduced axes as size 1, so every partial of one output
 * block has the same shape and combining partials is elementwise. A block is reduced into a
 * float64 accumulator through a broadcast view of it (stride 0 on the reduced axes), walked row
 * by row with forEachRow: when the last axis is reduced a row folds into one scalar, otherwise it
 * folds elementwise into a row of the accumulator. A C-contiguous block reduced over every axis
 * (the common `x.sum()` case) is one flat loop, with a dedicated float64 sum loop; float64 rows
 * summed along the second-last axis (`x.sum({ axis: 0 })`) go four rows per pass (addRowsF64).
 * Ops are small integers switched on outside the inner loops, so each loop stays monomorphic.
 *
 * Intermediates: sum/prod/min/max/any/all pass ndarrays of the result dtype; mean passes
 * { n, sum }, var/std { n, mean, m2 } combined with Chan et al.'s pairwise update, which stays
 * accurate where sum-of-squares formulas cancel; argmin/argmax pass { v, i } with global indices.
 * `n` is a plain number: every element of a partial has seen the same count.
 */
import ndarray from 'ndarray';
import { defineKernel } from '../../../graph/shipping/registry.js';
import type { NdArray } from '../core.js';
import { allocLocal, dtypeOf, isInteger, type DType, type TypedArray } from '../dtype.js';
import { streamOf } from './stream.js';
import { contiguous, cStrides, empty, forEachRow, isContiguous } from './strided.js';

/** What every stage of a reduction is told. */
export interface ReduceContext {
  /** The reduced axes, ascending. */
  readonly axes: readonly number[];
  /** The result dtype. */
  readonly dtype: DType;
  /** The whole input array's shape. */
  readonly shape: readonly number[];
  /** Op-specific parameters (ddof for var/std). */
  readonly params?: Readonly<Record<string, unknown>>;
  /**
   * Set for the partials of a block's pieces (fusedChunk's slabs, streamChunk's tiles): they are
   * combined within the task and never leave it, so they live in ordinary memory, not shared.
   */
  readonly local?: boolean;
}

export const SUM = 0;
export const PROD = 1;
export const MIN = 2;
export const MAX = 3;
export const ANY = 4;
export const ALL = 5;
/** Product of integers modulo 2^32: a float64 product loses the low bits past 2^53. */
const IPROD = 6;

const INIT = [0, 1, Infinity, -Infinity, 0, 1, 1];
const OP_NAME = ['add', 'multiply', 'minimum', 'maximum', 'logical_or', 'logical_and', 'multiply'];

/** The op that computes `op` in `dtype`. */
function opFor(op: number, dtype: DType): number {
  return op === PROD && isInteger(dtype) ? IPROD : op;
}

function product(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

/** `shape` with the reduced axes set to 1. */
export function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((n, k) => (axes.includes(k) ? 1 : n));
}

/** Elements folded into each output element. */
function extent(shape: readonly number[], axes: readonly number[]): number {
  return product(axes.map((a) => shape[a]));
}

/** Two partial results of an op folded into one. NaN wins min and max, as in numpy. */
function fold(x: number, y: number, op: number): number {
  switch (op) {
    case SUM:
      return x + y;
    case PROD:
      return x * y;
    case MIN:
      return x !== x ? x : y < x || y !== y ? y : x;
    case MAX:
      return x !== x ? x : y > x || y !== y ? y : x;
    case ANY:
      return x !== 0 || y !== 0 ? 1 : 0;
    case ALL:
      return x !== 0 && y !== 0 ? 1 : 0;
    default:
      return Math.imul(x, y);
  }
}

/** Four running sums: one sum is bound by the latency of each add; four overlap (~1.5x faster). */
function sumF64(d: Float64Array, off: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const end = off + n;
  let i = off;
  for (; i + 3 < end; i += 4) {
    s0 += d[i];
    s1 += d[i + 1];
    s2 += d[i + 2];
    s3 += d[i + 3];
  }
  for (; i < end; i++) s0 += d[i];
  return s0 + s1 + (s2 + s3);
}

/** One op over n elements of d from `off` with `stride`. */
function foldRow(d: TypedArray, off: number, stride: number, n: number, op: number): number {
  // Indexed by j rather than by a moving pointer: strides may be 0 (broadcast) or negative.
  let acc = INIT[op];
  switch (op) {
    case SUM:
      if (stride === 1 && d instanceof Float64Array) return sumF64(d, off, n);
      for (let j = 0; j < n; j++) acc += d[off + j * stride];
      return acc;
    case PROD:
      for (let j = 0; j < n; j++) acc *= d[off + j * stride];
      return acc;
    case MIN:
      for (let j = 0; j < n; j++) {
        const v = d[off + j * stride];
        if (v !== v) return v;
        if (v < acc) acc = v;
      }
      return acc;
    case MAX:
      for (let j = 0; j < n; j++) {
        const v = d[off + j * stride];
        if (v !== v) return v;
        if (v > acc) acc = v;
      }
      return acc;
    case ANY:
      for (let j = 0; j < n; j++) if (d[off + j * stride] !== 0) return 1;
      return 0;
    case ALL:
      for (let j = 0; j < n; j++) if (d[off + j * stride] === 0) return 0;
      return 1;
    default:
      for (let j = 0; j < n; j++) acc = Math.imul(acc, d[off + j * stride]);
      return acc;
  }
}

/**
 * acc[ao + j] += Σ_r d[off + r*rs + j] over m rows of n: a sum along the second-last axis, four
 * rows per pass so the accumulator row is loaded and stored a quarter as often (~2.5x faster
 * than a row at a time, measured).
 */
function addRowsF64(acc: Float64Array, ao: number, d: Float64Array, off: number, rs: number, m: number, n: number): void {
  let r = 0;
  for (; r + 3 < m; r += 4) {
    const o0 = off + r * rs;
    const o1 = o0 + rs;
    const o2 = o1 + rs;
    const o3 = o2 + rs;
    for (let j = 0; j < n; j++) acc[ao + j] += d[o0 + j] + d[o1 + j] + (d[o2 + j] + d[o3 + j]);
  }
  for (; r < m; r++) {
    const o = off + r * rs;
    for (let j = 0; j < n; j++) acc[ao + j] += d[o + j];
  }
}

/** acc[ao + j*as] = fold(acc[..], d[off + j*stride]) for j < n. */
function foldInto(acc: Float64Array, ao: number, as: number, d: TypedArray, off: number, stride: number, n: number, op: number): void {
  if (op === SUM) {
    for (let j = 0; j < n; j++) acc[ao + j * as] += d[off + j * stride];
  } else if (op === PROD) {
    for (let j = 0; j < n; j++) acc[ao + j * as] *= d[off + j * stride];
  } else {
    for (let j = 0; j < n; j++) acc[ao + j * as] = fold(acc[ao + j * as], d[off + j * stride], op);
  }
}

/** A float64 view of `acc` (C-contiguous over the kept shape) with `shape`: stride 0 on the reduced axes. */
export function accumulatorView(acc: Float64Array, shape: readonly number[], axes: readonly number[]): NdArray {
  const strides = cStrides(keptShape(shape, axes)).map((s, k) => (axes.includes(k) ? 0 : s));
  return ndarray(acc, [...shape], strides, 0) as NdArray;
}

/**
 * Folds `a` over `axes` into `acc` (C-contiguous over the kept shape, pre-filled by the caller),
 * walking `a` once.
 */
export function reduceInto(acc: Float64Array, a: NdArray, axes: readonly number[], op: number): void {
  if (a.size === 0) return;
  const d = a.data as TypedArray;
  const nd = a.shape.length;
  if (acc.length === 1 && isContiguous(a)) {
    acc[0] = fold(acc[0], foldRow(d, a.offset, 1, a.size, op), op);
    return;
  }
  const view = accumulatorView(acc, a.shape, axes);
  const st = a.stride[nd - 1];
  const vs = view.stride[nd - 1];
  if (op === SUM && d instanceof Float64Array && nd >= 2 && st === 1 && vs === 1 && view.stride[nd - 2] === 0) {
    // Rows of contiguous float64 summed into one accumulator row (x.sum(axis=0)): plane by plane.
    const [m, n, rs] = [a.shape[nd - 2], a.shape[nd - 1], a.stride[nd - 2]];
    forEachRow(a.shape.slice(0, -1), [a, view], ([ia, io]) => addRowsF64(acc, io, d, ia, rs, m, n));
    return;
  }
  forEachRow(a.shape, [a, view], ([ia, io], n) => {
    if (vs === 0) acc[io] = fold(acc[io], foldRow(d, ia, st, n, op), op);
    else foldInto(acc, io, vs, d, ia, st, n, op);
  });
}

/** The reduction of one block, as a float64 accumulator over the kept shape. */
function reduceBlock(a: NdArray, axes: readonly number[], op: number): Float64Array {
  const acc = new Float64Array(product(keptShape(a.shape, axes))).fill(INIT[op]);
  reduceInto(acc, a, axes, op);
  return acc;
}

/** A new partial of a chunk function: shared memory unless it stays in the task (ctx.local). */
function partial(ctx: ReduceContext, dtype: DType, shape: readonly number[]): NdArray {
  return ctx.local ? (ndarray(allocLocal(dtype, product(shape)), [...shape]) as NdArray) : empty(dtype, shape);
}

/** An array of `dtype` holding `values` (converted as a typed-array store converts). */
function toArray(values: Float64Array, shape: readonly number[], dtype: DType, ctx?: ReduceContext): NdArray {
  const out = ctx ? partial(ctx, dtype, shape) : empty(dtype, shape);
  (out.data as TypedArray).set(values);
  return out;
}

/** numpy's error for min/max/argmin/argmax over nothing (an empty output is fine). */
function checkNonEmpty(block: NdArray, axes: readonly number[], what: string): void {
  if (extent(block.shape, axes) === 0 && product(keptShape(block.shape, axes)) > 0) {
    throw new RangeError(
      what.startsWith('arg') ? `attempt to get ${what} of an empty sequence` : `zero-size array to reduction operation ${what} which has no identity`,
    );
  }
}

function chunkOp(anyOp: number) {
  return (block: NdArray, ctx: ReduceContext): NdArray => {
    const op = opFor(anyOp, ctx.dtype);
    if (op === MIN || op === MAX) checkNonEmpty(block, ctx.axes, OP_NAME[op]);
    const shape = keptShape(block.shape, ctx.axes);
    if (ctx.dtype !== 'float64') return toArray(reduceBlock(block, ctx.axes, op), shape, ctx.dtype, ctx);
    // Accumulate straight into the result: no scratch, no copy.
    const out = partial(ctx, 'float64', shape);
    const acc = out.data as Float64Array;
    acc.fill(INIT[op]);
    reduceInto(acc, block, ctx.axes, op);
    return out;
  };
}

/** Partials of one op folded elementwise; they all have the kept shape of one output block. */
function combineOp(anyOp: number) {
  return (parts: NdArray[], ctx: ReduceContext): NdArray => {
    const op = opFor(anyOp, ctx.dtype);
    const shape = parts[0].shape;
    const acc = new Float64Array(product(shape));
    const first = contiguous(parts[0], ctx.dtype).data as TypedArray;
    for (let i = 0; i < acc.length; i++) acc[i] = first[i];
    for (let p = 1; p < parts.length; p++) {
      const d = contiguous(parts[p], ctx.dtype).data as TypedArray;
      for (let i = 0; i < acc.length; i++) acc[i] = fold(acc[i], d[i], op);
    }
    return toArray(acc, shape, ctx.dtype);
  };
}

export const sumChunk = defineKernel('array.reduce.sumChunk', chunkOp(SUM));
export const sumCombine = defineKernel('array.reduce.sumCombine', combineOp(SUM));
export const prodChunk = defineKernel('array.reduce.prodChunk', chunkOp(PROD));
export const prodCombine = defineKernel('array.reduce.prodCombine', combineOp(PROD));
export const minChunk = defineKernel('array.reduce.minChunk', chunkOp(MIN));
export const minCombine = defineKernel('array.reduce.minCombine', combineOp(MIN));
export const maxChunk = defineKernel('array.reduce.maxChunk', chunkOp(MAX));
export const maxCombine = defineKernel('array.reduce.maxCombine', combineOp(MAX));
export const anyChunk = defineKernel('array.reduce.anyChunk', chunkOp(ANY));
export const anyCombine = defineKernel('array.reduce.anyCombine', combineOp(ANY));
export const allChunk = defineKernel('array.reduce.allChunk', chunkOp(ALL));
export const allCombine = defineKernel('array.reduce.allCombine', combineOp(ALL));

/** Drops the (size-1) reduced axes of an aggregated block: the result without keepdims. */
export const dropAxes = defineKernel('array.reduce.dropAxes', (a: NdArray, axes: number[]): NdArray => {
  const keep = (_: number, k: number) => !axes.includes(k);
  return ndarray(a.data, a.shape.filter(keep), a.stride.filter(keep), a.offset) as NdArray;
});

// ---------------------------------------------------------------------------------------------
// mean: { n, sum }

export interface MeanPartial {
  readonly n: number;
  readonly sum: NdArray;
}

export const meanChunk = defineKernel('array.reduce.meanChunk', (block: NdArray, ctx: ReduceContext): MeanPartial => {
  const sum = partial(ctx, 'float64', keptShape(block.shape, ctx.axes));
  reduceInto(sum.data as Float64Array, block, ctx.axes, SUM);
  return { n: extent(block.shape, ctx.axes), sum };
});

export const meanCombine = defineKernel('array.reduce.meanCombine', (parts: MeanPartial[]): MeanPartial => {
  const sum = empty('float64', parts[0].sum.shape);
  const acc = sum.data as Float64Array;
  let n = 0;
  for (const p of parts) {
    n += p.n;
    const d = contiguous(p.sum, 'float64').data as Float64Array;
    for (let i = 0; i < acc.length; i++) acc[i] += d[i];
  }
  return { n, sum };
});

export const meanAggregate = defineKernel('array.reduce.meanAggregate', (parts: MeanPartial[], ctx: ReduceContext): NdArray => {
  const { n, sum } = meanCombine(parts);
  const s = sum.data as Float64Array;
  const out = empty(ctx.dtype, sum.shape);
  const d = out.data as TypedArray;
  for (let i = 0; i < d.length; i++) d[i] = s[i] / n; // n = 0 gives NaN, as numpy's mean of nothing
  return out;
});

// ---------------------------------------------------------------------------------------------
// var and std: { n, mean, m2 } (m2: sum of squared deviations from the mean)

export interface MomentPartial {
  readonly n: number;
  readonly mean: NdArray;
  readonly m2: NdArray;
}

export const momentChunk = defineKernel('array.reduce.momentChunk', (block: NdArray, ctx: ReduceContext): MomentPartial => {
  const shape = keptShape(block.shape, ctx.axes);
  const n = extent(block.shape, ctx.axes);
  const mean = partial(ctx, 'float64', shape);
  const m2 = partial(ctx, 'float64', shape);
  const mu = mean.data as Float64Array;
  reduceInto(mu, block, ctx.axes, SUM);
  if (n > 0) for (let i = 0; i < mu.length; i++) mu[i] /= n;
  // Second pass over the block, deviations from the block's own mean: no cancellation.
  if (block.size > 0) squaredDeviations(block, ctx.axes, mu, m2.data as Float64Array);
  return { n, mean, m2 };
});

function squaredDeviations(a: NdArray, axes: readonly number[], mu: Float64Array, m2: Float64Array): void {
  const d = a.data as TypedArray;
  const nd = a.shape.length;
  if (mu.length === 1 && isContiguous(a)) {
    const m = mu[0];
    let s = 0;
    for (let i = a.offset, end = a.offset + a.size; i < end; i++) {
      const x = d[i] - m;
      s += x * x;
    }
    m2[0] = s;
    return;
  }
  const view = accumulatorView(m2, a.shape, axes);
  const st = a.stride[nd - 1];
  const vs = view.stride[nd - 1];
  forEachRow(a.shape, [a, view], ([ia, io], n) => {
    if (vs === 0) {
      const m = mu[io];
      let s = 0;
      for (let j = 0; j < n; j++) {
        const x = d[ia + j * st] - m;
        s += x * x;
      }
      m2[io] += s;
    } else {
      for (let j = 0; j < n; j++) {
        const x = d[ia + j * st] - mu[io + j * vs];
        m2[io + j * vs] += x * x;
      }
    }
  });
}

export const momentCombine = defineKernel('array.reduce.momentCombine', (parts: MomentPartial[]): MomentPartial => {
  const size = parts[0].mean.size;
  const mean = empty('float64', parts[0].mean.shape);
  const m2 = empty('float64', parts[0].mean.shape);
  const mu = mean.data as Float64Array;
  const q = m2.data as Float64Array;
  let n = 0;
  for (const p of parts) {
    if (p.n === 0) continue;
    const pm = contiguous(p.mean, 'float64').data as Float64Array;
    const pq = contiguous(p.m2, 'float64').data as Float64Array;
    const total = n + p.n;
    // Chan, Golub & LeVeque: merge (n, mean, M2) with (p.n, p.mean, p.M2).
    const w = p.n / total;
    const c = (n * p.n) / total;
    for (let i = 0; i < size; i++) {
      const delta = pm[i] - mu[i];
      mu[i] += delta * w;
      q[i] += pq[i] + delta * delta * c;
    }
    n = total;
  }
  return { n, mean, m2 };
});

function varianceOf(parts: MomentPartial[], ctx: ReduceContext, sqrt: boolean): NdArray {
  const { n, m2 } = momentCombine(parts);
  const ddof = (ctx.params?.ddof as number | undefined) ?? 0;
  const div = Math.max(n - ddof, 0);
  const q = m2.data as Float64Array;
  const out = empty(ctx.dtype, m2.shape);
  const d = out.data as TypedArray;
  // No elements gives NaN; n <= ddof gives M2 / 0 (inf, or NaN when M2 = 0), as numpy does.
  for (let i = 0; i < d.length; i++) {
    const x = n === 0 ? NaN : q[i] / div;
    d[i] = sqrt ? Math.sqrt(x) : x;
  }
  return out;
}

export const varAggregate = defineKernel('array.reduce.varAggregate', (parts: MomentPartial[], ctx: ReduceContext) =>
  varianceOf(parts, ctx, false),
);
export const stdAggregate = defineKernel('array.reduce.stdAggregate', (parts: MomentPartial[], ctx: ReduceContext) =>
  varianceOf(parts, ctx, true),
);

// ---------------------------------------------------------------------------------------------
// argmin and argmax: { v, i }, i the global index (flat in the whole array when every axis is
// reduced, else the position along the one reduced axis). The first occurrence wins ties; NaN
// wins over every number, as numpy's argmin and argmax report the first NaN.

export interface ArgPartial {
  readonly v: NdArray;
  readonly i: NdArray;
}

/** Does candidate (vn, jn) beat the best so far (vo, jo)? `max` flips the value order. */
function beats(vn: number, jn: number, vo: number, jo: number, max: boolean): boolean {
  if (vo !== vo) return vn !== vn && jn < jo;
  if (vn !== vn) return true;
  if (vn === vo) return jn < jo;
  return max ? vn > vo : vn < vo;
}

function argChunk(max: boolean) {
  return (block: NdArray, ctx: ReduceContext, lo: number[]): ArgPartial => {
    checkNonEmpty(block, ctx.axes, max ? 'argmax' : 'argmin');
    const nd = block.shape.length;
    const shape = keptShape(block.shape, ctx.axes);
    const v = partial(ctx, 'float64', shape);
    const i = partial(ctx, 'float64', shape);
    if (block.size === 0) return { v, i };
    if (ctx.axes.length === nd) {
      const c = isContiguous(block) ? block : contiguous(block, dtypeOf(block.data as TypedArray));
      const j = bestIndex(c.data as TypedArray, c.offset, 1, c.size, max);
      (v.data as Float64Array)[0] = (c.data as TypedArray)[c.offset + j];
      (i.data as Float64Array)[0] = globalFlat(j, block.shape, lo, ctx.shape);
      return { v, i };
    }
    argAlongAxis(block, ctx.axes[0], lo[ctx.axes[0]], v, i, max);
    return { v, i };
  };
}

/** The position (0-based, in steps) of the best of n values of d from off with stride. */
function bestIndex(d: TypedArray, off: number, stride: number, n: number, max: boolean): number {
  let best = 0;
  let bv = d[off];
  if (bv !== bv) return 0;
  for (let j = 1; j < n; j++) {
    const x = d[off + j * stride];
    if (x !== x) return j;
    if (max ? x > bv : x < bv) {
      bv = x;
      best = j;
    }
  }
  return best;
}

/** The flat index in the whole array of flat index j of a block at `lo`. */
function globalFlat(j: number, blockShape: readonly number[], lo: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  let rest = j;
  const local = new Array<number>(blockShape.length);
  for (let k = blockShape.length - 1; k >= 0; k--) {
    local[k] = rest % blockShape[k];
    rest = Math.floor(rest / blockShape[k]);
  }
  for (let k = 0; k < shape.length; k++) flat = flat * shape[k] + lo[k] + local[k];
  return flat;
}

/** argmin/argmax along one axis: the axis moved last, each row scanned once. */
function argAlongAxis(block: NdArray, axis: number, lo: number, v: NdArray, i: NdArray, max: boolean): void {
  const nd = block.shape.length;
  const perm = [...Array.from({ length: nd }, (_, k) => k).filter((k) => k !== axis), axis];
  const t = block.transpose(...perm) as NdArray;
  const outStrides = cStrides(v.shape);
  const vt = ndarray(v.data, t.shape, [...perm.slice(0, -1).map((k) => outStrides[k]), 0], 0) as NdArray;
  const d = block.data as TypedArray;
  const vd = v.data as Float64Array;
  const id = i.data as Float64Array;
  const st = t.stride[nd - 1];
  forEachRow(t.shape, [t, vt], ([ia, io], n) => {
    const j = bestIndex(d, ia, st, n, max);
    vd[io] = d[ia + j * st];
    id[io] = lo + j;
  });
}

function argCombine(max: boolean) {
  return (parts: ArgPartial[]): ArgPartial => {
    const v = empty('float64', parts[0].v.shape);
    const i = empty('float64', parts[0].v.shape);
    const vd = v.data as Float64Array;
    const id = i.data as Float64Array;
    vd.set(contiguous(parts[0].v, 'float64').data as Float64Array);
    id.set(contiguous(parts[0].i, 'float64').data as Float64Array);
    for (let p = 1; p < parts.length; p++) {
      const pv = contiguous(parts[p].v, 'float64').data as Float64Array;
      const pi = contiguous(parts[p].i, 'float64').data as Float64Array;
      for (let k = 0; k < vd.length; k++) {
        if (beats(pv[k], pi[k], vd[k], id[k], max)) {
          vd[k] = pv[k];
          id[k] = pi[k];
        }
      }
    }
    return { v, i };
  };
}

function argAggregate(max: boolean) {
  const combine = argCombine(max);
  return (parts: ArgPartial[], ctx: ReduceContext): NdArray => {
    const { i } = combine(parts);
    const out = empty(ctx.dtype, i.shape);
    (out.data as TypedArray).set(i.data as Float64Array);
    return out;
  };
}

export const argminChunk = defineKernel('array.reduce.argminChunk', argChunk(false));
export const argminCombine = defineKernel('array.reduce.argminCombine', argCombine(false));
export const argminAggregate = defineKernel('array.reduce.argminAggregate', argAggregate(false));
export const argmaxChunk = defineKernel('array.reduce.argmaxChunk', argChunk(true));
export const argmaxCombine = defineKernel('array.reduce.argmaxCombine', argCombine(true));
export const argmaxAggregate = defineKernel('array.reduce.argmaxAggregate', argAggregate(true));

/**
 * How to finish the partial of `chunk` from the float64 sum of a block over the reduced axes, for
 * the chunk functions whose partial is just that sum (float64 sum, mean); else undefined. A fused
 * expression of float64 values adds itself straight into such a sum (chunk/fused.ts), so neither
 * the expression's values nor per-slab partials are ever stored.
 */
export function sumPartial(chunk: Function, ctx: ReduceContext): ((sum: NdArray, blockShape: readonly number[]) => unknown) | undefined {
  if (chunk === meanChunk) return (sum, blockShape): MeanPartial => ({ n: extent(blockShape, ctx.axes), sum });
  if (chunk === sumChunk && ctx.dtype === 'float64') return (sum) => sum;
  return undefined;
}

/**
 * The built-in per-block functions and the combines that merge their partials. None of them
 * returns a view of its block, so a block may be fed to them in pieces from a reused buffer
 * (streamChunk below, fusedChunk in fused.ts).
 */
export const PIECEWISE_CHUNKS: ReadonlyMap<Function, Function> = new Map<Function, Function>([
  [sumChunk, sumCombine],
  [prodChunk, prodCombine],
  [minChunk, minCombine],
  [maxChunk, maxCombine],
  [anyChunk, anyCombine],
  [allChunk, allCombine],
  [meanChunk, meanCombine],
  [momentChunk, momentCombine],
  [argminChunk, argminCombine],
  [argmaxChunk, argmaxCombine],
]);

// ---------------------------------------------------------------------------------------------
// cumulative sums and products: each block cumulated along the axis, then the running total of
// the earlier blocks (the "carry", size 1 along the axis) folded into it.

function cumOp(op: number) {
  if (op === SUM) return (x: number, y: number) => x + y;
  return op === IPROD ? Math.imul : (x: number, y: number) => x * y;
}

/** A C-contiguous copy of `block` in `dtype`, cumulated along `axis`. */
export const cumBlock = defineKernel('array.reduce.cumBlock', (block: NdArray, axis: number, op: number, dtype: DType): NdArray => {
  const out = empty(dtype, block.shape);
  const src = contiguous(block, dtypeOf(block.data as TypedArray)).data as TypedArray;
  const d = out.data as TypedArray;
  d.set(src.subarray(0, d.length));
  const len = block.shape[axis];
  const inner = product(block.shape.slice(axis + 1));
  const outer = product(block.shape.slice(0, axis));
  const iprod = opFor(op, dtype) === IPROD;
  for (let o = 0; o < outer; o++) {
    const base = o * len * inner;
    for (let j = 1; j < len; j++) {
      const row = base + j * inner;
      if (op === SUM) for (let k = 0; k < inner; k++) d[row + k] += d[row - inner + k];
      else if (iprod) for (let k = 0; k < inner; k++) d[row + k] = Math.imul(d[row + k], d[row - inner + k]);
      else for (let k = 0; k < inner; k++) d[row + k] *= d[row - inner + k];
    }
  }
  return out;
});

/** The last slice of a cumulated block along `axis` (size 1 there), folded into `carry` if given. */
export const cumCarry = defineKernel(
  'array.reduce.cumCarry',
  (carry: NdArray | null, cum: NdArray, axis: number, op: number, dtype: DType): NdArray => {
    const shape = cum.shape.map((n, k) => (k === axis ? 1 : n));
    const out = empty(dtype, shape);
    const d = out.data as TypedArray;
    if (cum.shape[axis] === 0) {
      // An empty block passes the carry on (or starts it at the identity).
      if (carry !== null) d.set(contiguous(carry, dtype).data as TypedArray);
      else d.fill(op === SUM ? 0 : 1);
      return out;
    }
    const lo = cum.shape.map((n, k) => (k === axis ? n - 1 : 0));
    const last = contiguous(cum.lo(...lo).hi(...shape) as NdArray, dtype);
    d.set((last.data as TypedArray).subarray(0, d.length));
    if (carry !== null) {
      const c = contiguous(carry, dtype).data as TypedArray;
      const f = cumOp(opFor(op, dtype));
      for (let k = 0; k < d.length; k++) d[k] = f(c[k], d[k]);
    }
    return out;
  },
);

/** A cumulated block with the carry of the blocks before it (broadcast along `axis`) folded in. */
export const cumApply = defineKernel('array.reduce.cumApply', (cum: NdArray, carry: NdArray, axis: number, op: number, dtype: DType): NdArray => {
  const out = empty(dtype, cum.shape);
  const d = out.data as TypedArray;
  const src = contiguous(cum, dtype).data as TypedArray;
  const c = contiguous(carry, dtype).data as TypedArray;
  const len = cum.shape[axis];
  const inner = product(cum.shape.slice(axis + 1));
  const outer = product(cum.shape.slice(0, axis));
  const f = cumOp(opFor(op, dtype));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < len; j++) {
      const row = (o * len + j) * inner;
      const cr = o * inner;
      if (op === SUM) for (let k = 0; k < inner; k++) d[row + k] = c[cr + k] + src[row + k];
      else for (let k = 0; k < inner; k++) d[row + k] = f(c[cr + k], src[row + k]);
    }
  }
  return out;
});

/** A 0-d block as a block of shape [1] (numpy's cumsum of a scalar). */
export const reshape1 = defineKernel('array.reduce.reshape1', (a: NdArray): NdArray => {
  return ndarray(a.data, [1], [1], a.offset) as NdArray;
});

// ---------------------------------------------------------------------------------------------
// streamed partials: a block from a streamable producer, reduced over every axis tile by tile

/** Elements per tile: 256 kB of float64, well inside a core's L2 cache. */
const TILE = 32768;

/**
 * `chunk` of the block `producer(...args)` (of `shape` and `dtype`, at `lo`), without making the
 * block: runs of whole rows along axis 0 are streamed into one reused tile, each tile reduced by
 * `chunk` and the tiles' partials merged by `combine`. The tile never leaves this task, so it is
 * ordinary (not shared) memory; chunk functions must not return views of their input.
 */
export const streamChunk = defineKernel(
  'array.reduce.streamChunk',
  <I>(
    producer: Function,
    args: unknown[],
    shape: number[],
    dtype: DType,
    chunk: (b: NdArray, ctx: ReduceContext, lo: number[]) => I,
    combine: (parts: I[], ctx: ReduceContext) => I,
    ctx: ReduceContext,
    lo: number[],
  ): I => {
    const stream = streamOf(producer);
    if (!stream) throw new Error(`streamChunk: ${producer.name || 'the producer'} has no stream on this thread`);
    const s = stream(...args);
    const rows = shape.length === 0 ? 1 : shape[0];
    const rowSize = product(shape.slice(1));
    const tileRows = Math.max(1, Math.floor(TILE / Math.max(1, rowSize)));
    const scratch = allocLocal(dtype, Math.min(rows, tileRows) * rowSize);
    if (shape.length === 0 || rows * rowSize === 0) {
      s.fill(scratch);
      return chunk(ndarray(scratch, shape) as NdArray, ctx, lo);
    }
    const parts: I[] = [];
    const tileCtx = rows > tileRows ? { ...ctx, local: true } : ctx;
    for (let r0 = 0; r0 < rows; r0 += tileRows) {
      const m = Math.min(tileRows, rows - r0);
      const tile = m * rowSize === scratch.length ? scratch : scratch.subarray(0, m * rowSize);
      s.fill(tile);
      parts.push(chunk(ndarray(tile, [m, ...shape.slice(1)]) as NdArray, tileCtx, [lo[0] + r0, ...lo.slice(1)]));
    }
    return parts.length === 1 ? parts[0] : combine(parts, ctx);
  },
);
