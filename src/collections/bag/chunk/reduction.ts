/**
 * Reduction kernels: one per partition, then aggregations over groups of partial results (the
 * tree of `reduction`'s splitEvery). Partial results that may be absent (an empty partition of a
 * min, a fold without initial value) travel as arrays of zero or one value, which survive the
 * copy to and from pool threads where a marker object would lose its identity.
 *
 * A per-partition kernel takes an array or a stream (chunk/stream.ts) and, where it can, consumes
 * it element by element through a sink, so a fused map → filter → count never builds an array.
 * Functions that take the whole partition (reduction's perPartition) get it materialised.
 */
import { defineKernel } from '../../../graph/shipping/registry.js';
import { badElement, fail } from './errors.js';
import { each, eachUntil, isPartitionStream, toArray, type Part } from './stream.js';
import { compareValues, keyOf, ValueMap, ValueSet, type KeySpec } from './values.js';
import { countWords, wordsOfUtf8 } from './word-count.js';

type Fn = (...args: any[]) => unknown;
type Maybe = readonly unknown[];

function flat(parts: readonly Maybe[]): unknown[] {
  const out: unknown[] = [];
  for (const p of parts) for (const v of p) out.push(v);
  return out;
}

// ---------------------------------------------------------------------------------------------
// reduction(perPartition, aggregate): dask's empty-safe semantics. perPartition is not called on
// an empty partition unless the bag has one partition; aggregate sees the results of the others,
// and is called on [] at the end when every partition was empty.

export const reducePart = defineKernel('bag.reducePart', (fn: Fn, p: number, input: Part, isLast: boolean): Maybe | Promise<Maybe> => {
  const part = toArray(input);
  if (part.length === 0 && !isLast) return [];
  let r: unknown;
  try {
    r = fn(part);
  } catch (e) {
    fail('reduction', fn, p, undefined, undefined, e);
  }
  return r instanceof Promise ? r.then((v) => [v], (e) => fail('reduction', fn, p, undefined, undefined, e)) : [r];
});

export const reduceAgg = defineKernel('bag.reduceAgg', (fn: Fn, parts: readonly Maybe[], isFinal: boolean): unknown => {
  const values = flat(parts);
  if (values.length === 0 && !isFinal) return [];
  let r: unknown;
  try {
    r = fn(values);
  } catch (e) {
    fail('reduction (aggregate)', fn, undefined, undefined, undefined, e);
  }
  if (isFinal) return r;
  return r instanceof Promise ? r.then((v) => [v]) : [r];
});

// ---------------------------------------------------------------------------------------------
// fold(binop, combine, initial)

export const foldPart = defineKernel(
  'bag.foldPart',
  (fn: Fn, hasInitial: boolean, initial: unknown, p: number, part: Part): Maybe => {
    let has = hasInitial;
    let acc = initial;
    let j = 0;
    each(part, (x) => {
      try {
        acc = has ? fn(acc, x) : x;
      } catch (e) {
        fail('fold', fn, p, j, x, e);
      }
      has = true;
      j++;
    });
    return has ? [acc] : [];
  },
);

export const foldAgg = defineKernel('bag.foldAgg', (fn: Fn, hasInitial: boolean, initial: unknown, parts: readonly Maybe[], isFinal: boolean): unknown => {
  const values = flat(parts);
  if (values.length === 0) {
    if (!isFinal) return [];
    if (hasInitial) return initial;
    throw new TypeError('fold: the bag is empty and no initial value was given');
  }
  let acc = values[0];
  try {
    for (let j = 1; j < values.length; j++) acc = fn(acc, values[j]);
  } catch (e) {
    fail('fold (combine)', fn, undefined, undefined, undefined, e);
  }
  return isFinal ? acc : [acc];
});

// ---------------------------------------------------------------------------------------------
// count, sum, min, max, any, all

export const count = defineKernel('bag.count', (part: Part): number => {
  if (!isPartitionStream(part)) return toArray(part).length;
  let n = 0;
  part.run(() => {
    n++;
  });
  return n;
});

export const addNumbers = defineKernel('bag.addNumbers', (xs: readonly number[]): number => {
  let s = 0;
  for (const x of xs) s += x;
  return s;
});

/** The sum of a partition as [sum], or [] when empty (so bigints and strings add too). */
export const sumPart = defineKernel('bag.sumPart', (part: Part): Maybe => {
  let has = false;
  let s: number = 0;
  each(part, (x) => {
    if (has) s += x as number;
    else {
      s = x as number;
      has = true;
    }
  });
  return has ? [s] : [];
});

export const sumAgg = defineKernel('bag.sumAgg', (parts: readonly Maybe[], isFinal: boolean): unknown => {
  const s = sumPart(flat(parts));
  return isFinal ? (s.length ? s[0] : 0) : s;
});

/** The smallest (sign -1) or largest (sign 1) element as [x], or [] when empty. */
export const extremePart = defineKernel('bag.extremePart', (sign: number, part: Part): Maybe => {
  let has = false;
  let m: unknown;
  each(part, (x) => {
    if (!has) {
      m = x;
      has = true;
    } else if (compareValues(x, m) * sign > 0) m = x;
  });
  return has ? [m] : [];
});

export const extremeAgg = defineKernel('bag.extremeAgg', (sign: number, parts: readonly Maybe[], isFinal: boolean): unknown => {
  const m = extremePart(sign, flat(parts));
  if (!isFinal) return m;
  if (m.length === 0) throw new RangeError(`${sign < 0 ? 'min' : 'max'}: the bag is empty`);
  return m[0];
});

/**
 * any and all stop at the first element that decides, as Python's do over dask's lazy
 * partitions: the elements after it are never computed.
 */
export const anyPart = defineKernel('bag.any', (part: Part): boolean => {
  let r = false;
  eachUntil(part, (x) => (r = Boolean(x)));
  return r;
});

export const allPart = defineKernel('bag.all', (part: Part): boolean => {
  let r = true;
  eachUntil(part, (x) => !(r = Boolean(x)));
  return r;
});

// ---------------------------------------------------------------------------------------------
// mean, var, std: per partition [n, mean, M2] (two passes: accurate), combined with Chan's formula

type Moments = [number, number, number];

export const moments = defineKernel('bag.moments', (p: number, input: Part): Moments => {
  // Two passes (accurate): a stream is materialised first.
  const part = toArray(input);
  const n = part.length;
  let s = 0;
  for (let j = 0; j < n; j++) {
    const x = part[j];
    if (typeof x !== 'number' && typeof x !== 'boolean') badElement('mean/var/std', p, j, x, 'is not a number');
    s += +x;
  }
  if (n === 0) return [0, 0, 0];
  const mean = s / n;
  let m2 = 0;
  for (let j = 0; j < n; j++) m2 += ((part[j] as number) - mean) ** 2;
  return [n, mean, m2];
});

function combineMoments(ms: readonly Moments[]): Moments {
  let [n, mean, m2]: Moments = [0, 0, 0];
  for (const [nb, mb, m2b] of ms) {
    if (nb === 0) continue;
    const total = n + nb;
    const delta = mb - mean;
    mean += (delta * nb) / total;
    m2 += m2b + (delta * delta * n * nb) / total;
    n = total;
  }
  return [n, mean, m2];
}

/** Combined moments, or at the end: kind 'mean' | 'var' | 'std' with `ddof`. */
export const momentsAgg = defineKernel(
  'bag.momentsAgg',
  (kind: 'mean' | 'var' | 'std' | null, ddof: number, parts: readonly Moments[]): Moments | number => {
    const [n, mean, m2] = combineMoments(parts);
    if (kind === null) return [n, mean, m2];
    if (kind === 'mean') return n === 0 ? NaN : mean;
    const v = n - ddof > 0 ? m2 / (n - ddof) : NaN;
    return kind === 'var' ? v : Math.sqrt(v);
  },
);

// ---------------------------------------------------------------------------------------------
// distinct, frequencies, topk

function distinctInto(seen: ValueSet, out: unknown[], key: KeySpec | null, xs: Part, op: string, p: number | undefined): void {
  let j = 0;
  each(xs, (x) => {
    let k: unknown;
    try {
      k = key === null ? x : keyOf(key, x);
    } catch (e) {
      fail(op, key, p, p === undefined ? undefined : j, x, e);
    }
    j++;
    if (seen.add(k)) out.push(x);
  });
}

/** The first element of each distinct value (or key), in order. */
export const distinct = defineKernel('bag.distinct', (key: KeySpec | null, p: number, part: Part): unknown[] => {
  const out: unknown[] = [];
  distinctInto(new ValueSet(), out, key, part, 'distinct', p);
  return out;
});

export const distinctAgg = defineKernel('bag.distinctAgg', (key: KeySpec | null, parts: readonly Part[]): unknown[] => {
  const seen = new ValueSet();
  const out: unknown[] = [];
  for (const part of parts) distinctInto(seen, out, key, part, 'distinct', undefined);
  return out;
});

/**
 * A partial result of frequencies: the values and their counts, in order of first appearance, as
 * two arrays rather than [value, count] pairs. Partial results cross threads, and two flat arrays
 * are two objects to clone where the pairs of a big vocabulary are thousands.
 */
type Counts = [values: unknown[], counts: number[]];

/** The values of a partition and how often each occurs, in order of first appearance. */
export const frequencies = defineKernel('bag.frequencies', (part: Part): Counts => {
  // The words of UTF-8 text are counted from the bytes, without a string per occurrence.
  const words = wordsOfUtf8(part);
  const counted = words && countWords(words);
  if (counted) return counted;
  // Most bags counted are of strings or numbers: a plain Map from the value to its index, one
  // lookup per element, is fastest for them. The first object switches to value equality.
  const index = new Map<unknown, number>();
  const keys: unknown[] = [];
  const counts: number[] = [];
  let vm: ValueMap<number> | undefined;
  each(part, (x) => {
    if (vm === undefined) {
      if (x === null || (typeof x !== 'object' && typeof x !== 'function')) {
        const i = index.get(x);
        if (i === undefined) {
          index.set(x, keys.length);
          keys.push(x);
          counts.push(1);
        } else counts[i]++;
        return;
      }
      vm = new ValueMap<number>();
      for (let i = 0; i < keys.length; i++) vm.values[vm.add(keys[i], 0)] += counts[i];
    }
    vm.values[vm.add(x, 0)]++;
  });
  return vm === undefined ? [keys, counts] : [vm.keys, vm.values];
});

/** Partial counts merged: Counts again, or at the end the [value, count] pairs (most frequent first with `sort`). */
export const frequenciesAgg = defineKernel(
  'bag.frequenciesAgg',
  (isFinal: boolean, sort: boolean, parts: readonly Counts[]): Counts | [unknown, number][] => {
    let merged: Counts;
    if (parts.length === 1) merged = parts[0];
    else {
      const vm = new ValueMap<number>();
      for (const [keys, counts] of parts) for (let i = 0; i < keys.length; i++) vm.values[vm.add(keys[i], 0)] += counts[i];
      merged = [vm.keys, vm.values];
    }
    if (!isFinal) return merged;
    const [keys, counts] = merged;
    const out = new Array<[unknown, number]>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = [keys[i], counts[i]];
    if (sort) out.sort((a, b) => b[1] - a[1]);
    return out;
  },
);

/**
 * The k largest elements (by key), largest first; among equal keys the earlier element ranks
 * first, as heapq.nlargest does. A min-heap of size k keeps this O(n log k) and takes the
 * elements one at a time, so a stream is never materialised.
 */
function topkOf(k: number, key: KeySpec | null, xs: Part, p: number | undefined): unknown[] {
  if (k <= 0) return [];
  // The heap holds positions; the element and key of a position live in these, by slot.
  const els: unknown[] = [];
  const keys: unknown[] = [];
  const seqs: number[] = [];
  // a ranks below b: smaller key, or equal key and later position.
  const below = (a: number, b: number): boolean => {
    const c = compareValues(keys[a], keys[b]);
    return c < 0 || (c === 0 && seqs[a] > seqs[b]);
  };
  const heap: number[] = [];
  const up = (i: number): void => {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!below(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && below(heap[l], heap[m])) m = l;
      if (r < heap.length && below(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  // Slot k is scratch space for the candidate.
  let j = 0;
  each(xs, (x) => {
    let kx: unknown;
    try {
      kx = key === null ? x : keyOf(key, x);
    } catch (e) {
      fail('topk', key, p, p === undefined ? undefined : j, x, e);
    }
    if (heap.length < k) {
      const slot = heap.length;
      els[slot] = x;
      keys[slot] = kx;
      seqs[slot] = j;
      heap.push(slot);
      up(heap.length - 1);
    } else {
      els[k] = x;
      keys[k] = kx;
      seqs[k] = j;
      if (below(heap[0], k)) {
        const slot = heap[0];
        els[slot] = x;
        keys[slot] = kx;
        seqs[slot] = j;
        down(0);
      }
    }
    j++;
  });
  heap.sort((a, b) => (below(a, b) ? 1 : below(b, a) ? -1 : 0));
  return heap.map((i) => els[i]);
}

export const topk = defineKernel('bag.topk', (k: number, key: KeySpec | null, p: number, part: Part): unknown[] => topkOf(k, key, part, p));

export const topkAgg = defineKernel('bag.topkAgg', (k: number, key: KeySpec | null, parts: readonly Part[]): unknown[] =>
  topkOf(k, key, flat(parts.map(toArray)), undefined),
);

// ---------------------------------------------------------------------------------------------
// foldby: per partition toolz.reduceby(key, binop, part, initial), then merge with combine

/** An initial value, or a function that makes a fresh one per key (toolz.reduceby's `init`). */
function start(initial: unknown): unknown {
  return typeof initial === 'function' ? initial() : initial;
}

export const foldbyPart = defineKernel(
  'bag.foldbyPart',
  (key: KeySpec, binop: Fn, hasInit: boolean, initial: unknown, p: number, part: Part): [unknown, unknown][] => {
    const acc = new ValueMap<unknown>();
    let j = 0;
    each(part, (x) => {
      let fn: unknown = key;
      try {
        const k = keyOf(key, x);
        fn = binop;
        const before = acc.size;
        const at = acc.add(k, undefined);
        if (acc.size > before) acc.values[at] = hasInit ? binop(start(initial), x) : x;
        else acc.values[at] = binop(acc.values[at], x);
      } catch (e) {
        fail('foldby', fn, p, j, x, e);
      }
      j++;
    });
    return acc.entries();
  },
);

export const foldbyAgg = defineKernel(
  'bag.foldbyAgg',
  (combine: Fn, hasInit: boolean, combineInitial: unknown, parts: readonly (readonly [unknown, unknown][])[]): [unknown, unknown][] => {
    const acc = new ValueMap<unknown>();
    try {
      for (const part of parts) {
        for (const [k, v] of part) {
          const before = acc.size;
          const at = acc.add(k, undefined);
          if (acc.size > before) acc.values[at] = hasInit ? combine(start(combineInitial), v) : v;
          else acc.values[at] = combine(acc.values[at], v);
        }
      }
    } catch (e) {
      fail('foldby (combine)', combine, undefined, undefined, undefined, e);
    }
    return acc.entries();
  },
);
