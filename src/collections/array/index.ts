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
export { rechunk, refineChunks, unifyChunks, type RechunkSpec } from './rechunk.js';
export {
  elemwise,
  broadcastShapes,
  resultType,
  add,
  sub,
  mul,
  div,
  floordiv,
  mod,
  pow,
  maximum,
  minimum,
  neg,
  abs,
  exp,
  log,
  sqrt,
  sin,
  cos,
  tanh,
  floor,
  ceil,
  round,
  clip,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  logicalAnd,
  logicalOr,
  logicalXor,
  logicalNot,
  isnan,
  isinf,
  isfinite,
  where,
  type Operand,
  type ElemwiseOp,
} from './elemwise.js';
export { slice, newaxis, ellipsis, squeeze, type IndexSpec, type SliceTuple } from './slicing.js';
export { mask, computeChunkSizes } from './mask.js';
export { UnknownChunksError } from './unknown.js';
export { transpose, swapaxes, moveaxis } from './transpose.js';
export { reshape } from './reshape.js';
export { concatenate, stack } from './concatenate.js';
export { blockwise, type BlockwiseOptions } from './blockwise.js';
export { mapBlocks, type MapBlocksOptions } from './mapblocks.js';
export { dot, matmul, outer, tensordot, type TensordotAxes, type TensordotOptions } from './dot.js';
export { random, type RandomOptions } from './random.js';
export {
  reduction,
  sum,
  prod,
  mean,
  variance,
  variance as var,
  std,
  min,
  max,
  any,
  all,
  argmin,
  argmax,
  cumsum,
  cumprod,
  type ReductionOptions,
  type DTypeReductionOptions,
  type VarOptions,
  type ArgReductionOptions,
  type CumulativeOptions,
  type ReductionSpec,
  type ReduceContext,
} from './reductions.js';
