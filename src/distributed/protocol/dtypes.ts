/** Typed-array element types on the wire, and views over received bytes. */

export type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

type TypedCtor = {
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TypedArray;
  new (length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

/** dtype name -> constructor. `buffer` (Node's Buffer) and `dataview` are byte views too. */
export const DTYPES: Readonly<Record<string, TypedCtor>> = {
  int8: Int8Array,
  uint8: Uint8Array,
  uint8c: Uint8ClampedArray,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
};

const BY_CTOR = new Map<Function, string>(Object.entries(DTYPES).map(([k, v]) => [v, k]));

/** The dtype of a byte view, or undefined for views of an unknown kind (e.g. Float16Array). */
export function dtypeOf(v: ArrayBufferView): string | undefined {
  if (Buffer.isBuffer(v)) return 'buffer';
  if (v instanceof DataView) return 'dataview';
  return BY_CTOR.get(v.constructor) ?? BY_CTOR.get(Object.getPrototypeOf(Object.getPrototypeOf(v))?.constructor);
}

export function itemSize(dtype: string): number {
  return DTYPES[dtype]?.BYTES_PER_ELEMENT ?? 1;
}

export function isDtype(d: unknown): d is string {
  return typeof d === 'string' && (Object.hasOwn(DTYPES, d) || d === 'buffer' || d === 'dataview');
}

/** The bytes of a view, as a Uint8Array over the same memory (no copy). */
export function bytesOf(v: ArrayBufferView): Uint8Array {
  return v instanceof Uint8Array && v.constructor === Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * A view of `dtype` over `bytes`: the same memory when the offset is aligned for the element
 * size, otherwise a copy. Throws when the length is not a whole number of elements.
 */
export function viewOf(dtype: string, bytes: Uint8Array): ArrayBufferView {
  if (dtype === 'buffer') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'dataview') return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const Ctor = DTYPES[dtype];
  if (Ctor === undefined || !Object.hasOwn(DTYPES, dtype)) throw new Error(`unknown dtype '${String(dtype)}'`);
  const size = Ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0) {
    throw new Error(`${bytes.byteLength} bytes are not a whole number of ${dtype} elements`);
  }
  if (bytes.byteOffset % size === 0) return new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / size);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Ctor(copy.buffer, 0, bytes.byteLength / size);
}
