/**
 * Elementwise operations: numpy ufuncs over chunked arrays.
 *
 * `elemwise(op, ...args)` broadcasts the operands' shapes (numpy's rules, checked when the graph
 * is built), rechunks them to a common chunking (`unifyChunks`: the union of block boundaries on
 * each axis; length-1 axes keep their one block), works out the result dtype with numpy's
 * promotion, and adds one task per output block calling the op's kernel (chunk/elemwise.ts) on the
 * matching input blocks. JavaScript numbers and booleans act like numpy's Python scalars: they
 * travel as numbers inside the tasks and only "weakly" affect the dtype.
 */
import { tokenize } from '../../graph/tokenize.js';
import * as k from './chunk/elemwise.js';
import type { Chunks } from './chunks.js';
import { DaskArray } from './core.js';
import { fromBlockTasks } from './creation.js';
import { isFloat, isInteger, promote, promoteScalar, floatResult, type DType } from './dtype.js';
import { unifyChunks } from './rechunk.js';

/** An operand: an array, or a JavaScript number or boolean (numpy's Python scalars). */
export type Operand = DaskArray | number | boolean;

export type UnaryOp = keyof typeof k.UNARY;
export type BinaryOp = keyof typeof k.BINARY;
export type TernaryOp = keyof typeof k.TERNARY;
export type ElemwiseOp = UnaryOp | BinaryOp | TernaryOp;

/** How each op's result dtype follows from its operands' (already promoted) dtype. */
const BOOL_OPS = new Set(['isnan', 'isinf', 'isfinite', 'logicalNot', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalXor']);
const FLOAT_OPS = new Set(['exp', 'log', 'sqrt', 'sin', 'cos', 'tanh']);
/** Ops with no bool loop in numpy: bool operands compute in int8. */
const INT8_FOR_BOOL = new Set(['pow', 'mod', 'floordiv']);

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int8: [-(2 ** 7), 2 ** 7 - 1],
  int16: [-(2 ** 15), 2 ** 15 - 1],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint8: [0, 2 ** 8 - 1],
  uint16: [0, 2 ** 16 - 1],
  uint32: [0, 2 ** 32 - 1],
};

function arity(op: string): number {
  if (op in k.UNARY) return 1;
  if (op in k.BINARY) return 2;
  if (op in k.TERNARY) return 3;
  const all = [...Object.keys(k.UNARY), ...Object.keys(k.BINARY), ...Object.keys(k.TERNARY)];
  throw new TypeError(`elemwise: unknown op '${op}'; known ops are ${all.join(', ')}`);
}

/** numpy's broadcast shape; a RangeError naming two shapes that do not broadcast. */
export function broadcastShapes(...shapes: readonly (readonly number[])[]): number[] {
  const ndim = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = new Array(ndim).fill(1);
  const from: (readonly number[] | undefined)[] = new Array(ndim).fill(undefined);
  for (const s of shapes) {
    const shift = ndim - s.length;
    s.forEach((n, i) => {
      const a = i + shift;
      if (n === 1 || Object.is(n, out[a])) return;
      // An unknown length (NaN) is taken to match, as in dask.
      if (out[a] === 1 || Number.isNaN(out[a]) || Number.isNaN(n)) {
        if (out[a] === 1 || Number.isNaN(out[a])) [out[a], from[a]] = [n, s];
        return;
      }
      throw new RangeError(`shapes [${from[a]!.join(',')}] and [${s.join(',')}] do not broadcast`);
    });
  }
  return out;
}

/** The dtype a scalar alone would have (numpy: bool, int64 -> int32 here, float64). */
function scalarDType(s: number | boolean): DType {
  if (typeof s === 'boolean') return 'bool';
  return Number.isInteger(s) && Math.abs(s) < 2 ** 31 ? 'int32' : 'float64';
}

/** The common dtype of the operands: arrays promote, scalars act weakly (NEP 50). */
export function resultType(args: readonly Operand[]): DType {
  const arrays = args.filter((a): a is DaskArray => a instanceof DaskArray);
  const scalars = args.filter((a): a is number | boolean => !(a instanceof DaskArray));
  if (arrays.length === 0) return scalars.map(scalarDType).reduce(promote);
  let d = arrays.map((a) => a.dtype).reduce(promote);
  for (const s of scalars) d = promoteScalar(d, s);
  return d;
}

/** The dtype `op` gives on `args`; throws where numpy has no loop for the types. */
export function opDType(op: string, args: readonly Operand[]): DType {
  // where's condition does not take part in the promotion.
  const common = resultType(op === 'where' ? args.slice(1) : args);
  if (BOOL_OPS.has(op)) return 'bool';
  if (FLOAT_OPS.has(op)) return floatResult(common);
  // numpy's true_divide computes integers in float64, whatever their width.
  if (op === 'div') return isFloat(common) ? common : 'float64';
  if (common === 'bool') {
    if (op === 'sub' || op === 'neg') {
      throw new TypeError(`${op}: numpy does not support it on booleans; use logicalXor or logicalNot instead`);
    }
    if (INT8_FOR_BOOL.has(op)) return 'int8';
  }
  return common;
}

/** numpy 2 raises OverflowError for a Python int scalar out of an integer result type's range. */
function checkScalars(op: string, dtype: DType, args: readonly Operand[]): void {
  const range = INT_RANGE[dtype];
  if (!range || BOOL_OPS.has(op)) return;
  for (const s of args) {
    if (typeof s === 'number' && Number.isInteger(s) && (s < range[0] || s > range[1])) {
      throw new RangeError(`${op}: the scalar ${s} is out of bounds for ${dtype}`);
    }
  }
  if (op === 'pow' && isInteger(dtype) && typeof args[1] === 'number' && args[1] < 0) {
    throw new RangeError('pow: integers to negative integer powers are not allowed');
  }
}

/**
 * Applies an elementwise op to arrays and scalars, with numpy's broadcasting and promotion:
 * `elemwise('add', x, 1)`, `elemwise('where', cond, x, y)`.
 */
export function elemwise(op: ElemwiseOp, ...args: Operand[]): DaskArray {
  if (args.length !== arity(op)) throw new TypeError(`${op} takes ${arity(op)} operand(s), got ${args.length}`);
  checkOperands(op, args);
  const dtype = opDType(op, args);
  checkScalars(op, dtype, args);
  return build(op, dtype, args);
}

function checkOperands(op: string, args: readonly Operand[]): void {
  for (const a of args) {
    if (!(a instanceof DaskArray) && typeof a !== 'number' && typeof a !== 'boolean') {
      throw new TypeError(`${op}: operands must be arrays, numbers or booleans, got ${a === null ? 'null' : typeof a}`);
    }
  }
  if (!args.some((a) => a instanceof DaskArray)) throw new TypeError(`${op}: at least one operand must be an array`);
}

/** The graph of `op` on `args` with result type `dtype`. */
function build(op: ElemwiseOp, dtype: DType, args: readonly Operand[]): DaskArray {
  const arrays = args.filter((a): a is DaskArray => a instanceof DaskArray);
  const shape = broadcastShapes(...arrays.map((a) => a.shape));
  const aligned = unifyChunks(...arrays);
  const operands = args.map((a) => (a instanceof DaskArray ? aligned[arrays.indexOf(a)] : Number(a)));
  const kernel = arity(op) === 1 ? k.unary : arity(op) === 2 ? k.binary : k.ternary;
  const name = `${op}-${tokenize(op, ...operands.map((a) => (a instanceof DaskArray ? a.name : a)), dtype)}`;
  return fromBlockTasks(
    name,
    outputChunks(shape, aligned),
    dtype,
    (index) => [kernel, op, dtype, ...operands.map((a) => (a instanceof DaskArray ? inputBlock(a, index) : a))],
    aligned.map((a) => a.graph),
  );
}

/** Along each axis, the chunks of an operand that is not broadcast there (else one block of 1). */
function outputChunks(shape: readonly number[], arrays: readonly DaskArray[]): Chunks {
  return shape.map((n, axis) => {
    for (const a of arrays) {
      const c = a.chunks[axis - (shape.length - a.ndim)];
      if (c !== undefined && !(a.shape[axis - (shape.length - a.ndim)] === 1 && n !== 1)) return c;
    }
    return [n];
  });
}

/** The key of `a`'s block feeding output block `index`: block 0 along broadcast axes. */
function inputBlock(a: DaskArray, index: readonly number[]): string {
  const shift = index.length - a.ndim;
  return a.blockKey(...a.chunks.map((c, axis) => (c.length === 1 ? 0 : index[axis + shift])));
}

// Arithmetic. Each is numpy's ufunc of the same name (sub = subtract, div = true_divide,
// mod = remainder, floordiv = floor_divide, neg = negative).
export const add = (a: Operand, b: Operand): DaskArray => elemwise('add', a, b);
export const sub = (a: Operand, b: Operand): DaskArray => elemwise('sub', a, b);
export const mul = (a: Operand, b: Operand): DaskArray => elemwise('mul', a, b);
/** True division: integers give float64. */
export const div = (a: Operand, b: Operand): DaskArray => elemwise('div', a, b);
export const floordiv = (a: Operand, b: Operand): DaskArray => elemwise('floordiv', a, b);
/** Remainder with the sign of the divisor (numpy's `%`); integer modulo 0 is 0. */
export const mod = (a: Operand, b: Operand): DaskArray => elemwise('mod', a, b);
export const pow = (a: Operand, b: Operand): DaskArray => elemwise('pow', a, b);
/** Elementwise maximum and minimum; a NaN in either operand gives NaN. */
export const maximum = (a: Operand, b: Operand): DaskArray => elemwise('maximum', a, b);
export const minimum = (a: Operand, b: Operand): DaskArray => elemwise('minimum', a, b);
export const neg = (x: DaskArray): DaskArray => elemwise('neg', x);
export const abs = (x: DaskArray): DaskArray => elemwise('abs', x);

// Floating-point functions: integer arrays give float (float32 up to 16-bit integers).
export const exp = (x: DaskArray): DaskArray => elemwise('exp', x);
export const log = (x: DaskArray): DaskArray => elemwise('log', x);
export const sqrt = (x: DaskArray): DaskArray => elemwise('sqrt', x);
export const sin = (x: DaskArray): DaskArray => elemwise('sin', x);
export const cos = (x: DaskArray): DaskArray => elemwise('cos', x);
export const tanh = (x: DaskArray): DaskArray => elemwise('tanh', x);

// Rounding keeps the dtype (a no-op on integers, as in numpy 2).
export const floor = (x: DaskArray): DaskArray => elemwise('floor', x);
export const ceil = (x: DaskArray): DaskArray => elemwise('ceil', x);
/** numpy's round: half to even; `decimals` may be negative (round(1250, -2) is 1200). */
export function round(x: DaskArray, decimals = 0): DaskArray {
  if (!Number.isInteger(decimals)) throw new TypeError(`round: decimals must be an integer, got ${decimals}`);
  if (decimals === 0) return elemwise('round', x);
  checkOperands('round', [x]);
  // decimals is a parameter, not an operand: it takes no part in the promotion.
  return build('roundTo', opDType('round', [x]), [x, decimals]);
}

/** `x` limited to [min, max]; either bound may be null (not both). Bounds may be arrays. */
export function clip(x: DaskArray, min: Operand | null, max: Operand | null): DaskArray {
  if (min === null && max === null) throw new TypeError('clip: give min, max or both');
  const given = [x, ...[min, max].filter((b): b is Operand => b !== null)];
  checkOperands('clip', given);
  const dtype = resultType(given);
  checkScalars('clip', dtype, given);
  return build('clip', dtype, [x, min ?? -Infinity, max ?? Infinity]);
}

// Comparisons and logic give bool; any non-zero value (NaN included) is true.
export const eq = (a: Operand, b: Operand): DaskArray => elemwise('eq', a, b);
export const ne = (a: Operand, b: Operand): DaskArray => elemwise('ne', a, b);
export const lt = (a: Operand, b: Operand): DaskArray => elemwise('lt', a, b);
export const le = (a: Operand, b: Operand): DaskArray => elemwise('le', a, b);
export const gt = (a: Operand, b: Operand): DaskArray => elemwise('gt', a, b);
export const ge = (a: Operand, b: Operand): DaskArray => elemwise('ge', a, b);
export const logicalAnd = (a: Operand, b: Operand): DaskArray => elemwise('logicalAnd', a, b);
export const logicalOr = (a: Operand, b: Operand): DaskArray => elemwise('logicalOr', a, b);
export const logicalXor = (a: Operand, b: Operand): DaskArray => elemwise('logicalXor', a, b);
export const logicalNot = (x: DaskArray): DaskArray => elemwise('logicalNot', x);
export const isnan = (x: DaskArray): DaskArray => elemwise('isnan', x);
export const isinf = (x: DaskArray): DaskArray => elemwise('isinf', x);
export const isfinite = (x: DaskArray): DaskArray => elemwise('isfinite', x);

/** `a` where `cond` is true, else `b`; all three broadcast together. */
export const where = (cond: Operand, a: Operand, b: Operand): DaskArray => elemwise('where', cond, a, b);
