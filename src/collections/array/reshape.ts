/**
 * reshape: the same elements, row-major, in a new shape.
 *
 * Design (dask's `reshape_rechunk`): the shapes are matched from the last axis. An axis of equal
 * length on both sides keeps its chunks, and length-1 axes keep one block. Otherwise the smallest
 * group of trailing input axes and output axes with equal products is one unit: the input is
 * rechunked so that every axis of the group but its first is whole in each block, and the first
 * one's blocks (after splitting them, so block counts stay about the same) are grouped so each
 * block maps onto whole rows of the output group. Then input block j becomes output block j in
 * row-major order, by a reshape of the block alone. This covers dask's cases — merging trailing
 * axes ((4, 4, 4) -> (64,)), splitting one axis ((64,) -> (4, 4, 4)), with 1s anywhere — and also
 * groups that do both ((4, 6) -> (6, 4)), where dask raises NotImplementedError. A group whose
 * leading axis is cut into blocks of one row each is merged without rechunking.
 */
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { fmtShape } from './axes.js';
import { blockIndices, type Chunks } from './chunks.js';
import * as kc from './chunk/creation.js';
import * as k from './chunk/slicing.js';
import { DaskArray } from './core.js';
import { requireKnownChunks } from './unknown.js';
import { rechunk } from './rechunk.js';

/** `x` in `shape` (one entry may be -1: whatever length makes the sizes match). */
export function reshape(x: DaskArray, shape: number | readonly number[]): DaskArray {
  const wanted = typeof shape === 'number' ? [shape] : [...shape];
  if (x.ndim === 1 && wanted.length === 1 && wanted[0] === -1) return x;
  requireKnownChunks(x, 'reshape');
  const target = resolveShape(x.shape, wanted);
  if (target.length === x.ndim && target.every((n, a) => n === x.shape[a])) return x;
  const name = `reshape-${tokenize(x, target)}`;
  if (x.size === 0) {
    const layer = { [tupleKey(name, ...target.map(() => 0))]: [kc.full, target, 0, x.dtype] };
    return new DaskArray(LayeredGraph.of(name, layer), name, target.map((n) => [n]), x.dtype);
  }
  const { inChunks, outChunks } = x.npartitions === 1 ? { inChunks: x.chunks, outChunks: target.map((n) => [n]) } : reshapeRechunk(x.shape, target, x.chunks);
  const x2 = rechunk(x, inChunks);
  const inIdx = blockIndices(x2.numblocks);
  const outIdx = blockIndices(outChunks.map((c) => c.length));
  const layer: Graph = {};
  outIdx.forEach((index, j) => {
    layer[tupleKey(name, ...index)] = [k.reshape, x2.blockKey(...inIdx[j]), index.map((i, a) => outChunks[a][i]), x.dtype];
  });
  return new DaskArray(LayeredGraph.of(name, layer, x2.graph), name, outChunks, x.dtype);
}

/** The target shape with -1 filled in; a RangeError when the sizes cannot match. */
function resolveShape(from: readonly number[], shape: readonly number[]): number[] {
  const size = from.reduce((a, b) => a * b, 1);
  const bad = (why: string) => new RangeError(`reshape: cannot reshape an array of shape ${fmtShape(from)} (size ${size}) into shape ${fmtShape(shape)}: ${why}`);
  if (shape.some((n) => !Number.isInteger(n) || n < -1)) throw bad('lengths must be non-negative integers, or -1 once');
  const free = shape.filter((n) => n === -1).length;
  if (free > 1) throw bad('only one length can be -1');
  const known = shape.reduce((a, n) => (n === -1 ? a : a * n), 1);
  if (free === 1) {
    if (known === 0 || size % known !== 0) throw bad(`no length for -1 makes the size ${size}`);
    return shape.map((n) => (n === -1 ? size / known : n));
  }
  if (known !== size) throw bad('the sizes differ');
  return [...shape];
}

/**
 * The chunks to give the input, and the chunks the output then has, so that input block j
 * reshapes to output block j (both in row-major order). Both shapes have the same, non-zero size.
 */
export function reshapeRechunk(inShape: readonly number[], outShape: readonly number[], chunks: Chunks): { inChunks: number[][]; outChunks: number[][] } {
  const inChunks = new Array<number[]>(inShape.length);
  const outChunks = new Array<number[]>(outShape.length);
  let ii = inShape.length - 1;
  let oi = outShape.length - 1;
  while (ii >= 0 || oi >= 0) {
    if (ii >= 0 && oi >= 0 && inShape[ii] === outShape[oi]) {
      inChunks[ii] = [...chunks[ii]];
      outChunks[oi--] = [...chunks[ii--]];
    } else if (ii >= 0 && inShape[ii] === 1) {
      inChunks[ii--] = [1];
    } else if (oi >= 0 && outShape[oi] === 1) {
      outChunks[oi--] = [1];
    } else {
      // The sizes are equal and non-zero, so a group with equal products ends before axis -1.
      let ileft = ii;
      let oleft = oi;
      let pin = inShape[ii];
      let pout = outShape[oi];
      while (pin !== pout) {
        if (pin < pout) pin *= inShape[--ileft];
        else pout *= outShape[--oleft];
      }
      planGroup({ inShape, outShape, chunks, inChunks, outChunks }, [ileft, ii], [oleft, oi]);
      ii = ileft - 1;
      oi = oleft - 1;
    }
  }
  return { inChunks, outChunks };
}

interface GroupState {
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  readonly chunks: Chunks;
  readonly inChunks: number[][];
  readonly outChunks: number[][];
}

/** Chunks for input axes [i0, i1] and output axes [o0, o1], whose lengths have equal products. */
function planGroup(s: GroupState, [i0, i1]: [number, number], [o0, o1]: [number, number]): void {
  const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
  const rowsOnly = o0 === o1 && s.chunks.slice(i0, i1).every((c) => c.every((n) => n === 1));
  if (rowsOnly) {
    for (let a = i0; a <= i1; a++) s.inChunks[a] = [...s.chunks[a]];
    const rows = prod(s.inShape.slice(i0, i1));
    s.outChunks[o0] = Array.from({ length: rows }, () => s.chunks[i1]).flat();
    return;
  }
  const inRest = prod(s.inShape.slice(i0 + 1, i1 + 1));
  const outRest = prod(s.outShape.slice(o0 + 1, o1 + 1));
  for (let a = i0 + 1; a <= i1; a++) s.inChunks[a] = [s.inShape[a]];
  for (let a = o0 + 1; a <= o1; a++) s.outChunks[a] = [s.outShape[a]];
  // A lead block of c rows is c*inRest elements: whole output rows when c is a multiple of this.
  const multiple = outRest / gcd(inRest, outRest);
  const lead = contractChunks(expandChunks(s.chunks[i0], prod(s.chunks.slice(i0 + 1, i1 + 1).map((c) => c.length))), multiple);
  s.inChunks[i0] = lead;
  s.outChunks[o0] = lead.map((c) => (c * inRest) / outRest);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Splits each chunk into about `factor` pieces (dask's expand_tuple). */
export function expandChunks(chunks: readonly number[], factor: number): number[] {
  if (factor === 1) return chunks.filter((c) => c > 0);
  const out: number[] = [];
  for (const c of chunks) {
    let rest = c;
    const part = Math.max(c / factor, 1);
    while (rest >= 2 * part) {
      out.push(Math.floor(part));
      rest -= Math.floor(part);
    }
    if (rest) out.push(rest);
  }
  return out;
}

/** Merges neighbouring chunks so that `factor` divides each (dask's contract_tuple). */
export function contractChunks(chunks: readonly number[], factor: number): number[] {
  const out: number[] = [];
  let residual = 0;
  for (const c of chunks) {
    const total = c + residual;
    const good = total - (total % factor);
    residual = total % factor;
    if (good) out.push(good);
  }
  return out;
}
