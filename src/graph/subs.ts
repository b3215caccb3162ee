/** Substitution of a key by a value inside a task, the primitive of inline and fuse. */
import { Literal, type Key } from './spec.js';

/**
 * `x` with every reference to `key` replaced by `value`. Arrays are copied only where something
 * changed. Substituting the raw value keeps its meaning: a task stays a (nested) task, a list of
 * keys stays a list, and a plain string cannot turn into a reference because the key set only
 * shrinks when keys are inlined.
 */
export function subs(x: unknown, key: Key, value: unknown): unknown {
  if (x === key) return value;
  if (!Array.isArray(x)) return x;
  let out: unknown[] | undefined;
  for (let j = 0; j < x.length; j++) {
    const y = subs(x[j], key, value);
    if (y !== x[j]) {
      out ??= x.slice();
      out[j] = y;
    }
  }
  return out ?? x;
}

/** How many times `key` is referenced inside `x`. */
export function countRefs(x: unknown, key: Key): number {
  if (x === key) return 1;
  if (!Array.isArray(x) || x instanceof Literal) return 0;
  let n = 0;
  for (const y of x) n += countRefs(y, key);
  return n;
}
