/**
 * groupby's in-memory shuffle (dask's "tasks" shuffle). Every element is tagged once with its key
 * and its target partition t = hash(key) mod npartitions (the hash is the same on every thread).
 * Then, in each stage, every slot splits its elements by one base-k digit of t into k pieces, and
 * every slot gathers the pieces meant for it from the k slots that differ from it in that digit.
 * After the last stage slot t holds exactly the elements of target t, which are grouped by key.
 */
import { defineKernel } from '../../../graph/shipping/registry.js';
import { fail } from './errors.js';
import { each, type Part } from './stream.js';
import { hashValue, keyOf, ValueMap, type KeySpec } from './values.js';

/** [target, key, element] for every element. */
type Tagged = [number, unknown, unknown];

export const groupTag = defineKernel('bag.groupTag', (key: KeySpec, n: number, p: number, part: Part): Tagged[] => {
  const out: Tagged[] = [];
  let j = 0;
  each(part, (x) => {
    let k: unknown;
    try {
      k = keyOf(key, x);
    } catch (e) {
      fail('groupby', key, p, j, x, e);
    }
    j++;
    out.push([n === 1 ? 0 : hashValue(k) % n, k, x]);
  });
  return out;
});

/** k pieces: piece d holds the elements whose target has digit d at `place` (= k^stage). */
export const groupDigit = defineKernel('bag.groupDigit', (k: number, place: number, items: readonly Tagged[]): Tagged[][] => {
  const pieces: Tagged[][] = Array.from({ length: k }, () => []);
  for (const it of items) pieces[Math.floor(it[0] / place) % k].push(it);
  return pieces;
});

/** [key, elements] groups, keys in order of first appearance, elements in order. */
export const groupCollect = defineKernel('bag.groupCollect', (items: readonly Tagged[]): [unknown, unknown[]][] => {
  const groups = new ValueMap<unknown[]>();
  for (const [, k, x] of items) {
    const at = groups.add(k, []);
    groups.values[at].push(x);
  }
  return groups.entries();
});
