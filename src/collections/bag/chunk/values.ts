/**
 * Value semantics for bag elements, shared by the kernels: equality of values (so that `distinct`,
 * `frequencies`, `groupby`, `foldby` and `join` treat `[1, 2]` and a copy of it that crossed a
 * thread as one key, as Python's tuples are), a hash that is the same on every thread and process
 * (to send a group to the same partition), Python-like ordering (arrays compare element by
 * element, as tuples do), and the "function or property name" key specs of dask's `key=` arguments.
 */

/** A key argument: a function of the element, or the name (or index) of a property to read. */
export type KeySpec<T = any> = ((x: T) => unknown) | string | number;

/** The key of `x` under `spec`. */
export function keyOf(spec: KeySpec, x: unknown): unknown {
  if (typeof spec === 'function') return spec(x);
  return x == null ? undefined : (x as Record<string | number, unknown>)[spec];
}

/**
 * Primitive values are their own identity (SameValueZero: NaN equals NaN, 0 equals -0); other
 * values are compared by their canonical encoding, so equal structures are one key.
 */
function isPrimitive(x: unknown): boolean {
  return x === null || (typeof x !== 'object' && typeof x !== 'function');
}

/** A map from values to V with value equality, in first-insertion order. */
export class ValueMap<V> {
  readonly keys: unknown[] = [];
  readonly values: V[] = [];
  private readonly prim = new Map<unknown, number>();
  private obj: Map<string, number> | undefined;

  get size(): number {
    return this.keys.length;
  }

  /** The index of `k` in insertion order, or -1. */
  indexOf(k: unknown): number {
    if (isPrimitive(k)) return this.prim.get(k) ?? -1;
    return this.obj?.get(canonical(k)) ?? -1;
  }

  /** Adds `k` with `v` if it is new; returns its index. */
  add(k: unknown, v: V): number {
    let map: Map<unknown, number>;
    let id: unknown;
    if (isPrimitive(k)) {
      map = this.prim;
      id = k;
    } else {
      map = this.obj ??= new Map<string, number>();
      id = canonical(k);
    }
    const j = map.get(id);
    if (j !== undefined) return j;
    const n = this.keys.push(k) - 1;
    this.values.push(v);
    map.set(id, n);
    return n;
  }

  /** `[key, value]` pairs in insertion order. */
  entries(): [unknown, V][] {
    const out = new Array<[unknown, V]>(this.keys.length);
    for (let j = 0; j < out.length; j++) out[j] = [this.keys[j], this.values[j]];
    return out;
  }
}

/** A set of values with value equality. */
export class ValueSet {
  private readonly prim = new Set<unknown>();
  private obj: Set<string> | undefined;

  /** Adds `x`; true when it was not there yet. */
  add(x: unknown): boolean {
    if (isPrimitive(x)) {
      if (this.prim.has(x)) return false;
      this.prim.add(x);
      return true;
    }
    const c = canonical(x);
    this.obj ??= new Set<string>();
    if (this.obj.has(c)) return false;
    this.obj.add(c);
    return true;
  }
}

/**
 * One string per value, equal for equal structures: a type tag, then the content; strings are
 * length-prefixed and containers closed, so concatenations never collide. Object keys, Map entries
 * and Set items are sorted, so insertion order does not matter.
 */
export function canonical(x: unknown): string {
  switch (typeof x) {
    case 'string':
      return 's' + x.length + ':' + x;
    case 'number':
      return 'n' + (x === 0 ? '0' : String(x)) + ';';
    case 'boolean':
      return x ? 'T' : 'F';
    case 'undefined':
      return 'u';
    case 'bigint':
      return 'b' + x + ';';
    case 'symbol':
      return 'y' + canonical(x.description ?? '');
    case 'function':
      return 'f' + canonical(x.name) + canonical(x.toString());
    default:
      return object(x as object | null);
  }
}

function object(x: object | null): string {
  if (x === null) return 'N';
  if (Array.isArray(x)) {
    let s = '[';
    for (const v of x) s += canonical(v);
    return s + ']';
  }
  if (x instanceof Date) return 'D' + x.getTime() + ';';
  if (x instanceof Map) return 'M{' + [...x].map(([k, v]) => canonical(k) + canonical(v)).sort().join('') + '}';
  if (x instanceof Set) return 'S{' + [...x].map(canonical).sort().join('') + '}';
  if (ArrayBuffer.isView(x)) {
    const items = x instanceof DataView ? [] : Array.from(x as unknown as ArrayLike<number | bigint>);
    return 'A' + x.constructor.name + '[' + items.map(canonical).join('') + ']';
  }
  const keys = Object.keys(x).sort();
  let s = '{';
  for (const k of keys) s += canonical(k) + canonical((x as Record<string, unknown>)[k]);
  return s + '}';
}

/** A 32-bit hash of a value, equal for equal values in every thread and process (FNV-1a). */
export function hashValue(x: unknown): number {
  const s = canonical(x);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Python-like ordering: arrays compare element by element (shorter first on a tie), as tuples do;
 * other values by `<` and `>` (numbers, strings, bigints, Dates). Incomparable values are equal.
 */
export function compareValues(a: unknown, b: unknown): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if ((a as number) < (b as number)) return -1;
  if ((a as number) > (b as number)) return 1;
  return 0;
}
