/**
 * Rechunking, and the chunk alignment elementwise operations need.
 *
 * Design: along each axis, every output block is covered by a run of input blocks, each cut to
 * the overlap (`axisPlan`). An output block's pieces are the product of those runs over the axes.
 * One piece that is a whole input block becomes an alias of that block's key (no task runs); one
 * partial piece becomes a view; several pieces are copied into one new block. dask splits very
 * large rechunks into stages to bound the number of inputs per task; we emit one task per output
 * block.
 */
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { blockIndices, hasUnknown, normalizeChunks, offsets, type AxisChunkSpec, type Chunks, type ChunkSpec } from './chunks.js';
import * as k from './chunk/rechunk.js';
import { DaskArray } from './core.js';
import { requireKnownChunks } from './unknown.js';

/** A piece of input block `block` along one axis: elements [start, stop) of it. */
interface Piece {
  readonly block: number;
  readonly start: number;
  readonly stop: number;
}

/**
 * Target chunks: a ChunkSpec, or (as dask) an object from axis (negative counts from the end) to
 * that axis's spec, other axes keeping their chunks. Unlike in `normalizeChunks`, null means "keep
 * this axis's chunks", as in dask's rechunk.
 */
export type RechunkSpec = ChunkSpec | Chunks | { readonly [axis: number]: AxisChunkSpec };

/** `x` with blocks cut along `chunks`; `x` itself when the chunks are already those. */
export function rechunk(x: DaskArray, chunks: RechunkSpec): DaskArray {
  const target = targetChunks(x, chunks);
  if (sameChunks(target, x.chunks)) return x;
  requireKnownChunks(x, 'rechunk');
  if (hasUnknown(target)) throw new RangeError(`rechunk: target chunks ${fmt(target)} must be known sizes`);
  const plans = target.map((out, axis) => axisPlan(x.chunks[axis], out));
  const name = `rechunk-${tokenize(x.name, target)}`;
  const layer: Graph = {};
  for (const index of blockIndices(target.map((c) => c.length))) {
    layer[tupleKey(name, ...index)] = blockTask(x, index, plans, target);
  }
  return new DaskArray(LayeredGraph.of(name, layer, x.graph), name, target, x.dtype);
}

function blockTask(x: DaskArray, index: number[], plans: Piece[][][], target: Chunks): unknown {
  const pieces = index.map((i, axis) => plans[axis][i]);
  const shape = index.map((i, axis) => target[axis][i]);
  if (pieces.every((p) => p.length === 1)) {
    const key = x.blockKey(...pieces.map((p) => p[0].block));
    const whole = pieces.every(([p], axis) => p.start === 0 && p.stop === x.chunks[axis][p.block]);
    return whole ? key : [k.subBlock, key, pieces.map(([p]) => p.start), shape];
  }
  const keys = blockIndices(pieces.map((p) => p.length)).map((grid) => x.blockKey(...grid.map((g, axis) => pieces[axis][g].block)));
  return [k.merge, x.dtype, shape, pieces.map((p) => p.map((q) => [q.start, q.stop])), keys];
}

/** For each output block along an axis, the input pieces covering it, in order. */
export function axisPlan(input: readonly number[], output: readonly number[]): Piece[][] {
  const inStart = offsets(input);
  const plan: Piece[][] = [];
  let i = 0;
  let pos = 0;
  for (const size of output) {
    const end = pos + size;
    // Skip input blocks that end at or before pos (zero-length ones included), keeping the last.
    while (i < input.length - 1 && inStart[i + 1] <= pos) i++;
    if (size === 0) {
      plan.push([{ block: i, start: pos - inStart[i], stop: pos - inStart[i] }]);
      continue;
    }
    const pieces: Piece[] = [];
    for (let j = i; j < input.length && inStart[j] < end; j++) {
      if (input[j] === 0) continue;
      pieces.push({ block: j, start: Math.max(pos, inStart[j]) - inStart[j], stop: Math.min(end, inStart[j + 1]) - inStart[j] });
    }
    plan.push(pieces);
    pos = end;
  }
  return plan;
}

function targetChunks(x: DaskArray, spec: RechunkSpec): Chunks {
  if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
    const perAxis: (AxisChunkSpec | readonly number[])[] = [...x.chunks];
    for (const [key, s] of Object.entries(spec as Record<string, AxisChunkSpec>)) {
      const axis = Number(key) < 0 ? Number(key) + x.ndim : Number(key);
      if (!(Number.isInteger(axis) && axis >= 0 && axis < x.ndim)) {
        throw new RangeError(`rechunk: axis ${key} is out of range for an array of ${x.ndim} dimensions`);
      }
      if (s !== null) perAxis[axis] = s;
    }
    return normalizeChunks(perAxis, x.shape, x.dtype);
  }
  if (Array.isArray(spec)) {
    // Keep the chunks along null axes; an array of arrays is taken as already normal chunks.
    const filled = (spec as readonly (AxisChunkSpec | undefined)[]).map((s, axis) => (s === null && axis < x.ndim ? x.chunks[axis] : s));
    return normalizeChunks(filled as AxisChunkSpec[], x.shape, x.dtype);
  }
  return normalizeChunks(spec as ChunkSpec, x.shape, x.dtype);
}

export function sameChunks(a: Chunks, b: Chunks): boolean {
  return a.length === b.length && a.every((c, axis) => c.length === b[axis].length && c.every((n, i) => Object.is(n, b[axis][i])));
}

function fmt(chunks: Chunks): string {
  return `(${chunks.map((c) => `(${c.join(', ')})`).join(', ')})`;
}

/**
 * The common refinement of several chunkings of one axis: the union of their block boundaries.
 * Throws when the lengths differ. Zero-length axes refine to `[0]`.
 */
export function refineChunks(...axes: readonly (readonly number[])[]): number[] {
  if (axes.length === 0) throw new TypeError('refineChunks: give at least one chunking');
  if (axes.every((c) => sameAxis(c, axes[0]))) return [...axes[0]];
  const show = () => axes.map((a) => `(${a.join(', ')})`).join(', ');
  if (axes.some((c) => c.some(Number.isNaN))) {
    throw new RangeError(`refineChunks: cannot align chunkings with unknown sizes ${show()}; compute them (computeChunkSizes) first`);
  }
  const total = axes[0].reduce((a, b) => a + b, 0);
  if (axes.some((c) => c.reduce((a, b) => a + b, 0) !== total)) {
    throw new RangeError(`refineChunks: chunkings ${show()} cover different lengths`);
  }
  if (total === 0) return [0];
  const cuts = new Set<number>();
  for (const c of axes) for (const o of offsets(c)) cuts.add(o);
  const sorted = [...cuts].sort((a, b) => a - b);
  return sorted.slice(1).map((o, i) => o - sorted[i]);
}

function sameAxis(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => Object.is(n, b[i]));
}

/**
 * Rechunks arrays so that their blocks line up under numpy broadcasting: axes are matched from
 * the right, and every array whose length on an output axis is not 1 gets the common refinement
 * of all such chunkings there. Length-1 (broadcast) axes keep their single block. Arrays of
 * matching chunks come back unchanged. Shapes must broadcast (see `broadcastShapes`).
 */
export function unifyChunks(...arrays: readonly DaskArray[]): DaskArray[] {
  const ndim = Math.max(0, ...arrays.map((a) => a.ndim));
  const refined: (number[] | undefined)[] = [];
  for (let axis = 0; axis < ndim; axis++) {
    const having = arrays.filter((a) => axis >= ndim - a.ndim);
    const along = having.map((a) => a.chunks[axis - (ndim - a.ndim)]).filter((c) => !(c.length === 1 && c[0] === 1));
    if (along.some((c) => !sameAxis(c, along[0]))) {
      for (const a of having) requireKnownChunks(a, 'aligning chunks', [axis - (ndim - a.ndim)]);
    }
    refined.push(along.length ? refineChunks(...along) : undefined);
  }
  return arrays.map((a) => {
    const shift = ndim - a.ndim;
    const target = a.chunks.map((c, axis) => (c.length === 1 && c[0] === 1 ? c : (refined[axis + shift] ?? c)));
    return sameChunks(target, a.chunks) ? a : rechunk(a, target);
  });
}
