/**
 * Kernels that re-view one block: slicing, transposing, reshaping, casting.
 *
 * Most of them return a view (new shape, strides and offset over the same data), so slicing a
 * block costs no copy; only a reshape of a non-contiguous block and a cast allocate.
 */
import ndarray from 'ndarray';
import { defineKernel } from '../../../graph/shipping/registry.js';
import type { NdArray } from '../core.js';
import type { DType } from '../dtype.js';
import { copyInto, empty, isContiguous } from './strided.js';

/**
 * What a view does to one axis, in order (input axes are consumed left to right; axes past the
 * plan are kept whole): a number picks that index and drops the axis; `[first, count, step]`
 * keeps `count` elements from `first` every `step` (step may be negative); 'new' inserts a
 * length-1 axis; 'all' keeps the axis whole.
 */
export type AxisView = number | readonly [first: number, count: number, step: number] | 'new' | 'all';

export const view = defineKernel('array.view', (a: NdArray, plan: readonly AxisView[]): NdArray => {
  let offset = a.offset;
  const shape: number[] = [];
  const stride: number[] = [];
  let axis = 0;
  for (const p of plan) {
    if (p === 'new') {
      shape.push(1);
      stride.push(0);
      continue;
    }
    const s = a.stride[axis];
    if (p === 'all') {
      shape.push(a.shape[axis]);
      stride.push(s);
    } else if (typeof p === 'number') {
      offset += p * s;
    } else {
      const [first, count, step] = p;
      if (count > 0) offset += first * s;
      shape.push(count);
      stride.push(s * step);
    }
    axis++;
  }
  for (; axis < a.shape.length; axis++) {
    shape.push(a.shape[axis]);
    stride.push(a.stride[axis]);
  }
  return ndarray(a.data, shape, stride, offset) as NdArray;
});

export const transpose = defineKernel('array.transpose', (a: NdArray, axes: readonly number[]): NdArray => {
  return a.transpose(...axes) as NdArray;
});

/** A block in a new shape of the same size: a view when the block is C-contiguous. */
export const reshape = defineKernel('array.reshape', (a: NdArray, shape: readonly number[], dtype: DType): NdArray => {
  let src = a;
  if (!isContiguous(a)) {
    src = empty(dtype, a.shape);
    copyInto(src, a);
  }
  const stride = new Array<number>(shape.length);
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    stride[k] = acc;
    acc *= shape[k];
  }
  return ndarray(src.data, [...shape], stride, src.offset) as NdArray;
});

/** A copy of a block in another dtype (typed-array assignment converts like numpy's astype). */
export const cast = defineKernel('array.cast', (a: NdArray, dtype: DType): NdArray => {
  const out = empty(dtype, a.shape);
  copyInto(out, a);
  return out;
});
