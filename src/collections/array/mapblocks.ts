/**
 * mapBlocks: dask's map_blocks, a function applied to the aligned blocks of one or more arrays.
 *
 * Arrays line up from their last axis (numpy broadcasting) and their chunks are unified, so block
 * (i, j) of every array covers the same region. The function receives the blocks only (dask's
 * `block_info` / `block_id` keywords are not offered). It is passed as an argument of the kernel
 * `array.mapBlock`, which checks and converts what it returns, so it travels to other threads as
 * any task function does; blockwise builds the graph.
 */
import type { TaskFn } from '../../graph/spec.js';
import { fmtShape, normalizeAxes } from './axes.js';
import { blockwiseWith, type Arg, type BlockwiseOptions } from './blockwise.js';
import * as k from './chunk/blockwise.js';
import { DaskArray } from './core.js';
import { assertDType, type DType } from './dtype.js';
import { unifyChunks } from './rechunk.js';

export interface MapBlocksOptions {
  /** The output's element type (default: the first array's). */
  readonly dtype?: DType;
  /**
   * The output's chunks, one entry per output axis, when the function changes block shapes: a
   * number is the size of every block along that axis, a list gives each block's size.
   */
  readonly chunks?: readonly (number | readonly number[])[];
  /** Input axes the function removes; blocks along them are joined before the call. */
  readonly dropAxis?: number | readonly number[];
  /** Output axes the function adds (positions in the output, after dropAxis); length 1 unless chunks say otherwise. */
  readonly newAxis?: number | readonly number[];
  /** The output's whole name (default: `${fn.name || 'mapBlocks'}-${token}`). */
  readonly name?: string;
}

const OPTIONS = ['dtype', 'chunks', 'dropAxis', 'newAxis', 'name'];

/**
 * `mapBlocks(fn, x, y, ..., opts?)`: block (i, j, ...) of the result is `fn(xBlock, yBlock, ...)`.
 * Arguments that are not arrays are passed to every call as they are; a trailing plain object is
 * the options. The function returns an ndarray or a typed array (of the block's size).
 */
export function mapBlocks(fn: TaskFn, ...rest: unknown[]): DaskArray {
  if (typeof fn !== 'function') throw new TypeError(`mapBlocks: the first argument must be a function, got ${typeof fn}`);
  const opts = isOptions(rest[rest.length - 1]) ? (rest.pop() as MapBlocksOptions) : {};
  for (const key of Object.keys(opts)) {
    if (!OPTIONS.includes(key)) throw new TypeError(`mapBlocks: unknown option '${key}'; known options are ${OPTIONS.join(', ')}`);
  }
  const given = rest.filter((x): x is DaskArray => x instanceof DaskArray);
  if (given.length === 0) throw new TypeError('mapBlocks: give at least one dask array after the function');
  const ndim = Math.max(...given.map((a) => a.ndim));
  checkBroadcast(given, ndim);
  const arrays = unifyChunks(...given);
  const letter = (axis: number) => String.fromCharCode(axis < 26 ? 97 + axis : 0x100 + axis);
  let next = 0;
  const args: Arg[] = rest.map((x) => {
    if (!(x instanceof DaskArray)) return { value: x };
    const a = arrays[next++];
    return { array: a, index: Array.from({ length: a.ndim }, (_, axis) => letter(axis + ndim - a.ndim)) };
  });

  const { out, base, newAxes } = outputAxes(arrays, ndim, opts, letter);
  const adjustChunks = outChunks(opts.chunks, base, out);
  const dtype = opts.dtype === undefined ? arrays[0].dtype : assertDType(opts.dtype, 'mapBlocks');
  const bopts: BlockwiseOptions = { dtype, name: opts.name, concatenate: true, newAxes, adjustChunks, alignArrays: false };
  const opName = fn.name || 'mapBlocks';
  return blockwiseWith(
    (taskArgs, block, shape) => [k.mapBlock, fn, shape, dtype, `mapBlocks(${opName}) at block (${block.join(', ')})`, ...taskArgs],
    { name: opName, token: [fn, 'mapBlocks'] },
    out.join(''),
    args,
    bopts,
  );
}

/**
 * The output's letters: the inputs' axes less dropAxis, with new letters (length 1) inserted at
 * the newAxis positions; with each output axis's chunks before the chunks option.
 */
function outputAxes(arrays: readonly DaskArray[], ndim: number, opts: MapBlocksOptions, letter: (axis: number) => string) {
  const dropped = normalizeAxes(toList(opts.dropAxis), ndim, 'mapBlocks (dropAxis)');
  const kept = Array.from({ length: ndim }, (_, axis) => axis).filter((axis) => !dropped.includes(axis));
  const outNdim = kept.length + toList(opts.newAxis).length;
  const added = normalizeAxes(toList(opts.newAxis), outNdim, 'mapBlocks (newAxis)');
  const out: string[] = [];
  const base: (readonly number[])[] = [];
  const newAxes: Record<string, number> = {};
  for (let axis = 0, src = 0; axis < outNdim; axis++) {
    if (added.includes(axis)) {
      out.push(letter(ndim + axis));
      newAxes[letter(ndim + axis)] = 1;
      base.push([1]);
    } else {
      out.push(letter(kept[src]));
      base.push(chunksOf(arrays, ndim, kept[src++]));
    }
  }
  return { out, base, newAxes };
}

/** Arrays line up from the last axis; along each axis every length is the same or 1. */
function checkBroadcast(arrays: readonly DaskArray[], ndim: number): void {
  for (let axis = 0; axis < ndim; axis++) {
    const withLen = arrays.filter((a) => axis - (ndim - a.ndim) >= 0);
    const long = withLen.find((a) => a.shape[axis - (ndim - a.ndim)] !== 1);
    if (long === undefined) continue;
    const n = long.shape[axis - (ndim - long.ndim)];
    const bad = withLen.find((a) => ![1, n].includes(a.shape[axis - (ndim - a.ndim)]));
    if (bad) {
      throw new RangeError(`mapBlocks: arrays of shapes ${fmtShape(long.shape)} and ${fmtShape(bad.shape)} do not line up (axes are matched from the last)`);
    }
  }
}

function isOptions(x: unknown): boolean {
  if (x === null || typeof x !== 'object' || Array.isArray(x) || x instanceof DaskArray) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function toList(x: number | readonly number[] | undefined): number[] {
  return x === undefined ? [] : typeof x === 'number' ? [x] : [...x];
}

/** The unified chunks along output axis `axis` (of `ndim`), from the first array that is not broadcast there. */
function chunksOf(arrays: readonly DaskArray[], ndim: number, axis: number): readonly number[] {
  let found: readonly number[] | undefined;
  for (const a of arrays) {
    const c = a.chunks[axis - (ndim - a.ndim)];
    if (c === undefined) continue;
    if (found === undefined || (found.length === 1 && found[0] === 1)) found = c;
  }
  return found!;
}

/** The chunks option, checked against the output's axes and block counts, as blockwise's adjustChunks. */
function outChunks(spec: MapBlocksOptions['chunks'], base: readonly (readonly number[])[], out: readonly string[]): Record<string, readonly number[]> {
  if (spec === undefined) return {};
  if (!Array.isArray(spec) || spec.length !== base.length) {
    throw new RangeError(`mapBlocks: chunks must have one entry per output axis (${base.length}), got ${JSON.stringify(spec)}`);
  }
  const adj: Record<string, readonly number[]> = {};
  spec.forEach((s: number | readonly number[], axis: number) => {
    const nb = base[axis].length;
    const sizes = typeof s === 'number' ? Array.from({ length: nb }, () => s) : [...s];
    if (sizes.some((n) => !(Number.isInteger(n) && n >= 0))) {
      throw new RangeError(`mapBlocks: chunks along output axis ${axis} must be non-negative integers, got ${JSON.stringify(s)}`);
    }
    if (sizes.length !== nb) {
      throw new RangeError(`mapBlocks: chunks along output axis ${axis} list ${sizes.length} blocks but the output has ${nb} there (input chunks ${fmtShape(base[axis])})`);
    }
    adj[out[axis]] = sizes;
  });
  return adj;
}
