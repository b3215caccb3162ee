/**
 * Basic indexing: `x[3, 1:8:2, ::-1, None]` in dask, `slice(x, 3, [1, 8, 2], [null, null, -1], newaxis)` here.
 *
 * Design: each axis is read on its own. A slice is first resolved like Python's
 * `slice.indices(n)` into (start, step, count); then every input block along that axis
 * contributes the selected elements that fall inside it, as (first, count, step) local to the
 * block; blocks contributing nothing are dropped (an empty result keeps one empty block, as in
 * dask). A negative step visits the blocks in reverse. An integer picks one block and drops the
 * axis; `newaxis` adds a length-1 axis of one block. Output block (i, j, ...) is then a view of
 * one input block, the product of the per-axis choices, so slicing never copies data.
 */
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { fmtShape, normalizeAxes } from './axes.js';
import { blockIndices, offsets } from './chunks.js';
import * as k from './chunk/slicing.js';
import { DaskArray } from './core.js';
import { UnknownChunksError } from './unknown.js';

/** Inserts a length-1 axis (numpy's `np.newaxis`, which is `None` there; `null` here means "whole axis"). */
export const newaxis: unique symbol = Symbol.for('dask-ts.newaxis');

/** Stands for as many whole axes as needed (Python's `...`), at most once per index. */
export const ellipsis = '...';

/** `[start, stop, step]` like Python's `start:stop:step`; null or a missing entry takes the default. */
export type SliceTuple = readonly [start?: number | null, stop?: number | null, step?: number | null];

/** One entry per axis: an integer, a slice, null (the whole axis), `newaxis`, or `ellipsis` once. */
export type IndexSpec = number | SliceTuple | null | typeof newaxis | typeof ellipsis;

/** What one spec does to one input axis, once resolved against the chunks. */
type AxisPlan =
  | { readonly kind: 'pick'; readonly index: number; readonly block: number; readonly local: number }
  | { readonly kind: 'slice'; readonly parts: readonly Part[]; readonly whole: boolean; readonly resolved?: readonly number[] }
  | { readonly kind: 'new' };

/** The contribution of one input block: `count` elements from `first` every `step`. */
interface Part {
  readonly block: number;
  readonly first: number;
  readonly count: number;
  readonly step: number;
}

/**
 * Basic indexing with one spec per axis; missing trailing specs take their whole axis.
 * Integers drop their axis (all integers give a 0-d array, whose compute() is a number).
 */
export function slice(x: DaskArray, ...specs: readonly IndexSpec[]): DaskArray {
  return getitem(x, specs, 'getitem');
}

/** `slice` under another operation name (for the name of the result, `${op}-${token}`). */
export function getitem(x: DaskArray, specs: readonly IndexSpec[], op: string): DaskArray {
  const plans = planAxes(x, specs);
  if (plans.every((p) => p.kind === 'slice' && p.whole)) return x;
  const chunks = plans.flatMap((p) => (p.kind === 'pick' ? [] : p.kind === 'new' ? [[1]] : [p.parts.map((q) => q.count)]));
  const name = `${op}-${tokenize(x, plans.map(describe))}`;
  const out = plans.filter((p) => p.kind !== 'pick');
  const layer: Graph = {};
  for (const index of blockIndices(chunks.map((c) => c.length))) {
    layer[tupleKey(name, ...index)] = blockTask(x, plans, out.map((p, j) => (p.kind === 'slice' ? p.parts[index[j]] : undefined)));
  }
  return new DaskArray(LayeredGraph.of(name, layer, x.graph), name, chunks, x.dtype);
}

/** The view task of one output block, given the part chosen on each output slice axis. */
function blockTask(x: DaskArray, plans: readonly AxisPlan[], chosen: readonly (Part | undefined)[]): unknown {
  const source: number[] = [];
  const view: k.AxisView[] = [];
  let j = 0;
  for (const p of plans) {
    if (p.kind === 'pick') {
      source.push(p.block);
      view.push(p.local);
      continue;
    }
    const part = chosen[j++];
    if (part === undefined) {
      view.push('new');
      continue;
    }
    // A whole axis of unknown size has no count to write down; the kernel keeps it as it is.
    const unknown = Number.isNaN(x.chunks[source.length][part.block]);
    source.push(part.block);
    view.push(unknown ? 'all' : [part.first, part.count, part.step]);
  }
  const key = x.blockKey(...source);
  return isIdentity(x, source, view) ? key : [k.view, key, trimView(view)];
}

/**
 * True when the view keeps the whole block unchanged: the task can be an alias of its key.
 * (A pick or a new axis is never the identity, so here view positions are input axes.)
 */
function isIdentity(x: DaskArray, source: readonly number[], view: readonly k.AxisView[]): boolean {
  return view.every(
    (v, axis) => v === 'all' || (Array.isArray(v) && v[0] === 0 && v[2] === 1 && v[1] === x.chunks[axis][source[axis]]),
  );
}

/** Trailing whole axes are implied by the kernel; dropping them keeps tasks small. */
function trimView(view: k.AxisView[]): k.AxisView[] {
  let n = view.length;
  while (n > 0 && view[n - 1] === 'all') n--;
  return view.slice(0, n);
}

/** The resolved spec of an axis, for the token: equal selections give equal names. */
function describe(p: AxisPlan): unknown {
  if (p.kind === 'slice') return p.whole ? 'all' : p.resolved;
  return p.kind === 'pick' ? p.index : 'new';
}

/** One plan per input axis plus one per newaxis, in output order; missing specs are whole axes. */
function planAxes(x: DaskArray, specs: readonly IndexSpec[]): AxisPlan[] {
  const dots = specs.filter((s) => s === ellipsis).length;
  if (dots > 1) throw new RangeError('slice: an index can only have a single ellipsis');
  const used = specs.filter((s) => s !== newaxis && s !== ellipsis).length;
  if (used > x.ndim) {
    throw new RangeError(`slice: too many indices for an array of shape ${fmtShape(x.shape)}: ${used} given for ${x.ndim} axes`);
  }
  const fill = new Array<null>(x.ndim - used).fill(null);
  const full = dots ? specs.flatMap((s) => (s === ellipsis ? fill : [s])) : [...specs, ...fill];
  const plans: AxisPlan[] = [];
  let axis = 0;
  for (const spec of full) {
    if (spec === newaxis) plans.push({ kind: 'new' });
    else plans.push(planAxis(x, axis++, spec as number | SliceTuple | null));
  }
  return plans;
}

function planAxis(x: DaskArray, axis: number, spec: number | SliceTuple | null): AxisPlan {
  const sizes = x.chunks[axis];
  const n = x.shape[axis];
  const unknown = sizes.some(Number.isNaN);
  if (spec === null || (Array.isArray(spec) && spec.every((v) => v === null || v === undefined))) {
    return { kind: 'slice', parts: sizes.map((size, block) => ({ block, first: 0, count: size, step: 1 })), whole: true };
  }
  if (unknown) throw new UnknownChunksError(`slice (axis ${axis})`, x.shape);
  if (typeof spec === 'number') return pick(sizes, axis, spec, n);
  if (!Array.isArray(spec) || spec.length > 3) {
    throw new TypeError(`slice: the index for axis ${axis} must be an integer, [start, stop, step], null or newaxis; got ${String(spec)}`);
  }
  const { start, step, count } = resolveSlice(spec as SliceTuple, n, axis);
  const parts = sliceParts(sizes, start, step, count);
  const whole = step === 1 && count === n;
  const resolved = [start, step, count];
  return { kind: 'slice', parts: parts.length ? parts : [{ block: 0, first: 0, count: 0, step: 1 }], whole, resolved };
}

function pick(sizes: readonly number[], axis: number, index: number, n: number): AxisPlan {
  if (!Number.isInteger(index)) throw new TypeError(`slice: the index for axis ${axis} must be an integer, got ${index}`);
  if (index < -n || index >= n) throw new RangeError(`slice: index ${index} is out of bounds for axis ${axis} with length ${n}`);
  const i = index < 0 ? index + n : index;
  const starts = offsets(sizes);
  let block = 0;
  while (starts[block + 1] <= i) block++;
  return { kind: 'pick', index: i, block, local: i - starts[block] };
}

/** Python's `slice(start, stop, step).indices(n)`, as a first index, a step and a count. */
export function resolveSlice(spec: SliceTuple, n: number, axis = 0): { start: number; step: number; count: number } {
  const [rawStart, rawStop, rawStep] = spec;
  for (const v of spec) {
    if (v !== null && v !== undefined && !Number.isInteger(v)) {
      throw new TypeError(`slice: [start, stop, step] for axis ${axis} must hold integers or null, got [${spec.join(', ')}]`);
    }
  }
  const step = rawStep ?? 1;
  if (step === 0) throw new RangeError(`slice: the step for axis ${axis} must not be zero`);
  const [lower, upper] = step > 0 ? [0, n] : [-1, n - 1];
  const clamp = (v: number | null | undefined, dflt: number): number =>
    v === null || v === undefined ? dflt : v < 0 ? Math.max(v + n, lower) : Math.min(v, upper);
  const start = clamp(rawStart, step > 0 ? lower : upper);
  const stop = clamp(rawStop, step > 0 ? upper : lower);
  const count = Math.max(0, Math.ceil((stop - start) / step));
  return { start, step, count };
}

/**
 * The parts of each block holding elements start + j*step, j in [0, count): ascending blocks for
 * a positive step, descending for a negative one, blocks with no element left out.
 */
function sliceParts(sizes: readonly number[], start: number, step: number, count: number): Part[] {
  if (count === 0) return [];
  const starts = offsets(sizes);
  const order = sizes.map((_, b) => b);
  if (step < 0) order.reverse();
  const parts: Part[] = [];
  for (const block of order) {
    const lo = starts[block];
    const hi = starts[block + 1];
    // The j with lo <= start + j*step < hi; dividing by a negative step flips the bounds.
    const [j0, j1] =
      step > 0
        ? [Math.ceil((lo - start) / step), Math.ceil((hi - start) / step)]
        : [Math.floor((hi - start) / step) + 1, Math.floor((lo - start) / step) + 1];
    const a = Math.max(0, j0);
    const b = Math.min(count, j1);
    if (b > a) parts.push({ block, first: start + a * step - lo, count: b - a, step });
  }
  return parts;
}

/**
 * Removes length-1 axes: the given ones (negatives from the end), or all of them.
 * An axis of another length is a RangeError, as in numpy.
 */
export function squeeze(x: DaskArray, axis?: number | readonly number[]): DaskArray {
  const axes =
    axis === undefined
      ? x.shape.flatMap((n, a) => (n === 1 ? [a] : []))
      : normalizeAxes(typeof axis === 'number' ? [axis] : axis, x.ndim, 'squeeze');
  for (const a of axes) {
    if (Number.isNaN(x.shape[a])) throw new UnknownChunksError(`squeeze (axis ${a})`, x.shape);
    if (x.shape[a] !== 1) throw new RangeError(`squeeze: cannot remove axis ${a} of length ${x.shape[a]} (shape ${fmtShape(x.shape)}); only length-1 axes can be squeezed`);
  }
  if (axes.length === 0) return x;
  return getitem(x, x.shape.map((_, a) => (axes.includes(a) ? 0 : null)), 'squeeze');
}
