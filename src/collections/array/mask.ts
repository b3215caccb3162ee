/**
 * Boolean masks (`x[cond]` in dask) and arrays of unknown chunk sizes.
 *
 * How many elements a mask keeps is known only once it runs, so the result is 1-d with one block
 * per input block of unknown size, NaN in `chunks`. As in dask, an n-d array of known shape is
 * first raveled (reshaped to 1-d, which makes trailing axes whole in each block) so the elements
 * come out in numpy's row-major order; without known sizes that is impossible, and the order is
 * block by block instead. Operations that need sizes refuse such arrays with
 * `UnknownChunksError`; `computeChunkSizes` runs the blocks and fills them in.
 */
import type { DaskCollection } from '../../graph/collection.js';
import { compute, type ComputeOptions } from '../../graph/compute.js';
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph, Key } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { fmtShape } from './axes.js';
import { blockIndices, hasUnknown } from './chunks.js';
import * as k from './chunk/mask.js';
import { DaskArray, type NdArray } from './core.js';
import { fromArray } from './creation.js';
import { refineChunks, rechunk, sameChunks } from './rechunk.js';
import { reshape } from './reshape.js';
import { requireKnownChunks, UnknownChunksError } from './unknown.js';

export { requireKnownChunks, UnknownChunksError };

type NestedBools = boolean | number | readonly NestedBools[];

/**
 * The elements of `x` where `cond` is true, flattened in row-major order: numpy's `x[cond]` for a
 * boolean `cond` of x's shape. `cond` may be a bool DaskArray or in-memory booleans.
 */
export function mask(x: DaskArray, cond: DaskArray | NdArray | readonly NestedBools[]): DaskArray {
  const c = cond instanceof DaskArray ? cond : inMemoryCondition(x, cond);
  if (c.dtype !== 'bool') throw new TypeError(`mask: the condition must have dtype bool, got ${c.dtype} (compare it first, e.g. x > 0)`);
  if (c.ndim !== x.ndim || c.shape.some((n, a) => !Object.is(n, x.shape[a]))) {
    throw new RangeError(`mask: the condition has shape ${fmtShape(c.shape)} but the array has shape ${fmtShape(x.shape)}; they must be equal`);
  }
  const [xa, ca] = alignBlocks(...ravel(x, c));
  const name = `mask-${tokenize(xa, ca)}`;
  const layer: Graph = {};
  blockIndices(xa.numblocks).forEach((index, flat) => {
    layer[tupleKey(name, flat)] = [k.mask, xa.blockKey(...index), ca.blockKey(...index), x.dtype];
  });
  const chunks = [new Array<number>(xa.npartitions).fill(Number.NaN)];
  return new DaskArray(LayeredGraph.of(name, layer, xa.graph, ca.graph), name, chunks, x.dtype);
}

/** Both raveled when their sizes are known: blocks of 1-d arrays hold row-major runs. */
function ravel(x: DaskArray, c: DaskArray): [DaskArray, DaskArray] {
  if (x.ndim <= 1 || hasUnknown(x.chunks) || hasUnknown(c.chunks)) return [x, c];
  return [reshape(x, -1), reshape(c, -1)];
}

function inMemoryCondition(x: DaskArray, cond: NdArray | readonly NestedBools[]): DaskArray {
  requireKnownChunks(x, 'mask (with an in-memory condition)');
  return fromArray(cond as NdArray, { chunks: x.chunks, dtype: 'bool' });
}

/** Both arrays cut into the same blocks (the common refinement of their chunks). */
function alignBlocks(x: DaskArray, c: DaskArray): [DaskArray, DaskArray] {
  if (sameChunks(x.chunks, c.chunks)) return [x, c];
  if (hasUnknown(x.chunks)) throw new UnknownChunksError('mask', x.shape);
  if (hasUnknown(c.chunks)) throw new UnknownChunksError('mask (the condition)', c.shape);
  const target = x.chunks.map((xc, a) => refineChunks(xc, c.chunks[a]));
  return [rechunk(x, target), rechunk(c, target)];
}

/**
 * `x` with its unknown chunk sizes filled in, by computing every block (and keeping only the
 * shapes). As in dask this costs one computation of `x`; persist `x` first to avoid a second.
 */
export async function computeChunkSizes(x: DaskArray, opts: ComputeOptions = {}): Promise<DaskArray> {
  if (!hasUnknown(x.chunks)) return x;
  const name = `chunk-shapes-${tokenize(x)}`;
  const indices = blockIndices(x.numblocks);
  const layer: Graph = {};
  const keys: Key[] = indices.map((index) => {
    const key = tupleKey(name, ...index);
    layer[key] = [k.blockShape, x.blockKey(...index)];
    return key;
  });
  const graph = LayeredGraph.of(name, layer, x.graph);
  const shapes: DaskCollection<number[][]> = {
    daskName: name,
    daskGraph: () => graph.materialize(),
    daskKeys: () => keys,
    daskPostCompute: (r) => r as number[][],
    daskPostPersist: () => shapes,
  };
  const [blockShapes] = await compute(shapes, opts);
  return new DaskArray(x.graph, x.name, chunksFromShapes(x, indices, blockShapes), x.dtype);
}

function chunksFromShapes(x: DaskArray, indices: readonly number[][], shapes: readonly number[][]): number[][] {
  const chunks = x.chunks.map((c) => new Array<number>(c.length).fill(Number.NaN));
  indices.forEach((index, j) => {
    index.forEach((i, axis) => {
      const n = shapes[j][axis];
      const prior = chunks[axis][i];
      // Blocks in one row must agree; a kernel that broke that would break assembly too.
      if (!Number.isNaN(prior) && prior !== n) throw new RangeError(`computeChunkSizes: blocks along axis ${axis} at position ${i} have sizes ${prior} and ${n}`);
      chunks[axis][i] = n;
    });
  });
  return chunks;
}
