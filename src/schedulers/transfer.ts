/**
 * Values crossing between the main thread and pool threads.
 *
 * postMessage clones what it sends. For chunk data that would be a copy per task, so typed arrays
 * travel over SharedArrayBuffer instead: a typed array on an ordinary buffer is copied into shared
 * memory once (and remembered, so a value used by many tasks is copied once), after which every
 * thread sees the same bytes with no further copy. Objects whose prototype matters (ndarray views)
 * travel as tagged plain objects and are rebuilt on arrival. `encode` reports whether it tagged
 * anything, so `decode` walks only values that need it.
 */
import ndarray from 'ndarray';
import { countShared, sharedBuffer } from './shared-memory.js';

const TAG = '\u0000dask-ts';
const sharedCopies = new WeakMap<ArrayBufferView, ArrayBufferView>();

export interface Encoded {
  readonly value: unknown;
  readonly tagged: boolean;
}

/** The shared-memory twin of a typed array (the array itself if it is already shared). */
export function toShared<T extends ArrayBufferView>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  let s = sharedCopies.get(a) as T | undefined;
  if (s === undefined) {
    const Ctor = a.constructor as new (b: SharedArrayBuffer, o?: number, n?: number) => T;
    const buf = sharedBuffer(a.byteLength);
    new Uint8Array(buf).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    const per = (a as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    s = a instanceof DataView ? (new DataView(buf) as unknown as T) : new Ctor(buf, 0, a.byteLength / per);
    sharedCopies.set(a, s);
  }
  return s;
}

function isNdarray(x: object): x is ndarray.NdArray {
  const o = x as Record<string, unknown>;
  return typeof o.pick === 'function' && Array.isArray(o.shape) && Array.isArray(o.stride) && ArrayBuffer.isView(o.data);
}

function isPlain(x: object): boolean {
  const p = Object.getPrototypeOf(x);
  return p === Object.prototype || p === null;
}

/** Prepares a value for postMessage: shared typed arrays, tagged ndarrays. */
export function encode(value: unknown): Encoded {
  const state = { tagged: false, seen: new Map<object, unknown>() };
  return { value: enc(value, state), tagged: state.tagged };
}

function enc(x: unknown, st: { tagged: boolean; seen: Map<object, unknown> }): unknown {
  if (typeof x !== 'object' || x === null) return x;
  if (ArrayBuffer.isView(x)) return toShared(x);
  // A value met twice gets the same encoding; a cycle meets the original and stops there.
  if (st.seen.has(x)) return st.seen.get(x);
  st.seen.set(x, x);
  const y = encObject(x, st);
  st.seen.set(x, y);
  return y;
}

function encObject(x: object, st: { tagged: boolean; seen: Map<object, unknown> }): unknown {
  if (Array.isArray(x)) return mapArray(x, (y) => enc(y, st));
  if (isNdarray(x)) {
    st.tagged = true;
    return { [TAG]: 'ndarray', data: toShared(x.data as ArrayBufferView), shape: x.shape, stride: x.stride, offset: x.offset };
  }
  if (isPlain(x)) return mapObject(x as Record<string, unknown>, (y) => enc(y, st));
  return x;
}

/** Rebuilds what `encode` tagged. */
export function decode(value: unknown, tagged: boolean): unknown {
  return tagged ? dec(value) : value;
}

function dec(x: unknown): unknown {
  if (typeof x !== 'object' || x === null || ArrayBuffer.isView(x)) return x;
  if (Array.isArray(x)) return mapArray(x, dec);
  const o = x as Record<string, unknown>;
  if (o[TAG] === 'ndarray') {
    countShared((o.data as ArrayBufferView).byteLength);
    return ndarray(o.data as ndarray.Data<number>, o.shape as number[], o.stride as number[], o.offset as number);
  }
  return isPlain(x) ? mapObject(o, dec) : x;
}

/** `xs.map(f)`, but the same array when nothing changed (no copy of big arrays of primitives). */
function mapArray(xs: unknown[], f: (x: unknown) => unknown): unknown[] {
  let out: unknown[] | undefined;
  for (let j = 0; j < xs.length; j++) {
    const x = xs[j];
    if (typeof x !== 'object' || x === null) continue;
    const y = f(x);
    if (y !== x) {
      out ??= xs.slice();
      out[j] = y;
    }
  }
  return out ?? xs;
}

function mapObject(o: Record<string, unknown>, f: (x: unknown) => unknown): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const k in o) {
    const x = o[k];
    if (typeof x !== 'object' || x === null) continue;
    const y = f(x);
    if (y !== x) {
      out ??= { ...o };
      out[k] = y;
    }
  }
  return out ?? o;
}
