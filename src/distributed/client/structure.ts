/**
 * Futures inside nested arrays and plain objects: collecting them, and rebuilding the structure
 * with their values (gather, cancel, wait). Other containers (Maps, Sets, class instances) are
 * values, as they are for run specs.
 */
import { isGraphLike } from '../../graph/spec.js';
import { Future } from './future.js';

const MAX_DEPTH = 256;

/** Every Future in `x` (arrays and plain objects walked), in depth-first order, duplicates kept. */
export function collectFutures(x: unknown, out: Future[] = []): Future[] {
  walk(x, out, new Set(), 0);
  return out;
}

function walk(x: unknown, out: Future[], ancestors: Set<object>, depth: number): void {
  if (x instanceof Future) {
    out.push(x);
    return;
  }
  if (!isContainer(x) || ancestors.has(x) || depth >= MAX_DEPTH) return;
  ancestors.add(x);
  for (const v of Array.isArray(x) ? x : Object.values(x)) walk(v, out, ancestors, depth + 1);
  ancestors.delete(x);
}

/** `x` with each Future replaced by `valueOf(future)`; arrays and plain objects are new copies. */
export function replaceFutures(x: unknown, valueOf: (f: Future) => unknown): unknown {
  return rebuild(x, valueOf, new Set(), 0);
}

function rebuild(x: unknown, valueOf: (f: Future) => unknown, ancestors: Set<object>, depth: number): unknown {
  if (x instanceof Future) return valueOf(x);
  if (!isContainer(x) || ancestors.has(x) || depth >= MAX_DEPTH) return x;
  ancestors.add(x);
  try {
    if (Array.isArray(x)) return x.map((v) => rebuild(v, valueOf, ancestors, depth + 1));
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(x)) out[k] = rebuild((x as Record<string, unknown>)[k], valueOf, ancestors, depth + 1);
    return out;
  } finally {
    ancestors.delete(x);
  }
}

function isContainer(x: unknown): x is object {
  return Array.isArray(x) || isGraphLike(x);
}
