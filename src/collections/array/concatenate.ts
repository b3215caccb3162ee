/**
 * Joining arrays: concatenate along an existing axis, stack along a new one.
 *
 * The inputs are first cut alike on the axes they share (the common refinement of their chunks,
 * as dask's unify_chunks), so each output block is exactly one input block: an alias of its key
 * when the dtype is unchanged, a cast otherwise, plus a new length-1 axis for stack.
 */
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { fmtShape, normalizeAxis } from './axes.js';
import { blockIndices } from './chunks.js';
import * as k from './chunk/slicing.js';
import { DaskArray } from './core.js';
import { promote, type DType } from './dtype.js';
import { requireKnownChunks } from './unknown.js';
import { rechunk, refineChunks, sameChunks } from './rechunk.js';

/** The arrays joined along `axis` (negatives from the end); other lengths must match. */
export function concatenate(arrays: readonly DaskArray[], axis = 0): DaskArray {
  checkArrays(arrays, 'concatenate');
  const ndim = arrays[0].ndim;
  if (ndim === 0) throw new RangeError('concatenate: 0-d arrays cannot be concatenated; use stack');
  checkNdim(arrays, 'concatenate');
  const ax = normalizeAxis(axis, ndim, 'concatenate');
  const shared = arrays[0].shape.map((_, a) => a).filter((a) => a !== ax);
  checkShapes(arrays, shared, 'concatenate', `all but axis ${ax}`);
  const dtype = arrays.map((a) => a.dtype).reduce(promote);
  if (arrays.length === 1 && arrays[0].dtype === dtype) return arrays[0];
  const aligned = alignAxes(arrays, shared);
  const chunks = aligned[0].chunks.map((c, a) => (a === ax ? aligned.flatMap((x) => x.chunks[ax]) : c));
  const name = `concatenate-${tokenize(aligned, ax, dtype)}`;
  const layer: Graph = {};
  let shift = 0;
  for (const x of aligned) {
    for (const index of blockIndices(x.numblocks)) {
      const out = index.map((i, a) => (a === ax ? i + shift : i));
      layer[tupleKey(name, ...out)] = castTask(x.blockKey(...index), x.dtype, dtype);
    }
    shift += x.numblocks[ax];
  }
  return new DaskArray(LayeredGraph.of(name, layer, ...aligned.map((x) => x.graph)), name, chunks, dtype);
}

/** The arrays, all of one shape, joined along a new axis at position `axis`. */
export function stack(arrays: readonly DaskArray[], axis = 0): DaskArray {
  checkArrays(arrays, 'stack');
  checkNdim(arrays, 'stack');
  const ndim = arrays[0].ndim;
  const ax = normalizeAxis(axis, ndim + 1, 'stack');
  const all = arrays[0].shape.map((_, a) => a);
  checkShapes(arrays, all, 'stack', 'every axis');
  const dtype = arrays.map((a) => a.dtype).reduce(promote);
  const aligned = alignAxes(arrays, all);
  const chunks = [...aligned[0].chunks];
  chunks.splice(ax, 0, arrays.map(() => 1));
  const name = `stack-${tokenize(aligned, ax, dtype)}`;
  const plan: k.AxisView[] = [...new Array<k.AxisView>(ax).fill('all'), 'new'];
  const layer: Graph = {};
  aligned.forEach((x, j) => {
    for (const index of blockIndices(x.numblocks)) {
      const out = [...index];
      out.splice(ax, 0, j);
      const view = [k.view, x.blockKey(...index), plan];
      layer[tupleKey(name, ...out)] = x.dtype === dtype ? view : [k.cast, view, dtype];
    }
  });
  return new DaskArray(LayeredGraph.of(name, layer, ...aligned.map((x) => x.graph)), name, chunks, dtype);
}

function castTask(key: string, from: DType, to: DType): unknown {
  return from === to ? key : [k.cast, key, to];
}

function checkArrays(arrays: readonly DaskArray[], where: string): void {
  if (!Array.isArray(arrays) || arrays.length === 0) throw new TypeError(`${where}: give a non-empty list of arrays`);
  arrays.forEach((a, j) => {
    if (!(a instanceof DaskArray)) throw new TypeError(`${where}: item ${j} is not a DaskArray (wrap data with fromArray)`);
  });
}

function checkNdim(arrays: readonly DaskArray[], where: string): void {
  const odd = arrays.find((a) => a.ndim !== arrays[0].ndim);
  if (odd) {
    throw new RangeError(`${where}: all arrays need the same number of dimensions, but shapes ${fmtShape(arrays[0].shape)} and ${fmtShape(odd.shape)} differ`);
  }
}

/** Lengths on `axes` must be known and equal in every array. */
function checkShapes(arrays: readonly DaskArray[], axes: readonly number[], where: string, which: string): void {
  arrays.forEach((x) => requireKnownChunks(x, where, axes));
  for (const x of arrays) {
    const bad = axes.find((a) => x.shape[a] !== arrays[0].shape[a]);
    if (bad !== undefined) {
      throw new RangeError(
        `${where}: shapes ${fmtShape(arrays[0].shape)} and ${fmtShape(x.shape)} differ on axis ${bad}; they must match on ${which}`,
      );
    }
  }
}

/** The arrays rechunked to one chunking on each of `axes` (those whose chunks differ only). */
function alignAxes(arrays: readonly DaskArray[], axes: readonly number[]): DaskArray[] {
  const target = arrays[0].chunks.map((c, a) => (axes.includes(a) ? refineChunks(...arrays.map((x) => x.chunks[a])) : undefined));
  return arrays.map((x) => {
    const chunks = x.chunks.map((c, a) => target[a] ?? c);
    return sameChunks(chunks, x.chunks) ? x : rechunk(x, chunks);
  });
}
