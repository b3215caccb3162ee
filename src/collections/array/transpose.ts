/** Permuting axes: transpose, and swapaxes/moveaxis built on it. Blocks are views, never copies. */
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { normalizeAxes, normalizeAxis } from './axes.js';
import { blockIndices } from './chunks.js';
import * as k from './chunk/slicing.js';
import { DaskArray } from './core.js';

/** Axis `i` of the result is axis `axes[i]` of `x`; by default the axes are reversed (`x.T`). */
export function transpose(x: DaskArray, axes?: readonly number[]): DaskArray {
  const perm = axes === undefined ? x.shape.map((_, a) => x.ndim - 1 - a) : normalizeAxes(axes, x.ndim, 'transpose');
  if (perm.length !== x.ndim) {
    throw new RangeError(`transpose: axes [${axes!.join(', ')}] do not match an array of ${x.ndim} dimensions; give a permutation of 0..${x.ndim - 1}`);
  }
  if (perm.every((p, i) => p === i)) return x;
  const chunks = perm.map((p) => x.chunks[p]);
  const name = `transpose-${tokenize(x, perm)}`;
  const layer: Graph = {};
  for (const index of blockIndices(chunks.map((c) => c.length))) {
    const source = new Array<number>(x.ndim);
    perm.forEach((p, i) => (source[p] = index[i]));
    layer[tupleKey(name, ...index)] = [k.transpose, x.blockKey(...source), perm];
  }
  return new DaskArray(LayeredGraph.of(name, layer, x.graph), name, chunks, x.dtype);
}

/** `x` with axes a and b exchanged. */
export function swapaxes(x: DaskArray, a: number, b: number): DaskArray {
  const perm = x.shape.map((_, i) => i);
  const i = normalizeAxis(a, x.ndim, 'swapaxes');
  const j = normalizeAxis(b, x.ndim, 'swapaxes');
  [perm[i], perm[j]] = [perm[j], perm[i]];
  return transpose(x, perm);
}

/** `x` with axis `source` moved to position `destination`, the others keeping their order. */
export function moveaxis(x: DaskArray, source: number, destination: number): DaskArray {
  const s = normalizeAxis(source, x.ndim, 'moveaxis');
  const d = normalizeAxis(destination, x.ndim, 'moveaxis');
  const perm = x.shape.map((_, i) => i).filter((i) => i !== s);
  perm.splice(d, 0, s);
  return transpose(x, perm);
}
