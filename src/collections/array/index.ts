/**
 * dask-ts/array: chunked n-dimensional arrays over ndarray blocks, like dask.array.
 *
 * @example
 * import * as da from 'dask-ts/array';
 * const x = da.ones([1000, 1000], { chunks: 250 });
 * await x.compute(); // an ndarray
 */
export { DaskArray, DaskArray as Array, type ArrayResult, type NdArray } from './core.js';
export { normalizeChunks, type Chunks, type ChunkSpec, type AxisChunkSpec } from './chunks.js';
export { promote, type DType, DTYPES } from './dtype.js';
export {
  arange,
  empty,
  eye,
  fromArray,
  fromDelayed,
  full,
  linspace,
  ones,
  zeros,
  type CreateOptions,
  type EyeOptions,
  type FromArrayOptions,
  type LinspaceOptions,
} from './creation.js';
