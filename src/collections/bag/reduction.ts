/**
 * Reductions: one task per partition, then a tree of aggregation tasks combining `splitEvery`
 * partial results at a time (default 8; false combines all at once), as dask.bag's `reduction`.
 * Reductions to one value return an Item; those whose result is a sequence (distinct,
 * frequencies, topk) return a bag of one partition, as in dask. The per-partition step fuses
 * with the element-wise steps before it, so `map → filter → count` is one task per partition.
 */
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph, Key } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { checkFunction, checkKeySpec, checkOptions, integerOption, lit, splitEveryOption } from './args.js';
import * as k from './chunk/reduction.js';
import type { KeySpec } from './chunk/values.js';
import { Bag } from './core.js';
import { Item } from './item.js';

/** How a tree reduction is built: its per-partition and aggregation tasks. */
export interface TreeSpec {
  /** The name prefix of the layers. */
  readonly op: string;
  /** What, besides the input bag, makes the result differ (functions, options). */
  readonly tokenInputs: readonly unknown[];
  /** Partial results per aggregation task; Infinity: all in one. */
  readonly splitEvery: number;
  /** The task of partition i (`isLast`: the bag has one partition). */
  part(i: number, key: Key, isLast: boolean): unknown;
  /** The task combining the partial results at `keys`; `isFinal` for the last one. */
  agg(keys: Key[], isFinal: boolean): unknown;
  /** Graphs of other inputs (Items, Delayed values). */
  readonly graphs?: readonly LayeredGraph[];
}

/** The graph of a tree reduction and the key of its result, `(name, 0)`. */
export function treeReduction(bag: Bag<unknown>, spec: TreeSpec): { graph: LayeredGraph; name: string; key: Key } {
  const tok = tokenize(bag.name, spec.splitEvery, ...spec.tokenInputs);
  const partName = `${spec.op}-part-${tok}`;
  const aggName = `${spec.op}-aggregate-${tok}`;
  const name = `${spec.op}-${tok}`;
  const isLast = bag.npartitions === 1;
  const parts: Graph = {};
  let keys: Key[] = [];
  for (let i = 0; i < bag.npartitions; i++) {
    const key = tupleKey(partName, i);
    parts[key] = spec.part(i, bag.partitionKey(i), isLast);
    keys.push(key);
  }
  let graph = LayeredGraph.of(partName, parts, bag.graph, ...(spec.graphs ?? []));
  const levels: Graph = {};
  for (let depth = 0; keys.length > spec.splitEvery; depth++) {
    const next: Key[] = [];
    for (let j = 0; j * spec.splitEvery < keys.length; j++) {
      const key = tupleKey(aggName, depth, j);
      levels[key] = spec.agg(keys.slice(j * spec.splitEvery, (j + 1) * spec.splitEvery), false);
      next.push(key);
    }
    keys = next;
  }
  if (Object.keys(levels).length > 0) graph = LayeredGraph.of(aggName, levels, graph);
  const key = tupleKey(name, 0);
  return { graph: LayeredGraph.of(name, { [key]: spec.agg(keys, true) }, graph), name, key };
}

function asItem<R>(bag: Bag<unknown>, spec: TreeSpec): Item<R> {
  const t = treeReduction(bag, spec);
  return new Item<R>(t.graph, t.key);
}

function asBag<R>(bag: Bag<unknown>, spec: TreeSpec): Bag<R> {
  const t = treeReduction(bag, spec);
  return new Bag<R>(t.graph, t.name, 1);
}

export interface SplitEveryOptions {
  /** Partial results combined per aggregation task (default 8; false: all in one task). */
  readonly splitEvery?: number | false;
}

function splitEvery(where: string, opts: SplitEveryOptions | undefined, known: readonly string[] = []): number {
  const o = checkOptions(where, opts, ['splitEvery', ...known]);
  return splitEveryOption(where, o.splitEvery);
}

/**
 * A reduction with your functions: perPartition(partition) for each partition, then
 * aggregate(results) over the partial results (in a tree of splitEvery). As in dask,
 * perPartition is not called on empty partitions unless the bag has only one, and aggregate gets
 * [] when every partition is empty.
 */
export function reduction<T, P, R>(
  bag: Bag<T>,
  perPartition: (part: T[]) => P,
  aggregate: (partials: P[]) => R,
  opts?: SplitEveryOptions,
): Item<R> {
  const where = 'reduction';
  checkFunction(where, 'perPartition', perPartition);
  checkFunction(where, 'aggregate', aggregate);
  return asItem<R>(bag, {
    op: 'reduction',
    tokenInputs: [perPartition, aggregate],
    splitEvery: splitEvery(where, opts),
    part: (i, key, isLast) => [k.reducePart, perPartition, i, key, isLast],
    agg: (keys, isFinal) => [k.reduceAgg, aggregate, keys, isFinal],
  });
}

/**
 * A parallel reduce: binop folds each partition (from `initial` when given), combine (default
 * binop) folds the partition results. `undefined` means no initial value; then empty partitions
 * are skipped, and an empty bag is an error.
 */
export function fold<T, A = T>(
  bag: Bag<T>,
  binop: (acc: A, x: T) => A,
  combine?: ((a: A, b: A) => A) | null,
  initial?: A,
  opts?: SplitEveryOptions,
): Item<A> {
  const where = 'fold';
  checkFunction(where, 'binop', binop);
  const comb = combine ?? binop;
  checkFunction(where, 'combine', comb);
  const has = initial !== undefined;
  const init = lit(initial);
  return asItem<A>(bag, {
    op: 'fold',
    tokenInputs: [binop, comb, initial === undefined ? [] : [initial]],
    splitEvery: splitEvery(where, opts),
    part: (i, key) => [k.foldPart, binop, has, init, i, key],
    agg: (keys, isFinal) => [k.foldAgg, comb, has, init, keys, isFinal],
  });
}

/** The number of elements. */
export function count(bag: Bag<unknown>, opts?: SplitEveryOptions): Item<number> {
  return asItem<number>(bag, {
    op: 'count',
    tokenInputs: [],
    splitEvery: splitEvery('count', opts),
    part: (_i, key) => [k.count, key],
    agg: (keys) => [k.addNumbers, keys],
  });
}

/** The sum of the elements (0 for an empty bag). */
export function sum(bag: Bag<number>, opts?: SplitEveryOptions): Item<number>;
export function sum<T>(bag: Bag<T>, opts?: SplitEveryOptions): Item<T>;
export function sum(bag: Bag<unknown>, opts?: SplitEveryOptions): Item<unknown> {
  return asItem(bag, {
    op: 'sum',
    tokenInputs: [],
    splitEvery: splitEvery('sum', opts),
    part: (_i, key) => [k.sumPart, key],
    agg: (keys, isFinal) => [k.sumAgg, keys, isFinal],
  });
}

function extreme<T>(bag: Bag<T>, sign: 1 | -1, opts: SplitEveryOptions | undefined): Item<T> {
  const op = sign < 0 ? 'min' : 'max';
  return asItem<T>(bag as Bag<unknown>, {
    op,
    tokenInputs: [],
    splitEvery: splitEvery(op, opts),
    part: (_i, key) => [k.extremePart, sign, key],
    agg: (keys, isFinal) => [k.extremeAgg, sign, keys, isFinal],
  });
}

/** The smallest element (arrays compare element by element, like Python tuples); an empty bag is an error. */
export function min<T>(bag: Bag<T>, opts?: SplitEveryOptions): Item<T> {
  return extreme(bag, -1, opts);
}

/** The largest element; an empty bag is an error. */
export function max<T>(bag: Bag<T>, opts?: SplitEveryOptions): Item<T> {
  return extreme(bag, 1, opts);
}

/** True when any element is truthy (false for an empty bag). */
export function any(bag: Bag<unknown>, opts?: SplitEveryOptions): Item<boolean> {
  return asItem<boolean>(bag, {
    op: 'any',
    tokenInputs: [],
    splitEvery: splitEvery('any', opts),
    part: (_i, key) => [k.anyPart, key],
    agg: (keys) => [k.anyPart, keys],
  });
}

/** True when every element is truthy (true for an empty bag). */
export function all(bag: Bag<unknown>, opts?: SplitEveryOptions): Item<boolean> {
  return asItem<boolean>(bag, {
    op: 'all',
    tokenInputs: [],
    splitEvery: splitEvery('all', opts),
    part: (_i, key) => [k.allPart, key],
    agg: (keys) => [k.allPart, keys],
  });
}

function moments(bag: Bag<number>, kind: 'mean' | 'var' | 'std', ddof: number, split: number): Item<number> {
  return asItem<number>(bag as Bag<unknown>, {
    op: kind,
    tokenInputs: [ddof],
    splitEvery: split,
    part: (i, key) => [k.moments, i, key],
    agg: (keys, isFinal) => [k.momentsAgg, isFinal ? kind : null, ddof, keys],
  });
}

/** The arithmetic mean (NaN for an empty bag; dask raises ZeroDivisionError). */
export function mean(bag: Bag<number>, opts?: SplitEveryOptions): Item<number> {
  return moments(bag, 'mean', 0, splitEvery('mean', opts));
}

export interface VarOptions extends SplitEveryOptions {
  /** Delta degrees of freedom: the divisor is n - ddof (default 0, the population variance). */
  readonly ddof?: number;
}

function ddofOf(where: string, opts: VarOptions | undefined): { ddof: number; split: number } {
  const split = splitEvery(where, opts, ['ddof']);
  const ddof = opts?.ddof === undefined ? 0 : integerOption(where, 'ddof', opts.ddof, 0);
  return { ddof, split };
}

/** The variance, sum((x - mean)^2) / (n - ddof); NaN when n <= ddof. Partial moments combine exactly (Chan et al.). */
export function variance(bag: Bag<number>, opts?: VarOptions): Item<number> {
  const { ddof, split } = ddofOf('var', opts);
  return moments(bag, 'var', ddof, split);
}

/** The standard deviation: the square root of `var` with the same ddof. */
export function std(bag: Bag<number>, opts?: VarOptions): Item<number> {
  const { ddof, split } = ddofOf('std', opts);
  return moments(bag, 'std', ddof, split);
}

/**
 * The distinct elements, the first of each in order, as a bag of one partition. With a key (a
 * function or a property name), elements with equal keys are one. Equal arrays and objects are
 * equal (by value, as Python's tuples).
 */
export function distinct<T>(bag: Bag<T>, key?: KeySpec<T>): Bag<T> {
  if (key !== undefined) checkKeySpec('distinct', 'key', key);
  const kk = key === undefined ? null : lit(key);
  return asBag<T>(bag as Bag<unknown>, {
    op: 'distinct',
    tokenInputs: [key ?? null],
    splitEvery: 8,
    part: (i, pk) => [k.distinct, kk, i, pk],
    agg: (keys) => [k.distinctAgg, kk, keys],
  });
}

export interface FrequenciesOptions extends SplitEveryOptions {
  /** Most frequent first (default false: in order of first appearance). */
  readonly sort?: boolean;
}

/** [value, count] for every distinct value, as a bag of one partition. */
export function frequencies<T>(bag: Bag<T>, opts?: FrequenciesOptions): Bag<[T, number]> {
  const where = 'frequencies';
  const split = splitEvery(where, opts, ['sort']);
  const sort = opts?.sort ?? false;
  if (typeof sort !== 'boolean') throw new TypeError(`${where}: 'sort' must be a boolean`);
  return asBag<[T, number]>(bag as Bag<unknown>, {
    op: 'frequencies',
    tokenInputs: [sort],
    splitEvery: split,
    part: (_i, key) => [k.frequencies, key],
    agg: (keys, isFinal) => [k.frequenciesAgg, isFinal, sort, keys],
  });
}

/**
 * The k largest elements, largest first (by key: a function or a property name), as a bag of one
 * partition. Equal keys keep their order, as heapq.nlargest.
 */
export function topk<T>(bag: Bag<T>, n: number, key?: KeySpec<T> | null, opts?: SplitEveryOptions): Bag<T> {
  const where = 'topk';
  integerOption(where, 'k', n, 0);
  if (key != null) checkKeySpec(where, 'key', key);
  const kk = key == null ? null : lit(key);
  return asBag<T>(bag as Bag<unknown>, {
    op: 'topk',
    tokenInputs: [n, key ?? null],
    splitEvery: splitEvery(where, opts),
    part: (i, pk) => [k.topk, n, kk, i, pk],
    agg: (keys) => [k.topkAgg, n, kk, keys],
  });
}

export { variance as var };
