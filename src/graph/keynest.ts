/** Nested keys: `get` answers with the same nesting as the keys it was asked for. */
import type { Key, KeyNest } from './spec.js';

/** All keys of a nest, depth first, in order. */
export function flattenKeys(keys: KeyNest, out: Key[] = []): Key[] {
  if (typeof keys === 'string') out.push(keys);
  else if (Array.isArray(keys)) for (const k of keys) flattenKeys(k, out);
  else throw new TypeError(`keys must be a key (string) or arrays of keys; got ${typeof keys} ${String(keys)}`);
  return out;
}

/** The values of a nest of keys, with the nest's shape. */
export function packResults(keys: KeyNest, lookup: (key: Key) => unknown): unknown {
  if (typeof keys === 'string') return lookup(keys);
  return (keys as readonly KeyNest[]).map((k) => packResults(k, lookup));
}
