/**
 * Task keys of submitted calls, as the manual's Executor chapter names them: `${fn.name}-${token}`,
 * and the argument lists and keys of map.
 * Pure calls (the default) are named by `tokenize(fn, args)`, so the same call gets the same key
 * on any machine and the cluster computes it once; impure calls get a random uuid.
 */
import { randomUUID } from 'node:crypto';
import { describe as describeValue } from '../../graph/normalize.js';
import { tokenize } from '../../graph/tokenize.js';
import type { ResolvedCallOptions } from './options.js';

/** The name part of a key: the function's name, or 'lambda' for an anonymous function. */
export function funcName(fn: Function): string {
  const name = typeof fn.name === 'string' ? fn.name.replace(/^bound /, '') : '';
  return name === '' ? 'lambda' : name;
}

/** `${name}-${tokenize(fn, args)}` when pure, `${name}-${uuid}` when not. */
export function callKey(fn: Function, args: readonly unknown[], pure: boolean, prefix = funcName(fn)): string {
  return `${prefix}-${pure ? tokenize(fn, args) : randomUUID()}`;
}

/** The key of a scattered value: `${type}-${tokenize(value)}` (equal data, equal key), or `${type}-${id}`. */
export function dataKey(value: unknown, id?: string): string {
  return `${typeName(value)}-${id ?? tokenize(value)}`;
}

function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  const name = (Object.getPrototypeOf(x) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name !== '' ? name.toLowerCase() : 'object';
}

/** The argument lists of map: the zip of the iterables, as long as the shortest. */
export function zip(iterables: readonly unknown[]): unknown[][] {
  const its = iterables.map((it, i) => {
    if (it === null || it === undefined || typeof (it as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`map: argument ${i + 2} is not iterable (got ${describeValue(it)})`);
    }
    return (it as Iterable<unknown>)[Symbol.iterator]();
  });
  const calls: unknown[][] = [];
  for (;;) {
    const args: unknown[] = [];
    for (const it of its) {
      const r = it.next();
      if (r.done) {
        for (const other of its) if (other !== it) other.return?.();
        return calls;
      }
      args.push(r.value);
    }
    calls.push(args);
  }
}

/** The key of map's i-th call: from a list of keys, a prefix, or the call's token. */
export function mapKeys(o: ResolvedCallOptions, fn: Function, calls: readonly unknown[][]): (i: number) => string {
  const key = o.key;
  if (Array.isArray(key)) {
    if (key.length !== calls.length) throw new TypeError(`map: ${key.length} keys given for ${calls.length} calls`);
    return (i) => key[i];
  }
  if (typeof key === 'string') return (i) => callKey(fn, calls[i], o.pure, key);
  return (i) => callKey(fn, calls[i], o.pure);
}

