/**
 * Deterministic tokens: dask's `tokenize`. Key names such as `sum-7f3a…` come from here, and
 * workers in other processes must compute the same name for the same inputs, so nothing here may
 * depend on object identity, addresses or insertion order where order carries no meaning.
 *
 * Design:
 * - Every value is encoded to one canonical string, then md5'd once. Each encoding starts with a
 *   one-letter tag (so `1` and `'1'` differ) and is prefix-free (strings are length-prefixed,
 *   numbers end in `;`, containers close with `]` or `}`), so concatenating encodings never makes
 *   two different values collide.
 * - Unordered containers (object keys, Maps, Sets) sort their members' encodings, which makes the
 *   token independent of insertion order without needing a total order on arbitrary JS values.
 * - Binary data (typed arrays, buffers) is hashed separately and only its digest enters the
 *   string, so a large array costs one md5 pass and no text conversion.
 * - Functions are cached per function in a WeakMap: tokenizing a task's callable is the hot path.
 *   Native functions have no useful source (`{ [native code] }` for every one of them), so known
 *   builtins are named by their global path and every other native function (bound functions,
 *   host functions) gets a random per-process id: a wrong "same" token would merge different
 *   tasks, while a per-process id only costs a cache miss.
 * - A cycle is encoded as a back-reference to how many levels up the ancestor sits. That depends
 *   only on the structure, never on identity, so cyclic values still get deterministic tokens.
 * - The final string is hashed as UTF-8; lone surrogates would all become U+FFFD there, so strings
 *   holding them are encoded as hex code units instead.
 */
import { describeFunction } from './shipping/registry.js';
import * as crypto from 'node:crypto';
import { types } from 'node:util';

/** Deterministic 32-hex-char token of the arguments: equal inputs give equal tokens in any process. */
export function tokenize(...args: unknown[]): string {
  return md5(encode(args, []));
}

/** `tokenize(fn)`, typed for functions: name plus source, or the builtin's global path. */
export function tokenizeFunction(fn: Function): string {
  return tokenize(fn);
}

// ---------------------------------------------------------------------------------------------
// hashing and per-process ids

const oneShotHash: ((alg: string, data: string, enc: 'hex') => string) | undefined =
  typeof crypto.hash === 'function' ? crypto.hash : undefined;

function md5(text: string): string {
  // crypto.hash (Node >= 20.12) skips the Hash object and is ~2x faster for short inputs.
  return oneShotHash ? oneShotHash('md5', text, 'hex') : crypto.createHash('md5').update(text).digest('hex');
}

function md5Bytes(bytes: Uint8Array): string {
  return crypto.createHash('md5').update(bytes).digest('hex');
}

// A random prefix makes ids unique per process; the counter makes them unique within it.
const PROCESS_ID = crypto.randomBytes(8).toString('hex');
let nextId = 0;
const randomIds = new WeakMap<WeakKey, string>();

/** A per-process id for values whose content cannot be inspected: stable here, random elsewhere. */
function randomId(x: WeakKey): string {
  let id = randomIds.get(x);
  if (id === undefined) {
    id = 'R' + PROCESS_ID + (nextId++).toString(36) + ';';
    randomIds.set(x, id);
  }
  return id;
}

// ---------------------------------------------------------------------------------------------
// dispatch

function encode(x: unknown, ancestors: object[]): string {
  switch (typeof x) {
    case 'number':
      return 'n' + x + ';'; // String(-0) is '0' (dask does not tell them apart); NaN is 'NaN'
    case 'string':
      return str(x);
    case 'boolean':
      return x ? 'T' : 'F';
    case 'undefined':
      return 'U';
    case 'bigint':
      return 'i' + x + ';';
    case 'symbol':
      return encodeSymbol(x);
    case 'function':
      return encodeFunction(x as Function);
    case 'object':
      return x === null ? 'N' : encodeObject(x, ancestors);
  }
}

const LONE_SURROGATE = /\p{Surrogate}/u; // in u-mode a valid pair is one code point and never matches

function str(s: string): string {
  if (!LONE_SURROGATE.test(s)) return 's' + s.length + ':' + s;
  let hex = '';
  for (let i = 0; i < s.length; i++) hex += s.charCodeAt(i).toString(16).padStart(4, '0');
  return 'w' + hex + ';';
}

function encodeSymbol(sym: symbol): string {
  const key = Symbol.keyFor(sym);
  if (key !== undefined) return 'y' + str(key);
  const d = sym.description;
  // Well-known symbols (Symbol.iterator, …) are the same in every process: name them.
  if (d !== undefined && d.startsWith('Symbol.') && (Symbol as unknown as Record<string, unknown>)[d.slice(7)] === sym) {
    return 'k' + str(d);
  }
  return randomId(sym);
}

// ---------------------------------------------------------------------------------------------
// functions

const functionEncodings = new WeakMap<Function, string>();

function encodeFunction(fn: Function): string {
  let e = functionEncodings.get(fn);
  if (e === undefined) {
    e = functionEncoding(fn);
    functionEncodings.set(fn, e);
  }
  return e;
}


function functionEncoding(fn: Function): string {
  const d = describeFunction(fn);
  // A closure reads variables its source does not show, so two closures with one source may
  // compute different things: each such function object gets a token of its own.
  if (!d.ok) return randomId(fn);
  if (d.ref.kind === 'global') return 'b' + str(d.ref.path);
  if (d.ref.kind !== 'source') return 'r' + str(d.id);
  const source = Function.prototype.toString.call(fn);
  const name = typeof fn.name === 'string' ? fn.name : '';
  return 'f' + md5(str(name) + str(source)) + ';';
}

// ---------------------------------------------------------------------------------------------
// objects

interface DaskTokenizable {
  daskTokenize(): unknown;
}

function isDaskTokenizable(x: object): x is DaskTokenizable {
  return typeof (x as Partial<DaskTokenizable>).daskTokenize === 'function';
}

function encodeObject(x: object, ancestors: object[]): string {
  const at = ancestors.lastIndexOf(x);
  if (at !== -1) return '^' + (ancestors.length - at) + ';';
  ancestors.push(x);
  const e = encodeFresh(x, ancestors);
  ancestors.pop();
  return e;
}

function encodeFresh(x: object, ancestors: object[]): string {
  if (isDaskTokenizable(x)) return 'D' + str(constructorName(x) ?? '') + encode(x.daskTokenize(), ancestors);
  if (Array.isArray(x)) return encodeArray(x, ancestors);
  if (ArrayBuffer.isView(x)) return encodeView(x);
  if (types.isArrayBuffer(x)) return 'B' + md5Bytes(new Uint8Array(x)) + ';';
  if (types.isSharedArrayBuffer(x)) return 'S' + md5Bytes(new Uint8Array(x)) + ';';
  if (types.isMap(x)) return 'M' + sortedJoin(x, ([k, v]) => encode(k, ancestors) + encode(v, ancestors)) + '}';
  if (types.isSet(x)) return 'E' + sortedJoin(x, (v) => encode(v, ancestors)) + '}';
  if (types.isDate(x)) return 'd' + x.getTime() + ';';
  if (types.isRegExp(x)) return 'r' + str(x.source) + str(x.flags);
  if (types.isNativeError(x) || x instanceof Error) return 'e' + str(x.name) + str(x.message);
  if (types.isBoxedPrimitive(x)) return 'P' + encode(x.valueOf(), ancestors);
  // Their contents are invisible to us; treating them as empty records would merge them all.
  if (types.isWeakMap(x) || types.isWeakSet(x) || types.isPromise(x) || x instanceof WeakRef) return randomId(x);
  return encodeRecord(x, ancestors);
}

function encodeArray(x: unknown[], ancestors: object[]): string {
  let s = '[';
  for (let i = 0; i < x.length; i++) s += i in x ? encode(x[i], ancestors) : 'h';
  return s + ']';
}

function encodeView(x: ArrayBufferView): string {
  // The dtype tag (Buffer reports Uint8Array), the element count, and the view's bytes only.
  const dtype = Object.prototype.toString.call(x).slice(8, -1);
  const length = types.isDataView(x) ? x.byteLength : (x as Uint8Array).length;
  const bytes = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return 'A' + str(dtype) + length + ';' + md5Bytes(bytes) + ';';
}

function sortedJoin<T>(items: Iterable<T>, encodeItem: (item: T) => string): string {
  const parts: string[] = [];
  for (const item of items) parts.push(encodeItem(item));
  return parts.sort().join('');
}

/** Plain objects and class instances: the class name, then own enumerable properties by key. */
function encodeRecord(x: object, ancestors: object[]): string {
  const rec = x as Record<PropertyKey, unknown>;
  const name = constructorName(x);
  let s = name === undefined ? 'p' : 'o' + str(name);
  for (const key of Object.keys(x).sort()) s += str(key) + encode(rec[key], ancestors);
  const symbols = Object.getOwnPropertySymbols(x);
  if (symbols.length > 0) {
    const enumerable = symbols.filter((k) => Object.prototype.propertyIsEnumerable.call(x, k));
    s += sortedJoin(enumerable, (k) => encodeSymbol(k) + encode(rec[k], ancestors));
  }
  return s + '}';
}

/** undefined for plain objects (null-prototype ones too, so `{a: 1}` has one token). */
function constructorName(x: object): string | undefined {
  const proto: unknown = Object.getPrototypeOf(x);
  if (proto === null || proto === Object.prototype) return undefined;
  const ctor: unknown = (proto as { constructor?: unknown }).constructor;
  const name: unknown = typeof ctor === 'function' ? ctor.name : undefined;
  return typeof name === 'string' ? name : '';
}
