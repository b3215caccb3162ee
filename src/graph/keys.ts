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
 * The prefix dask groups keys by (task durations, nbytes summaries), as dask's `key_split`: the
 * name's dash-separated words up to the first that is not purely alphabetic or looks like a hash
 * (8 letters a-f). `inc` for `inc-7f3a…` and `('inc-7f3a…', 0)`, `x` for `x-1` and `x-0-17`,
 * `read-csv` for `read-csv-<token>`. Grouping by it matters: measured durations are kept per prefix.
 */
export function keyPrefix(key: Key): string {
  // Called for every task the scheduler learns of: a scan, without the regexes and arrays of split.
  const name = key.charCodeAt(0) === 40 /* ( */ ? keyName(key) : key;
  let end = name.indexOf('-');
  if (end < 0) return name;
  for (let i = end + 1; ; i = end + 1) {
    let j = name.indexOf('-', i);
    if (j < 0) j = name.length;
    if (!isLetters(name, i, j) || (j - i === 8 && isLowerHexLetters(name, i, j))) break;
    end = j;
    if (j === name.length) break;
  }
  return name.slice(0, end);
}

/** `s[i..j)` is non-empty and all ASCII letters. */
function isLetters(s: string, i: number, j: number): boolean {
  if (i >= j) return false;
  for (let k = i; k < j; k++) {
    const c = s.charCodeAt(k) | 32; // lower case
    if (c < 97 || c > 122) return false;
  }
  return true;
}

/** `s[i..j)` is all of a-f. */
function isLowerHexLetters(s: string, i: number, j: number): boolean {
  for (let k = i; k < j; k++) {
    const c = s.charCodeAt(k);
    if (c < 97 || c > 102) return false;
  }
  return true;
}
