/**
 * The bag: dask.bag for TypeScript, a collection of plain JavaScript values cut into partitions.
 *
 * Partition i is the value of key `('name', i)`: a JavaScript array. Operations add one graph
 * layer whose tasks call a registered kernel (chunk/) with the user's function as an argument, so
 * the user's function travels like any task function (kernel name, registered module, or source).
 * Per-partition steps form linear chains that the optimiser fuses, so a pipeline such as
 * readText → map → filter → frequencies runs as one task per partition. Inside such a task the
 * partition is a stream (chunk/stream.ts): element-wise steps add stages to it, and the consumer
 * at the end pushes the elements through them one at a time, with no intermediate arrays; a
 * stream that is stored (or sent to another thread) is materialised into an array by the
 * scheduler. Methods are one-line delegates to the modules beside this one.
 */
import type { DaskCollection } from '../../graph/collection.js';
import { compute, persist, type ComputeOptions } from '../../graph/compute.js';
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph, Key } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { accumulate, filter, flatten, join, map, mapPartitions, pluck, product, remove, starmap, zip, type BagElements, type PluckOptions } from './transform.js';
import { all, any, count, distinct, fold, frequencies, max, mean, min, reduction, std, sum, topk, variance, type FrequenciesOptions, type SplitEveryOptions, type VarOptions } from './reduction.js';
import { foldby, groupby, type GroupbyOptions } from './groupby.js';
import { repartition, take, type TakeOptions } from './partitions.js';
import { StringAccessor } from './string.js';
import { toTextFiles, type ToTextFilesOptions } from './text.js';
import type { Item } from './item.js';
import type { Delayed } from '../../graph/delayed.js';
import type { KeySpec } from './chunk/values.js';

export class Bag<T = unknown> implements DaskCollection<T[]> {
  constructor(
    readonly graph: LayeredGraph,
    readonly name: string,
    readonly npartitions: number,
  ) {}

  /** The key of partition i. */
  partitionKey(i: number): Key {
    return tupleKey(this.name, i);
  }

  get daskName(): string {
    return this.name;
  }

  daskGraph(): Graph {
    return this.graph.materialize();
  }

  daskKeys(): Key[] {
    return Array.from({ length: this.npartitions }, (_, i) => this.partitionKey(i));
  }

  daskPostCompute(partitions: unknown): T[] {
    return (partitions as T[][]).flat(1) as T[];
  }

  daskPostPersist(data: Graph): Bag<T> {
    return new Bag<T>(LayeredGraph.of(this.name, data), this.name, this.npartitions);
  }

  daskTokenize(): string {
    return this.name;
  }

  /** Computes every partition and concatenates them into one array. */
  async compute(opts: ComputeOptions = {}): Promise<T[]> {
    const [r] = await compute(this, opts);
    return r as T[];
  }

  /** Computes the partitions and returns the same bag backed by them. */
  async persist(opts: ComputeOptions = {}): Promise<Bag<T>> {
    const [p] = await persist(this, opts);
    return p as Bag<T>;
  }

  // --- element-wise and partition-wise (transform.ts) ---
  map<U>(fn: (x: T, ...extra: any[]) => U, ...extra: unknown[]): Bag<U> { return map(this, fn, ...extra); }
  starmap<U>(fn: (...args: any[]) => U, ...extra: unknown[]): Bag<U> { return starmap(this as Bag<any>, fn, ...extra); }
  mapPartitions<U>(fn: (part: T[], ...extra: any[]) => readonly U[] | Iterable<U> | Promise<readonly U[] | Iterable<U>>, ...extra: unknown[]): Bag<U> { return mapPartitions(this, fn, ...extra); }
  filter(predicate: (x: T) => unknown): Bag<T> { return filter(this, predicate); }
  remove(predicate: (x: T) => unknown): Bag<T> { return remove(this, predicate); }
  flatten<E>(this: Bag<Iterable<E>> | Bag<readonly E[]>): Bag<E> { return flatten(this); }
  pluck<K extends keyof T>(key: K, opts?: PluckOptions): Bag<T[K]>;
  pluck(key: string | number, opts?: PluckOptions): Bag<unknown>;
  pluck(keys: readonly (string | number)[], opts?: PluckOptions): Bag<unknown[]>;
  pluck(key: string | number | readonly (string | number)[], opts?: PluckOptions): Bag<unknown> { return pluck(this as Bag<unknown>, key as string, opts); }
  zip<B extends readonly Bag<any>[]>(...others: B): Bag<[T, ...BagElements<B>]> { return zip(this, ...others) as Bag<any>; }
  product<U>(other: Bag<U>): Bag<[T, U]> { return product(this, other); }
  join<U>(other: Iterable<U> | Bag<U> | Delayed<Iterable<U>> | Item<Iterable<U>>, onSelf: KeySpec<T>, onOther?: KeySpec<U>): Bag<[U, T]> { return join(this, other, onSelf, onOther); }
  accumulate<A = T>(binop: (acc: A, x: T) => A, initial?: A): Bag<A> { return accumulate(this, binop, initial); }
  // --- partitioning (partitions.ts) ---
  repartition(npartitions: number): Bag<T> { return repartition(this, npartitions); }
  take(n: number, opts?: TakeOptions & { readonly compute?: true }): Promise<T[]>;
  take(n: number, opts: TakeOptions & { readonly compute: false }): Bag<T>;
  take(n: number, opts?: TakeOptions): Promise<T[]> | Bag<T> { return take(this, n, opts); }
  // --- reductions (reduction.ts, groupby.ts) ---
  reduction<P, R>(perPartition: (part: T[]) => P, aggregate: (partials: P[]) => R, opts?: SplitEveryOptions): Item<R> { return reduction(this, perPartition, aggregate, opts); }
  fold<A = T>(binop: (acc: A, x: T) => A, combine?: ((a: A, b: A) => A) | null, initial?: A, opts?: SplitEveryOptions): Item<A> { return fold(this, binop, combine, initial, opts); }
  count(opts?: SplitEveryOptions): Item<number> { return count(this, opts); }
  sum(opts?: SplitEveryOptions): Item<T> { return sum(this, opts); }
  min(opts?: SplitEveryOptions): Item<T> { return min(this, opts); }
  max(opts?: SplitEveryOptions): Item<T> { return max(this, opts); }
  any(opts?: SplitEveryOptions): Item<boolean> { return any(this, opts); }
  all(opts?: SplitEveryOptions): Item<boolean> { return all(this, opts); }
  mean(this: Bag<number>, opts?: SplitEveryOptions): Item<number> { return mean(this, opts); }
  var(this: Bag<number>, opts?: VarOptions): Item<number> { return variance(this, opts); }
  std(this: Bag<number>, opts?: VarOptions): Item<number> { return std(this, opts); }
  distinct(key?: KeySpec<T>): Bag<T> { return distinct(this, key); }
  frequencies(opts?: FrequenciesOptions): Bag<[T, number]> { return frequencies(this, opts); }
  topk(k: number, key?: KeySpec<T> | null, opts?: SplitEveryOptions): Bag<T> { return topk(this, k, key, opts); }
  foldby<K, A>(key: ((x: T) => K) | string | number, binop: (acc: A, x: T) => A, initial?: A | (() => A), combine?: ((a: A, b: A) => A) | null, combineInitial?: A | (() => A), opts?: SplitEveryOptions): Bag<[K, A]> { return foldby<T, K, A>(this, key, binop, initial, combine, combineInitial, opts); }
  groupby<K = unknown>(key: ((x: T) => K) | string | number, opts?: GroupbyOptions): Bag<[K, T[]]> { return groupby<T, K>(this, key, opts); }
  // --- strings (string.ts) ---
  /** Python's str methods over a bag of strings; `match` filters by a glob. */
  get str(): StringAccessor { return new StringAccessor(this as unknown as Bag<string>); }

  // --- output (text.ts) ---
  /** Writes one text file per partition (`'out/part-*.txt'`, gzip by extension); resolves to the names. */
  toTextFiles(path: string | readonly string[], opts?: ToTextFilesOptions): Promise<string[]> {
    return toTextFiles(this, path, opts);
  }

  toString(): string {
    return `dask.bag<${this.name.replace(/-[0-9a-f]{8,}$/, '')}, npartitions=${this.npartitions}>`;
  }
}

/**
 * A new bag whose partition i is `task(i, inputKey(i))`: the building block of per-partition
 * operations. `op` names the operation; `token` inputs make the name deterministic.
 */
export function partitionwise<U>(
  op: string,
  input: Bag<unknown>,
  task: (i: number, inputKey: Key) => unknown,
  tokenInputs: readonly unknown[],
  extraGraphs: readonly LayeredGraph[] = [],
): Bag<U> {
  const name = `${op}-${tokenize(input.name, ...tokenInputs)}`;
  const layer: Graph = {};
  for (let i = 0; i < input.npartitions; i++) layer[tupleKey(name, i)] = task(i, input.partitionKey(i));
  return new Bag<U>(LayeredGraph.of(name, layer, input.graph, ...extraGraphs), name, input.npartitions);
}
