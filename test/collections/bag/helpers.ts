/** Helpers for bag tests: the schedulers and partitionings every operation is checked on. */
import type { ComputeOptions } from '../../../src/index.js';
import { fromSequence, type Bag } from '../../../src/collections/bag/index.js';

/** Both local schedulers; on threads every function must travel (no silent main-thread fallback). */
export const SCHEDULERS: readonly { readonly name: string; readonly opts: ComputeOptions }[] = [
  { name: 'sync', opts: { scheduler: 'sync' } },
  { name: 'threads', opts: { scheduler: 'threads', unshippable: 'error', numWorkers: 2 } },
];

/** One partition, a few, and more partitions than elements. */
export const NPARTITIONS = [1, 3, 7, 50] as const;

/** Deterministic test data: small integers with repeats. */
export const NUMBERS = Array.from({ length: 29 }, (_, i) => (i * 7 + 3) % 13);

/** Bags of `data` for every partitioning, and the empty bag (one partition and several). */
export function cases<T>(data: readonly T[]): { label: string; data: readonly T[]; bag: Bag<T> }[] {
  const out = NPARTITIONS.map((n) => ({ label: `${data.length} elements, npartitions ${n}`, data, bag: fromSequence(data, { npartitions: n }) }));
  out.push({ label: 'empty, 1 partition', data: [], bag: fromSequence<T>([]) });
  out.push({ label: 'empty, 4 partitions', data: [], bag: fromSequence<T>([], { npartitions: 4 }) });
  return out;
}

/** Python-like ordering, to compare results whose order is not defined. */
export function sorted<T>(xs: readonly T[]): T[] {
  return [...xs].sort((a, b) => {
    const x = JSON.stringify(a);
    const y = JSON.stringify(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
