/** Changing the partitioning (repartition) and looking at the first elements (take). */
import { compute, type ComputeOptions } from '../../graph/compute.js';
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { checkOptions, integerOption } from './args.js';
import * as k from './chunk/partitions.js';
import { Bag } from './core.js';

/**
 * The same elements in `npartitions` partitions, in order. Fewer: consecutive partitions are
 * concatenated (as evenly as dask does); more: each partition is cut into nearly equal pieces.
 */
export function repartition<T>(bag: Bag<T>, npartitions: number): Bag<T> {
  const n = integerOption('repartition', 'npartitions', npartitions, 1);
  const old = bag.npartitions;
  if (n === old) return bag;
  const name = `repartition-${tokenize(bag.name, n)}`;
  const layer: Graph = {};
  if (n < old) {
    const ratio = old / n;
    for (let j = 0; j < n; j++) {
      const lo = Math.floor(j * ratio);
      const hi = j === n - 1 ? old : Math.floor((j + 1) * ratio);
      layer[tupleKey(name, j)] = [k.concatParts, Array.from({ length: hi - lo }, (_, r) => bag.partitionKey(lo + r))];
    }
  } else {
    // As dask: every partition splits into n / old pieces, the last one takes the remainder.
    const div = Math.floor(n / old);
    let j = 0;
    for (let i = 0; i < old; i++) {
      const s = i === old - 1 ? div + (n % old) : div;
      for (let r = 0; r < s; r++) layer[tupleKey(name, j++)] = [k.piece, bag.partitionKey(i), r, s];
    }
  }
  return new Bag<T>(LayeredGraph.of(name, layer, bag.graph), name, n);
}

export interface TakeOptions extends ComputeOptions {
  /** Elements come from the first `npartitions` partitions only (default 1; -1: all of them). */
  readonly npartitions?: number;
  /** Compute and return the elements (default); false returns a bag of one partition. */
  readonly compute?: boolean;
  /** Warn when there are fewer than n elements in those partitions (default true). */
  readonly warn?: boolean;
}

const TAKE_OPTIONS = ['npartitions', 'compute', 'warn'];
const COMPUTE_OPTIONS = ['scheduler', 'get', 'optimize', 'signal', 'numWorkers', 'unshippable', 'onTaskFinished'];

/**
 * The first n elements, taken from the first `npartitions` partitions (default 1) — only those
 * partitions, and what they need, are computed. When they hold fewer than n elements, a warning
 * says so and what exists is returned, as in dask. Other options are passed to compute.
 */
export function take<T>(bag: Bag<T>, n: number, opts?: TakeOptions & { readonly compute?: true }): Promise<T[]>;
export function take<T>(bag: Bag<T>, n: number, opts: TakeOptions & { readonly compute: false }): Bag<T>;
export function take<T>(bag: Bag<T>, n: number, opts?: TakeOptions): Promise<T[]> | Bag<T>;
export function take<T>(bag: Bag<T>, n: number, opts?: TakeOptions): Promise<T[]> | Bag<T> {
  const where = 'take';
  integerOption(where, 'n', n, 0);
  const { npartitions = 1, compute: doCompute = true, warn = true, ...computeOpts } = checkOptions(where, opts, [...TAKE_OPTIONS, ...COMPUTE_OPTIONS]);
  integerOption(where, 'npartitions', npartitions, -1);
  if (npartitions === 0) throw new TypeError(`${where}: 'npartitions' must be a positive integer or -1 (all partitions), got 0`);
  if (typeof doCompute !== 'boolean') throw new TypeError(`${where}: 'compute' must be a boolean`);
  if (typeof warn !== 'boolean') throw new TypeError(`${where}: 'warn' must be a boolean`);
  const p = npartitions === -1 ? bag.npartitions : npartitions;
  if (p > bag.npartitions) {
    throw new RangeError(`${where}: the bag has only ${bag.npartitions} partitions, take was asked for ${p} (npartitions: -1 takes from all)`);
  }
  // When computing here, warn here: a warning raised on a pool thread would not reach the caller.
  const warnInTask = warn && !doCompute;
  const name = `take-${tokenize(bag.name, n, p, warnInTask)}`;
  const parts = Array.from({ length: p }, (_, i) => bag.partitionKey(i));
  const layer: Graph = { [tupleKey(name, 0)]: [k.take, n, warnInTask, parts] };
  const out = new Bag<T>(LayeredGraph.of(name, layer, bag.graph), name, 1);
  if (!doCompute) return out;
  return compute(out, computeOpts).then(([r]) => {
    const got = r as T[];
    if (warn && got.length < n) process.emitWarning(k.insufficientMessage(n, got.length), 'DaskBagWarning');
    return got;
  });
}
