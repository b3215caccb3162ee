/**
 * Grouping: `groupby` (a full in-memory shuffle into groups of elements) and `foldby` (a grouped
 * reduction that never moves the elements, only per-key partial results; prefer it when the
 * groups are reduced anyway).
 */
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import { literal, type Graph, type Key } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { checkFunction, checkKeySpec, checkOptions, integerOption, lit } from './args.js';
import { concatParts, getItem } from './chunk/partitions.js';
import * as k from './chunk/reduction.js';
import * as s from './chunk/shuffle.js';
import { Bag } from './core.js';
import { treeReduction, type SplitEveryOptions } from './reduction.js';

export interface GroupbyOptions {
  /** The number of output partitions (default: the input's). */
  readonly npartitions?: number;
  /**
   * The most pieces one slot is split into per shuffle stage (default 32, as dask). Up to that
   * many partitions the shuffle is one all-to-all stage (n^2 small tasks); beyond, it takes
   * several stages of n * k tasks with k^stages >= n, which is far fewer tasks.
   */
  readonly maxBranch?: number;
}

/** Stages and branching of a shuffle over m slots: the fewest stages with k <= maxBranch, k^stages >= m. */
export function shufflePlan(m: number, maxBranch: number): { stages: number; k: number } {
  let stages = 1;
  while (maxBranch ** stages < m) stages++;
  if (stages === 1) return { stages, k: Math.max(1, m) };
  let k = Math.max(2, Math.ceil(m ** (1 / stages)));
  while (k ** stages < m) k++;
  while (k > 2 && (k - 1) ** stages >= m) k--;
  return { stages, k };
}

/**
 * [key, elements] for every distinct key (a function of the element, or a property name).
 * Elements move between partitions in memory (dask's tasks shuffle): one group is always whole in
 * one partition. Groups are in no particular order across partitions; within a group, elements
 * keep their order.
 */
export function groupby<T, K = unknown>(bag: Bag<T>, key: ((x: T) => K) | string | number, opts?: GroupbyOptions): Bag<[K, T[]]> {
  const where = 'groupby';
  checkKeySpec(where, 'key', key);
  const o = checkOptions(where, opts, ['npartitions', 'maxBranch']);
  const n = o.npartitions === undefined ? bag.npartitions : integerOption(where, 'npartitions', o.npartitions, 1);
  const maxBranch = o.maxBranch === undefined ? 32 : integerOption(where, 'maxBranch', o.maxBranch, 2);
  const tok = tokenize(bag.name, key, n, maxBranch);
  const { stages, k } = shufflePlan(Math.max(bag.npartitions, n), maxBranch);
  const slots = k ** stages;
  const tagName = `groupby-tag-${tok}`;
  const groupName = `groupby-group-${tok}`;
  const pieceName = `groupby-piece-${tok}`;
  const joinName = `groupby-join-${tok}`;
  const name = `groupby-${tok}`;
  const kk = lit(key);

  const tags: Graph = {};
  for (let i = 0; i < bag.npartitions; i++) tags[tupleKey(tagName, i)] = [s.groupTag, kk, n, i, bag.partitionKey(i)];
  let graph = LayeredGraph.of(tagName, tags, bag.graph);
  /** The key holding slot v's elements before stage `stage`. */
  const slotKey = (stage: number, v: number): Key | unknown =>
    stage === 0 ? (v < bag.npartitions ? tupleKey(tagName, v) : literal([])) : tupleKey(joinName, stage, v);

  for (let stage = 0, place = 1; stage < stages; stage++, place *= k) {
    const groups: Graph = {};
    const pieces: Graph = {};
    const joins: Graph = {};
    for (let v = 0; v < slots; v++) {
      groups[tupleKey(groupName, stage, v)] = [s.groupDigit, k, place, slotKey(stage, v)];
      for (let d = 0; d < k; d++) pieces[tupleKey(pieceName, stage, v, d)] = [getItem, tupleKey(groupName, stage, v), d];
    }
    for (let v = 0; v < slots; v++) {
      const digit = Math.floor(v / place) % k;
      const base = v - digit * place;
      const from: Key[] = Array.from({ length: k }, (_, d) => tupleKey(pieceName, stage, base + d * place, digit));
      joins[tupleKey(joinName, stage + 1, v)] = [concatParts, from];
    }
    graph = LayeredGraph.of(groupName + stage, groups, graph);
    graph = LayeredGraph.of(pieceName + stage, pieces, graph);
    graph = LayeredGraph.of(joinName + stage, joins, graph);
  }
  const out: Graph = {};
  for (let j = 0; j < n; j++) out[tupleKey(name, j)] = [s.groupCollect, tupleKey(joinName, stages, j)];
  return new Bag<[K, T[]]>(LayeredGraph.of(name, out, graph), name, n);
}

/**
 * A grouped reduction, dask's foldby: within each partition, elements with equal keys fold with
 * binop (from `initial`, or from the first element when undefined; a function `initial` is
 * called for a fresh value per key, as in toolz.reduceby); across partitions the per-key results
 * fold with combine (default binop), from combineInitial when given. The result is a bag of one
 * partition of [key, value] pairs, keys in order of first appearance.
 */
export function foldby<T, K, A>(
  bag: Bag<T>,
  key: ((x: T) => K) | string | number,
  binop: (acc: A, x: T) => A,
  initial?: A | (() => A),
  combine?: ((a: A, b: A) => A) | null,
  combineInitial?: A | (() => A),
  opts?: SplitEveryOptions,
): Bag<[K, A]> {
  const where = 'foldby';
  checkKeySpec(where, 'key', key);
  checkFunction(where, 'binop', binop);
  const comb = combine ?? binop;
  checkFunction(where, 'combine', comb);
  const o = checkOptions(where, opts, ['splitEvery']);
  const init = initial === undefined ? [] : [initial];
  const cinit = combineInitial === undefined ? [] : [combineInitial];
  const kk = lit(key);
  const t = treeReduction(bag as Bag<unknown>, {
    op: 'foldby',
    tokenInputs: [key, binop, init, comb, cinit],
    splitEvery: o.splitEvery === undefined ? 8 : o.splitEvery === false ? Infinity : integerOption(where, 'splitEvery', o.splitEvery, 2),
    part: (i, pk) => [k.foldbyPart, kk, binop, initial !== undefined, lit(initial), i, pk],
    agg: (keys) => [k.foldbyAgg, comb, combineInitial !== undefined, lit(combineInitial), keys],
  });
  return new Bag<[K, A]>(t.graph, t.name, 1);
}
