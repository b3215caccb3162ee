/**
 * Strided loops over ndarray views: the building blocks of every per-chunk kernel.
 *
 * A view (from slicing, transposing or broadcasting) is `data[offset + Σ index_k * stride_k]`.
 * Kernels walk the outer axes with an odometer and run a tight loop over the last axis, so the
 * inner loop is the same plain `for` whatever the view's layout.
 */
import ndarray from 'ndarray';
import { alloc, type DType, type TypedArray } from '../dtype.js';
import type { NdArray } from '../core.js';

/** A new C-contiguous array in shared memory. */
export function empty(dtype: DType, shape: readonly number[]): NdArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return ndarray(alloc(dtype, n), [...shape]) as NdArray;
}

/** Row-major strides of a shape. */
export function cStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    s[k] = acc;
    acc *= shape[k];
  }
  return s;
}

export function isContiguous(a: NdArray): boolean {
  const s = cStrides(a.shape);
  for (let k = 0; k < s.length; k++) if (a.shape[k] > 1 && a.stride[k] !== s[k]) return false;
  return true;
}

/**
 * Calls `row(offsets, n)` once per row of the last axis, where offsets[j] is the start of that row
 * in arrays[j]. All arrays share `shape` (broadcast views have stride 0 on broadcast axes).
 */
export function forEachRow(shape: readonly number[], arrays: readonly NdArray[], row: (offsets: number[], n: number) => void): void {
  const nd = shape.length;
  if (shape.some((n) => n === 0)) return;
  const offsets = arrays.map((a) => a.offset);
  if (nd === 0) {
    row(offsets, 1);
    return;
  }
  const n = shape[nd - 1];
  const idx = new Array<number>(nd - 1).fill(0);
  for (;;) {
    row(offsets, n);
    let k = nd - 2;
    for (; k >= 0; k--) {
      idx[k]++;
      for (let j = 0; j < arrays.length; j++) offsets[j] += arrays[j].stride[k];
      if (idx[k] < shape[k]) break;
      for (let j = 0; j < arrays.length; j++) offsets[j] -= arrays[j].stride[k] * shape[k];
      idx[k] = 0;
    }
    if (k < 0) return;
  }
}

/** Copies `src` into `dst` (same shape), whatever their layouts. */
export function copyInto(dst: NdArray, src: NdArray): void {
  const d = dst.data as TypedArray;
  const s = src.data as TypedArray;
  const nd = dst.shape.length;
  const ds = nd ? dst.stride[nd - 1] : 1;
  const ss = nd ? src.stride[nd - 1] : 1;
  forEachRow(dst.shape, [dst, src], ([od, os], n) => {
    if (ds === 1 && ss === 1) d.set(s.subarray(os, os + n), od);
    else for (let i = 0; i < n; i++) d[od + i * ds] = s[os + i * ss];
  });
}

/** `a` itself if it is C-contiguous with offset 0, else a contiguous copy. */
export function contiguous(a: NdArray, dtype: DType): NdArray {
  if (a.offset === 0 && isContiguous(a) && (a.data as TypedArray).length === a.size) return a;
  const out = empty(dtype, a.shape);
  copyInto(out, a);
  return out;
}
