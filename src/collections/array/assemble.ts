/** Assembling computed blocks into one ndarray (what `compute()` returns). */
import { offsets, type Chunks } from './chunks.js';
import type { ArrayResult, NdArray } from './core.js';
import type { DType } from './dtype.js';
import { copyInto, empty } from './chunk/strided.js';

/** Blocks nested like the chunks, copied into one C-contiguous array; a 0-d array gives a number. */
export function assemble(blocks: unknown, chunks: Chunks, dtype: DType): ArrayResult {
  if (chunks.length === 0) return Number((blocks as NdArray).get());
  // Unknown sizes (after a boolean mask) are read off the blocks themselves.
  const sizes = chunks.map((c, axis) => c.map((_, i) => blockAt(blocks, axis, i).shape[axis]));
  const starts = sizes.map(offsets);
  const out = empty(dtype, starts.map((o) => o[o.length - 1]));
  const place = (b: unknown, index: number[]): void => {
    if (index.length === chunks.length) {
      const block = b as NdArray;
      const lo = index.map((i, axis) => starts[axis][i]);
      const view = out.lo(...lo).hi(...block.shape);
      copyInto(view as NdArray, block);
      return;
    }
    (b as unknown[]).forEach((sub, i) => place(sub, [...index, i]));
  };
  place(blocks, []);
  return out;
}

/** The block at position i along `axis`, index 0 along every other axis. */
function blockAt(blocks: unknown, axis: number, i: number): NdArray {
  let b = blocks;
  for (let a = 0; b !== undefined && Array.isArray(b); a++) b = (b as unknown[])[a === axis ? i : 0];
  return b as NdArray;
}
