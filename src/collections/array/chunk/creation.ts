/** Kernels that make blocks from nothing or from a whole input: full, arange, linspace, eye, slices. */
import ndarray from 'ndarray';
import { defineKernel } from '../../../graph/shipping/registry.js';
import type { NdArray } from '../core.js';
import { alloc, dtypeOf, type DType, type TypedArray } from '../dtype.js';
import { contiguous, empty } from './strided.js';

export const full = defineKernel('array.full', (shape: number[], value: number, dtype: DType): NdArray => {
  const out = empty(dtype, shape);
  if (value !== 0) (out.data as TypedArray).fill(value);
  return out;
});

export const arange = defineKernel('array.arange', (start: number, step: number, n: number, dtype: DType): NdArray => {
  const data = alloc(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return ndarray(data, [n]) as NdArray;
});

/** Block of linspace: values start + (i0 + i) * delta. */
export const linspace = defineKernel(
  'array.linspace',
  (start: number, delta: number, i0: number, n: number, dtype: DType): NdArray => {
    const data = alloc(dtype, n);
    for (let i = 0; i < n; i++) data[i] = start + (i0 + i) * delta;
    return ndarray(data, [n]) as NdArray;
  },
);

/** Block (rows x cols) of an identity-like matrix whose block starts at (r0, c0); ones where c - r = k. */
export const eye = defineKernel(
  'array.eye',
  (rows: number, cols: number, r0: number, c0: number, k: number, dtype: DType): NdArray => {
    const out = empty(dtype, [rows, cols]);
    const data = out.data as TypedArray;
    for (let r = 0; r < rows; r++) {
      const c = r0 + r + k - c0;
      if (c >= 0 && c < cols) data[r * cols + c] = 1;
    }
    return out;
  },
);

/** A block of a whole input array: a view, no copy (the input already sits in shared memory). */
export const getBlock = defineKernel('array.getBlock', (a: NdArray, lo: number[], shape: number[]): NdArray => {
  return a.lo(...lo).hi(...shape) as NdArray;
});

/** A computed value (ndarray, typed array or nested arrays) checked against the shape it promised. */
export const asBlock = defineKernel('array.asBlock', (value: unknown, shape: number[], dtype: DType): NdArray => {
  let a: NdArray;
  if (value !== null && typeof value === 'object' && 'shape' in value && 'data' in value) a = value as NdArray;
  else if (ArrayBuffer.isView(value)) a = ndarray(value as TypedArray, [(value as TypedArray).length]) as NdArray;
  else if (typeof value === 'number' || typeof value === 'boolean') a = ndarray(Float64Array.of(Number(value)), []) as NdArray;
  else throw new TypeError(`fromDelayed: the computed value is ${typeof value}, not an array`);
  if (a.shape.length !== shape.length || a.shape.some((n, k) => n !== shape[k])) {
    throw new RangeError(`fromDelayed: the computed array has shape [${a.shape.join(', ')}] but [${shape.join(', ')}] was declared`);
  }
  if (ArrayBuffer.isView(a.data) && dtypeOf(a.data as TypedArray) !== (dtype === 'bool' ? 'uint8' : dtype)) {
    const out = empty(dtype, a.shape);
    const src = contiguous(a, dtypeOf(a.data as TypedArray));
    (out.data as TypedArray).set(src.data as TypedArray);
    return out;
  }
  return a;
});
