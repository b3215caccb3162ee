/**
 * The chunked array: dask.array's `Array` for TypeScript.
 *
 * An array is a name, a layered graph, per-axis chunk sizes and a dtype. Block (i, j, ...) is the
 * value of key `('name', i, j, ...)`: an `ndarray` over a typed array (usually in shared memory).
 * Operations build new arrays from old ones by adding one graph layer (the modules beside this
 * one); the per-block functions they put in tasks live in chunk/, registered as kernels.
 * Methods are one-line delegates to those modules.
 */
import type ndarray from 'ndarray';
import type { DaskCollection } from '../../graph/collection.js';
import { compute, persist, type ComputeOptions } from '../../graph/compute.js';
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph, Key, KeyNest, TaskFn } from '../../graph/spec.js';
import { assemble } from './assemble.js';
import { hasUnknown, shapeOf, type Chunks } from './chunks.js';
import { concatenate } from './concatenate.js';
import { dot, matmul } from './dot.js';
import { mapBlocks } from './mapblocks.js';
import { fuseElementwise } from './optimize.js';
import { itemsize, type DType } from './dtype.js';
import * as ew from './elemwise.js';
import { computeChunkSizes, mask } from './mask.js';
import { rechunk, type RechunkSpec } from './rechunk.js';
import * as red from './reductions.js';
import { reshape } from './reshape.js';
import { slice as sliceArray, squeeze, type IndexSpec } from './slicing.js';
import { swapaxes, transpose } from './transpose.js';

export type NdArray = ndarray.NdArray<ndarray.TypedArray>;

/** What computing an array gives: an ndarray, or a plain number for a 0-d array. */
export type ArrayResult = NdArray | number;

export class DaskArray implements DaskCollection<ArrayResult> {
  readonly shape: readonly number[];

  constructor(
    readonly graph: LayeredGraph,
    readonly name: string,
    readonly chunks: Chunks,
    readonly dtype: DType,
  ) {
    this.shape = shapeOf(chunks);
  }

  get ndim(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get nbytes(): number {
    return this.size * itemsize(this.dtype);
  }

  get numblocks(): number[] {
    return this.chunks.map((c) => c.length);
  }

  get npartitions(): number {
    return this.numblocks.reduce((a, b) => a * b, 1);
  }

  /** The largest block size along each axis. */
  get chunksize(): number[] {
    return this.chunks.map((c) => (c.length ? Math.max(...c) : 0));
  }

  /** The key of block (i, j, ...). */
  blockKey(...index: number[]): Key {
    return tupleKey(this.name, ...index);
  }

  // ---- shape and chunks (rechunk.ts, slicing.ts, mask.ts, transpose.ts, reshape.ts)

  /** The same values in other blocks: `x.rechunk(1000)`, `x.rechunk([null, 500])` (null keeps an axis). */
  rechunk(chunks: RechunkSpec): DaskArray {
    return rechunk(this, chunks);
  }

  /** numpy-style indexing, one spec per axis: an integer, `[start, stop, step]`, null, `newaxis`, `'...'`. */
  slice(...specs: IndexSpec[]): DaskArray {
    return sliceArray(this, ...specs);
  }

  /** The elements where `cond` is true, in a 1-d array whose chunk sizes are unknown until computed. */
  mask(cond: DaskArray | NdArray | boolean[]): DaskArray {
    return mask(this, cond);
  }

  /** Computes the blocks once to learn unknown chunk sizes (after `mask`). */
  computeChunkSizes(opts?: ComputeOptions): Promise<DaskArray> {
    return computeChunkSizes(this, opts);
  }

  transpose(axes?: readonly number[]): DaskArray {
    return transpose(this, axes);
  }

  get T(): DaskArray {
    return transpose(this);
  }

  swapaxes(a: number, b: number): DaskArray {
    return swapaxes(this, a, b);
  }

  squeeze(axis?: number | readonly number[]): DaskArray {
    return squeeze(this, axis);
  }

  /** `x.reshape(2, 3)` or `x.reshape([2, 3])`; -1 once for the remaining size. */
  reshape(...shape: (number | readonly number[])[]): DaskArray {
    return reshape(this, Array.isArray(shape[0]) ? (shape[0] as readonly number[]) : (shape as number[]));
  }

  /** This array followed by others along an axis (default 0). */
  concatenate(others: readonly DaskArray[], axis = 0): DaskArray {
    return concatenate([this, ...others], axis);
  }

  // ---- reductions (reductions.ts): tree reductions with { axis, keepdims, splitEvery }

  sum(opts?: red.DTypeReductionOptions): DaskArray {
    return red.sum(this, opts);
  }
  prod(opts?: red.DTypeReductionOptions): DaskArray {
    return red.prod(this, opts);
  }
  mean(opts?: red.DTypeReductionOptions): DaskArray {
    return red.mean(this, opts);
  }
  /** Variance with `ddof` (default 0), from per-block counts, means and squared deviations. */
  var(opts?: red.VarOptions): DaskArray {
    return red.variance(this, opts);
  }
  std(opts?: red.VarOptions): DaskArray {
    return red.std(this, opts);
  }
  min(opts?: red.ReductionOptions): DaskArray {
    return red.min(this, opts);
  }
  max(opts?: red.ReductionOptions): DaskArray {
    return red.max(this, opts);
  }
  any(opts?: red.ReductionOptions): DaskArray {
    return red.any(this, opts);
  }
  all(opts?: red.ReductionOptions): DaskArray {
    return red.all(this, opts);
  }
  /** Index of the minimum: global flat index without an axis. */
  argmin(opts?: red.ArgReductionOptions): DaskArray {
    return red.argmin(this, opts);
  }
  argmax(opts?: red.ArgReductionOptions): DaskArray {
    return red.argmax(this, opts);
  }
  cumsum(opts?: red.CumulativeOptions): DaskArray {
    return red.cumsum(this, opts);
  }
  cumprod(opts?: red.CumulativeOptions): DaskArray {
    return red.cumprod(this, opts);
  }

  // ---- blocked algorithms (dot.ts, mapblocks.ts)

  /** Matrix product as numpy's dot: 1-d and 2-d operands, contracted block by block. */
  dot(other: DaskArray): DaskArray {
    return dot(this, other);
  }

  matmul(other: DaskArray): DaskArray {
    return matmul(this, other);
  }

  /**
   * `fn` applied to every block (and the aligned blocks of other arrays given after it); `fn`
   * travels to pool threads like any task function. Options last: `{ dtype, chunks, dropAxis, newAxis }`.
   */
  mapBlocks(fn: TaskFn, ...rest: unknown[]): DaskArray {
    return mapBlocks(fn, this, ...rest);
  }

  // ---- elementwise (elemwise.ts): arrays, numbers or booleans, broadcast like numpy

  add(other: ew.Operand): DaskArray {
    return ew.add(this, other);
  }
  sub(other: ew.Operand): DaskArray {
    return ew.sub(this, other);
  }
  mul(other: ew.Operand): DaskArray {
    return ew.mul(this, other);
  }
  /** True division: integer inputs give floats. */
  div(other: ew.Operand): DaskArray {
    return ew.div(this, other);
  }
  floordiv(other: ew.Operand): DaskArray {
    return ew.floordiv(this, other);
  }
  /** numpy's remainder: the result has the sign of the divisor. */
  mod(other: ew.Operand): DaskArray {
    return ew.mod(this, other);
  }
  pow(other: ew.Operand): DaskArray {
    return ew.pow(this, other);
  }
  maximum(other: ew.Operand): DaskArray {
    return ew.maximum(this, other);
  }
  minimum(other: ew.Operand): DaskArray {
    return ew.minimum(this, other);
  }
  eq(other: ew.Operand): DaskArray {
    return ew.eq(this, other);
  }
  ne(other: ew.Operand): DaskArray {
    return ew.ne(this, other);
  }
  lt(other: ew.Operand): DaskArray {
    return ew.lt(this, other);
  }
  le(other: ew.Operand): DaskArray {
    return ew.le(this, other);
  }
  gt(other: ew.Operand): DaskArray {
    return ew.gt(this, other);
  }
  ge(other: ew.Operand): DaskArray {
    return ew.ge(this, other);
  }
  logicalAnd(other: ew.Operand): DaskArray {
    return ew.logicalAnd(this, other);
  }
  logicalOr(other: ew.Operand): DaskArray {
    return ew.logicalOr(this, other);
  }
  logicalXor(other: ew.Operand): DaskArray {
    return ew.logicalXor(this, other);
  }
  logicalNot(): DaskArray {
    return ew.logicalNot(this);
  }
  neg(): DaskArray {
    return ew.neg(this);
  }
  abs(): DaskArray {
    return ew.abs(this);
  }
  exp(): DaskArray {
    return ew.exp(this);
  }
  log(): DaskArray {
    return ew.log(this);
  }
  sqrt(): DaskArray {
    return ew.sqrt(this);
  }
  sin(): DaskArray {
    return ew.sin(this);
  }
  cos(): DaskArray {
    return ew.cos(this);
  }
  tanh(): DaskArray {
    return ew.tanh(this);
  }
  floor(): DaskArray {
    return ew.floor(this);
  }
  ceil(): DaskArray {
    return ew.ceil(this);
  }
  /** numpy's round: halves go to the even neighbour. */
  round(decimals = 0): DaskArray {
    return ew.round(this, decimals);
  }
  clip(min: ew.Operand | null, max: ew.Operand | null = null): DaskArray {
    return ew.clip(this, min, max);
  }
  isnan(): DaskArray {
    return ew.isnan(this);
  }
  isinf(): DaskArray {
    return ew.isinf(this);
  }
  isfinite(): DaskArray {
    return ew.isfinite(this);
  }

  get daskName(): string {
    return this.name;
  }

  daskGraph(): Graph {
    return this.graph.materialize();
  }

  /** Keys nested like the blocks: `[[('x',0,0), ('x',0,1)], ...]`; a 0-d array has one key. */
  daskKeys(): KeyNest {
    const build = (prefix: number[]): KeyNest =>
      prefix.length === this.ndim
        ? this.blockKey(...prefix)
        : Array.from({ length: this.chunks[prefix.length].length }, (_, i) => build([...prefix, i]));
    return build([]);
  }

  /** Blockwise fusion of elementwise chains into their consumers (optimize.ts). */
  daskOptimize(graph: Graph, keys: readonly Key[]): Graph {
    return fuseElementwise(graph, keys);
  }

  daskPostCompute(blocks: unknown): ArrayResult {
    return assemble(blocks, this.chunks, this.dtype);
  }

  daskPostPersist(data: Graph): DaskArray {
    return new DaskArray(LayeredGraph.of(this.name, data), this.name, this.chunks, this.dtype);
  }

  daskTokenize(): string {
    return this.name;
  }

  /** Computes the array: an ndarray, or a number for a 0-d array. */
  async compute(opts: ComputeOptions = {}): Promise<ArrayResult> {
    const [r] = await compute(this, opts);
    return r as ArrayResult;
  }

  /** Computes the blocks and returns the same array backed by them. */
  async persist(opts: ComputeOptions = {}): Promise<DaskArray> {
    const [p] = await persist(this, opts);
    return p as DaskArray;
  }

  /** Like dask's repr: `dask.array<name, shape=(...), dtype=..., chunksize=(...)>`. */
  toString(): string {
    const tuple = (xs: readonly number[]) => `(${xs.map((x) => (Number.isNaN(x) ? 'nan' : x)).join(', ')}${xs.length === 1 ? ',' : ''})`;
    const op = this.name.replace(/-[0-9a-f]{8,}$/, '');
    const unknown = hasUnknown(this.chunks) ? ', unknown chunk sizes' : '';
    return `dask.array<${op}, shape=${tuple(this.shape)}, dtype=${this.dtype}, chunksize=${tuple(this.chunksize)}, chunktype=ndarray${unknown}>`;
  }
}
