/** Creating arrays: from data, constants, ranges, identity matrices, and delayed values. */
import ndarray from 'ndarray';
import { Delayed } from '../../graph/delayed.js';
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { toShared } from '../../schedulers/transfer.js';
import { blockIndices, normalizeChunks, offsets, type ChunkSpec } from './chunks.js';
import * as k from './chunk/creation.js';
import { DaskArray, type NdArray } from './core.js';
import { assertDType, dtypeOf, type DType, type TypedArray } from './dtype.js';
import { contiguous } from './chunk/strided.js';

export interface CreateOptions {
  readonly chunks?: ChunkSpec;
  readonly dtype?: DType;
  /** The array's name (default: `${op}-${token}`). */
  readonly name?: string;
}

type Shape = number | readonly number[];

/** Builds an array whose block (i, j, ...) is the task `blockTask(index, lo, shape)`. */
export function fromBlockTasks(
  name: string,
  chunks: readonly (readonly number[])[],
  dtype: DType,
  blockTask: (index: number[], lo: number[], shape: number[]) => unknown,
  inputs: readonly LayeredGraph[] = [],
  extra: Graph = {},
): DaskArray {
  const starts = chunks.map(offsets);
  const layer: Graph = { ...extra };
  for (const index of blockIndices(chunks.map((c) => c.length))) {
    const lo = index.map((i, a) => starts[a][i]);
    const shape = index.map((i, a) => chunks[a][i]);
    layer[tupleKey(name, ...index)] = blockTask(index, lo, shape);
  }
  return new DaskArray(LayeredGraph.of(name, layer, ...inputs), name, chunks, dtype);
}

export function validateShape(shape: Shape, where: string): number[] {
  const s = typeof shape === 'number' ? [shape] : [...shape];
  for (const n of s) {
    if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`${where}: shape entries must be non-negative integers, got [${s.join(', ')}]`);
  }
  return s;
}

function options(opts: CreateOptions | undefined, where: string, fallback: DType): { chunks?: ChunkSpec; dtype: DType; name?: string } {
  for (const key of Object.keys(opts ?? {})) {
    if (!['chunks', 'dtype', 'name'].includes(key)) throw new TypeError(`${where}: unknown option '${key}'; known options are chunks, dtype, name`);
  }
  return { chunks: opts?.chunks, dtype: opts?.dtype === undefined ? fallback : assertDType(opts.dtype, where), name: opts?.name };
}

/** An array filled with `value`. */
export function full(shape: Shape, value: number | boolean, opts?: CreateOptions): DaskArray {
  const fallback: DType = typeof value === 'boolean' ? 'bool' : 'float64';
  const o = options(opts, 'full', fallback);
  const s = validateShape(shape, 'full');
  const chunks = normalizeChunks(o.chunks, s, o.dtype);
  const name = o.name ?? `full-${tokenize(s, chunks, Number(value), o.dtype)}`;
  return fromBlockTasks(name, chunks, o.dtype, (_i, _lo, bs) => [k.full, bs, Number(value), o.dtype]);
}

export function ones(shape: Shape, opts?: CreateOptions): DaskArray {
  return full(shape, 1, { ...opts, name: opts?.name ?? `ones-${tokenize(shape, opts?.chunks, opts?.dtype)}` });
}

export function zeros(shape: Shape, opts?: CreateOptions): DaskArray {
  return full(shape, 0, { ...opts, name: opts?.name ?? `zeros-${tokenize(shape, opts?.chunks, opts?.dtype)}` });
}

/** Uninitialised in numpy; here zero-filled, since fresh shared memory is zeroed anyway. */
export function empty(shape: Shape, opts?: CreateOptions): DaskArray {
  return full(shape, 0, { ...opts, name: opts?.name ?? `empty-${tokenize(shape, opts?.chunks, opts?.dtype)}` });
}

/** `arange(stop, opts?)` or `arange(start, stop, step?, opts?)`: evenly spaced values in [start, stop). */
export function arange(stop: number, opts?: CreateOptions): DaskArray;
export function arange(start: number, stop: number, opts?: CreateOptions): DaskArray;
export function arange(start: number, stop: number, step: number, opts?: CreateOptions): DaskArray;
export function arange(...args: (number | CreateOptions | undefined)[]): DaskArray {
  const opts = typeof args[args.length - 1] === 'object' ? (args.pop() as CreateOptions) : undefined;
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
  const nums = args as number[];
  if (nums.length < 1 || nums.length > 3 || nums.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw new TypeError('arange: use arange(stop, opts?) or arange(start, stop, step?, opts?) with finite numbers');
  }
  const [start, stop, step] = nums.length === 1 ? [0, nums[0], 1] : [nums[0], nums[1], nums[2] ?? 1];
  if (step === 0) throw new RangeError('arange: step must not be zero');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const o = options(opts, 'arange', nums.every(Number.isInteger) ? 'int32' : 'float64');
  const chunks = normalizeChunks(o.chunks, [n], o.dtype);
  const name = o.name ?? `arange-${tokenize(start, stop, step, chunks, o.dtype)}`;
  return fromBlockTasks(name, chunks, o.dtype, (_i, [lo], [bn]) => [k.arange, start + lo * step, step, bn, o.dtype]);
}

export interface LinspaceOptions extends CreateOptions {
  /** Include `stop` as the last value (default true). */
  readonly endpoint?: boolean;
}

/** `num` evenly spaced values from start to stop. */
export function linspace(start: number, stop: number, num: number, opts: LinspaceOptions = {}): DaskArray {
  const { endpoint = true, ...rest } = opts;
  if (!(Number.isInteger(num) && num >= 0)) throw new RangeError(`linspace: num must be a non-negative integer, got ${num}`);
  const o = options(rest, 'linspace', 'float64');
  const div = endpoint ? num - 1 : num;
  const delta = div > 0 ? (stop - start) / div : 0;
  const chunks = normalizeChunks(o.chunks, [num], o.dtype);
  const name = o.name ?? `linspace-${tokenize(start, stop, num, endpoint, chunks, o.dtype)}`;
  return fromBlockTasks(name, chunks, o.dtype, (_i, [lo], [bn]) => [k.linspace, start, delta, lo, bn, o.dtype]);
}

export interface EyeOptions extends CreateOptions {
  /** Columns (default N). */
  readonly M?: number;
  /** Diagonal offset: 0 the main diagonal, positive above it. */
  readonly k?: number;
}

/** An N x M array with ones on diagonal k. */
export function eye(N: number, opts: EyeOptions = {}): DaskArray {
  const { M = N, k: diag = 0, ...rest } = opts;
  const o = options(rest, 'eye', 'float64');
  const s = validateShape([N, M], 'eye');
  const chunks = normalizeChunks(o.chunks, s, o.dtype);
  const name = o.name ?? `eye-${tokenize(s, diag, chunks, o.dtype)}`;
  return fromBlockTasks(name, chunks, o.dtype, (_i, [r0, c0], [rows, cols]) => [k.eye, rows, cols, r0, c0, diag, o.dtype]);
}

export interface FromArrayOptions extends CreateOptions {
  /** The shape of a flat typed array (default: its length). */
  readonly shape?: readonly number[];
}

type NestedNumbers = number | boolean | readonly NestedNumbers[];

/**
 * An array from data in memory: an ndarray, a typed array (with `shape`), or nested JS arrays.
 * The data is copied into shared memory once; blocks are views of it.
 */
export function fromArray(input: NdArray | ArrayBufferView | NestedNumbers[], opts: FromArrayOptions = {}): DaskArray {
  const { shape, ...rest } = opts;
  const { arr, dtype } = toNdarray(input, shape, rest.dtype);
  const o = options(rest, 'fromArray', dtype);
  const chunks = normalizeChunks(o.chunks, arr.shape, o.dtype);
  const token = tokenize(arr, chunks, o.dtype);
  const name = o.name ?? `array-${token}`;
  const original = `array-original-${token}`;
  return fromBlockTasks(name, chunks, o.dtype, (_i, lo, bs) => [k.getBlock, original, lo, bs], [], { [original]: arr });
}

/** The input as a shared-memory ndarray of the requested dtype (converted when it differs). */
function toNdarray(input: unknown, shape: readonly number[] | undefined, dtype: DType | undefined): { arr: NdArray; dtype: DType } {
  const r = toNdarrayAsIs(input, shape, dtype);
  const stored = dtypeOf(r.arr.data as TypedArray);
  if (r.dtype === stored || (r.dtype === 'bool' && stored === 'uint8' && !ArrayBuffer.isView(input))) return r;
  return { arr: cast(r.arr, r.dtype), dtype: r.dtype };
}

/** A C-contiguous copy with values converted as numpy's astype does (bool: non-zero is true). */
function cast(a: NdArray, dtype: DType): NdArray {
  const out = k.full(a.shape, 0, dtype);
  const src = contiguous(a, dtypeOf(a.data as TypedArray)).data as TypedArray;
  const dst = out.data as TypedArray;
  if (dtype === 'bool') for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
  else dst.set(src);
  return out;
}

function toNdarrayAsIs(input: unknown, shape: readonly number[] | undefined, dtype: DType | undefined): { arr: NdArray; dtype: DType } {
  if (input !== null && typeof input === 'object' && 'shape' in input && 'stride' in input && 'data' in input) {
    const a = input as NdArray;
    const dt = dtypeOf(a.data as TypedArray);
    return { arr: ndarray(toShared(a.data as TypedArray), a.shape, a.stride, a.offset) as NdArray, dtype: dtype ?? dt };
  }
  if (ArrayBuffer.isView(input)) {
    const data = toShared(input as TypedArray);
    const s = shape ? validateShape(shape, 'fromArray') : [data.length];
    if (s.reduce((a, b) => a * b, 1) !== data.length) {
      throw new RangeError(`fromArray: shape [${s.join(', ')}] holds ${s.reduce((a, b) => a * b, 1)} elements but the typed array has ${data.length}`);
    }
    return { arr: ndarray(data, s) as NdArray, dtype: dtype ?? dtypeOf(data) };
  }
  if (Array.isArray(input)) return fromNested(input, dtype);
  throw new TypeError(`fromArray: expected an ndarray, a typed array or nested arrays of numbers, got ${typeof input}`);
}

function fromNested(input: readonly NestedNumbers[], dtype: DType | undefined): { arr: NdArray; dtype: DType } {
  const shape: number[] = [];
  for (let x: unknown = input; Array.isArray(x); x = x[0]) shape.push(x.length);
  const flat: (number | boolean)[] = [];
  const walk = (x: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof x !== 'number' && typeof x !== 'boolean') throw new TypeError(`fromArray: nested arrays must hold numbers or booleans, found ${typeof x}`);
      flat.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) {
      throw new RangeError(`fromArray: nested arrays are ragged: expected length ${shape[depth]} at depth ${depth}`);
    }
    for (const y of x) walk(y, depth + 1);
  };
  walk(input, 0);
  const inferred: DType = flat.every((v) => typeof v === 'boolean')
    ? 'bool'
    : flat.every((v) => Number.isInteger(v) && Math.abs(v as number) < 2 ** 31)
      ? 'int32'
      : 'float64';
  const dt = dtype ?? inferred;
  const data = k.full(shape, 0, dt);
  const d = data.data as TypedArray;
  for (let i = 0; i < flat.length; i++) d[i] = Number(flat[i]);
  return { arr: data, dtype: dt };
}

/** A one-block array from a Delayed value that will compute to an array of `shape`. */
export function fromDelayed(value: Delayed<unknown>, shape: readonly number[], opts: { dtype?: DType; name?: string } = {}): DaskArray {
  if (!(value instanceof Delayed)) throw new TypeError('fromDelayed: the first argument must be a Delayed value');
  const dtype = opts.dtype === undefined ? 'float64' : assertDType(opts.dtype, 'fromDelayed');
  const s = validateShape(shape, 'fromDelayed');
  const name = opts.name ?? `from-value-${tokenize(value, s, dtype)}`;
  const dgraph = LayeredGraph.of(value.key, value.daskGraph());
  return fromBlockTasks(name, s.map((n) => [n]), dtype, () => [k.asBlock, value.key, s, dtype], [dgraph]);
}
