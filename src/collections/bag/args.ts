/**
 * Argument handling shared by the bag operations: option objects checked at the boundary (a
 * TypeError names the option), and the extra arguments of map-like operations, which may be
 * other bags (zipped partition by partition), lazy values (Item, Delayed: their computed value is
 * passed) or plain values (passed as they are).
 */
import { Delayed } from '../../graph/delayed.js';
import { isDaskCollection } from '../../graph/collection.js';
import { LayeredGraph } from '../../graph/layers.js';
import { literal, type Key } from '../../graph/spec.js';
import { Bag } from './core.js';
import { Item } from './item.js';
import type { KeySpec } from './chunk/values.js';

/** Checks an options object: an object, with only known keys. */
export function checkOptions<T extends object>(where: string, opts: T | undefined, known: readonly string[]): T {
  if (opts === undefined) return {} as T;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`${where}: options must be an object, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}`);
  }
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) {
      throw new TypeError(`${where}: unknown option '${k}'; known options are ${known.join(', ') || '(none)'}`);
    }
  }
  return opts;
}

/** An integer >= min, or a TypeError naming the option. */
export function integerOption(where: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    const what = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
    throw new TypeError(`${where}: '${name}' must be ${what}, got ${describeValue(v)}`);
  }
  return v;
}

/** splitEvery: how many partial results each aggregation step combines (default 8; false: all). */
export function splitEveryOption(where: string, v: unknown): number {
  if (v === undefined) return 8;
  if (v === false) return Infinity;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 2) {
    throw new TypeError(`${where}: 'splitEvery' must be an integer >= 2 or false, got ${describeValue(v)}`);
  }
  return v;
}

export function checkFunction(where: string, name: string, fn: unknown): void {
  if (typeof fn !== 'function') throw new TypeError(`${where}: '${name}' must be a function, got ${describeValue(fn)}`);
}

/** A key argument: a function of the element, or a property name or index to read. */
export function checkKeySpec(where: string, name: string, key: unknown): asserts key is KeySpec {
  if (typeof key !== 'function' && typeof key !== 'string' && typeof key !== 'number') {
    throw new TypeError(`${where}: '${name}' must be a function or a property name (string or number), got ${describeValue(key)}`);
  }
}

export function checkBag(where: string, name: string, b: unknown): asserts b is Bag<unknown> {
  if (!(b instanceof Bag)) throw new TypeError(`${where}: '${name}' must be a Bag, got ${describeValue(b)}`);
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return v.constructor?.name ? `a ${v.constructor.name}` : 'an object';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'function') return `function ${v.name || '(anonymous)'}`;
  return String(v);
}

/** A plain value as a task argument, never read as a key, a list to walk, or a task. */
export function lit(v: unknown): unknown {
  return typeof v === 'string' || Array.isArray(v) ? literal(v) : v;
}

/** The extra arguments of a map-like call, in graph form. */
export interface Extras {
  /** The argument for partition i, one per extra. */
  at(i: number): unknown[];
  /** Which extras are bags (zipped); null when none are. */
  readonly zipped: boolean[] | null;
  /** The graphs of the bags and lazy values among the extras. */
  readonly graphs: LayeredGraph[];
}

export function extraArgs(where: string, bag: Bag<unknown>, extras: readonly unknown[]): Extras {
  const graphs: LayeredGraph[] = [];
  const forPartition: ((i: number) => unknown)[] = [];
  let anyBag = false;
  const zipped = extras.map((x, a) => {
    if (x instanceof Bag) {
      if (x.npartitions !== bag.npartitions) {
        throw new RangeError(
          `${where}: extra argument ${a + 1} is a bag with ${x.npartitions} partitions but the bag has ${bag.npartitions}; ` +
            'bags mapped together must have the same number of partitions (repartition one of them)',
        );
      }
      graphs.push(x.graph);
      forPartition.push((i) => x.partitionKey(i));
      anyBag = true;
      return true;
    }
    const key = lazyKey(where, x, graphs);
    forPartition.push(key === undefined ? () => lit(x) : () => key);
    return false;
  });
  return { at: (i) => forPartition.map((f) => f(i)), zipped: anyBag ? zipped : null, graphs };
}

/** The key of an Item or Delayed (adding its graph), or undefined for a plain value. */
export function lazyKey(where: string, x: unknown, graphs: LayeredGraph[]): Key | undefined {
  if (x instanceof Item) {
    graphs.push(x.graph);
    return x.key;
  }
  if (x instanceof Delayed) {
    graphs.push(LayeredGraph.of(x.key, x.daskGraph()));
    return x.key;
  }
  if (isDaskCollection(x)) {
    throw new TypeError(
      `${where}: a ${x.constructor.name} collection cannot be an argument; pass a Bag, an Item, a Delayed or a plain value`,
    );
  }
  return undefined;
}
