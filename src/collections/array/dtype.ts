/**
 * Element types of chunked arrays and numpy's promotion rules among them.
 *
 * Supported: float64, float32, int32, int16, int8, uint32, uint16, uint8, bool (stored as one
 * byte per element, 0 or 1). Promotion follows numpy's table for array-with-array operations; a
 * JavaScript number scalar acts like numpy's Python scalars: an integer scalar keeps the array's
 * type, a fractional scalar turns integer arrays into float64.
 */
import { sharedBuffer } from '../../schedulers/shared-memory.js';

export type DType = 'float64' | 'float32' | 'int32' | 'int16' | 'int8' | 'uint32' | 'uint16' | 'uint8' | 'bool';

export type TypedArray = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array;

type Ctor = new (buffer: ArrayBufferLike, byteOffset?: number, length?: number) => TypedArray;

export const DTYPES: readonly DType[] = ['float64', 'float32', 'int32', 'int16', 'int8', 'uint32', 'uint16', 'uint8', 'bool'];

const CTORS: Record<DType, Ctor & { BYTES_PER_ELEMENT: number }> = {
  float64: Float64Array,
  float32: Float32Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint32: Uint32Array,
  uint16: Uint16Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

export function assertDType(x: unknown, where: string): DType {
  if (!isDType(x)) throw new TypeError(`${where}: unknown dtype '${String(x)}'; supported dtypes are ${DTYPES.join(', ')}`);
  return x;
}

export function itemsize(dtype: DType): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

/**
 * A zeroed typed array of `n` elements in shared memory, so pool threads read it without a copy
 * (sharedBuffer also makes dropped blocks get collected: see schedulers/shared-memory.ts).
 */
export function alloc(dtype: DType, n: number): TypedArray {
  const C = CTORS[dtype];
  return new C(sharedBuffer(n * C.BYTES_PER_ELEMENT), 0, n);
}

/** A zeroed typed array in ordinary memory: scratch that never leaves the task that made it. */
export function allocLocal(dtype: DType, n: number): TypedArray {
  return new CTORS[dtype](new ArrayBuffer(n * CTORS[dtype].BYTES_PER_ELEMENT), 0, n);
}

/** The dtype of a typed array (Uint8Array reads as uint8; bool arrays are tracked by the collection). */
export function dtypeOf(a: ArrayBufferView): DType {
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return 'uint8';
  throw new TypeError(`unsupported typed array ${a.constructor.name}; use one of ${DTYPES.join(', ')}`);
}

const KIND: Record<DType, 'b' | 'u' | 'i' | 'f'> = {
  bool: 'b', uint8: 'u', uint16: 'u', uint32: 'u', int8: 'i', int16: 'i', int32: 'i', float32: 'f', float64: 'f',
};
const BITS: Record<DType, number> = {
  bool: 1, uint8: 8, uint16: 16, uint32: 32, int8: 8, int16: 16, int32: 32, float32: 32, float64: 64,
};

export function isFloat(d: DType): boolean {
  return KIND[d] === 'f';
}

export function isInteger(d: DType): boolean {
  return KIND[d] === 'u' || KIND[d] === 'i';
}

/** numpy's result type of an operation on two arrays. */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  const ka = KIND[a];
  const kb = KIND[b];
  if (ka === 'b') return b;
  if (kb === 'b') return a;
  if (ka === 'f' || kb === 'f') {
    if (ka === 'f' && kb === 'f') return BITS[a] >= BITS[b] ? a : b;
    const [f, other] = ka === 'f' ? [a, b] : [b, a];
    // float32 holds int8/int16/uint8/uint16 exactly; wider integers need float64.
    return f === 'float32' && BITS[other] <= 16 ? 'float32' : 'float64';
  }
  if (ka === kb) return BITS[a] >= BITS[b] ? a : b;
  const [u, i] = ka === 'u' ? [a, b] : [b, a];
  // A signed type that holds every value of the unsigned one, else the next wider signed type.
  if (BITS[i] > BITS[u]) return i;
  if (BITS[u] === 8) return 'int16';
  if (BITS[u] === 16) return 'int32';
  return 'float64'; // uint32 with a signed type: numpy gives int64, which we do not have.
}

/** The result type of an operation between an array and a JavaScript number or boolean. */
export function promoteScalar(a: DType, scalar: number | boolean): DType {
  if (typeof scalar === 'boolean') return a;
  if (a === 'bool') return Number.isInteger(scalar) ? 'int32' : 'float64';
  if (isInteger(a) && !Number.isInteger(scalar)) return 'float64';
  return a;
}

/** The type a division or a transcendental function gives (numpy's "true divide"). */
export function floatResult(a: DType): DType {
  if (a === 'float32' || a === 'float64') return a;
  return BITS[a] <= 16 && a !== 'bool' ? 'float32' : 'float64';
}
