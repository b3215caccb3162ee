/**
 * Streamable producers: block kernels (random numbers) whose block can also be produced piecewise,
 * in C order, into a small buffer that is reused. A reduction over every axis of such a block does
 * not need the block itself: it reduces tile after tile (streamChunk in reduce.ts), so a block of
 * any size costs a cache-resident tile instead of its full size in fresh memory. A stream must
 * give exactly the numbers of its kernel's block, however the fills are cut.
 */
import type { TypedArray } from '../dtype.js';

export interface BlockStream {
  /** Writes the block's next `out.length` elements (C order) into `out`. */
  fill(out: TypedArray): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StreamFactory = (...kernelArgs: any[]) => BlockStream;

const factories = new Map<Function, StreamFactory>();

/** Declares that `kernel(...args)`'s block is also `factory(...args)`, streamed. */
export function defineStream(kernel: Function, factory: StreamFactory): void {
  factories.set(kernel, factory);
}

export function streamOf(kernel: unknown): StreamFactory | undefined {
  return typeof kernel === 'function' ? factories.get(kernel) : undefined;
}
