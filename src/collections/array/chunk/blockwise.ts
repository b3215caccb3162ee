/** Kernels of blockwise and mapBlocks: concatenating contracted blocks, checking what a user function returned. */
import ndarray from 'ndarray';
import { defineKernel } from '../../../graph/shipping/registry.js';
import type { NdArray } from '../core.js';
import { dtypeOf, type DType, type TypedArray } from '../dtype.js';
import { copyInto, empty } from './strided.js';

type Nested = NdArray | readonly Nested[];

/**
 * Blocks nested one list level per axis in `axes`, joined into one block: the outermost list
 * along axes[0], the next along axes[1], and so on (blockwise's `concatenate: true`).
 */
export const concatNested = defineKernel('array.concatNested', (nested: Nested, axes: readonly number[]): NdArray => {
  const join = (x: Nested, level: number): NdArray =>
    level === axes.length ? (x as NdArray) : concatAlong((x as readonly Nested[]).map((y) => join(y, level + 1)), axes[level]);
  return join(nested, 0);
});

function concatAlong(parts: readonly NdArray[], axis: number): NdArray {
  if (parts.length === 1) return parts[0];
  const shape = [...parts[0].shape];
  shape[axis] = parts.reduce((s, p) => s + p.shape[axis], 0);
  const out = empty(dtypeOf(parts[0].data as TypedArray), shape);
  const lo = shape.map(() => 0);
  for (const p of parts) {
    copyInto(out.lo(...lo).hi(...p.shape) as NdArray, p);
    lo[axis] += p.shape[axis];
  }
  return out;
}

/**
 * Calls a mapBlocks function and turns what it returned into a block of the declared shape and
 * dtype: an ndarray is checked (and cast when its element type differs), a typed array is
 * reshaped, a number fills a one-element block. `shape` holds NaN where the size is unknown.
 */
export const mapBlock = defineKernel(
  'array.mapBlock',
  (fn: (...args: unknown[]) => unknown, shape: readonly number[], dtype: DType, where: string, ...args: unknown[]): NdArray | Promise<NdArray> => {
    const r = fn(...args);
    return r instanceof Promise ? r.then((v) => toBlock(v, shape, dtype, where)) : toBlock(r, shape, dtype, where);
  },
);

function toBlock(value: unknown, shape: readonly number[], dtype: DType, where: string): NdArray {
  const fmt = (s: readonly number[]) => `[${s.map((n) => (Number.isNaN(n) ? '?' : n)).join(', ')}]`;
  let a: NdArray;
  if (value !== null && typeof value === 'object' && 'shape' in value && 'data' in value && 'stride' in value) {
    a = value as NdArray;
  } else if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const data = value as TypedArray;
    const known = shape.every((n) => !Number.isNaN(n));
    const size = shape.reduce((x, y) => x * y, 1);
    if (known ? data.length !== size : shape.length !== 1) {
      throw new RangeError(`${where}: the function returned a typed array of ${data.length} elements, which does not fit the block shape ${fmt(shape)}; return an ndarray, or pass chunks to declare the output's blocks`);
    }
    a = ndarray(data, known ? [...shape] : [data.length]) as NdArray;
  } else if (typeof value === 'number' || typeof value === 'boolean') {
    if (shape.some((n) => n !== 1)) {
      throw new RangeError(`${where}: the function returned a number, but the block shape is ${fmt(shape)}; return an ndarray`);
    }
    a = ndarray(Float64Array.of(Number(value)), [...shape]) as NdArray;
  } else {
    const got = value === null ? 'null' : Array.isArray(value) ? 'a plain array' : typeof value;
    throw new TypeError(`${where}: the function returned ${got}; return an ndarray or a typed array`);
  }
  if (a.shape.length !== shape.length || a.shape.some((n, i) => !Number.isNaN(shape[i]) && n !== shape[i])) {
    throw new RangeError(`${where}: the function returned shape ${fmt(a.shape)} but the output's chunks give ${fmt(shape)}; pass chunks (and dropAxis/newAxis) to declare the output's blocks`);
  }
  return cast(a, dtype);
}

/** `a` when its elements are already of `dtype`, else a converted copy (bool: nonzero is 1). */
function cast(a: NdArray, dtype: DType): NdArray {
  const have = dtypeOf(a.data as TypedArray);
  if (have === dtype || (dtype === 'bool' && have === 'uint8' && isZeroOne(a))) return a;
  const out = empty(dtype, a.shape);
  if (dtype === 'bool') {
    const tmp = empty('float64', a.shape);
    copyInto(tmp, a);
    const d = out.data as TypedArray;
    const t = tmp.data as Float64Array;
    for (let i = 0; i < t.length; i++) d[i] = t[i] !== 0 ? 1 : 0;
    return out;
  }
  copyInto(out, a);
  return out;
}

function isZeroOne(a: NdArray): boolean {
  const d = a.data as TypedArray;
  for (let i = 0; i < d.length; i++) if (d[i] > 1) return false;
  return true;
}
