/**
 * Arrays of unknown chunk sizes (NaN in `chunks`, as after a boolean mask) and the error that
 * operations needing sizes raise for them, naming the fix.
 */
import { fmtShape } from './axes.js';
import type { DaskArray } from './core.js';

export class UnknownChunksError extends RangeError {
  constructor(where: string, shape: readonly number[]) {
    super(
      `${where}: the array has unknown chunk sizes (shape ${fmtShape(shape)}, as after a boolean mask); ` +
        'compute them first with `x = await computeChunkSizes(x)` (dask: x.compute_chunk_sizes())',
    );
    this.name = 'UnknownChunksError';
  }
}

/** Throws UnknownChunksError when any chunk size of `x` (or of the given axes) is unknown. */
export function requireKnownChunks(x: DaskArray, where: string, axes?: readonly number[]): void {
  const unknown = (axes ?? x.chunks.map((_, a) => a)).some((a) => x.chunks[a].some(Number.isNaN));
  if (unknown) throw new UnknownChunksError(where, x.shape);
}
