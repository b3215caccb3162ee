/**
 * Element-wise and partition-wise transformations. Each adds one layer whose tasks call a kernel
 * (chunk/map.ts) with the user's function as an argument: `[map, fn, i, ('x', i), ...]`. The
 * function travels like a task function (registered module, or source), and chains of these
 * layers fuse into one task per partition.
 */
import type { Delayed } from '../../graph/delayed.js';
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import { literal, type Graph } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { checkBag, checkFunction, checkKeySpec, describeValue, extraArgs, lazyKey, lit } from './args.js';
import * as k from './chunk/map.js';
import { getItem } from './chunk/partitions.js';
import type { KeySpec } from './chunk/values.js';
import { Bag, partitionwise } from './core.js';
import type { Item } from './item.js';

/**
 * fn(x, ...extra) for every element x. An extra argument that is a bag (with the same number of
 * partitions) gives its element at the same position; an Item or Delayed gives its computed value;
 * anything else is passed as it is.
 */
export function map<T, U>(bag: Bag<T>, fn: (x: T, ...extra: any[]) => U, ...extra: unknown[]): Bag<U> {
  checkFunction('map', 'fn', fn);
  const e = extraArgs('map', bag, extra);
  const zipped = e.zipped && literal(e.zipped);
  return partitionwise<U>('map', bag, (i, key) => [k.map, fn, i, key, zipped, ...e.at(i)], [fn, ...extra], e.graphs);
}

/** fn(...x, ...extra) for every element x, an array of arguments. Extras as in `map`. */
export function starmap<T extends readonly unknown[], U>(bag: Bag<T>, fn: (...args: any[]) => U, ...extra: unknown[]): Bag<U> {
  checkFunction('starmap', 'fn', fn);
  const e = extraArgs('starmap', bag, extra);
  const zipped = e.zipped && literal(e.zipped);
  return partitionwise<U>('starmap', bag, (i, key) => [k.starmap, fn, i, key, zipped, ...e.at(i)], [fn, ...extra], e.graphs);
}

/**
 * fn(partition, ...extra) for every partition (an array); it returns the new partition (an
 * array, another iterable, or a Promise of one). A bag among the extras gives its whole
 * partition; Items and Delayed values give their computed value.
 */
export function mapPartitions<T, U>(
  bag: Bag<T>,
  fn: (part: T[], ...extra: any[]) => readonly U[] | Iterable<U> | Promise<readonly U[] | Iterable<U>>,
  ...extra: unknown[]
): Bag<U> {
  checkFunction('mapPartitions', 'fn', fn);
  const e = extraArgs('mapPartitions', bag, extra);
  return partitionwise<U>('map_partitions', bag, (i, key) => [k.mapPartitions, fn, i, key, ...e.at(i)], [fn, ...extra], e.graphs);
}

/** The elements for which predicate(x) is truthy. */
export function filter<T>(bag: Bag<T>, predicate: (x: T) => unknown): Bag<T> {
  checkFunction('filter', 'predicate', predicate);
  return partitionwise<T>('filter', bag, (i, key) => [k.filter, predicate, true, i, key], [predicate]);
}

/** The elements for which predicate(x) is falsy: filter's opposite. */
export function remove<T>(bag: Bag<T>, predicate: (x: T) => unknown): Bag<T> {
  checkFunction('remove', 'predicate', predicate);
  return partitionwise<T>('remove', bag, (i, key) => [k.filter, predicate, false, i, key], [predicate]);
}

/** The elements of the elements (arrays or other iterables), concatenated in order. */
export function flatten<E>(bag: Bag<Iterable<E>> | Bag<readonly E[]>): Bag<E> {
  return partitionwise<E>('flatten', bag as Bag<unknown>, (i, key) => [k.flatten, i, key], []);
}

export interface PluckOptions<D = unknown> {
  /** The value for an element that lacks the key (without it, a missing key is an error). */
  readonly default?: D;
}

/**
 * One field of every element (`pluck('name')`, `pluck(0)`; a negative index counts from the end
 * of an array), or an array of several fields (`pluck(['name', 'age'])`).
 */
export function pluck<T, K extends keyof T>(bag: Bag<T>, key: K, opts?: PluckOptions): Bag<T[K]>;
export function pluck<T>(bag: Bag<T>, key: string | number, opts?: PluckOptions): Bag<unknown>;
export function pluck<T>(bag: Bag<T>, keys: readonly (string | number)[], opts?: PluckOptions): Bag<unknown[]>;
export function pluck(bag: Bag<unknown>, key: string | number | readonly (string | number)[], opts?: PluckOptions): Bag<unknown> {
  const where = 'pluck';
  const keys = Array.isArray(key) ? key : [key];
  for (const kk of keys) {
    if (typeof kk !== 'string' && typeof kk !== 'number') {
      throw new TypeError(`${where}: the key must be a property name or index, or an array of them, got ${describeValue(kk)}`);
    }
  }
  if (opts !== undefined && (opts === null || typeof opts !== 'object' || Object.keys(opts).some((o) => o !== 'default'))) {
    const bad = opts && typeof opts === 'object' ? Object.keys(opts).find((o) => o !== 'default') : undefined;
    throw new TypeError(bad ? `${where}: unknown option '${bad}'; known options are default` : `${where}: options must be an object`);
  }
  const hasDefault = opts !== undefined && 'default' in opts;
  const dflt = hasDefault ? lit(opts.default) : undefined;
  const keyArg = lit(key);
  return partitionwise('pluck', bag, (i, pk) => [k.pluck, keyArg, hasDefault, dflt, i, pk], [key, hasDefault, hasDefault ? opts.default : null]);
}

/** The element types of a tuple of bags. */
export type BagElements<B extends readonly Bag<unknown>[]> = { [I in keyof B]: B[I] extends Bag<infer E> ? E : never };

/** Partition-wise zip: element j of partition i of every bag, as an array. The bags must have equal partitionings. */
export function zip<B extends readonly Bag<any>[]>(...bags: B): Bag<BagElements<B>> {
  const where = 'zip';
  if (bags.length === 0) throw new TypeError(`${where}: expected at least one bag`);
  bags.forEach((b, i) => checkBag(where, `bags[${i}]`, b));
  const n = bags[0].npartitions;
  bags.forEach((b, i) => {
    if (b.npartitions !== n) {
      throw new RangeError(`${where}: bag 1 has ${n} partitions but bag ${i + 1} has ${b.npartitions}; zipped bags must have the same number of partitions`);
    }
  });
  const name = `zip-${tokenize(bags.map((b) => b.name))}`;
  const layer: Graph = {};
  for (let i = 0; i < n; i++) layer[tupleKey(name, i)] = [k.zip, i, bags.map((b) => b.partitionKey(i))];
  return new Bag<BagElements<B>>(LayeredGraph.of(name, layer, ...bags.map((b) => b.graph)), name, n);
}

/** The cartesian product: every pair [x, y], x from `bag`, y from `other`; npartitions multiply. */
export function product<T, U>(bag: Bag<T>, other: Bag<U>): Bag<[T, U]> {
  checkBag('product', 'other', other);
  const name = `product-${tokenize(bag.name, other.name)}`;
  const n = bag.npartitions;
  const m = other.npartitions;
  const layer: Graph = {};
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) layer[tupleKey(name, i * m + j)] = [k.product, bag.partitionKey(i), other.partitionKey(j)];
  return new Bag<[T, U]>(LayeredGraph.of(name, layer, bag.graph, other.graph), name, n * m);
}

/**
 * Joins with an in-memory sequence (or an Item or Delayed computing to one, or a bag of one
 * partition): pairs [y, x] of y in `other` and x in the bag whose keys are equal (key functions,
 * or property names; onOther defaults to onSelf). Pairs come in the bag's order, as in dask,
 * which puts the other sequence's element first.
 */
export function join<T, U>(bag: Bag<T>, other: Iterable<U> | Bag<U> | Delayed<Iterable<U>> | Item<Iterable<U>>, onSelf: KeySpec<T>, onOther?: KeySpec<U>): Bag<[U, T]> {
  const where = 'join';
  checkKeySpec(where, 'onSelf', onSelf);
  const on2 = onOther ?? onSelf;
  checkKeySpec(where, 'onOther', on2);
  const graphs: LayeredGraph[] = [];
  const name = `join-${tokenize(bag.name, other instanceof Bag ? other.name : other, onSelf, on2)}`;
  let otherArg: unknown;
  if (other instanceof Bag) {
    if (other.npartitions !== 1) {
      throw new RangeError(`${where}: the other bag has ${other.npartitions} partitions; joins need an in-memory sequence or a bag of one partition`);
    }
    graphs.push(other.graph);
    otherArg = other.partitionKey(0);
  } else {
    const key = lazyKey(where, other, graphs);
    if (key !== undefined) otherArg = key;
    else if (other != null && typeof (other as Iterable<U>)[Symbol.iterator] === 'function' && typeof other !== 'string') {
      // Stored once in the graph, not copied into every task.
      const otherKey = `join-other-${tokenize(name)}`;
      graphs.push(LayeredGraph.of(otherKey, { [otherKey]: literal(Array.from(other as Iterable<U>)) }));
      otherArg = otherKey;
    } else {
      throw new TypeError(`${where}: 'other' must be an array or other iterable, an Item, a Delayed or a bag of one partition, got ${describeValue(other)}`);
    }
  }
  const layer: Graph = {};
  for (let i = 0; i < bag.npartitions; i++) layer[tupleKey(name, i)] = [k.join, lit(on2), otherArg, lit(onSelf), i, bag.partitionKey(i)];
  return new Bag<[U, T]>(LayeredGraph.of(name, layer, bag.graph, ...graphs), name, bag.npartitions);
}

/**
 * The running fold: binop(binop(x0, x1), x2), ... as a bag of the same partitioning. With an
 * initial value it comes first (`accumulate(add, -1)` on [1, 2, 3] is [-1, 0, 2, 5]), as in dask;
 * `undefined` means no initial value. Partition i waits for partition i - 1's last value, so the
 * partitions run one after another.
 */
export function accumulate<T, A = T>(bag: Bag<T>, binop: (acc: A, x: T) => A, initial?: A): Bag<A> {
  const where = 'accumulate';
  checkFunction(where, 'binop', binop);
  const init = initial === undefined ? [] : [initial];
  const tok = tokenize(bag.name, binop, init);
  const part = `accumulate-part-${tok}`;
  const carry = `accumulate-carry-${tok}`;
  const name = `accumulate-${tok}`;
  const parts: Graph = {};
  const carries: Graph = {};
  const out: Graph = {};
  for (let i = 0; i < bag.npartitions; i++) {
    const carryIn = i === 0 ? literal(init) : tupleKey(carry, i - 1);
    parts[tupleKey(part, i)] = [k.accumulate, binop, i, bag.partitionKey(i), carryIn, i === 0];
    carries[tupleKey(carry, i)] = [getItem, tupleKey(part, i), 1];
    out[tupleKey(name, i)] = [getItem, tupleKey(part, i), 0];
  }
  const g1 = LayeredGraph.of(part, parts, bag.graph);
  const g2 = LayeredGraph.of(carry, carries, g1);
  return new Bag<A>(LayeredGraph.of(name, out, g2), name, bag.npartitions);
}
