/**
 * Tuple keys. dask names the blocks of a collection with tuples such as `('x', 0, 1)`; a JavaScript
 * object key must be a string, so a tuple key has one canonical string form, the same text Python
 * prints for the tuple. Collections build keys only through `tupleKey`, so equal tuples always give
 * equal strings.
 */
import type { Key } from './spec.js';

export type KeyPart = string | number;

/** The canonical key of the tuple `(name, ...index)`: `tupleKey('x', 0, 1) === "('x', 0, 1)"`. */
export function tupleKey(name: string, ...index: number[]): Key {
  if (name.includes("'")) throw new TypeError(`tuple key name must not contain a quote: ${name}`);
  let s = "('" + name + "'";
  for (const i of index) {
    if (!Number.isInteger(i)) throw new TypeError(`tuple key index must be an integer, got ${i}`);
    s += ', ' + i;
  }
  return index.length === 0 ? s + ',)' : s + ')';
}

const TUPLE = /^\('([^']*)',((?: -?\d+,?)*)\)$/;

/** The tuple behind a canonical key, or undefined for a plain string key. */
export function parseTupleKey(key: Key): [string, ...number[]] | undefined {
  const m = TUPLE.exec(key);
  if (!m) return undefined;
  const rest = m[2].split(',').map((s) => s.trim()).filter((s) => s !== '');
  return [m[1], ...rest.map(Number)];
}

/** The name part of a key: `x` for `('x', 0)` and for `x`. */
export function keyName(key: Key): string {
  return parseTupleKey(key)?.[0] ?? key;
}

/**
 * The prefix dask groups keys by (task durations, nbytes summaries): the name up to the token,
 * `inc` for `inc-7f3a…` and for `('inc-7f3a…', 0)`.
 */
export function keyPrefix(key: Key): string {
  const name = keyName(key);
  const m = /^(.*?)-[0-9a-f]{8,}/.exec(name);
  return m ? m[1] : name;
}
