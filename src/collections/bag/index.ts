/**
 * dask-ts/bag: partitioned sequences of plain JavaScript values (dask.bag).
 *
 * @example
 * import * as db from 'dask-ts/bag';
 * const b = db.fromSequence([1, 2, 3, 4, 5], { npartitions: 2 });
 * await db.sum(db.map(b, (x: number) => x * 10)).compute(); // 150
 */
export { Bag, partitionwise } from './core.js';
export { Item } from './item.js';
export {
  concat,
  DEFAULT_MAX_PARTITIONS,
  fromDelayed,
  fromSequence,
  range,
  type FromSequenceOptions,
  type RangeOptions,
} from './creation.js';
export {
  accumulate,
  filter,
  flatten,
  join,
  map,
  mapPartitions,
  pluck,
  product,
  remove,
  starmap,
  zip,
  type BagElements,
  type PluckOptions,
} from './transform.js';
export { repartition, take, type TakeOptions } from './partitions.js';
export {
  all,
  any,
  count,
  distinct,
  fold,
  frequencies,
  max,
  mean,
  min,
  reduction,
  std,
  sum,
  topk,
  treeReduction,
  var,
  variance,
  type FrequenciesOptions,
  type SplitEveryOptions,
  type TreeSpec,
  type VarOptions,
} from './reduction.js';
export { foldby, groupby, shufflePlan, type GroupbyOptions } from './groupby.js';
export { StringAccessor, strings } from './string.js';
export { BagFunctionError } from './chunk/errors.js';
export type { KeySpec } from './chunk/values.js';
export { readText, toTextFiles, type ReadTextOptions, type ToTextFilesOptions } from './text.js';
