/** Kernels of rechunk: a sub-block view of one input block, and an output block merged from many. */
import { defineKernel } from '../../../graph/shipping/registry.js';
import type { NdArray } from '../core.js';
import type { DType } from '../dtype.js';
import { copyInto, empty } from './strided.js';

/** The part of `a` from `lo` of size `shape`: a view, no copy. */
export const subBlock = defineKernel('array.subBlock', (a: NdArray, lo: number[], shape: number[]): NdArray => {
  return a.lo(...lo).hi(...shape) as NdArray;
});

/**
 * One output block from the input pieces overlapping it. `pieces[axis]` lists `[start, stop]`
 * within successive input blocks along that axis; `blocks` holds those blocks in row-major order
 * over the grid of pieces, and each piece lands right after the previous one along every axis.
 */
export const merge = defineKernel(
  'array.rechunkMerge',
  (dtype: DType, shape: number[], pieces: [number, number][][], blocks: NdArray[]): NdArray => {
    const out = empty(dtype, shape);
    const nd = shape.length;
    const idx = new Array<number>(nd).fill(0);
    const dst = new Array<number>(nd).fill(0);
    for (let b = 0; b < blocks.length; b++) {
      const lo = idx.map((i, a) => pieces[a][i][0]);
      const size = idx.map((i, a) => pieces[a][i][1] - pieces[a][i][0]);
      copyInto(out.lo(...dst).hi(...size) as NdArray, blocks[b].lo(...lo).hi(...size) as NdArray);
      // Odometer over the piece grid, keeping each axis's destination offset in step.
      for (let a = nd - 1; a >= 0; a--) {
        dst[a] += size[a];
        if (++idx[a] < pieces[a].length) break;
        idx[a] = 0;
        dst[a] = 0;
      }
    }
    return out;
  },
);
