/**
 * Element-wise kernels: the user's function is an argument, so it travels like any task function
 * (by module, or as source), and every call is wrapped so that an error names the partition and
 * the element (chunk/errors.ts). Kernels never modify their input partitions: on the sync
 * scheduler a partition may be the input of several tasks.
 *
 * map, starmap, filter, remove, flatten and pluck do no work: they take a partition (an array or
 * a stream, chunk/stream.ts) and return a stream with one more stage, which the consumer at the end
 * of the fused chain runs, or the scheduler materialises when the result is stored.
 */
import { defineKernel } from '../../../graph/shipping/registry.js';
import { MATERIALIZE } from '../../../graph/lazy.js';
import { badElement, BagFunctionError, fail } from './errors.js';
import { each, isPartitionStream, streamOf, toArray, type Part, type PartitionStream, type Sink, type Stage } from './stream.js';
import { keyOf, ValueMap, type KeySpec } from './values.js';

type Fn = (...args: any[]) => unknown;

/** Checks that zipped partitions have the length of the main one (dask would drop the extra). */
function checkZipped(op: string, p: number, part: readonly unknown[], zipped: readonly boolean[] | null, extras: readonly unknown[]): void {
  if (!zipped) return;
  for (let a = 0; a < extras.length; a++) {
    if (zipped[a] && (extras[a] as readonly unknown[]).length !== part.length) {
      throw new BagFunctionError(
        op,
        p,
        undefined,
        `${op}: partition ${p} has ${part.length} elements but partition ${p} of the bag passed as extra argument ${a + 1} ` +
          `has ${(extras[a] as readonly unknown[]).length}; bags mapped together must have partitions of equal lengths`,
        undefined,
      );
    }
  }
}

/** The arguments after the element for element j: zipped bags give their element j. */
function extraAt(args: unknown[], from: number, zipped: readonly boolean[] | null, extras: readonly unknown[], j: number): void {
  for (let a = 0; a < extras.length; a++) args[from + a] = zipped?.[a] ? (extras[a] as readonly unknown[])[j] : extras[a];
}

/**
 * The input of a map-like step with extra arguments: a stream of the partition, and the extras
 * with zipped partitions materialised (their element j goes with element j, so the main partition
 * is materialised too, and the lengths are checked before any call).
 */
function zippedInput(op: string, p: number, part: Part, zipped: readonly boolean[] | null, extras: unknown[]): PartitionStream {
  if (!zipped || !zipped.some(Boolean)) return streamOf(part);
  for (let a = 0; a < extras.length; a++) if (zipped[a]) extras[a] = toArray(extras[a] as Part);
  const main = toArray(part);
  checkZipped(op, p, main, zipped, extras);
  return streamOf(main);
}

/** map: fn(x, ...extra). */
class MapStage implements Stage {
  readonly op = 'map';
  constructor(
    readonly fn: Fn,
    readonly p: number,
    readonly zipped: readonly boolean[] | null,
    readonly extras: readonly unknown[],
  ) {}

  bind(next: Sink): Sink {
    const { fn, p, zipped, extras } = this;
    let j = 0;
    if (extras.length === 0) {
      return (x) => {
        let y: unknown;
        try {
          y = fn(x);
        } catch (e) {
          fail('map', fn, p, j, x, e);
        }
        j++;
        next(y);
      };
    }
    const args = new Array<unknown>(extras.length + 1);
    return (x) => {
      let y: unknown;
      try {
        args[0] = x;
        extraAt(args, 1, zipped, extras, j);
        y = fn(...args);
      } catch (e) {
        fail('map', fn, p, j, x, e);
      }
      j++;
      next(y);
    };
  }
}

/** starmap: fn(...x, ...extra), x an array of arguments. */
class StarmapStage implements Stage {
  readonly op = 'starmap';
  constructor(
    readonly fn: Fn,
    readonly p: number,
    readonly zipped: readonly boolean[] | null,
    readonly extras: readonly unknown[],
  ) {}

  bind(next: Sink): Sink {
    const { fn, p, zipped, extras } = this;
    const rest = new Array<unknown>(extras.length);
    let j = 0;
    return (x) => {
      let y: unknown;
      try {
        if (!Array.isArray(x)) badElement('starmap', p, j, x, 'is not an array of arguments');
        extraAt(rest, 0, zipped, extras, j);
        y = extras.length === 0 ? fn(...x) : fn(...x, ...rest);
      } catch (e) {
        fail('starmap', fn, p, j, x, e);
      }
      j++;
      next(y);
    };
  }
}

/** filter (keep = true) and remove (keep = false). */
class FilterStage implements Stage {
  readonly op: string;
  constructor(
    readonly fn: Fn,
    readonly keep: boolean,
    readonly p: number,
  ) {
    this.op = keep ? 'filter' : 'remove';
  }

  bind(next: Sink): Sink {
    const { fn, keep, p, op } = this;
    let j = 0;
    return (x) => {
      let t: unknown;
      try {
        t = fn(x);
      } catch (e) {
        fail(op, fn, p, j, x, e);
      }
      j++;
      if (!t !== keep) next(x);
    };
  }
}

/** flatten: the elements of every element (an array or other iterable). */
class FlattenStage implements Stage {
  readonly op = 'flatten';
  constructor(readonly p: number) {}

  bind(next: Sink): Sink {
    const p = this.p;
    let j = 0;
    return (x) => {
      if (Array.isArray(x)) {
        for (let i = 0; i < x.length; i++) next(x[i]);
      } else if (x != null && typeof (x as Iterable<unknown>)[Symbol.iterator] === 'function') {
        for (const y of x as Iterable<unknown>) next(y);
      } else {
        badElement('flatten', p, j, x, 'is not an array or other iterable');
      }
      j++;
    };
  }
}

/** pluck: one key, or an array of the values of several keys. */
class PluckStage implements Stage {
  readonly op = 'pluck';
  constructor(
    readonly key: string | number | readonly (string | number)[],
    readonly hasDefault: boolean,
    readonly dflt: unknown,
    readonly p: number,
  ) {}

  bind(next: Sink): Sink {
    const { key, hasDefault, dflt, p } = this;
    let j = 0;
    const get = (x: unknown, k: string | number): unknown => {
      if (x != null) {
        if (typeof k === 'number' && k < 0 && (Array.isArray(x) || typeof x === 'string')) k += x.length;
        const o = Object(x) as Record<string | number, unknown>;
        if (k in o) return o[k];
      }
      if (hasDefault) return dflt;
      return badElement('pluck', p, j, x, `has no key ${JSON.stringify(k)}`);
    };
    if (Array.isArray(key)) {
      const keys = key as readonly (string | number)[];
      return (x) => {
        const y = keys.map((k) => get(x, k));
        j++;
        next(y);
      };
    }
    const k = key as string | number;
    return (x) => {
      const y = get(x, k);
      j++;
      next(y);
    };
  }
}

/** fn(x, ...extra) for every element x: a new stream, no work done (zipped extras are materialised). */
export const map = defineKernel(
  'bag.map',
  (fn: Fn, p: number, part: Part, zipped: readonly boolean[] | null, ...extras: unknown[]): PartitionStream =>
    zippedInput('map', p, part, zipped, extras).pipe(new MapStage(fn, p, zipped, extras)),
);

/** fn(...x, ...extra) for every element x (an array of arguments). */
export const starmap = defineKernel(
  'bag.starmap',
  (fn: Fn, p: number, part: Part, zipped: readonly boolean[] | null, ...extras: unknown[]): PartitionStream =>
    zippedInput('starmap', p, part, zipped, extras).pipe(new StarmapStage(fn, p, zipped, extras)),
);

/** fn(partition, ...extra): the partition is an array (a stream is materialised); bags among the extras give their whole partition. */
export const mapPartitions = defineKernel(
  'bag.mapPartitions',
  (fn: Fn, p: number, part: Part, ...extras: unknown[]): unknown[] | Promise<unknown[]> => {
    const whole = toArray(part);
    for (let a = 0; a < extras.length; a++) if (isPartitionStream(extras[a])) extras[a] = toArray(extras[a] as Part);
    let r: unknown;
    try {
      r = fn(whole, ...extras);
    } catch (e) {
      fail('mapPartitions', fn, p, undefined, undefined, e);
    }
    if (r instanceof Promise) {
      return r.then(
        (v) => partitionResult(p, v),
        (e) => fail('mapPartitions', fn, p, undefined, undefined, e),
      );
    }
    return partitionResult(p, r);
  },
);

function partitionResult(p: number, r: unknown): unknown[] {
  if (Array.isArray(r)) return r;
  if (isPartitionStream(r)) return r[MATERIALIZE]();
  if (r != null && typeof r !== 'string' && typeof (r as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return Array.from(r as Iterable<unknown>);
  }
  const what = r === null ? 'null' : typeof r;
  throw new BagFunctionError(
    'mapPartitions',
    p,
    undefined,
    `mapPartitions: the function returned ${what} for partition ${p}; it must return an array (or another iterable) of elements`,
    undefined,
  );
}

/** The elements for which fn is truthy (keep = true) or falsy (keep = false, `remove`). */
export const filter = defineKernel('bag.filter', (fn: Fn, keep: boolean, p: number, part: Part): PartitionStream =>
  streamOf(part).pipe(new FilterStage(fn, keep, p)),
);

/** The elements of every element (each an array or other iterable), in order. */
export const flatten = defineKernel('bag.flatten', (p: number, part: Part): PartitionStream => streamOf(part).pipe(new FlattenStage(p)));

/** The value of one key, or an array of the values of several keys, of every element. */
export const pluck = defineKernel(
  'bag.pluck',
  (key: string | number | readonly (string | number)[], hasDefault: boolean, dflt: unknown, p: number, part: Part): PartitionStream =>
    streamOf(part).pipe(new PluckStage(key, hasDefault, dflt, p)),
);

/** Element j of every partition, as an array: partition-wise zip. */
export const zip = defineKernel('bag.zip', (p: number, inputs: readonly Part[]): unknown[][] => {
  const parts = inputs.map(toArray);
  const n = parts[0].length;
  for (let a = 1; a < parts.length; a++) {
    if (parts[a].length !== n) {
      throw new BagFunctionError(
        'zip',
        p,
        undefined,
        `zip: partition ${p} has ${n} elements in the first bag but ${parts[a].length} in bag ${a + 1}; ` +
          'zipped bags must have partitions of equal lengths',
        undefined,
      );
    }
  }
  const out = new Array<unknown[]>(n);
  for (let j = 0; j < n; j++) out[j] = parts.map((q) => q[j]);
  return out;
});

/** Every pair [x, y] of x in a and y in b (x varies slowest). */
export const product = defineKernel('bag.product', (left: Part, right: Part): unknown[][] => {
  const a = toArray(left);
  const b = toArray(right);
  const out = new Array<unknown[]>(a.length * b.length);
  let k = 0;
  for (const x of a) for (const y of b) out[k++] = [x, y];
  return out;
});

/**
 * Pairs [y, x] of the elements y of `other` and x of the partition whose keys are equal, in the
 * order of the partition (toolz.join, which dask's join uses: the other sequence comes first).
 */
export const join = defineKernel(
  'bag.join',
  (onOther: KeySpec, other: Iterable<unknown> | PartitionStream, onSelf: KeySpec, p: number, part: Part): unknown[][] => {
    const index = new ValueMap<unknown[]>();
    let j = 0;
    const items = Array.isArray(other) || isPartitionStream(other) ? toArray(other) : Array.from(other);
    try {
      for (; j < items.length; j++) {
        const k = keyOf(onOther, items[j]);
        const at = index.add(k, []);
        index.values[at].push(items[j]);
      }
    } catch (e) {
      fail('join (key of the other sequence)', onOther, undefined, undefined, undefined, e);
    }
    const out: unknown[][] = [];
    j = 0;
    each(part, (x) => {
      let at: number;
      try {
        at = index.indexOf(keyOf(onSelf, x));
      } catch (e) {
        fail('join', onSelf, p, j, x, e);
      }
      j++;
      if (at >= 0) for (const y of index.values[at]) out.push([y, x]);
    });
    return out;
  },
);

/**
 * One partition of a running fold. `carry` is [] before any element (no initial value) or [acc];
 * with `emit`, the carried value is the first output (the initial value of partition 0, as
 * toolz.accumulate yields it). Returns [outputs, next carry].
 */
export const accumulate = defineKernel(
  'bag.accumulate',
  (fn: Fn, p: number, part: Part, carry: readonly unknown[], emit: boolean): [unknown[], unknown[]] => {
    const out: unknown[] = [];
    let has = carry.length > 0;
    let acc = has ? carry[0] : undefined;
    if (emit && has) out.push(acc);
    let j = 0;
    each(part, (x) => {
      try {
        acc = has ? fn(acc, x) : x;
      } catch (e) {
        fail('accumulate', fn, p, j, x, e);
      }
      has = true;
      j++;
      out.push(acc);
    });
    return [out, has ? [acc] : []];
  },
);
