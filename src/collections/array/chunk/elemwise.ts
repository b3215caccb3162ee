/**
 * Elementwise kernels: one registered kernel per arity (unary, binary, ternary) taking an op name.
 *
 * Design: each op is an expression over x, y, z (the operands' values). For every combination of
 * op, output type, operand types (typed-array class or scalar) and layout (contiguous or strided)
 * a loop is compiled once per thread with `new Function`, the expression inlined into its body.
 * That gives the tight loop a hand-written switch would (no call per element, monomorphic typed
 * array accesses) without writing out ops x patterns x layouts loops by hand. Contiguous operands
 * of the output's shape run as one flat loop; otherwise operands become broadcast views (stride 0
 * on broadcast axes) and the loop runs once per row (forEachRow).
 *
 * Values are computed as doubles and stored into the output's typed array, so integer results
 * wrap like numpy's (int32 addition overflows through the Int32Array store); 32-bit integer
 * products use Math.imul because a double would lose the low bits first.
 */
import ndarray from 'ndarray';
import { defineKernel } from '../../../graph/shipping/registry.js';
import type { NdArray } from '../core.js';
import { isInteger, type DType, type TypedArray } from '../dtype.js';
import { empty, forEachRow, isContiguous } from './strided.js';

/** numpy's rint: round half to even. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** numpy's round(x, decimals) for decimals != 0. */
function roundTo(x: number, decimals: number): number {
  if (decimals >= 0) {
    const p = 10 ** decimals;
    return rint(x * p) / p;
  }
  const p = 10 ** -decimals;
  return rint(x / p) * p;
}

/** Integer power modulo 2^32 (what numpy's fixed-width integers give), by squaring. */
function ipow(x: number, y: number): number {
  if (y < 0) throw new RangeError('integers to negative integer powers are not allowed');
  let r = 1;
  let base = x | 0;
  for (let e = y >>> 0; e > 0; e >>>= 1) {
    if (e & 1) r = Math.imul(r, base);
    base = Math.imul(base, base);
  }
  return r;
}

const HELPERS = { rint, roundTo, ipow };

/** Expressions of x (and y, z); `r` is a scratch variable. */
export const UNARY = {
  neg: '-x',
  abs: 'Math.abs(x)',
  exp: 'Math.exp(x)',
  log: 'Math.log(x)',
  sqrt: 'Math.sqrt(x)',
  sin: 'Math.sin(x)',
  cos: 'Math.cos(x)',
  tanh: 'Math.tanh(x)',
  floor: 'Math.floor(x)',
  ceil: 'Math.ceil(x)',
  round: 'rint(x)',
  isnan: 'x !== x',
  isinf: '(x === Infinity || x === -Infinity)',
  isfinite: 'x - x === 0',
  logicalNot: 'x === 0',
} as const;

export const BINARY = {
  add: 'x + y',
  sub: 'x - y',
  mul: 'x * y',
  div: 'x / y',
  floordiv: 'Math.floor(x / y)',
  // numpy's remainder takes the divisor's sign.
  mod: '(r = x % y, r !== 0 && (r < 0) !== (y < 0) ? r + y : r)',
  pow: 'x ** y',
  maximum: '(x > y || x !== x) ? x : y',
  minimum: '(x < y || x !== x) ? x : y',
  eq: 'x === y',
  ne: 'x !== y',
  lt: 'x < y',
  le: 'x <= y',
  gt: 'x > y',
  ge: 'x >= y',
  logicalAnd: '(x !== 0 && y !== 0)',
  logicalOr: '(x !== 0 || y !== 0)',
  logicalXor: '((x !== 0) !== (y !== 0))',
  roundTo: 'roundTo(x, y)',
} as const;

export const TERNARY = {
  where: 'x !== 0 ? y : z',
  // numpy's clip is minimum(maximum(x, lo), hi): a NaN anywhere gives NaN, hi wins over lo.
  clip: '(r = (x < y || y !== y) ? y : x, (r > z || z !== z) ? z : r)',
} as const;

/** The expression actually compiled for an op and output type. */
function expression(op: string, out: DType): string {
  const table: Record<string, string> = op in UNARY ? UNARY : op in BINARY ? BINARY : TERNARY;
  let e = table[op];
  if (e === undefined) throw new TypeError(`unknown elementwise op '${op}'`);
  const int32 = out === 'int32' || out === 'uint32';
  if (op === 'mul' && int32) e = 'Math.imul(x, y)';
  if (op === 'pow' && isInteger(out)) e = 'ipow(x, y)';
  // bool results are stored as 0/1 (True + True is True in numpy).
  return out === 'bool' ? `((${e}) ? 1 : 0)` : e;
}

type Loop = (o: TypedArray, oo: number, os: number, ...operands: unknown[]) => void;
const loops = new Map<string, Loop>();

/** A compiled loop over n elements; operand j is `array, offset, stride` (a scalar in the array's place). */
function compile(op: string, out: DType, kinds: readonly string[], contiguous: boolean): Loop {
  const cacheKey = `${op}|${out}|${kinds.join(',')}|${contiguous}`;
  let loop = loops.get(cacheKey);
  if (loop) return loop;
  const names = ['x', 'y', 'z'];
  const params = ['o', 'oo', 'os'];
  const reads: string[] = [];
  kinds.forEach((kind, j) => {
    const [arr, off, str] = [`a${j}`, `a${j}o`, `a${j}s`];
    params.push(arr, off, str);
    reads.push(`const ${names[j]} = ${kind === 'scalar' ? arr : contiguous ? `${arr}[${off} + i]` : `${arr}[${off} + i * ${str}]`};`);
  });
  params.push('n');
  const store = contiguous ? 'o[oo + i]' : 'o[oo + i * os]';
  const body = `let r = 0;\nfor (let i = 0; i < n; i++) {\n${reads.join('\n')}\n${store} = ${expression(op, out)};\n}`;
  const factory = new Function('h', `const { rint, roundTo, ipow } = h;\nreturn function loop(${params.join(', ')}) {\n${body}\n};`);
  loop = factory(HELPERS) as Loop;
  loops.set(cacheKey, loop);
  return loop;
}

export type Operand = NdArray | number;

/** `a` seen with the output's shape: leading axes added, stride 0 wherever `a` has length 1. */
function broadcastView(a: NdArray, shape: readonly number[]): NdArray {
  const shift = shape.length - a.shape.length;
  const stride = shape.map((_, k) => (k < shift || a.shape[k - shift] === 1 ? 0 : a.stride[k - shift]));
  return ndarray(a.data, [...shape], stride, a.offset) as NdArray;
}

/** The blocks' broadcast shape (read off the blocks, so unknown chunk sizes need no special case). */
export function blockShape(operands: readonly (number | { readonly shape: readonly number[] })[]): number[] {
  const arrays = operands.filter((a) => typeof a !== 'number');
  const nd = Math.max(...arrays.map((a) => a.shape.length));
  const shape = new Array<number>(nd).fill(1);
  for (const a of arrays) a.shape.forEach((n, k) => n !== 1 && (shape[k + nd - a.shape.length] = n));
  return shape;
}

function apply(op: string, dtype: DType, operands: readonly Operand[]): NdArray {
  const out = empty(dtype, blockShape(operands));
  applyInto(op, dtype, operands, out);
  return out;
}

/**
 * `op` of the operands (broadcast) written into `out`, a C-contiguous array of the operands'
 * broadcast shape and of type `dtype` (a new block, a slab of one, or the scratch tile of a fused
 * expression: chunk/fused.ts).
 */
export function applyInto(op: string, dtype: DType, operands: readonly Operand[], out: NdArray): void {
  const shape = out.shape;
  const o = out.data as TypedArray;
  const size = out.size;
  if (size === 0) return;
  const kinds = operands.map((a) => (typeof a === 'number' ? 'scalar' : (a.data as TypedArray).constructor.name));
  // Flat when every array operand is C-contiguous with the output's element count (same shape).
  const flat = operands.every((a) => typeof a === 'number' || (a.size === size && isContiguous(a)));
  if (flat) {
    const args = operands.flatMap((a) => (typeof a === 'number' ? [a, 0, 0] : [a.data, a.offset, 1]));
    compile(op, dtype, kinds, true)(o, out.offset, 1, ...args, size);
    return;
  }
  const loop = compile(op, dtype, kinds, false);
  const views = operands.map((a) => (typeof a === 'number' ? a : broadcastView(a, shape)));
  const arrays = views.filter((v): v is NdArray => typeof v !== 'number');
  const nd = shape.length;
  const last = (v: NdArray) => (nd ? v.stride[nd - 1] : 1);
  const os = last(out);
  forEachRow(shape, [out, ...arrays], (offs, n) => {
    const args: unknown[] = [];
    let j = 1;
    for (const v of views) {
      if (typeof v === 'number') args.push(v, 0, 0);
      else args.push(v.data, offs[j++], last(v));
    }
    args.push(n);
    loop(o, offs[0], os, ...args);
  });
}

export const unary = defineKernel('array.unary', (op: string, dtype: DType, a: Operand): NdArray => apply(op, dtype, [a]));

export const binary = defineKernel('array.binary', (op: string, dtype: DType, a: Operand, b: Operand): NdArray => apply(op, dtype, [a, b]));

export const ternary = defineKernel('array.ternary', (op: string, dtype: DType, a: Operand, b: Operand, c: Operand): NdArray =>
  apply(op, dtype, [a, b, c]),
);
