/**
 * Products of arrays: tensordot, and dot, matmul and outer on top of it, built with blockwise.
 *
 * Design: tensordot is `blockwise` with the contracted axes sharing letters that the output
 * lacks, so each output block's task receives the lists of blocks along the contraction. That
 * task sums all its partial products itself, accumulating in place (`chunk/linalg.ts`): no
 * partial-product block is allocated or added, and the output's blocks are the parallelism. A
 * long contraction would make few long tasks, so when it spans more than `splitEvery` blocks it
 * is cut into groups of that many; each group is one blockwise over that block range, and a tree
 * of elementwise sums (fan-in `splitEvery`, as dask's reductions) adds the group results.
 */
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { fmtShape, normalizeAxes } from './axes.js';
import { blockwise } from './blockwise.js';
import { blockIndices } from './chunks.js';
import * as k from './chunk/linalg.js';
import { DaskArray } from './core.js';
import { promote } from './dtype.js';
import { requireKnownChunks } from './unknown.js';
import { rechunk, refineChunks } from './rechunk.js';

/** Axes to contract: the last n of a with the first n of b, or explicit lists (or single axes). */
export type TensordotAxes = number | readonly [number | readonly number[], number | readonly number[]];

export interface TensordotOptions {
  /** Most contracted blocks one task sums before a tree adds the groups (default 4). */
  readonly splitEvery?: number;
}

/** numpy's tensordot: sums products over `axes` of a and b; the result has a's free axes, then b's. */
export function tensordot(a: DaskArray, b: DaskArray, axes: TensordotAxes = 2, opts: TensordotOptions = {}): DaskArray {
  checkArrays(a, b, 'tensordot');
  const [aAxes, bAxes] = parseAxes(a, b, axes);
  return contract(a, b, aAxes, bAxes, 'tensordot', opts.splitEvery ?? 4);
}

/** numpy's dot: 1-D · 1-D is the inner product; otherwise the last axis of a with the second-to-last of b (the only one if 1-D). */
export function dot(a: DaskArray, b: DaskArray): DaskArray {
  checkArrays(a, b, 'dot');
  if (a.ndim === 0 || b.ndim === 0) throw new RangeError(`dot: 0-d arrays (shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}) are not supported; multiply them instead`);
  return contract(a, b, [a.ndim - 1], [Math.max(0, b.ndim - 2)], 'dot', 4);
}

/** numpy's matmul (the @ operator) for 1-D and 2-D arrays, where it equals dot. */
export function matmul(a: DaskArray, b: DaskArray): DaskArray {
  checkArrays(a, b, 'matmul');
  if (a.ndim === 0 || b.ndim === 0) throw new RangeError(`matmul: 0-d arrays (shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}) are not allowed; multiply them instead`);
  if (a.ndim > 2 || b.ndim > 2) {
    throw new RangeError(`matmul: stacks of matrices (shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}) are not supported yet; only 1-D and 2-D arrays`);
  }
  return contract(a, b, [a.ndim - 1], [Math.max(0, b.ndim - 2)], 'matmul', 4);
}

/** The outer product of two 1-D arrays: out[i, j] = a[i] · b[j]. */
export function outer(a: DaskArray, b: DaskArray): DaskArray {
  checkArrays(a, b, 'outer');
  if (a.ndim !== 1 || b.ndim !== 1) {
    throw new RangeError(`outer: only 1-D arrays are supported (got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}); flatten them first`);
  }
  const dtype = promote(a.dtype, b.dtype);
  return blockwise(k.outer, 'ij', a, 'i', b, 'j', dtype, null, { dtype, name: `outer-${tokenize(a.name, b.name)}` });
}

function checkArrays(a: unknown, b: unknown, where: string): void {
  if (!(a instanceof DaskArray) || !(b instanceof DaskArray)) throw new TypeError(`${where}: both arguments must be dask arrays`);
}

function parseAxes(a: DaskArray, b: DaskArray, axes: TensordotAxes): [number[], number[]] {
  if (typeof axes === 'number') {
    if (!(Number.isInteger(axes) && axes >= 0 && axes <= a.ndim && axes <= b.ndim)) {
      throw new RangeError(`tensordot: axes=${axes} must be an integer from 0 to ${Math.min(a.ndim, b.ndim)} for shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
    }
    return [range(a.ndim - axes, a.ndim), range(0, axes)];
  }
  if (!Array.isArray(axes) || axes.length !== 2) throw new TypeError('tensordot: axes must be a number or a pair [axesOfA, axesOfB]');
  const list = (x: number | readonly number[]) => (typeof x === 'number' ? [x] : [...x]);
  const aAxes = normalizeAxes(list(axes[0]), a.ndim, 'tensordot (axes of the first array)');
  const bAxes = normalizeAxes(list(axes[1]), b.ndim, 'tensordot (axes of the second array)');
  if (aAxes.length !== bAxes.length) throw new RangeError(`tensordot: ${aAxes.length} axes of the first array but ${bAxes.length} of the second`);
  return [aAxes, bAxes];
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/**
 * a's axes aAxes[p] contracted with b's bAxes[p]. The contracted chunks are first refined to a
 * common chunking (rechunking whichever array differs), as dask's unify_chunks does.
 */
function contract(a: DaskArray, b: DaskArray, aAxes: number[], bAxes: number[], op: string, splitEvery: number): DaskArray {
  if (!(Number.isInteger(splitEvery) && splitEvery >= 2)) throw new RangeError(`${op}: splitEvery must be an integer of at least 2, got ${splitEvery}`);
  requireKnownChunks(a, op, aAxes);
  requireKnownChunks(b, op, bAxes);
  aAxes.forEach((axis, p) => {
    if (a.shape[axis] !== b.shape[bAxes[p]]) {
      throw new RangeError(
        `${op}: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} are not aligned: axis ${axis} of the first has length ${a.shape[axis]} but axis ${bAxes[p]} of the second has length ${b.shape[bAxes[p]]}`,
      );
    }
  });
  const aChunks = [...a.chunks];
  const bChunks = [...b.chunks];
  aAxes.forEach((axis, p) => {
    aChunks[axis] = bChunks[bAxes[p]] = refineChunks(a.chunks[axis], b.chunks[bAxes[p]]);
  });
  const ra = rechunk(a, aChunks);
  const rb = rechunk(b, bChunks);
  const dtype = promote(a.dtype, b.dtype);
  const name = `${op}-${tokenize(a.name, b.name, aAxes, bAxes)}`;
  const letter = (i: number) => String.fromCharCode(i < 26 ? 97 + i : 0x100 + i);
  const ia = range(0, a.ndim).map(letter);
  const ib = range(0, b.ndim).map((axis) => (bAxes.includes(axis) ? ia[aAxes[bAxes.indexOf(axis)]] : letter(a.ndim + axis)));
  const out = [...ia.filter((_, axis) => !aAxes.includes(axis)), ...ib.filter((_, axis) => !bAxes.includes(axis))].join('');
  const product = (x: DaskArray, y: DaskArray, n: string) =>
    blockwise(k.tensordot, out, x, ia.join(''), y, ib.join(''), aAxes, null, bAxes, null, dtype, null, { dtype, name: n, alignArrays: false });

  const nk = aAxes.length === 0 ? 1 : ra.chunks[aAxes[0]].length;
  if (nk <= splitEvery) return product(ra, rb, name);
  // Long contraction: one product per range of blocks along the first contracted axis, then a sum tree.
  let parts: DaskArray[] = [];
  for (let g = 0; g * splitEvery < nk; g++) {
    const [lo, hi] = [g * splitEvery, Math.min(nk, (g + 1) * splitEvery)];
    parts.push(product(blockRange(ra, aAxes[0], lo, hi), blockRange(rb, bAxes[0], lo, hi), `${op}-part-${g}-${tokenize(name)}`));
  }
  for (let level = 0; parts.length > 1; level++) {
    const next: DaskArray[] = [];
    for (let i = 0; i < parts.length; i += splitEvery) {
      const group = parts.slice(i, i + splitEvery);
      const last = parts.length <= splitEvery;
      next.push(
        group.length === 1
          ? group[0]
          : blockwise(k.sumBlocks, out, dtype, null, ...group.flatMap((p) => [p, out]), { dtype, name: last ? name : `${op}-sum-${level}-${i}-${tokenize(name)}` }),
      );
    }
    parts = next;
  }
  return parts[0];
}

/** The blocks lo..hi-1 of `x` along `axis`, as an array whose blocks are aliases of x's (no task runs). */
function blockRange(x: DaskArray, axis: number, lo: number, hi: number): DaskArray {
  const name = `${x.name}-blocks-${tokenize(axis, lo, hi)}`;
  const chunks = x.chunks.map((c, a) => (a === axis ? c.slice(lo, hi) : c));
  const layer: Graph = {};
  for (const index of blockIndices(chunks.map((c) => c.length))) {
    layer[tupleKey(name, ...index)] = x.blockKey(...index.map((i, a) => (a === axis ? i + lo : i)));
  }
  return new DaskArray(LayeredGraph.of(name, layer, x.graph), name, chunks, x.dtype);
}
