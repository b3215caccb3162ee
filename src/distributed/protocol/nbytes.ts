/**
 * `nbytesOf`: the size in bytes a worker reports for a value it holds (dask's `sizeof`). Exact for
 * byte views; for strings their length; for containers a cheap estimate: a fixed overhead plus
 * the sizes of up to 16 evenly spaced entries, scaled to the whole, within a budget of visited
 * values so a huge or deeply nested value costs microseconds, not a walk of everything.
 */
import { Serialize, Serialized } from './markers.js';
import { customSerializerFor } from './registry.js';
import { isNdarray } from './tree.js';

const OBJECT_OVERHEAD = 64;
const SAMPLE = 16;
const BUDGET = 2000;
const MAX_DEPTH = 64;

interface Budget {
  left: number;
  depth: number;
}

export function nbytesOf(value: unknown): number {
  return Math.round(size(value, { left: BUDGET, depth: 0 }));
}

function size(v: unknown, b: Budget): number {
  switch (typeof v) {
    case 'string':
      return v.length;
    case 'number':
      return 8;
    case 'boolean':
      return 4;
    case 'bigint':
      return 8 + Math.ceil(v.toString(16).length / 2);
    case 'object':
      if (v === null) return 0;
      if (b.depth >= MAX_DEPTH) return OBJECT_OVERHEAD;
      b.depth++;
      try {
        return objectSize(v, b);
      } finally {
        b.depth--;
      }
    default:
      return 0;
  }
}

/** Sum of `f` over up to SAMPLE evenly spaced indices of `n`, scaled to all `n`. */
function sampled(n: number, b: Budget, f: (i: number) => number): number {
  if (n === 0) return 0;
  if (b.left <= 0) return n * 8;
  const k = Math.min(n, SAMPLE);
  b.left -= k;
  let sum = 0;
  for (let j = 0; j < k; j++) sum += f(Math.floor((j * n) / k));
  return (sum * n) / k;
}

function objectSize(o: object, b: Budget): number {
  if (ArrayBuffer.isView(o)) return o.byteLength;
  if (o instanceof ArrayBuffer || o instanceof SharedArrayBuffer) return o.byteLength;
  if (o instanceof Serialized) return o.frames.reduce((s, f) => s + f.byteLength, 0);
  if (o instanceof Serialize) return size(o.value, b);
  if (Array.isArray(o)) return OBJECT_OVERHEAD + sampled(o.length, b, (i) => 8 + size(o[i], b));
  const proto = Object.getPrototypeOf(o);
  if (proto === Object.prototype || proto === null) {
    const keys = Object.keys(o);
    return OBJECT_OVERHEAD + sampled(keys.length, b, (i) => keys[i].length + 8 + size((o as Record<string, unknown>)[keys[i]], b));
  }
  const custom = customSerializerFor(o);
  if (custom?.nbytes) return custom.nbytes(o);
  if (isNdarray(o)) {
    const per = (o.data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 8;
    return o.size * per;
  }
  if (o instanceof Map) {
    const entries = b.left > 0 ? [...o.entries()] : [];
    if (entries.length === 0) return OBJECT_OVERHEAD + o.size * 16;
    return OBJECT_OVERHEAD + sampled(entries.length, b, (i) => 16 + size(entries[i][0], b) + size(entries[i][1], b));
  }
  if (o instanceof Set) {
    const items = b.left > 0 ? [...o] : [];
    if (items.length === 0) return OBJECT_OVERHEAD + o.size * 8;
    return OBJECT_OVERHEAD + sampled(items.length, b, (i) => 8 + size(items[i], b));
  }
  if (o instanceof Date) return 8;
  if (o instanceof Error) return OBJECT_OVERHEAD + o.message.length + (o.stack?.length ?? 0);
  const byteLength = (o as { byteLength?: unknown }).byteLength;
  if (typeof byteLength === 'number' && Number.isFinite(byteLength) && byteLength >= 0) return byteLength;
  return OBJECT_OVERHEAD;
}
