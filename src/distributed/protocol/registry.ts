/**
 * The serializer registry: one ordered list of serializers, each turning values of its type into
 * a header (plain data) and frames (bytes), and back.
 *
 * Built in, tried in this order after any registered serializer:
 * - `typed`: typed arrays, Buffer, Uint8Array, DataView; header `{ dtype }`, one frame (the bytes,
 *   not copied);
 * - `ndarray`: header `{ dtype, shape }`, one frame: the elements in C order (a view when the
 *   ndarray already is C-contiguous, a copy of the elements it sees otherwise);
 * - `error`: header `{ name, message }` (readable without decoding), frames as `msgpack`;
 * - `msgpack`: everything else the tree codec takes (plain objects and arrays, Map, Set, Date,
 *   bigint, nested typed arrays and errors); the body frame, then one frame per large byte view.
 *
 * Registered serializers (`registerSerializer`, e.g. Arrow tables later) are tried first, newest
 * first, for `serialize(value)` and for every non-plain object found anywhere in a message; in a
 * message their values travel as separate parts, which a receiver that does not decode
 * (`fromFrames(..., { deserialize: false })`, the scheduler) keeps opaque.
 */
import { decompressFrame } from './compression.js';
import { bytesOf, dtypeOf, itemSize, viewOf } from './dtypes.js';
import { ProtocolError, Serialize, Serialized } from './markers.js';
import { pack, unpack } from './msgpack.js';
import {
  contiguous,
  decodeTree,
  encodeCtx,
  encodeTreeRaw,
  isNdarray,
  located,
  Unsupported,
  type DecodeCtx,
  type EncodeCtx,
  type Hooks,
} from './tree.js';
import ndarray from 'ndarray';

export interface Serializer<T = any> {
  /** The name recorded in the header (`header.serializer`); the receiver looks it up by name. */
  readonly name: string;
  /** Whether this serializer takes `v`. */
  test(v: unknown): boolean;
  /** `v` as plain header data and frames. */
  serialize(v: T): { header: Record<string, unknown>; frames: Uint8Array[] };
  /** The value back from the header (as serialized, plus `serializer`) and the (decompressed) frames. */
  deserialize(header: Record<string, unknown>, frames: readonly Uint8Array[]): T;
  /** Optional: the size in bytes `nbytesOf` reports for `v`. */
  nbytes?(v: T): number;
}

/** Header keys the protocol itself uses; a serializer's header must not set them. */
export const RESERVED_HEADER_KEYS = ['serializer', 'compression', 'lengths'] as const;

const registered: Serializer[] = [];
const byName = new Map<string, Serializer>();
const builtinNames = new Set<string>();

/**
 * Adds a serializer (or replaces the one registered under the same name). Registered serializers
 * are tried before the built-in ones, the most recently registered first. Both sides of a
 * connection must register it under the same name.
 */
export function registerSerializer(s: Serializer): void {
  if (s === null || typeof s !== 'object') throw new TypeError('registerSerializer: expected { name, test, serialize, deserialize }');
  if (typeof s.name !== 'string' || s.name === '') throw new TypeError('registerSerializer: name must be a non-empty string');
  for (const f of ['test', 'serialize', 'deserialize'] as const) {
    if (typeof s[f] !== 'function') throw new TypeError(`registerSerializer('${s.name}'): ${f} must be a function`);
  }
  if (builtinNames.has(s.name)) throw new Error(`registerSerializer: '${s.name}' is a built-in serializer and cannot be replaced`);
  const at = registered.findIndex((r) => r.name === s.name);
  if (at >= 0) registered.splice(at, 1);
  registered.push(s);
  byName.set(s.name, s);
}

/** For tests: removes a registered serializer. */
export function unregisterSerializer(name: string): boolean {
  if (builtinNames.has(name)) return false;
  const at = registered.findIndex((r) => r.name === name);
  if (at < 0) return false;
  registered.splice(at, 1);
  byName.delete(name);
  return true;
}

/** The registered (non-builtin) serializer for `v`, if any. */
export function customSerializerFor(v: unknown): Serializer | undefined {
  for (let i = registered.length - 1; i >= 0; i--) {
    if (registered[i].test(v)) return registered[i];
  }
  return undefined;
}

function describe(v: unknown): string {
  if (typeof v !== 'object' || v === null) return `a ${typeof v}`;
  const name = (v.constructor as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object';
}

/** Runs a serializer and checks what it returns. */
function run(s: Serializer, v: unknown): Serialized {
  let out: { header: Record<string, unknown>; frames: Uint8Array[] };
  try {
    out = s.serialize(v);
  } catch (e) {
    if (e instanceof Unsupported) throw e;
    throw new Unsupported(`${describe(v)} (serializer '${s.name}' threw: ${(e as Error)?.message ?? String(e)})`, 'see the serializer');
  }
  const h = out?.header;
  if (h === null || typeof h !== 'object' || Array.isArray(h) || !Array.isArray(out.frames) || !out.frames.every((f) => f instanceof Uint8Array)) {
    throw new Unsupported(`${describe(v)} (serializer '${s.name}' returned no { header, frames })`, 'a serializer returns a header object and an array of Uint8Array frames');
  }
  for (const k of RESERVED_HEADER_KEYS) {
    if (Object.hasOwn(h, k)) {
      throw new Unsupported(`${describe(v)} (serializer '${s.name}' set the reserved header key '${k}')`, 'rename that header key');
    }
  }
  return new Serialized({ serializer: s.name, ...h }, out.frames);
}

const hooks: Hooks = {
  custom(x) {
    const s = customSerializerFor(x);
    return s === undefined ? undefined : run(s, x);
  },
  serialize(value, outer, depth) {
    return serializeRaw(value, outer, depth);
  },
};

/** The tree hooks the message codec uses (registered types, Serialize). */
export function treeHooks(): Hooks {
  return hooks;
}

/** serialize, with unsupported values left as Unsupported (their path still open). */
function serializeRaw(value: unknown, outer?: EncodeCtx, depth = 0): Serialized {
  if (value instanceof Serialized) return value;
  if (value instanceof Serialize) return serializeRaw(value.value, outer, depth);
  const custom = customSerializerFor(value);
  if (custom !== undefined) return run(custom, value);
  if (typeof value === 'object' && value !== null) {
    if (ArrayBuffer.isView(value) && dtypeOf(value) !== undefined) return run(typed, value);
    if (isNdarray(value)) return run(ndarraySerializer, value);
    if (errorSerializer.test(value)) return packTree(value, 'error', outer, depth, { name: String((value as Error).name), message: String((value as Error).message) });
  }
  return packTree(value, 'msgpack', outer, depth, {});
}

/** The msgpack serializer's work: body frame + data frames; nested Serialized travel inline. */
function packTree(value: unknown, name: string, outer: EncodeCtx | undefined, depth: number, extra: Record<string, unknown>): Serialized {
  const frames: Uint8Array[] = [];
  const ctx = encodeCtx(frames, null, hooks, outer?.ancestors ?? []);
  const tree = encodeTreeRaw(value, ctx, depth);
  frames.unshift(pack(tree));
  return new Serialized({ serializer: name, ...extra, tagged: ctx.tagged }, frames);
}

/** A value to header + frames, through the registry. A TypeError names what cannot travel and where. */
export function serialize(value: unknown): Serialized {
  try {
    return serializeRaw(value);
  } catch (e) {
    throw located(e, 'value');
  }
}

/** Frames of a Serialized as they were serialized (lz4 frames decompressed, lengths checked). */
export function plainFrames(s: Serialized): readonly Uint8Array[] {
  const { compression, lengths } = s.header;
  if (compression === undefined && lengths === undefined) return s.frames;
  if (!Array.isArray(compression) || !Array.isArray(lengths) || compression.length !== s.frames.length || lengths.length !== s.frames.length) {
    throw new ProtocolError('malformed serialized value: its compression and lengths do not match its frames');
  }
  return s.frames.map((f, i) => {
    const c = compression[i];
    const n = lengths[i];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ProtocolError(`malformed serialized value: frame ${i} has length ${String(n)}`);
    if (c === null || c === undefined) {
      if (f.byteLength !== n) throw new ProtocolError(`malformed serialized value: frame ${i} has ${f.byteLength} bytes, its header says ${n}`);
      return f;
    }
    if (c !== 'lz4') throw new ProtocolError(`malformed serialized value: unknown compression ${JSON.stringify(c)}`);
    try {
      return decompressFrame(f, n);
    } catch (e) {
      throw e instanceof ProtocolError ? e : new ProtocolError(`malformed serialized value: frame ${i}: ${(e as Error).message}`);
    }
  });
}

/** A Serialized back to its value, by the serializer its header names. */
export function deserialize(s: Serialized): unknown {
  if (!(s instanceof Serialized)) throw new TypeError('deserialize expects a Serialized');
  const name = s.header.serializer;
  if (typeof name !== 'string') throw new ProtocolError('malformed serialized value: its header names no serializer');
  const ser = byName.get(name);
  if (ser === undefined) {
    throw new Error(`no serializer named '${name}' is registered here; register it with registerSerializer() on this side too`);
  }
  return ser.deserialize(s.header, plainFrames(s));
}

// ---------------------------------------------------------------------------------------------
// Built-in serializers

function oneFrame(frames: readonly Uint8Array[], what: string): Uint8Array {
  if (frames.length !== 1) throw new ProtocolError(`malformed ${what}: ${frames.length} frames, expected 1`);
  return frames[0];
}

function asProtocol<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError(`malformed ${what}: ${(e as Error).message}`);
  }
}

const typed: Serializer<ArrayBufferView> = {
  name: 'typed',
  test: (v) => ArrayBuffer.isView(v) && dtypeOf(v) !== undefined,
  serialize: (v) => ({ header: { dtype: dtypeOf(v)! }, frames: [bytesOf(v)] }),
  deserialize: (h, frames) => asProtocol('typed array', () => viewOf(h.dtype as string, oneFrame(frames, 'typed array'))),
  nbytes: (v) => v.byteLength,
};

const ndarraySerializer: Serializer<ndarray.NdArray> = {
  name: 'ndarray',
  test: (v) => typeof v === 'object' && v !== null && isNdarray(v),
  serialize(v) {
    const data = contiguous(v);
    const shape = v.shape.slice();
    if (Array.isArray(data)) return { header: { dtype: 'array', shape }, frames: [pack(data)] };
    const dtype = dtypeOf(data);
    if (dtype === undefined || dtype === 'buffer' || dtype === 'dataview') throw new Unsupported(`an ndarray over a ${data.constructor.name}`, 'use an ndarray over a supported typed array');
    return { header: { dtype, shape }, frames: [bytesOf(data)] };
  },
  deserialize(h, frames) {
    const shape = h.shape;
    if (!Array.isArray(shape) || !shape.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) {
      throw new ProtocolError('malformed ndarray: no valid shape');
    }
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    const frame = oneFrame(frames, 'ndarray');
    if (h.dtype === 'array') {
      const data = unpack(frame, 'ndarray data');
      if (!Array.isArray(data) || data.length !== size) throw new ProtocolError('malformed ndarray: data does not match its shape');
      return ndarray(data as number[], shape as number[]);
    }
    const dtype = h.dtype as string;
    if (frame.byteLength !== size * itemSize(dtype)) throw new ProtocolError(`malformed ndarray: ${frame.byteLength} bytes for shape [${shape.join(', ')}]`);
    const data = asProtocol('ndarray', () => viewOf(dtype, frame));
    if (dtype === 'buffer' || dtype === 'dataview') throw new ProtocolError(`malformed ndarray: dtype ${dtype}`);
    return ndarray(data as unknown as ndarray.Data<number>, shape as number[]);
  },
  nbytes: (v) => v.size * ((v.data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 8),
};

function unpackTree(h: Record<string, unknown>, frames: readonly Uint8Array[], what: string): unknown {
  if (frames.length < 1) throw new ProtocolError(`malformed ${what}: no body frame`);
  const tree = unpack(frames[0], `${what} body`);
  if (h.tagged !== true) return tree;
  const ctx: DecodeCtx = {
    frame(i) {
      if (!Number.isSafeInteger(i) || i < 0 || i + 1 >= frames.length) throw new ProtocolError(`malformed ${what}: no data frame ${i}`);
      return frames[i + 1];
    },
    part() {
      throw new ProtocolError(`malformed ${what}: a serialized value refers to a message part`);
    },
    inline: (s) => deserialize(s),
  };
  return decodeTree(tree, ctx);
}

const errorSerializer: Serializer<Error> = {
  name: 'error',
  test: (v) => v instanceof Error || (typeof v === 'object' && v !== null && Object.prototype.toString.call(v) === '[object Error]'),
  serialize(v) {
    const s = packTree(v, 'error', undefined, 0, {});
    const { serializer: _, ...header } = s.header;
    return { header: { ...header, name: String(v.name), message: String(v.message) }, frames: s.frames.slice() };
  },
  deserialize: (h, frames) => unpackTree(h, frames, 'error') as Error,
};

const msgpackSerializer: Serializer = {
  name: 'msgpack',
  test: () => true,
  serialize(v) {
    const s = packTree(v, 'msgpack', undefined, 0, {});
    const { serializer: _, ...header } = s.header;
    return { header, frames: s.frames.slice() };
  },
  deserialize: (h, frames) => unpackTree(h, frames, 'msgpack value'),
};

for (const s of [typed, ndarraySerializer, errorSerializer, msgpackSerializer] as Serializer[]) {
  byName.set(s.name, s);
  builtinNames.add(s.name);
}

/** The serializers in the order `serialize` tries them (registered ones first). */
export function serializers(): readonly Serializer[] {
  return [...registered.slice().reverse(), typed, ndarraySerializer, errorSerializer, msgpackSerializer];
}
