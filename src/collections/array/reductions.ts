/**
 * Reductions (sum, mean, var, argmin, ...) and cumulative sums, like dask.array.reductions.
 *
 * Design: `reduction` builds dask's tree. Each input block is reduced on its own by `chunk`,
 * keeping the reduced axes as size 1 (one task per block; with a producer that has no other
 * dependent, fusion makes the pair one task, so blocks never pile up in memory). Then groups of
 * up to `splitEvery` neighbouring partials along the reduced axes are merged by `combine`, level
 * after level, until one partial per output block is left, which `aggregate` turns into the
 * result block. Partials of one output block all have the same shape, so every merge is
 * elementwise (chunk/reduce.ts). Blocks of size 0 along a reduced axis are left out of the tree,
 * unless the whole axis is empty, so that only a truly empty reduction meets an empty block.
 * The built-in reductions over every axis of a random array go one step further: the block is
 * never made; its partial is computed from the generator's stream, tile by tile (chunk/stream.ts).
 */
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import { isTask, type Graph } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { normalizeAxis } from './axes.js';
import { blockIndices, hasUnknown, offsets } from './chunks.js';
import * as k from './chunk/reduce.js';
import type { ReduceContext } from './chunk/reduce.js';
import { streamOf } from './chunk/stream.js';
import { DaskArray, type NdArray } from './core.js';
import { assertDType, isFloat, type DType } from './dtype.js';

export type { ReduceContext } from './chunk/reduce.js';

export interface ReductionOptions {
  /** The axes to reduce: one, several, or null/undefined for all. Negative axes count from the end. */
  readonly axis?: number | readonly number[] | null;
  /** Keep the reduced axes, with length 1 (default false). */
  readonly keepdims?: boolean;
  /** At most this many partials are merged by one task (default 4, as dask). */
  readonly splitEvery?: number;
}

export interface DTypeReductionOptions extends ReductionOptions {
  /** The result dtype (default: numpy's for the operation). */
  readonly dtype?: DType;
}

export interface VarOptions extends DTypeReductionOptions {
  /** Delta degrees of freedom: the divisor is n - ddof (default 0). */
  readonly ddof?: number;
}

/** A reduction in three stages; the functions must be shippable (kernels, or self-contained). */
export interface ReductionSpec<I = NdArray> extends ReductionOptions {
  /** One block to a partial whose reduced axes have size 1; `lo` is the block's offset in the array. */
  readonly chunk: (block: NdArray, ctx: ReduceContext, lo: number[]) => I;
  /** Several partials of one output block to one (default: `aggregate`, when partials are ndarrays). */
  readonly combine?: (parts: I[], ctx: ReduceContext) => I;
  /** The last partials of an output block to the result block, reduced axes kept with size 1. */
  readonly aggregate: (parts: I[], ctx: ReduceContext) => NdArray;
  /** The result dtype. */
  readonly dtype: DType;
  /** The operation's name, the prefix of the result's name (default 'reduction'). */
  readonly name?: string;
  /** Passed to every stage as `ctx.params`. */
  readonly params?: Readonly<Record<string, unknown>>;
}

const DEFAULT_SPLIT_EVERY = 4;

/** dask's `reduction`: a tree reduction of `x` over `axis`. */
export function reduction<I>(x: DaskArray, spec: ReductionSpec<I>): DaskArray {
  return treeReduction(x, spec, false);
}

/**
 * `stream`: when every axis is reduced and a block comes from a streamable producer (random
 * numbers), the partial reads the producer's stream tile by tile instead of the block (see
 * chunk/stream.ts), and the block is never made. Only for the built-in chunk functions, which
 * never return views of their input.
 */
function treeReduction<I>(x: DaskArray, spec: ReductionSpec<I>, stream: boolean): DaskArray {
  const op = spec.name ?? 'reduction';
  const axes = normalizeReductionAxes(spec.axis, x.ndim, op);
  const keepdims = spec.keepdims ?? false;
  const split = splitPerAxis(spec.splitEvery, axes, op);
  const ctx: ReduceContext = { axes, dtype: assertDType(spec.dtype, op), shape: [...x.shape], params: spec.params };
  const combine = spec.combine ?? (spec.aggregate as unknown as NonNullable<ReductionSpec<I>['combine']>);
  const token = tokenize(op, x.name, axes, keepdims, split, ctx.dtype, spec.params ?? null, spec.chunk, combine, spec.aggregate);
  const name = `${op}-${token}`;

  let level = chunkLevel(x, `${op}-chunk-${token}`, spec.chunk, combine, ctx, stream);
  // Merge levels until at most `split` partials are left along every reduced axis.
  for (let depth = 1; axes.some((a) => level.grid[a] > split); depth++) {
    level = mergeLevel(level, `${op}-partial${depth}-${token}`, axes, split, (parts) => [combine, parts, ctx]);
  }
  // The aggregate: every remaining partial along the reduced axes, one task per output block.
  const last = keepdims
    ? mergeLevel(level, name, axes, Infinity, (parts) => [spec.aggregate, parts, ctx])
    : mergeLevel(level, name, axes, Infinity, (parts) => [k.dropAxes, [spec.aggregate, parts, ctx], axes], (index) =>
        index.filter((_, a) => !axes.includes(a)),
      );
  const chunks = x.chunks.flatMap((c, a) => (!axes.includes(a) ? [c] : keepdims ? [[1]] : []));
  return new DaskArray(last.graph, name, chunks, ctx.dtype);
}

/** One level of the tree: its layer name, its grid of blocks, and the graph so far. */
interface Level {
  readonly name: string;
  readonly grid: readonly number[];
  readonly graph: LayeredGraph;
}

/** Level 0: one partial per input block; blocks empty along a reduced axis are left out. */
function chunkLevel<I>(x: DaskArray, name: string, chunk: ReductionSpec<I>['chunk'], combine: unknown, ctx: ReduceContext, stream: boolean): Level {
  const { axes } = ctx;
  const kept = x.chunks.map((c, a) => (axes.includes(a) ? nonEmptyBlocks(c) : c.map((_, i) => i)));
  const starts = x.chunks.map(offsets);
  const grid = kept.map((b) => b.length);
  const producers = stream && axes.length === x.ndim ? x.graph.layers.get(x.name) : undefined;
  const layer: Graph = {};
  for (const index of blockIndices(grid)) {
    const orig = index.map((i, a) => kept[a][i]);
    const lo = orig.map((i, a) => starts[a][i]);
    const producer = producers?.[x.blockKey(...orig)];
    layer[tupleKey(name, ...index)] =
      isTask(producer) && streamOf(producer[0])
        ? [k.streamChunk, producer[0], producer.slice(1), orig.map((i, a) => x.chunks[a][i]), x.dtype, chunk, combine, ctx, lo]
        : [chunk, x.blockKey(...orig), ctx, lo];
  }
  return { name, grid, graph: LayeredGraph.of(name, layer, x.graph) };
}

/**
 * The next level: each block merges up to `split` neighbouring partials per reduced axis;
 * `outIndex` maps a block's index to its key's (the result drops reduced axes without keepdims).
 */
function mergeLevel(
  prev: Level,
  name: string,
  axes: readonly number[],
  split: number,
  task: (parts: string[]) => unknown,
  outIndex: (index: number[]) => number[] = (index) => index,
): Level {
  const grid = prev.grid.map((n, a) => (!axes.includes(a) ? n : Number.isFinite(split) ? Math.ceil(n / split) : 1));
  const layer: Graph = {};
  for (const index of blockIndices(grid)) {
    layer[tupleKey(name, ...outIndex(index))] = task(groupKeys(prev.name, index, prev.grid, axes, split));
  }
  return { name, grid, graph: LayeredGraph.of(name, layer, prev.graph) };
}

/** Keys of the partials that block `index` of the next level merges, in row-major order. */
function groupKeys(name: string, index: readonly number[], grid: readonly number[], axes: readonly number[], split: number): string[] {
  const ranges = index.map((i, a) => {
    if (!axes.includes(a)) return [i];
    const lo = i * split || 0; // Infinity * 0 is NaN: the aggregate's single group starts at 0
    return Array.from({ length: Math.min(grid[a], lo + split) - lo }, (_, j) => lo + j);
  });
  return blockIndices(ranges.map((r) => r.length)).map((j) => tupleKey(name, ...j.map((jj, a) => ranges[a][jj])));
}

/** Indices of the blocks of an axis that are not empty (unknown sizes count as not empty). */
function nonEmptyBlocks(sizes: readonly number[]): number[] {
  const out = sizes.flatMap((n, i) => (n === 0 ? [] : [i]));
  return out.length > 0 ? out : [0];
}

/** `axis` as sorted distinct indices; null/undefined means every axis. */
export function normalizeReductionAxes(axis: ReductionOptions['axis'], ndim: number, where: string): number[] {
  if (axis === null || axis === undefined) return Array.from({ length: ndim }, (_, a) => a);
  const list = typeof axis === 'number' ? [axis] : axis;
  if (!Array.isArray(list)) throw new TypeError(`${where}: axis must be a number, an array of numbers or null, got ${String(axis)}`);
  const out = list.map((a) => normalizeAxis(a, ndim, where));
  const seen = new Set<number>();
  for (let j = 0; j < out.length; j++) {
    if (seen.has(out[j])) {
      throw new RangeError(`${where}: axis ${list[j]} is repeated in [${list.join(', ')}] for an array of ${ndim} dimension${ndim === 1 ? '' : 's'}`);
    }
    seen.add(out[j]);
  }
  return out.sort((a, b) => a - b);
}

/** dask's rule: split_every s over r reduced axes merges s^(1/r) (at least 2) partials per axis. */
function splitPerAxis(splitEvery: number | undefined, axes: readonly number[], where: string): number {
  const s = splitEvery ?? DEFAULT_SPLIT_EVERY;
  if (!(Number.isInteger(s) && s >= 2)) throw new RangeError(`${where}: splitEvery must be an integer >= 2, got ${String(s)}`);
  return Math.max(Math.floor(s ** (1 / Math.max(1, axes.length)) + 1e-9), 2);
}

// ---------------------------------------------------------------------------------------------
// the reductions

const BASE_OPTIONS = ['axis', 'keepdims', 'splitEvery'];

function checkOptions(opts: object, where: string, extra: readonly string[] = []): void {
  const known = [...BASE_OPTIONS, ...extra];
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) throw new TypeError(`${where}: unknown option '${key}'; known options are ${known.join(', ')}`);
  }
}

/**
 * numpy's sum/prod type: floats keep theirs, bool and integers accumulate in the platform
 * integer, int64 in numpy, which we do not have: int32 here (uint32 stays uint32, numpy's
 * uint64), so sums past 2^31 wrap like numpy's int32 arithmetic.
 */
function accumulateDType(d: DType): DType {
  if (isFloat(d)) return d;
  return d === 'uint32' ? 'uint32' : 'int32';
}

/** numpy's mean/var type: float32 stays float32, everything else gives float64. */
function meanDType(d: DType): DType {
  return d === 'float32' ? 'float32' : 'float64';
}

type Kernels = readonly [chunk: ReductionSpec['chunk'], combine: NonNullable<ReductionSpec['combine']>];

function simple(where: string, x: DaskArray, opts: DTypeReductionOptions, [chunk, combine]: Kernels, dtype: DType): DaskArray {
  const { axis, keepdims, splitEvery } = opts;
  return treeReduction(x, { chunk, combine, aggregate: combine, dtype, name: where, axis, keepdims, splitEvery }, true);
}

export function sum(x: DaskArray, opts: DTypeReductionOptions = {}): DaskArray {
  checkOptions(opts, 'sum', ['dtype']);
  return simple('sum', x, opts, [k.sumChunk, k.sumCombine], opts.dtype ?? accumulateDType(x.dtype));
}

export function prod(x: DaskArray, opts: DTypeReductionOptions = {}): DaskArray {
  checkOptions(opts, 'prod', ['dtype']);
  return simple('prod', x, opts, [k.prodChunk, k.prodCombine], opts.dtype ?? accumulateDType(x.dtype));
}

/** The smallest value; an empty reduction fails at compute, as numpy's does. */
export function min(x: DaskArray, opts: ReductionOptions = {}): DaskArray {
  checkOptions(opts, 'min');
  return simple('min', x, opts, [k.minChunk, k.minCombine], x.dtype);
}

export function max(x: DaskArray, opts: ReductionOptions = {}): DaskArray {
  checkOptions(opts, 'max');
  return simple('max', x, opts, [k.maxChunk, k.maxCombine], x.dtype);
}

export function any(x: DaskArray, opts: ReductionOptions = {}): DaskArray {
  checkOptions(opts, 'any');
  return simple('any', x, opts, [k.anyChunk, k.anyCombine], 'bool');
}

export function all(x: DaskArray, opts: ReductionOptions = {}): DaskArray {
  checkOptions(opts, 'all');
  return simple('all', x, opts, [k.allChunk, k.allCombine], 'bool');
}

export function mean(x: DaskArray, opts: DTypeReductionOptions = {}): DaskArray {
  checkOptions(opts, 'mean', ['dtype']);
  const { axis, keepdims, splitEvery } = opts;
  const dtype = opts.dtype ?? meanDType(x.dtype);
  return treeReduction(x, { chunk: k.meanChunk, combine: k.meanCombine, aggregate: k.meanAggregate, dtype, name: 'mean', axis, keepdims, splitEvery }, true);
}

function moments(where: 'var' | 'std', x: DaskArray, opts: VarOptions): DaskArray {
  checkOptions(opts, where, ['dtype', 'ddof']);
  const { axis, keepdims, splitEvery, ddof = 0 } = opts;
  if (typeof ddof !== 'number' || !Number.isFinite(ddof)) throw new TypeError(`${where}: ddof must be a finite number, got ${String(ddof)}`);
  const dtype = opts.dtype ?? meanDType(x.dtype);
  const aggregate = where === 'var' ? k.varAggregate : k.stdAggregate;
  const spec = { chunk: k.momentChunk, combine: k.momentCombine, aggregate, dtype, name: where, axis, keepdims, splitEvery, params: { ddof } };
  return treeReduction(x, spec, true);
}

/** The variance, sum((x - mean)^2) / (n - ddof). */
export function variance(x: DaskArray, opts: VarOptions = {}): DaskArray {
  return moments('var', x, opts);
}

export { variance as var };

export function std(x: DaskArray, opts: VarOptions = {}): DaskArray {
  return moments('std', x, opts);
}

export interface ArgReductionOptions {
  /** One axis, or null/undefined for the flat index into the whole array. */
  readonly axis?: number | null;
  readonly keepdims?: boolean;
  readonly splitEvery?: number;
}

function arg(where: 'argmin' | 'argmax', x: DaskArray, opts: ArgReductionOptions, kernels: readonly [ReductionSpec<k.ArgPartial>['chunk'], NonNullable<ReductionSpec<k.ArgPartial>['combine']>, ReductionSpec<k.ArgPartial>['aggregate']]): DaskArray {
  checkOptions(opts, where);
  const { axis, keepdims, splitEvery } = opts;
  if (axis !== null && axis !== undefined && typeof axis !== 'number') {
    throw new TypeError(`${where}: axis must be a single number or null, got ${String(axis)}`);
  }
  if (hasUnknown(x.chunks)) {
    throw new RangeError(`${where}: the array has unknown chunk sizes (after boolean indexing, say), so global indices cannot be computed`);
  }
  const [chunk, combine, aggregate] = kernels;
  // int32 indices (numpy: int64), enough for arrays of up to 2^31 elements.
  return treeReduction(x, { chunk, combine, aggregate, dtype: 'int32', name: where, axis, keepdims, splitEvery }, true);
}

/** Indices of the smallest values (the first one on ties; the first NaN if any). */
export function argmin(x: DaskArray, opts: ArgReductionOptions = {}): DaskArray {
  return arg('argmin', x, opts, [k.argminChunk, k.argminCombine, k.argminAggregate]);
}

export function argmax(x: DaskArray, opts: ArgReductionOptions = {}): DaskArray {
  return arg('argmax', x, opts, [k.argmaxChunk, k.argmaxCombine, k.argmaxAggregate]);
}

// ---------------------------------------------------------------------------------------------
// cumulative sums and products

export interface CumulativeOptions {
  /** The axis; null/undefined only for arrays of at most one dimension (numpy flattens others). */
  readonly axis?: number | null;
  readonly dtype?: DType;
}

/**
 * dask's sequential scan: each block cumulated on its own, plus a carry per block (the total of
 * every earlier block along the axis, a chain of small tasks) folded into it.
 */
function cumulative(where: 'cumsum' | 'cumprod', op: number, x: DaskArray, opts: CumulativeOptions): DaskArray {
  for (const key of Object.keys(opts)) {
    if (key !== 'axis' && key !== 'dtype') throw new TypeError(`${where}: unknown option '${key}'; known options are axis, dtype`);
  }
  const dtype = opts.dtype === undefined ? accumulateDType(x.dtype) : assertDType(opts.dtype, where);
  if (opts.axis === null || opts.axis === undefined) {
    if (x.ndim > 1) {
      throw new RangeError(`${where}: axis=null flattens the array, which needs ravel; pass an axis for this ${x.ndim}-d array`);
    }
  }
  const axis = opts.axis === null || opts.axis === undefined ? 0 : normalizeAxis(opts.axis, x.ndim, where);
  if (x.ndim === 0) return cumulative0d(where, op, x, dtype);
  const token = tokenize(where, x.name, axis, dtype);
  const name = `${where}-${token}`;
  const block = `${where}-block-${token}`;
  const carry = `${where}-carry-${token}`;
  const layer: Graph = {};
  for (const index of blockIndices(x.numblocks)) {
    const i = index[axis];
    layer[tupleKey(block, ...index)] = [k.cumBlock, x.blockKey(...index), axis, op, dtype];
    if (i === 0) {
      layer[tupleKey(name, ...index)] = tupleKey(block, ...index);
      continue;
    }
    const before = index.map((j, a) => (a === axis ? j - 1 : j));
    const prior = i === 1 ? null : tupleKey(carry, ...before);
    layer[tupleKey(carry, ...index)] = [k.cumCarry, prior, tupleKey(block, ...before), axis, op, dtype];
    layer[tupleKey(name, ...index)] = [k.cumApply, tupleKey(block, ...index), tupleKey(carry, ...index), axis, op, dtype];
  }
  return new DaskArray(LayeredGraph.of(name, layer, x.graph), name, x.chunks, dtype);
}

/** numpy gives a 0-d array's cumsum the shape [1]. */
function cumulative0d(where: string, op: number, x: DaskArray, dtype: DType): DaskArray {
  const name = `${where}-${tokenize(where, x.name, dtype)}`;
  const layer: Graph = { [tupleKey(name, 0)]: [k.cumBlock, [k.reshape1, x.blockKey()], 0, op, dtype] };
  return new DaskArray(LayeredGraph.of(name, layer, x.graph), name, [[1]], dtype);
}

/** Running sums along `axis` (bool and integers accumulate in int32, numpy's int64). */
export function cumsum(x: DaskArray, opts: CumulativeOptions = {}): DaskArray {
  return cumulative('cumsum', k.SUM, x, opts);
}

/** Running products along `axis`. */
export function cumprod(x: DaskArray, opts: CumulativeOptions = {}): DaskArray {
  return cumulative('cumprod', k.PROD, x, opts);
}
