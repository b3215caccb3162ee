/**
 * Random arrays, like dask.array.random: `random.random([1e9], { chunks: 1e6, seed: 42 })`.
 *
 * Block i draws from its own generator seeded from (seed, i) (chunk/random.ts), so the same seed
 * and chunks give the same numbers on any scheduler, thread or machine. Without a seed, one is
 * drawn when the array is built: the numbers (and the array's name) then differ on every call, as
 * in dask, but stay fixed for that array, however often it is computed.
 */
import { randomInt } from 'node:crypto';
import { normalizeChunks, type ChunkSpec } from './chunks.js';
import * as k from './chunk/random.js';
import type { DaskArray } from './core.js';
import { fromBlockTasks, validateShape } from './creation.js';
import { assertDType, type DType } from './dtype.js';
import { tokenize } from '../../graph/tokenize.js';

export interface RandomOptions {
  readonly chunks?: ChunkSpec;
  /** A non-negative integer below 2^53; default: a fresh random seed per call. */
  readonly seed?: number;
  /** float64 (default) or float32; randint always gives int32. */
  readonly dtype?: DType;
  /** The array's name (default: `${op}-${token}`). */
  readonly name?: string;
}

type Shape = number | readonly number[];
type BlockTask = (shape: number[], seed: number, block: number) => unknown[];

/** Uniform floats in [0, 1). */
function randomSample(shape: Shape, opts: RandomOptions = {}): DaskArray {
  return uniformImpl('random_sample', 0, 1, shape, opts);
}

/** Uniform floats in [low, high). */
function uniform(low: number, high: number, shape: Shape, opts: RandomOptions = {}): DaskArray {
  for (const [what, v] of [['low', low], ['high', high]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`uniform: ${what} must be a finite number, got ${String(v)}`);
  }
  return uniformImpl('uniform', low, high, shape, opts);
}

function uniformImpl(op: string, low: number, high: number, shape: Shape, opts: RandomOptions): DaskArray {
  const dtype = floatDType(op, opts);
  return build(op, shape, opts, dtype, [low, high], (bs, seed, block) => [k.uniform, bs, seed, block, low, high, dtype]);
}

/** Normally distributed floats with mean `loc` and standard deviation `scale`. */
function normal(loc: number, scale: number, shape: Shape, opts: RandomOptions = {}): DaskArray {
  if (typeof loc !== 'number' || !Number.isFinite(loc)) throw new TypeError(`normal: loc must be a finite number, got ${String(loc)}`);
  if (typeof scale !== 'number' || !(scale >= 0) || !Number.isFinite(scale)) {
    throw new RangeError(`normal: scale must be a finite number >= 0, got ${String(scale)}`);
  }
  const dtype = floatDType('normal', opts);
  return build('normal', shape, opts, dtype, [loc, scale], (bs, seed, block) => [k.normal, bs, seed, block, loc, scale, dtype]);
}

/** int32 integers uniform in [low, high). numpy's default would be int64, which we do not have. */
function randint(low: number, high: number, shape: Shape, opts: RandomOptions = {}): DaskArray {
  for (const [what, v] of [['low', low], ['high', high]] as const) {
    if (!Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 31) {
      throw new RangeError(`randint: ${what} must be an integer in [-2^31, 2^31] (the values are int32), got ${String(v)}`);
    }
  }
  if (!(low < high)) throw new RangeError(`randint: low >= high (${low} >= ${high}); the interval [low, high) must not be empty`);
  if (opts.dtype !== undefined && opts.dtype !== 'int32') throw new TypeError(`randint: dtype must be int32, got ${String(opts.dtype)}`);
  return build('randint', shape, opts, 'int32', [low, high], (bs, seed, block) => [k.randint, bs, seed, block, low, high]);
}

function floatDType(where: string, opts: RandomOptions): DType {
  const dtype = opts.dtype === undefined ? 'float64' : assertDType(opts.dtype, where);
  if (dtype !== 'float64' && dtype !== 'float32') throw new TypeError(`${where}: dtype must be float64 or float32, got ${dtype}`);
  return dtype;
}

const KNOWN = ['chunks', 'seed', 'dtype', 'name'];

function build(op: string, shape: Shape, opts: RandomOptions, dtype: DType, params: unknown[], task: BlockTask): DaskArray {
  for (const key of Object.keys(opts)) {
    if (!KNOWN.includes(key)) throw new TypeError(`${op}: unknown option '${key}'; known options are ${KNOWN.join(', ')}`);
  }
  const s = validateShape(shape, op);
  const seed = opts.seed ?? randomInt(2 ** 48 - 1);
  if (!(Number.isSafeInteger(seed) && seed >= 0)) throw new RangeError(`${op}: seed must be an integer in [0, 2^53), got ${String(seed)}`);
  const chunks = normalizeChunks(opts.chunks, s, dtype);
  const name = opts.name ?? `${op}-${tokenize(op, seed, s, chunks, dtype, params)}`;
  const numblocks = chunks.map((c) => c.length);
  const flat = (index: number[]) => index.reduce((acc, i, a) => acc * numblocks[a] + i, 0);
  return fromBlockTasks(name, chunks, dtype, (index, _lo, bs) => task(bs, seed, flat(index)));
}

/** The random-array constructors, as `da.random.random(...)` etc. */
export const random = { random: randomSample, uniform, normal, randint } as const;
