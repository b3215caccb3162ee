/**
 * The `str` namespace of a bag of strings, dask.bag's StringAccessor: Python's str methods mapped
 * over the elements (`split`, `lower`, `upper`, `strip`, `lstrip`, `rstrip`, `replace`, and
 * `contains`, `startswith`, `endswith` to booleans), with Python's semantics, and `match`, which
 * as in dask *filters* the strings by an fnmatch-style glob (`*`, `?`, `[seq]`, `[!seq]`).
 */
import { literal } from '../../graph/spec.js';
import { describeValue, integerOption, lit } from './args.js';
import * as k from './chunk/string.js';
import { partitionwise, type Bag } from './core.js';

function str(where: string, name: string, v: unknown): string {
  if (typeof v !== 'string') throw new TypeError(`str.${where}: '${name}' must be a string, got ${describeValue(v)}`);
  return v;
}

export class StringAccessor {
  constructor(readonly bag: Bag<string>) {}

  private method<U>(method: k.StrMethod, args: readonly unknown[]): Bag<U> {
    const a = literal(args);
    return partitionwise<U>(`str-${method}`, this.bag, (i, key) => [k.strMethod, lit(method), a, i, key], [args]);
  }

  /** Lower case. */
  lower(): Bag<string> {
    return this.method('lower', []);
  }

  /** Upper case. */
  upper(): Bag<string> {
    return this.method('upper', []);
  }

  /** Python's str.split: on runs of whitespace (no sep), or on sep; at most maxsplit splits (-1: all), the rest kept whole. */
  split(sep?: string | null, maxsplit = -1): Bag<string[]> {
    if (sep != null) str('split', 'sep', sep);
    if (sep === '') throw new TypeError("str.split: 'sep' must not be empty");
    integerOption('str.split', 'maxsplit', maxsplit, -1);
    return this.method('split', [sep ?? null, maxsplit]);
  }

  /** Without leading and trailing whitespace, or characters of `chars`. */
  strip(chars?: string | null): Bag<string> {
    if (chars != null) str('strip', 'chars', chars);
    return this.method('strip', [chars ?? null]);
  }

  /** Without leading whitespace (or characters of `chars`). */
  lstrip(chars?: string | null): Bag<string> {
    if (chars != null) str('lstrip', 'chars', chars);
    return this.method('lstrip', [chars ?? null]);
  }

  /** Without trailing whitespace (or characters of `chars`). */
  rstrip(chars?: string | null): Bag<string> {
    if (chars != null) str('rstrip', 'chars', chars);
    return this.method('rstrip', [chars ?? null]);
  }

  /** Every occurrence of `old` replaced by `replacement` (the first `count` when count >= 0). No `$` patterns. */
  replace(old: string, replacement: string, count = -1): Bag<string> {
    str('replace', 'old', old);
    str('replace', 'replacement', replacement);
    integerOption('str.replace', 'count', count, -1);
    return this.method('replace', [old, replacement, count]);
  }

  /** True for the strings that contain `sub` (maps, as every str method but match). */
  contains(sub: string): Bag<boolean> {
    return this.method('contains', [str('contains', 'sub', sub)]);
  }

  /** True for the strings that start with `prefix`. */
  startswith(prefix: string): Bag<boolean> {
    return this.method('startswith', [str('startswith', 'prefix', prefix)]);
  }

  /** True for the strings that end with `suffix`. */
  endswith(suffix: string): Bag<boolean> {
    return this.method('endswith', [str('endswith', 'suffix', suffix)]);
  }

  /** The strings that match an fnmatch-style pattern (`*Smith`, `file-??.txt`, `[!a-c]*`): a filter, as in dask. */
  match(pattern: string): Bag<string> {
    str('match', 'pattern', pattern);
    k.globToRegExp(pattern); // a pattern that cannot compile fails here, not on a thread
    return partitionwise<string>('str-match', this.bag, (i, key) => [k.strMatch, lit(pattern), i, key], [pattern]);
  }
}

/** The `str` namespace of a bag of strings. */
export function strings(bag: Bag<string>): StringAccessor {
  return new StringAccessor(bag);
}
