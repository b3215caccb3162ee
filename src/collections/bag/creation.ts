/**
 * Making bags: from an in-memory sequence, an integer range, Delayed values (one per partition),
 * or other bags end to end.
 *
 * Partitioning (a decision, see the issue notes): `npartitions` is honoured exactly, with sizes as
 * even as possible (they differ by at most one), so two bags built with the same `npartitions`
 * always line up for `zip` and `map`; when there are more partitions than elements some are
 * empty. dask's from_sequence derives a partition size from npartitions and may return fewer
 * partitions. With neither option, fromSequence makes min(100, length) partitions, about what
 * dask does (one element per partition up to 100 elements, then about 100 partitions).
 */
import { Delayed } from '../../graph/delayed.js';
import { identity } from '../../graph/kernels.js';
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import { literal, type Graph } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { checkBag, checkOptions, describeValue, integerOption } from './args.js';
import * as k from './chunk/creation.js';
import { Bag } from './core.js';
import { Item } from './item.js';

/** At most this many partitions when fromSequence is given neither npartitions nor partitionSize. */
export const DEFAULT_MAX_PARTITIONS = 100;

export interface FromSequenceOptions {
  /** The number of partitions, exactly (default: min(100, length), at least 1). */
  readonly npartitions?: number;
  /** The number of elements per partition (the last may hold fewer). */
  readonly partitionSize?: number;
}

/** Bounds of n elements cut into p nearly equal partitions. */
function evenBounds(n: number, p: number): number[] {
  return Array.from({ length: p + 1 }, (_, i) => Math.floor((i * n) / p));
}

/** A bag of the elements of an in-memory sequence: `fromSequence(['a', 'b', 'c'], { npartitions: 2 })`. */
export function fromSequence<T>(items: Iterable<T>, opts?: FromSequenceOptions): Bag<T> {
  const where = 'fromSequence';
  if (items == null || typeof (items as Iterable<T>)[Symbol.iterator] !== 'function' || typeof items === 'string') {
    throw new TypeError(`${where}: the first argument must be an array or other iterable of elements, got ${describeValue(items)}`);
  }
  const o = checkOptions(where, opts, ['npartitions', 'partitionSize']);
  const seq = Array.isArray(items) ? (items as T[]) : Array.from(items);
  const n = seq.length;
  let bounds: number[];
  if (o.npartitions !== undefined && o.partitionSize !== undefined) {
    throw new TypeError(`${where}: give 'npartitions' or 'partitionSize', not both`);
  } else if (o.partitionSize !== undefined) {
    const size = integerOption(where, 'partitionSize', o.partitionSize, 1);
    const p = Math.max(1, Math.ceil(n / size));
    bounds = Array.from({ length: p + 1 }, (_, i) => Math.min(n, i * size));
  } else {
    const p = o.npartitions !== undefined ? integerOption(where, 'npartitions', o.npartitions, 1) : Math.max(1, Math.min(DEFAULT_MAX_PARTITIONS, n));
    bounds = evenBounds(n, p);
  }
  const name = `from_sequence-${tokenize(seq, bounds)}`;
  const layer: Graph = {};
  for (let i = 0; i + 1 < bounds.length; i++) layer[tupleKey(name, i)] = literal(seq.slice(bounds[i], bounds[i + 1]));
  return new Bag<T>(LayeredGraph.of(name, layer), name, bounds.length - 1);
}

export interface RangeOptions {
  /** The number of partitions (required, as in dask). */
  readonly npartitions: number;
}

/** The integers 0 .. n-1 in `npartitions` nearly equal partitions. */
export function range(n: number, opts: RangeOptions): Bag<number> {
  const where = 'range';
  integerOption(where, 'n', n, 0);
  const o = checkOptions(where, opts, ['npartitions']);
  if (o.npartitions === undefined) throw new TypeError(`${where}: the option 'npartitions' is required, as in range(${n}, { npartitions: 4 })`);
  const p = integerOption(where, 'npartitions', o.npartitions, 1);
  const name = `range-${tokenize(n, p)}`;
  const bounds = evenBounds(n, p);
  const layer: Graph = {};
  for (let i = 0; i < p; i++) layer[tupleKey(name, i)] = [k.range, bounds[i], bounds[i + 1]];
  return new Bag<number>(LayeredGraph.of(name, layer), name, p);
}

/**
 * A bag with one partition per Delayed (or Item) value; each must compute to an array of
 * elements (another iterable is turned into one). An empty list gives a bag of one empty partition.
 */
export function fromDelayed<T = unknown>(values: Delayed<readonly T[] | Iterable<T>> | Item<readonly T[]> | readonly (Delayed<unknown> | Item<unknown>)[]): Bag<T> {
  const where = 'fromDelayed';
  const list = Array.isArray(values) ? (values as readonly unknown[]) : [values];
  const graphs: LayeredGraph[] = [];
  const keys = list.map((v, i) => {
    if (v instanceof Delayed) {
      graphs.push(LayeredGraph.of(v.key, v.daskGraph()));
      return v.key;
    }
    if (v instanceof Item) {
      graphs.push(v.graph);
      return v.key;
    }
    throw new TypeError(`${where}: element ${i} must be a Delayed (or Item) that computes to an array, got ${describeValue(v)}`);
  });
  const name = `from_delayed-${tokenize(keys)}`;
  const layer: Graph = {};
  if (keys.length === 0) layer[tupleKey(name, 0)] = literal([]);
  keys.forEach((key, i) => (layer[tupleKey(name, i)] = [k.asPartition, i, key]));
  return new Bag<T>(LayeredGraph.of(name, layer, ...graphs), name, Math.max(1, keys.length));
}

/** The bags end to end: their partitions in order. */
export function concat<T>(bags: readonly Bag<T>[]): Bag<T> {
  const where = 'concat';
  if (!Array.isArray(bags) || bags.length === 0) throw new TypeError(`${where}: expected a non-empty array of bags`);
  bags.forEach((b, i) => checkBag(where, `bags[${i}]`, b));
  const name = `concat-${tokenize(bags.map((b) => b.name))}`;
  const layer: Graph = {};
  let j = 0;
  for (const b of bags) for (let i = 0; i < b.npartitions; i++) layer[tupleKey(name, j++)] = [identity, b.partitionKey(i)];
  return new Bag<T>(LayeredGraph.of(name, layer, ...bags.map((b) => b.graph)), name, j);
}
