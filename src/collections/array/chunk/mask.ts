/** Kernels for boolean masks: the selected elements of a block, and a block's shape. */
import { defineKernel } from '../../../graph/shipping/registry.js';
import type { NdArray } from '../core.js';
import type { DType, TypedArray } from '../dtype.js';
import { empty, forEachRow } from './strided.js';

/** The elements of `a` where `cond` is true, in row-major order, as a new 1-d block. */
export const mask = defineKernel('array.mask', (a: NdArray, cond: NdArray, dtype: DType): NdArray => {
  if (a.shape.length !== cond.shape.length || a.shape.some((n, k) => n !== cond.shape[k])) {
    throw new RangeError(`mask: a block of shape [${a.shape.join(', ')}] met a condition block of shape [${cond.shape.join(', ')}]`);
  }
  const nd = a.shape.length;
  const c = cond.data as TypedArray;
  const cs = nd ? cond.stride[nd - 1] : 1;
  let count = 0;
  forEachRow(cond.shape, [cond], ([oc], n) => {
    for (let i = 0; i < n; i++) if (c[oc + i * cs]) count++;
  });
  const out = empty(dtype, [count]);
  const d = out.data as TypedArray;
  const s = a.data as TypedArray;
  const as = nd ? a.stride[nd - 1] : 1;
  let j = 0;
  forEachRow(a.shape, [a, cond], ([oa, oc], n) => {
    for (let i = 0; i < n; i++) if (c[oc + i * cs]) d[j++] = s[oa + i * as];
  });
  return out;
});

export const blockShape = defineKernel('array.blockShape', (a: NdArray): number[] => [...a.shape]);
