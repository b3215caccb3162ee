/**
 * The tree codec: a message to a plain tree that msgpack can say, and back.
 *
 * msgpack covers null, booleans, numbers, strings, arrays, string-keyed maps and bytes. Everything
 * else is *explicitly tagged*: replaced by a small map whose key TAG names the kind, e.g.
 * `{ '\0': 't', d: 'float64', f: 0 }` for a typed array whose bytes travel as data frame 0, or
 * `{ '\0': 'map', v: [k0, v0, k1, v1] }`. We tag explicitly rather than register msgpackr
 * extension types because msgpackr's extensions are global to the process (another library using
 * msgpackr would share them), and because the walk that tags is also the one that finds large
 * bytes, cycles, and values that cannot travel, naming where they are (`msg.args[2]`).
 *
 * Large bytes (>= 1 KiB) never enter the msgpack body: the tag refers to a data frame, which is a
 * view over the sender's memory; on arrival the typed array is a view over the received frame.
 * Serialize / Serialized / values of a registered serializer become *parts*: the tag refers to a
 * part (its own header and frames), which the receiver deserializes or keeps opaque; a small one
 * (one frame under 1 KiB, a flat header) travels inside the body instead (inlinePart).
 *
 * The walk copies only what it changes: a message with no tagged value is packed as it is, and the
 * receiver walks the decoded tree only when the sender says something was tagged.
 */
import ndarray from 'ndarray';
import { bytesOf, dtypeOf, DTYPES, isDtype, itemSize, viewOf, type TypedArray } from './dtypes.js';
import { ProtocolError, Serialize, Serialized } from './markers.js';

export const TAG = '\u0000';
/** Byte views shorter than this are inlined in the msgpack body; longer ones get their own frame. */
export const INLINE_MAX_BYTES = 1024;
/** Deeper nesting than this is refused (and would overflow msgpack's recursion anyway). */
export const MAX_DEPTH = 512;

export interface Hooks {
  /** A registered (non-builtin) serializer's result for `x`, or undefined when none claims it. */
  custom(x: object): Serialized | undefined;
  /**
   * `Serialize(value)` to its parts: the registry's `serialize`. Throws Unsupported (path-less).
   * `outer` and `depth` let the inner walk see the outer walk's ancestors (cycles through Serialize).
   */
  serialize(value: unknown, outer: EncodeCtx, depth: number): Serialized;
}

export interface EncodeCtx {
  /** Part index of each Serialize / Serialized already met (a part referenced twice travels once). */
  partIndex?: Map<object, number>;
  /** Data frames of this part; null: everything inline (headers). */
  readonly frames: Uint8Array[] | null;
  /** Message parts (Serialize, Serialized, registered types); null: Serialized values go inline. */
  readonly parts: Serialized[] | null;
  tagged: boolean;
  readonly ancestors: object[];
  readonly hooks: Hooks | null;
}

export function encodeCtx(
  frames: Uint8Array[] | null,
  parts: Serialized[] | null,
  hooks: Hooks | null,
  ancestors: object[] = [],
): EncodeCtx {
  return { frames, parts, tagged: false, ancestors, hooks };
}

/** Raised inside the walk; the path is collected on the way out. */
export class Unsupported extends Error {
  readonly segments: string[] = [];
  constructor(
    readonly what: string,
    readonly hint: string,
  ) {
    super(what);
  }
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

function keySeg(k: string): string {
  return IDENT.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
}

function rethrow(e: unknown, seg: string): never {
  if (e instanceof Unsupported) e.segments.push(seg);
  throw e;
}

const NEG_ZERO = Object.freeze({ [TAG]: 'nz' });

/**
 * `value` as a msgpack-able tree. Throws a TypeError naming the value and its path from `root`
 * (`msg.args[2]`) when something cannot travel.
 */
export function encodeTree(value: unknown, ctx: EncodeCtx, root: string): unknown {
  try {
    return enc(value, ctx, 0);
  } catch (e) {
    throw located(e, root);
  }
}

/** Like encodeTree, but an unsupported value propagates as Unsupported (its path still open). */
export function encodeTreeRaw(value: unknown, ctx: EncodeCtx, depth = 0): unknown {
  return enc(value, ctx, depth);
}

/** An Unsupported as the TypeError users see, its path starting at `root`; other errors as they are. */
export function located(e: unknown, root: string): unknown {
  if (!(e instanceof Unsupported)) return e;
  const path = root + e.segments.slice().reverse().join('');
  return new TypeError(`cannot serialize ${e.what} at ${path}: ${e.hint}`);
}

function enc(x: unknown, ctx: EncodeCtx, depth: number): unknown {
  switch (typeof x) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return x;
    case 'number':
      if (x === 0 && 1 / x < 0) {
        ctx.tagged = true;
        return NEG_ZERO;
      }
      return x;
    case 'bigint':
      ctx.tagged = true;
      return { [TAG]: 'big', v: x.toString() };
    case 'object':
      return x === null ? x : encObject(x, ctx, depth);
    case 'function':
      throw new Unsupported(
        `a function${x.name ? ` ('${x.name}')` : ''}`,
        'functions do not travel inside messages; send a function reference (describeFunction in src/graph/shipping) or a registered kernel name instead',
      );
    default:
      throw new Unsupported(`a ${typeof x}`, 'only data travels in messages');
  }
}

/** Cheap test for values the walk returns unchanged. */
function isPlainLeaf(v: unknown): boolean {
  const t = typeof v;
  return t === 'string' || t === 'boolean' || t === 'undefined' || v === null || (t === 'number' && (v !== 0 || 1 / (v as number) > 0));
}

function enter(x: object, ctx: EncodeCtx, depth: number): void {
  if (depth >= MAX_DEPTH) throw new Unsupported(`a value nested deeper than ${MAX_DEPTH} levels`, 'flatten the message');
  if (ctx.ancestors.includes(x)) {
    throw new Unsupported('a cyclic reference', 'a message must not contain itself; send a tree (shared values are copied)');
  }
  ctx.ancestors.push(x);
}

function encObject(x: object, ctx: EncodeCtx, depth: number): unknown {
  if (Array.isArray(x)) return encArray(x, ctx, depth);
  const proto = Object.getPrototypeOf(x);
  if (proto === Object.prototype || proto === null) return encPlain(x as Record<string, unknown>, ctx, depth);
  if (ArrayBuffer.isView(x)) return encView(x, ctx);
  if (x instanceof Serialize || x instanceof Serialized) return encPart(x, ctx, depth);
  if (ctx.hooks !== null) {
    const s = ctx.hooks.custom(x);
    if (s !== undefined) return partRef(s, ctx, depth);
  }
  if (x instanceof Map) return encMap(x, ctx, depth);
  if (x instanceof Set) return encSet(x, ctx, depth);
  if (x instanceof Date) {
    ctx.tagged = true;
    return { [TAG]: 'date', v: x.getTime() };
  }
  if (isError(x)) return encError(x, ctx, depth);
  if (isNdarray(x)) return encNdarray(x, ctx);
  if (x instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && x instanceof SharedArrayBuffer)) {
    ctx.tagged = true;
    return { [TAG]: 'ab', sh: !(x instanceof ArrayBuffer), ...dataRef(new Uint8Array(x), ctx) };
  }
  throw new Unsupported(describe(x), 'register a serializer for it with registerSerializer(), wrap it in something that has one, or send a plain object');
}

function describe(x: object): string {
  const name = (x.constructor as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object with an unknown prototype';
}

function encArray(xs: unknown[], ctx: EncodeCtx, depth: number): unknown[] {
  enter(xs, ctx, depth);
  let out: unknown[] | undefined;
  for (let j = 0; j < xs.length; j++) {
    const v = xs[j];
    if (isPlainLeaf(v)) continue;
    let y: unknown;
    try {
      y = enc(v, ctx, depth + 1);
    } catch (e) {
      rethrow(e, `[${j}]`);
    }
    if (y !== v) {
      out ??= xs.slice();
      out[j] = y;
    }
  }
  ctx.ancestors.pop();
  return out ?? xs;
}

function encPlain(o: Record<string, unknown>, ctx: EncodeCtx, depth: number): unknown {
  enter(o, ctx, depth);
  let out: Record<string, unknown> | undefined;
  let escape = false;
  for (const k in o) {
    if (k === TAG || k === '__proto__') escape = true;
    const v = o[k];
    if (isPlainLeaf(v)) continue;
    let y: unknown;
    try {
      y = enc(v, ctx, depth + 1);
    } catch (e) {
      rethrow(e, keySeg(k));
    }
    if (y !== v) {
      out ??= { ...o };
      out[k] = y;
    }
  }
  ctx.ancestors.pop();
  const r = out ?? o;
  if (!escape) return r;
  // A key that is our tag (or '__proto__', which msgpack decoders rename): send the object as pairs.
  ctx.tagged = true;
  const v: unknown[] = [];
  for (const k of Object.keys(r)) v.push(k, r[k]);
  return { [TAG]: 'o', v };
}

function encMap(m: Map<unknown, unknown>, ctx: EncodeCtx, depth: number): unknown {
  enter(m, ctx, depth);
  ctx.tagged = true;
  const v: unknown[] = [];
  let i = 0;
  for (const [k, x] of m) {
    try {
      v.push(enc(k, ctx, depth + 1));
    } catch (e) {
      rethrow(e, `.keys()[${i}]`);
    }
    try {
      v.push(enc(x, ctx, depth + 1));
    } catch (e) {
      rethrow(e, typeof k === 'string' || typeof k === 'number' ? `.get(${JSON.stringify(k)})` : `.values()[${i}]`);
    }
    i++;
  }
  ctx.ancestors.pop();
  return { [TAG]: 'map', v };
}

function encSet(s: Set<unknown>, ctx: EncodeCtx, depth: number): unknown {
  enter(s, ctx, depth);
  ctx.tagged = true;
  const v: unknown[] = [];
  let i = 0;
  for (const x of s) {
    try {
      v.push(enc(x, ctx, depth + 1));
    } catch (e) {
      rethrow(e, `.values()[${i}]`);
    }
    i++;
  }
  ctx.ancestors.pop();
  return { [TAG]: 'set', v };
}

/** Bytes inline (small, or headers) or as a data frame of this part. */
function dataRef(bytes: Uint8Array, ctx: EncodeCtx): { b: Uint8Array } | { f: number } {
  if (ctx.frames === null || bytes.byteLength < INLINE_MAX_BYTES) return { b: bytes };
  return { f: ctx.frames.push(bytes) - 1 };
}

function encView(x: ArrayBufferView, ctx: EncodeCtx): unknown {
  const d = dtypeOf(x);
  if (d === undefined) {
    throw new Unsupported(`a ${x.constructor.name}`, 'its element type has no wire dtype; convert it to a supported typed array');
  }
  ctx.tagged = true;
  return { [TAG]: 't', d, ...dataRef(bytesOf(x), ctx) };
}

function encPart(x: Serialize | Serialized, ctx: EncodeCtx, depth: number): unknown {
  // Inside a value that is itself being serialized (no parts), Serialize is transparent.
  if (x instanceof Serialize && ctx.parts === null && ctx.hooks !== null) {
    try {
      return enc(x.value, ctx, depth + 1);
    } catch (e) {
      rethrow(e, '.value');
    }
  }
  if (ctx.hooks === null) throw new Unsupported('a serialized value inside a header', 'headers hold plain data only');
  const seen = ctx.parts !== null ? ctx.partIndex?.get(x) : undefined;
  if (seen !== undefined) return { [TAG]: 'p', i: seen };
  let s: Serialized;
  if (x instanceof Serialize) {
    try {
      s = ctx.hooks.serialize(x.value, ctx, depth + 1);
    } catch (e) {
      rethrow(e, '.value');
    }
  } else {
    s = x;
  }
  if (ctx.parts !== null) {
    const small = inlinePart(s);
    if (small !== undefined) {
      ctx.tagged = true;
      return small;
    }
  }
  const ref = partRef(s, ctx, depth);
  if (ctx.parts !== null) (ctx.partIndex ??= new Map()).set(x, ctx.parts.length - 1);
  return ref;
}

/**
 * A Serialized of one small frame and a flat header (a run spec, a number, a short error) travels
 * in the body, `{ TAG: 'sb', h, b }`, instead of as a part: a part costs a header in the part list,
 * a frame and its length, about four times the encoding and decoding time of a small run spec,
 * and an update-graph of 10,000 tasks carries 10,000 of them (which the scheduler relays). The
 * receiver still gets a Serialized (or its value), as from a part.
 */
function inlinePart(s: Serialized): unknown {
  const { header, frames } = s;
  if (frames.length !== 1 || frames[0].byteLength >= INLINE_MAX_BYTES) return undefined;
  let h: Record<string, unknown> = header;
  if (h.compression !== undefined || h.lengths !== undefined) {
    // Received as a part: its frame must be the bytes as serialized.
    const { compression, lengths, ...rest } = h;
    if (!Array.isArray(compression) || compression.length !== 1 || compression[0] !== null) return undefined;
    if (!Array.isArray(lengths) || lengths[0] !== frames[0].byteLength) return undefined;
    h = rest;
  }
  for (const k in h) {
    if (k === TAG || k === '__proto__') return undefined;
    const v = h[k];
    const t = typeof v;
    if (!(t === 'string' || t === 'boolean' || v === null || (t === 'number' && !Object.is(v, -0)))) return undefined;
  }
  return { [TAG]: 'sb', h, b: frames[0] };
}

function partRef(s: Serialized, ctx: EncodeCtx, depth: number): unknown {
  ctx.tagged = true;
  if (ctx.parts !== null) return { [TAG]: 'p', i: ctx.parts.push(s) - 1 };
  // No parts here (a serializer's own value): the Serialized travels inline, header and frames.
  if (ctx.frames === null) throw new Unsupported('a serialized value inside a header', 'headers hold plain data only');
  if (s.header.compression !== undefined) {
    throw new Unsupported('a compressed Serialized value inside a serialized value', 'send it as a part of the message instead');
  }
  const f: number[] = [];
  for (const fr of s.frames) f.push(ctx.frames.push(fr) - 1);
  let h: unknown;
  try {
    h = enc(s.header, ctx, depth + 1);
  } catch (e) {
    rethrow(e, '.header');
  }
  return { [TAG]: 'sd', h, f };
}

function isError(x: object): x is Error {
  return x instanceof Error || Object.prototype.toString.call(x) === '[object Error]';
}

const ERROR_OWN = new Set(['name', 'message', 'stack', 'cause', 'errors']);

/** `enc`, or { ok: false } when the value cannot travel (the walk goes on: the ancestors are restored). */
function tryEnc(x: unknown, ctx: EncodeCtx, depth: number): { ok: true; v: unknown } | { ok: false } {
  const n = ctx.ancestors.length;
  try {
    return { ok: true, v: enc(x, ctx, depth) };
  } catch (e) {
    if (e instanceof Unsupported) {
      ctx.ancestors.length = n;
      return { ok: false };
    }
    throw e;
  }
}

/** name, message, stack; cause and own properties when they can travel (others are dropped). */
function encError(e: Error, ctx: EncodeCtx, depth: number): unknown {
  enter(e, ctx, depth);
  ctx.tagged = true;
  const tag: Record<string, unknown> = { [TAG]: 'err', n: String(e.name), m: String(e.message) };
  if (typeof e.stack === 'string') tag.s = e.stack;
  if ('cause' in e) {
    const c = tryEnc(e.cause, ctx, depth + 1);
    tag.c = c.ok ? c.v : String(e.cause);
  }
  if (e instanceof AggregateError && Array.isArray(e.errors)) {
    const es = tryEnc(e.errors, ctx, depth + 1);
    if (es.ok) tag.e = es.v;
  }
  let props: Record<string, unknown> | undefined;
  for (const k of Object.keys(e)) {
    if (ERROR_OWN.has(k) || k === TAG || k === '__proto__') continue;
    const p = tryEnc((e as unknown as Record<string, unknown>)[k], ctx, depth + 1);
    if (p.ok) (props ??= {})[k] = p.v;
  }
  if (props) tag.p = props;
  ctx.ancestors.pop();
  return tag;
}

export function isNdarray(x: object): x is ndarray.NdArray {
  const o = x as Record<string, unknown>;
  return (
    typeof o.pick === 'function' &&
    Array.isArray(o.shape) &&
    Array.isArray(o.stride) &&
    typeof o.offset === 'number' &&
    (ArrayBuffer.isView(o.data) || Array.isArray(o.data))
  );
}

/** The ndarray's elements in C order: a view when they already are, a copy otherwise. */
export function contiguous(nd: ndarray.NdArray): TypedArray | unknown[] {
  const { shape, stride, offset } = nd;
  const data = nd.data as unknown as TypedArray | unknown[];
  let size = 1;
  for (const n of shape) size *= n;
  let isC = true;
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== s) isC = false;
    s *= shape[d];
  }
  if (size === 0) return Array.isArray(data) ? [] : data.subarray(0, 0);
  if (isC) return Array.isArray(data) ? data.slice(offset, offset + size) : data.subarray(offset, offset + size);
  const out: TypedArray | unknown[] = Array.isArray(data)
    ? new Array<unknown>(size)
    : new (data.constructor as new (n: number) => TypedArray)(size);
  const nd2 = shape.length;
  const idx = new Array<number>(nd2).fill(0);
  let ptr = offset;
  for (let k = 0; k < size; k++) {
    (out as unknown[])[k] = data[ptr];
    for (let d = nd2 - 1; d >= 0; d--) {
      idx[d]++;
      ptr += stride[d];
      if (idx[d] < shape[d]) break;
      ptr -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

function encNdarray(nd: ndarray.NdArray, ctx: EncodeCtx): unknown {
  ctx.tagged = true;
  const data = contiguous(nd);
  const s = nd.shape.slice();
  if (Array.isArray(data)) {
    if (!data.every((v) => typeof v === 'number')) {
      throw new Unsupported('an ndarray over an array of non-numbers', 'use an ndarray over a typed array');
    }
    return { [TAG]: 'nd', d: 'array', s, a: data };
  }
  const d = dtypeOf(data);
  if (d === undefined || d === 'buffer' || d === 'dataview') {
    throw new Unsupported(`an ndarray over a ${data.constructor.name}`, 'use an ndarray over a supported typed array');
  }
  return { [TAG]: 'nd', d, s, ...dataRef(bytesOf(data), ctx) };
}

// ---------------------------------------------------------------------------------------------
// Decoding

export interface DecodeCtx {
  /** Data frame `i` of this part (decompressed). */
  frame(i: number): Uint8Array;
  /** Part `i` of the message (deserialized, or kept opaque). */
  part(i: number): unknown;
  /** A Serialized that travelled inline: deserialize it. */
  inline(s: Serialized): unknown;
}

export const NO_FRAMES: DecodeCtx = {
  frame: () => {
    throw new ProtocolError('malformed message: a header refers to a data frame');
  },
  part: () => {
    throw new ProtocolError('malformed message: a header refers to a message part');
  },
  inline: () => {
    throw new ProtocolError('malformed message: a header holds a serialized value');
  },
};

function bad(what: string): never {
  throw new ProtocolError(`malformed message: ${what}`);
}

/** Rebuilds what encodeTree tagged, in place (the tree is fresh from msgpack). */
export function decodeTree(x: unknown, ctx: DecodeCtx): unknown {
  return dec(x, ctx, 0);
}

function dec(x: unknown, ctx: DecodeCtx, depth: number): unknown {
  if (typeof x !== 'object' || x === null || ArrayBuffer.isView(x)) return x;
  if (depth > MAX_DEPTH) bad(`nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(x)) {
    for (let j = 0; j < x.length; j++) {
      const v = x[j];
      if (typeof v === 'object' && v !== null) x[j] = dec(v, ctx, depth + 1);
    }
    return x;
  }
  const o = x as Record<string, unknown>;
  if (Object.hasOwn(o, TAG)) return decTag(o, ctx, depth);
  for (const k in o) {
    const v = o[k];
    if (typeof v === 'object' && v !== null) o[k] = dec(v, ctx, depth + 1);
  }
  return o;
}

function bytesRef(o: Record<string, unknown>, ctx: DecodeCtx, what: string): Uint8Array {
  if (o.b instanceof Uint8Array) return o.b;
  if (typeof o.f === 'number') return ctx.frame(o.f);
  return bad(`${what} without its bytes`);
}

function pairs(o: Record<string, unknown>, what: string): unknown[] {
  if (!Array.isArray(o.v)) bad(`${what} without its entries`);
  return o.v;
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function decTag(o: Record<string, unknown>, ctx: DecodeCtx, depth: number): unknown {
  const t = o[TAG];
  switch (t) {
    case 'nz':
      return -0;
    case 'big':
      if (typeof o.v !== 'string' || !/^-?\d+$/.test(o.v)) bad('a bigint that is not an integer');
      return BigInt(o.v);
    case 'date':
      if (typeof o.v !== 'number') bad('a date without its time');
      return new Date(o.v);
    case 't': {
      if (!isDtype(o.d)) bad(`a typed array of unknown dtype ${JSON.stringify(o.d)}`);
      return wrapView(() => viewOf(o.d as string, bytesRef(o, ctx, 'a typed array')));
    }
    case 'ab': {
      const bytes = bytesRef(o, ctx, 'an ArrayBuffer');
      if (o.sh === true) {
        const sab = new SharedArrayBuffer(bytes.byteLength);
        new Uint8Array(sab).set(bytes);
        return sab;
      }
      if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
        return bytes.buffer;
      }
      return Uint8Array.prototype.slice.call(bytes).buffer;
    }
    case 'nd':
      return decNdarray(o, ctx);
    case 'map': {
      const v = pairs(o, 'a Map');
      if (v.length % 2 !== 0) bad('a Map with an odd number of entries');
      const m = new Map<unknown, unknown>();
      for (let j = 0; j < v.length; j += 2) m.set(dec(v[j], ctx, depth + 1), dec(v[j + 1], ctx, depth + 1));
      return m;
    }
    case 'set': {
      const s = new Set<unknown>();
      for (const v of pairs(o, 'a Set')) s.add(dec(v, ctx, depth + 1));
      return s;
    }
    case 'o': {
      const v = pairs(o, 'an escaped object');
      if (v.length % 2 !== 0) bad('an escaped object with an odd number of entries');
      const r: Record<string, unknown> = {};
      for (let j = 0; j < v.length; j += 2) {
        if (typeof v[j] !== 'string') bad('an object key that is not a string');
        Object.defineProperty(r, v[j] as string, { value: dec(v[j + 1], ctx, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return r;
    }
    case 'err':
      return decError(o, ctx, depth);
    case 'p':
      if (!isCount(o.i)) bad('a part reference that is not an index');
      return ctx.part(o.i);
    case 'sb': {
      const h = o.h;
      if (typeof h !== 'object' || h === null || Array.isArray(h) || !(o.b instanceof Uint8Array)) bad('a serialized value without its header or bytes');
      return ctx.inline(new Serialized(h as Record<string, unknown>, [o.b]));
    }
    case 'sd': {
      if (!Array.isArray(o.f) || !o.f.every(isCount)) bad('a serialized value without its frames');
      const h = dec(o.h, ctx, depth + 1);
      if (typeof h !== 'object' || h === null || Array.isArray(h)) bad('a serialized value without its header');
      return ctx.inline(new Serialized(h as Record<string, unknown>, (o.f as number[]).map((i) => ctx.frame(i))));
    }
    default:
      return bad(`unknown tag ${JSON.stringify(t)}`);
  }
}

function wrapView<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError(`malformed message: ${(e as Error).message}`);
  }
}

function decNdarray(o: Record<string, unknown>, ctx: DecodeCtx): unknown {
  const s = o.s;
  if (!Array.isArray(s) || !s.every(isCount)) bad('an ndarray without a valid shape');
  const shape = s as number[];
  let size = 1;
  for (const n of shape) size *= n;
  if (o.d === 'array') {
    if (!Array.isArray(o.a) || o.a.length !== size || !o.a.every((v) => typeof v === 'number')) {
      bad('an ndarray whose data does not match its shape');
    }
    return ndarray(o.a as number[], shape);
  }
  if (!isDtype(o.d) || !Object.hasOwn(DTYPES, o.d)) bad(`an ndarray of unknown dtype ${JSON.stringify(o.d)}`);
  const bytes = bytesRef(o, ctx, 'an ndarray');
  if (bytes.byteLength !== size * itemSize(o.d as string)) {
    bad(`an ndarray of shape [${shape.join(', ')}] with ${bytes.byteLength} bytes of ${String(o.d)}`);
  }
  const data = wrapView(() => viewOf(o.d as string, bytes)) as TypedArray;
  return ndarray(data as unknown as ndarray.Data<number>, shape);
}

const ERROR_TYPES: Record<string, new (message?: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function decError(o: Record<string, unknown>, ctx: DecodeCtx, depth: number): Error {
  const name = typeof o.n === 'string' ? o.n : 'Error';
  const message = typeof o.m === 'string' ? o.m : '';
  let e: Error;
  if (name === 'AggregateError') {
    const errors = Array.isArray(o.e) ? (dec(o.e, ctx, depth + 1) as unknown[]) : [];
    e = new AggregateError(errors, message);
  } else {
    const C = Object.hasOwn(ERROR_TYPES, name) ? ERROR_TYPES[name] : Error;
    e = new C(message);
    if (e.name !== name) Object.defineProperty(e, 'name', { value: name, writable: true, configurable: true, enumerable: false });
  }
  if (typeof o.s === 'string') Object.defineProperty(e, 'stack', { value: o.s, writable: true, configurable: true, enumerable: false });
  if ('c' in o) Object.defineProperty(e, 'cause', { value: dec(o.c, ctx, depth + 1), writable: true, configurable: true, enumerable: false });
  if (typeof o.p === 'object' && o.p !== null && !Array.isArray(o.p)) {
    const p = dec(o.p, ctx, depth + 1) as Record<string, unknown>;
    for (const k of Object.keys(p)) {
      if (!ERROR_OWN.has(k)) Object.defineProperty(e, k, { value: p[k], writable: true, configurable: true, enumerable: true });
    }
  }
  return e;
}
