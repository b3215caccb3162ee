/**
 * Fused elementwise expressions, evaluated tile by tile.
 *
 * Design: the optimiser (../optimize.ts) replaces a chain of elementwise tasks whose results feed
 * nothing else by one expression, `[op, dtype, ...operands]`, an operand being a block, a number
 * or a nested expression. Evaluating it block-sized step by step would allocate a fresh block per
 * step (page faults and zeroing cost more than the arithmetic) and stream every intermediate
 * through main memory. Instead the block is cut along one axis into slabs of about TILE elements
 * and the whole expression runs slab by slab: operands are views of their blocks' slabs, each
 * step writes into a scratch tile of ordinary memory reused from slab to slab, so intermediates
 * stay in the core's cache. (A slab of a transposed operand is a band of columns; reading it row
 * by row revisits the same few cache lines per source row. Copying it first in the source's order
 * was measured slower: the extra pass costs more than the misses it saves; so were column tiles,
 * which cut the contiguous operands into runs too short for the hardware prefetcher.)
 * Subexpressions that do not vary along the cut axis (broadcast there) are evaluated once.
 *
 * - `fusedChunk`: the expression feeds a reduction's per-block function. The slabs are cut along
 *   the first reduced axis, so every slab's partial has the block partial's shape and the
 *   reduction's combine merges them (slab partials in ordinary memory: ReduceContext.local); the
 *   block itself is never made. Only for the built-in reductions (their chunk functions never
 *   return views of the tile, which is reused). When the partial is a float64 sum (sum of
 *   float64, mean) and the expression's values are float64, the last step adds its values
 *   straight into the sum instead (sumInto): no tile, no slab partials, one pass.
 * - `fusedElemwise`: the expression is a block of the result; slabs are written into it.
 */
import ndarray from 'ndarray';
import { defineKernel } from '../../../graph/shipping/registry.js';
import type { NdArray } from '../core.js';
import { allocLocal, type DType, type TypedArray } from '../dtype.js';
import { applyInto, blockShape } from './elemwise.js';
import { accumulatorView, keptShape, sumPartial, type ReduceContext } from './reduce.js';
import { empty } from './strided.js';

/** `[op, dtype, ...operands]`; ops are those of chunk/elemwise.ts (roundTo and clip included). */
export type Expr = [op: string, dtype: DType, ...operands: ExprOperand[]];
export type ExprOperand = NdArray | number | Expr;

/** Elements per slab: 256 kB of float64 per step, well inside a core's L2 cache. */
const TILE = 32768;

/** One step of the expression, with what the slab loop needs precomputed. */
interface Step {
  readonly op: string;
  readonly dtype: DType;
  readonly operands: readonly (NdArray | number | Step)[];
  readonly shape: readonly number[];
  /** Its axis along the cut, or -1 when it is broadcast there (the same for every slab). */
  readonly axis: number;
  scratch?: TypedArray;
  value?: NdArray;
}

function isStep(x: NdArray | number | Step): x is Step {
  return typeof x === 'object' && 'op' in x;
}

/** The axis of an operand of `ndim` dimensions that lines up with `cut` of an `nd`-d result. */
function alignedAxis(shape: readonly number[], nd: number, cut: number): number {
  const u = cut - (nd - shape.length);
  return u >= 0 && shape[u] !== 1 ? u : -1;
}

function plan(e: Expr, nd: number, cut: number): Step {
  const [op, dtype, ...raw] = e;
  const operands = raw.map((x) => (Array.isArray(x) ? plan(x, nd, cut) : x));
  const shape = blockShape(operands);
  return { op, dtype, operands, shape, axis: alignedAxis(shape, nd, cut) };
}

/** Rows [r0, r0 + m) along axis `u` of a block (a view). */
function rows(a: NdArray, u: number, r0: number, m: number): NdArray {
  const shape = [...a.shape];
  shape[u] = m;
  return ndarray(a.data, shape, a.stride, a.offset + r0 * a.stride[u]) as NdArray;
}

/**
 * The value of a step over rows [r0, r0 + m) of the cut (everything when it is broadcast there),
 * written into `into` when given (a slab of the result block, or added into a reduction's
 * accumulator with `accumulate`), else into the step's scratch.
 */
function evaluate(s: Step, r0: number, m: number, maxRows: number, into?: NdArray, accumulate = false): NdArray {
  if (s.axis < 0 && s.value) return s.value;
  const operands = s.operands.map((x) => {
    if (typeof x === 'number') return x;
    if (isStep(x)) return evaluate(x, r0, m, maxRows);
    const u = s.axis < 0 ? -1 : alignedAxis(x.shape, s.shape.length, s.axis);
    return u < 0 ? x : rows(x, u, r0, m);
  });
  let out = into;
  if (!out) {
    const shape = [...s.shape];
    if (s.axis >= 0) shape[s.axis] = m;
    const full = s.axis < 0 ? shape.reduce((a, b) => a * b, 1) : (shape.reduce((a, b) => a * b, 1) / Math.max(m, 1)) * maxRows;
    s.scratch ??= allocLocal(s.dtype, full);
    out = ndarray(s.scratch, shape) as NdArray;
  }
  applyInto(s.op, s.dtype, operands, out, accumulate);
  if (s.axis < 0 && !accumulate) s.value = out;
  return out;
}

/** Rows per slab along `cut` of `shape`: about TILE elements, at least one row. */
function slabRows(shape: readonly number[], cut: number): number {
  const per = shape.reduce((a, b, k) => (k === cut ? a : a * b), 1);
  return Math.max(1, Math.min(shape[cut], Math.floor(TILE / Math.max(1, per))));
}

/** Calls `each(r0, m)` for consecutive slabs of `n` rows, `step` rows at a time (once if n is 0). */
function forEachSlab(n: number, step: number, each: (r0: number, m: number) => void): void {
  if (n === 0) each(0, 0);
  for (let r0 = 0; r0 < n; r0 += step) each(r0, Math.min(step, n - r0));
}

/**
 * The reduction partial `chunk` of the block `expr` (at `lo` in the whole array), made slab by
 * slab along the first reduced axis and merged by `combine`.
 */
export const fusedChunk = defineKernel(
  'array.fusedChunk',
  <I>(
    chunk: (b: NdArray, ctx: ReduceContext, lo: number[]) => I,
    combine: (parts: I[], ctx: ReduceContext) => I,
    expr: Expr,
    ctx: ReduceContext,
    lo: number[],
  ): I => {
    const nd = ctx.shape.length;
    const cut = ctx.axes.length > 0 ? ctx.axes[0] : -1;
    const root = plan(expr, nd, cut);
    const finish = root.dtype === 'float64' && root.shape.length === nd ? sumPartial(chunk, ctx) : undefined;
    if (finish) return finish(sumInto(root, cut, ctx.axes), root.shape) as I;
    if (root.axis < 0) return chunk(evaluate(root, 0, 0, 0), ctx, lo);
    const step = slabRows(root.shape, cut);
    const parts: I[] = [];
    // Slab partials are merged here by `combine`, whose result alone leaves the task.
    const slabCtx = root.shape[cut] > step ? { ...ctx, local: true } : ctx;
    forEachSlab(root.shape[cut], step, (r0, m) => {
      const at = [...lo];
      at[cut] += r0;
      parts.push(chunk(evaluate(root, r0, m, step), slabCtx, at));
    });
    return parts.length === 1 ? parts[0] : combine(parts, ctx);
  },
);

/**
 * The float64 sum over `axes` of the block `root` (kept axes of size 1): each slab's values are
 * added straight into it as they are computed, never stored.
 */
function sumInto(root: Step, cut: number, axes: readonly number[]): NdArray {
  const sum = empty('float64', keptShape(root.shape, axes));
  const view = accumulatorView(sum.data as Float64Array, root.shape, axes);
  if (root.axis < 0) {
    evaluate(root, 0, 0, 0, view, true);
    return sum;
  }
  // Slabs bound the scratch of inner steps; a single step needs none and runs in one call.
  const step = root.operands.some(isStep) ? slabRows(root.shape, cut) : Math.max(1, root.shape[cut]);
  forEachSlab(root.shape[cut], step, (r0, m) => evaluate(root, r0, m, step, rows(view, cut, r0, m), true));
  return sum;
}

/** The block `expr`, computed slab by slab along its first axis longer than 1. */
export const fusedElemwise = defineKernel('array.fusedElemwise', (expr: Expr): NdArray => {
  const probe = plan(expr, 0, -1);
  const out = empty(probe.dtype, probe.shape);
  const cut = probe.shape.findIndex((n) => n > 1);
  const root = cut < 0 ? probe : plan(expr, probe.shape.length, cut);
  if (root.axis < 0) {
    evaluate(root, 0, 0, 0, out);
    return out;
  }
  const step = slabRows(root.shape, cut);
  forEachSlab(root.shape[cut], step, (r0, m) => evaluate(root, r0, m, step, rows(out, cut, r0, m)));
  return out;
});
