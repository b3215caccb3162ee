/**
 * Elementwise kernels: one registered kernel per arity (unary, binary, ternary) taking an op name.
 *
 * Design: each op is an expression over x, y, z (the operands' values). For every combination of
 * op, output type, operand types (typed-array class or scalar), layout (unit or other column
 * stride) and write mode a loop is compiled once per thread with `new Function`, the expression
 * inlined into its body. That gives the tight loop a hand-written switch would (no call per
 * element, monomorphic typed array accesses) without writing out ops x patterns x layouts loops by
 * hand. Contiguous operands of the output's shape run as one flat row; otherwise operands become
 * broadcast views (stride 0 on broadcast axes) and one call covers each plane of the last two axes.
 * A fused reduction adds the values straight into its accumulator instead (see compile).
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

/** Elements per turn of a compiled loop (see compile). */
const UNROLL = 8;

/**
 * How a compiled loop writes: stores its values, adds them into the output, or adds them into an
 * output whose rows are all one accumulator row (row stride 0: the plane's rows are summed), in
 * groups of 8 rows, or of 16 when an operand lies across the plane (see compile).
 */
export type WriteMode = 'store' | 'add' | 'sumRows8' | 'sumRows16';

/**
 * A compiled loop over an m x n plane: the output and operand j are `array, offset, rowStride,
 * colStride` (a scalar in the array's place). `layouts` has one letter per array, output first:
 * '1' for a column stride of 1 (indexed without a multiply), 's' for any other, '-' for a scalar.
 *
 * Rows are walked along their columns, the body written out UNROLL times per turn. Optimised code
 * re-checks each typed array (map, length, base pointer) on every access, as the loop's stack
 * check keeps V8 from hoisting those checks out of it; within one turn they are checked once,
 * which halves the time per element (measured on a float64 add: ~1.9 ns plain, ~1.0 ns unrolled).
 * In the sumRows modes groups of 8 or 16 rows go column by column first, each column's values
 * summed before one add into the accumulator: an operand read across its layout (a transposed
 * view) then takes whole cache lines of one page per column instead of one element (x + x.T:
 * ~20% faster with 8 rows, ~35% with 16; contiguous operands gain with 8 and lose with 16).
 */
function compile(op: string, out: DType, kinds: readonly string[], layouts: string, mode: WriteMode): Loop {
  const key = `${op}|${out}|${kinds.join(',')}|${layouts}|${mode}`;
  let loop = loops.get(key);
  if (loop) return loop;
  const names = ['x', 'y', 'z'];
  const params = ['o', 'oo', 'os0', 'os1'];
  // Arrays as [name, row-start variable, column stride, row stride, layout]; the output first.
  const arrays: [string, string, string, string, string][] = [['o', 'po', 'os1', 'os0', layouts[0]]];
  kinds.forEach((kind, j) => {
    const a = `a${j}`;
    params.push(a, `${a}o`, `${a}s0`, `${a}s1`);
    if (kind !== 'scalar') arrays.push([a, `p${j}`, `${a}s1`, `${a}s0`, layouts[j + 1]]);
  });
  params.push('m', 'n');
  const rowStarts = arrays.map(([a, p, , s0]) => `const ${p} = ${a === 'o' ? 'oo' : `${a}o`} + i * ${s0};`).join(' ');
  const strided = arrays.filter(([, , , , l]) => l !== '1');
  // Column c + k of an array, within a turn of the row loop (q: the turn's start, strided arrays).
  const inRow = ([a, p, s1, , l]: (typeof arrays)[number], k: number) =>
    l === '1' ? `${a}[${p} + c${k ? ` + ${k}` : ''}]` : `${a}[q${p}${k ? ` + ${k} * ${s1}` : ''}]`;
  const operandsAt = (index: (arr: (typeof arrays)[number]) => string) =>
    kinds.map((kind, j) => `const ${names[j]} = ${kind === 'scalar' ? `a${j}` : index(arrays.find(([a]) => a === `a${j}`)!)};`).join(' ');
  const rowElement = (k: number) => `{ ${operandsAt((arr) => inRow(arr, k))} ${inRow(arrays[0], k)} ${mode === 'store' ? '=' : '+='} ${expression(op, out)}; }`;
  const rowLoop = `for (; i < m; i++) {
${rowStarts}
let c = 0;
for (; c + ${UNROLL - 1} < n; c += ${UNROLL}) {
${strided.map(([, p, s1]) => `const q${p} = ${p} + c * ${s1};`).join(' ')}
${Array.from({ length: UNROLL }, (_, k) => rowElement(k)).join('\n')}
}
for (; c < n; c++) {
${strided.map(([, p, s1]) => `const q${p} = ${p} + c * ${s1};`).join(' ')}
${rowElement(0)}
}
}`;
  // sumRows: row g of a group at column c of an array (g: the column's start in that array).
  const inGroup = ([a, p, , s0]: (typeof arrays)[number], g: number) => `${a}[g${p}${g ? ` + ${g} * ${s0}` : ''}]`;
  const rowsPerGroup = mode === 'sumRows16' ? 16 : 8;
  const v = Array.from({ length: rowsPerGroup }, (_, g) => `v${g}`);
  const groupLoop = `let ${v.map((x) => `${x} = 0`).join(', ')};
for (; i + ${rowsPerGroup - 1} < m; i += ${rowsPerGroup}) {
${rowStarts}
for (let c = 0; c < n; c++) {
${arrays.map(([, p, s1, , l]) => `const g${p} = ${p} + ${l === '1' ? 'c' : `c * ${s1}`};`).join(' ')}
${v.map((x, g) => `{ ${operandsAt((arr) => inGroup(arr, g))} ${x} = ${expression(op, out)}; }`).join('\n')}
o[gpo] += ${pairwise(v)};
}
}`;
  const body = `let r = 0;\nlet i = 0;\n${mode.startsWith('sumRows') ? groupLoop : ''}\n${rowLoop}`;
  const factory = new Function('h', `const { rint, roundTo, ipow } = h;\nreturn function loop(${params.join(', ')}) {\n${body}\n};`);
  loop = factory(HELPERS) as Loop;
  loops.set(key, loop);
  return loop;
}

/** The sum of the terms as a balanced tree of additions (short dependency chains). */
function pairwise(terms: readonly string[]): string {
  if (terms.length === 1) return terms[0];
  const half = terms.length >> 1;
  return `(${pairwise(terms.slice(0, half))} + ${pairwise(terms.slice(half))})`;
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
 * `op` of the operands (broadcast) written into `out`, an array of the operands' broadcast shape
 * and of type `dtype`: a new block, a slab of one, or the scratch tile of a fused expression
 * (chunk/fused.ts). With `accumulate` the values are added into `out` instead, which may then have
 * stride 0 along axes that are summed over (a float64 reduction's accumulator).
 */
export function applyInto(op: string, dtype: DType, operands: readonly Operand[], out: NdArray, accumulate = false): void {
  const shape = out.shape;
  const o = out.data as TypedArray;
  const size = out.size;
  if (size === 0) return;
  const kinds = operands.map((a) => (typeof a === 'number' ? 'scalar' : (a.data as TypedArray).constructor.name));
  // Flat (one row of every element) when every array operand is C-contiguous with the output's
  // element count (same shape); otherwise the operands are broadcast views walked plane by plane.
  const flat = isContiguous(out) && operands.every((a) => typeof a === 'number' || (a.size === size && isContiguous(a)));
  if (flat) {
    const args = operands.flatMap((a) => (typeof a === 'number' ? [a, 0, 0, 0] : [a.data, a.offset, 0, 1]));
    const layouts = operands.map((a) => (typeof a === 'number' ? '-' : '1')).join('');
    compile(op, dtype, kinds, `1${layouts}`, accumulate ? 'add' : 'store')(o, out.offset, 0, 1, ...args, 1, size);
    return;
  }
  const views = operands.map((a) => (typeof a === 'number' ? a : broadcastView(a, shape)));
  const arrays = [out, ...views.filter((v): v is NdArray => typeof v !== 'number')];
  // The last two axes form the plane of one call (a row for 1-d, one element for 0-d).
  const nd = shape.length;
  const s0 = (v: NdArray) => (nd >= 2 ? v.stride[nd - 2] : 0);
  const s1 = (v: NdArray) => (nd >= 1 ? v.stride[nd - 1] : 0);
  const layouts = [out, ...views].map((v) => (typeof v === 'number' ? '-' : s1(v) === 1 ? '1' : 's')).join('');
  const across = views.some((v) => typeof v !== 'number' && Math.abs(s0(v)) === 1 && s1(v) !== 1);
  const mode: WriteMode = !accumulate || s0(out) !== 0 || nd < 2 || shape[nd - 2] < 8 ? (accumulate ? 'add' : 'store') : across ? 'sumRows16' : 'sumRows8';
  const loop = compile(op, dtype, kinds, layouts, mode);
  // The argument list is built once; only the arrays' offsets change from plane to plane.
  const args: unknown[] = [o, 0, s0(out), s1(out)];
  const slots = [1];
  for (const v of views) {
    if (typeof v === 'number') args.push(v, 0, 0, 0);
    else slots.push(args.push(v.data, 0, s0(v), s1(v)) - 3);
  }
  args.push(nd >= 2 ? shape[nd - 2] : 1, nd >= 1 ? shape[nd - 1] : 1);
  forEachRow(shape.slice(0, Math.max(0, nd - 1)), arrays, (offs) => {
    for (let j = 0; j < slots.length; j++) args[slots[j]] = offs[j];
    loop(...(args as [TypedArray, number, number]));
  });
}

export const unary = defineKernel('array.unary', (op: string, dtype: DType, a: Operand): NdArray => apply(op, dtype, [a]));

export const binary = defineKernel('array.binary', (op: string, dtype: DType, a: Operand, b: Operand): NdArray => apply(op, dtype, [a, b]));

export const ternary = defineKernel('array.ternary', (op: string, dtype: DType, a: Operand, b: Operand, c: Operand): NdArray =>
  apply(op, dtype, [a, b, c]),
);
