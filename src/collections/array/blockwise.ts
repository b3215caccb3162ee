/**
 * blockwise: dask's index notation for operations over aligned blocks.
 *
 * Design: every array argument carries a string of index letters, one per axis (`'ij'`). Arrays
 * sharing a letter must have the same length along it; their chunks there are aligned to the
 * common refinement (rechunking the arrays that differ) unless `alignArrays: false`, which makes
 * differing chunks an error instead. An axis of length 1 in one block broadcasts: its block 0
 * serves every output block. The output has one block per combination of its letters' block
 * indices. A letter that appears in the inputs but not in the output is contracted: in that
 * argument's position the task receives the list of blocks along it (nested one level per
 * contracted letter, in the order of the argument's index), or with `concatenate: true` those
 * blocks joined into one.
 *
 * The user function is the task's function itself (`[fn, ...args]`), so it travels to other
 * threads like any task function (README, "Functions on other threads and machines"); blockwise
 * never wraps it in a closure. Joining contracted blocks is a nested kernel task in the argument.
 */
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import { literal, type Graph, type TaskFn } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { fmtShape } from './axes.js';
import { blockIndices, type Chunks } from './chunks.js';
import * as k from './chunk/blockwise.js';
import { DaskArray } from './core.js';
import { assertDType, type DType } from './dtype.js';
import { rechunk, refineChunks } from './rechunk.js';

export interface BlockwiseOptions {
  /** The output's element type (required: blockwise cannot run `fn` to find out). */
  readonly dtype: DType;
  /** The output's whole name (default: `${fn.name || 'blockwise'}-${token}`). */
  readonly name?: string;
  /** Join the blocks along contracted letters into one block instead of passing a list. */
  readonly concatenate?: boolean;
  /** Letters of the output that no input has, with their length (one block each) or chunks. */
  readonly newAxes?: Readonly<Record<string, number | readonly number[]>>;
  /**
   * Output letters whose block sizes `fn` changes: a size for every block, the explicit sizes, or
   * a function from an input block size to the output block size (as dask's adjust_chunks).
   */
  readonly adjustChunks?: Readonly<Record<string, number | readonly number[] | ((size: number) => number)>>;
  /** Rechunk arrays whose chunks differ along a shared letter (default true); false: an error. */
  readonly alignArrays?: boolean;
}

/** One argument after parsing: an array with its index letters, or a constant. */
export type Arg = { readonly array: DaskArray; readonly index: string[] } | { readonly value: unknown };

/** Builds a task from the user function and its resolved-argument expressions for one output block. */
export type MakeTask = (args: unknown[], outBlock: number[], outShape: number[]) => unknown[];

const OPTIONS = ['dtype', 'name', 'concatenate', 'newAxes', 'adjustChunks', 'alignArrays'];

/**
 * `blockwise(fn, 'ik', x, 'ij', y, 'jk', { dtype })`: block (i, k) of the result is
 * `fn(xBlocks, yBlocks)` where j is contracted (a list of blocks along j). Arguments come as
 * (array, index) pairs; a constant comes as (value, null). The options object is last.
 */
export function blockwise(fn: TaskFn, outIndex: string, ...rest: unknown[]): DaskArray {
  if (typeof fn !== 'function') throw new TypeError(`blockwise: the first argument must be a function, got ${typeof fn}`);
  if (rest.length % 2 !== 1) {
    throw new TypeError('blockwise: expected (array, index) pairs, (value, null) for constants, then an options object with dtype');
  }
  const opts = rest[rest.length - 1] as BlockwiseOptions;
  const pairs = rest.slice(0, -1);
  const args: Arg[] = [];
  for (let p = 0; p < pairs.length; p += 2) args.push(parseArg(pairs[p], pairs[p + 1], p / 2));
  return blockwiseWith((a) => [fn, ...a], { name: fn.name, token: fn }, outIndex, args, opts);
}

/**
 * blockwise with a custom task per output block (mapBlocks wraps the user function in a kernel).
 * `op` names the operation and holds what identifies it (the function) for the output's token.
 */
export function blockwiseWith(makeTask: MakeTask, op: { name: string; token: unknown }, outIndex: string, args: readonly Arg[], opts: BlockwiseOptions): DaskArray {
  checkOptions(opts);
  const dtype = assertDType(opts.dtype, 'blockwise');
  const out = letters(outIndex, 'the output index');
  checkLetters(out, args, opts);
  const aligned = align(args, opts.alignArrays ?? true);
  const sizes = letterChunks(aligned, opts);
  const outChunks: Chunks = out.map((l) => adjusted(l, sizes.get(l)!, opts));
  const name = opts.name ?? `${opName(op.name)}-${tokenize(op.token, outIndex, aligned.map(argToken), opts.concatenate ?? false, opts.newAxes, opts.adjustChunks, dtype)}`;
  const layer: Graph = {};
  for (const block of blockIndices(outChunks.map((c) => c.length))) {
    const at = new Map(out.map((l, i) => [l, block[i]]));
    const taskArgs = aligned.map((a) => argExpr(a, at, sizes, opts.concatenate ?? false));
    layer[tupleKey(name, ...block)] = makeTask(taskArgs, block, block.map((b, i) => outChunks[i][b]));
  }
  const inputs = aligned.flatMap((a) => ('array' in a ? [a.array.graph] : []));
  return new DaskArray(LayeredGraph.of(name, layer, ...inputs), name, outChunks, dtype);
}

export function parseArg(x: unknown, index: unknown, position: number): Arg {
  if (index === null || index === undefined) {
    if (x instanceof DaskArray) throw new TypeError(`blockwise: argument ${position} is an array but its index is ${String(index)}; give one letter per axis`);
    return { value: x };
  }
  if (typeof index !== 'string') throw new TypeError(`blockwise: the index of argument ${position} must be a string of letters or null, got ${typeof index}`);
  if (!(x instanceof DaskArray)) throw new TypeError(`blockwise: argument ${position} has index '${index}' but is not a dask array; pass null as the index of a constant`);
  const l = letters(index, `the index of argument ${position}`);
  if (l.length !== x.ndim) {
    throw new RangeError(`blockwise: argument ${position} has ${x.ndim} axes (shape ${fmtShape(x.shape)}) but index '${index}' has ${l.length} letters`);
  }
  return { array: x, index: l };
}

function letters(index: string, what: string): string[] {
  const l = [...index];
  const dup = l.find((c, i) => l.indexOf(c) !== i);
  if (dup !== undefined) throw new RangeError(`blockwise: ${what} '${index}' repeats the letter '${dup}'`);
  return l;
}

function checkOptions(opts: BlockwiseOptions): void {
  if (opts === null || typeof opts !== 'object' || opts instanceof DaskArray) throw new TypeError('blockwise: the last argument must be an options object with dtype');
  for (const key of Object.keys(opts)) {
    if (!OPTIONS.includes(key)) throw new TypeError(`blockwise: unknown option '${key}'; known options are ${OPTIONS.join(', ')}`);
  }
  if (opts.dtype === undefined) throw new TypeError('blockwise: the dtype option is required (the output element type)');
}

function checkLetters(out: readonly string[], args: readonly Arg[], opts: BlockwiseOptions): void {
  const inputLetters = new Set(args.flatMap((a) => ('index' in a ? a.index : [])));
  for (const l of Object.keys(opts.newAxes ?? {})) {
    if (inputLetters.has(l)) throw new RangeError(`blockwise: new axis '${l}' is already an index of an input`);
    if (!out.includes(l)) throw new RangeError(`blockwise: new axis '${l}' is not in the output index '${out.join('')}'`);
  }
  for (const l of out) {
    if (!inputLetters.has(l) && !(l in (opts.newAxes ?? {}))) {
      throw new RangeError(`blockwise: output index '${out.join('')}' has the letter '${l}', which no input has; declare it in newAxes`);
    }
  }
  for (const l of Object.keys(opts.adjustChunks ?? {})) {
    if (!out.includes(l)) throw new RangeError(`blockwise: adjustChunks names '${l}', which is not in the output index '${out.join('')}'`);
  }
}

/** Whether axis `axis` of `x` broadcasts (length 1 in one block) against longer axes. */
function isBroadcast(x: DaskArray, axis: number): boolean {
  return x.chunks[axis].length === 1 && x.chunks[axis][0] === 1;
}

/**
 * Checks lengths along each letter and brings the arrays' chunks into agreement: rechunked to
 * the common refinement, or an error naming the letter and both chunkings.
 */
function align(args: readonly Arg[], rechunkToMatch: boolean): Arg[] {
  const target = new Map<string, number[]>();
  for (const [l, uses] of usesByLetter(args)) {
    const real = uses.filter((u) => !isBroadcast(u.a, u.axis));
    const pool = real.length > 0 ? real : uses;
    for (const u of pool) checkUse(l, pool[0], u, rechunkToMatch);
    target.set(l, refineChunks(...pool.map((u) => u.a.chunks[u.axis])));
  }
  return args.map((arg) => {
    if (!('array' in arg)) return arg;
    const chunks = arg.index.map((l, axis) => (isBroadcast(arg.array, axis) ? arg.array.chunks[axis] : target.get(l)!));
    const array = rechunk(arg.array, chunks);
    return array === arg.array ? arg : { array, index: arg.index };
  });
}

interface Use {
  readonly pos: number;
  readonly axis: number;
  readonly a: DaskArray;
}

function usesByLetter(args: readonly Arg[]): Map<string, Use[]> {
  const along = new Map<string, Use[]>();
  args.forEach((arg, pos) => {
    if ('array' in arg) arg.index.forEach((l, axis) => along.set(l, [...(along.get(l) ?? []), { pos, axis, a: arg.array }]));
  });
  return along;
}

/** `u` against the first use of letter `l`: the same length (unknown equals unknown), and the same chunks unless rechunking. */
function checkUse(l: string, first: Use, u: Use, rechunkToMatch: boolean): void {
  const [n0, n] = [first.a.shape[first.axis], u.a.shape[u.axis]];
  if (!Object.is(n, n0)) {
    throw new RangeError(`blockwise: index '${l}' has length ${n0} in argument ${first.pos} (shape ${fmtShape(first.a.shape)}) but ${n} in argument ${u.pos} (shape ${fmtShape(u.a.shape)})`);
  }
  const [c0, c] = [first.a.chunks[first.axis], u.a.chunks[u.axis]];
  if (!rechunkToMatch && (c.length !== c0.length || c.some((x, i) => !Object.is(x, c0[i])))) {
    throw new RangeError(`blockwise: chunks along index '${l}' differ: argument ${first.pos} has (${c0.join(', ')}) and argument ${u.pos} has (${c.join(', ')}); rechunk them alike or leave alignArrays on`);
  }
}

/** The chunks along every letter (inputs after alignment, then newAxes). */
function letterChunks(args: readonly Arg[], opts: BlockwiseOptions): Map<string, readonly number[]> {
  const m = new Map<string, readonly number[]>();
  for (const arg of args) {
    if (!('array' in arg)) continue;
    arg.index.forEach((l, axis) => {
      const c = arg.array.chunks[axis];
      const prior = m.get(l);
      if (prior === undefined || (prior.length === 1 && prior[0] === 1 && !isBroadcast(arg.array, axis))) m.set(l, c);
    });
  }
  for (const [l, spec] of Object.entries(opts.newAxes ?? {})) {
    const c = typeof spec === 'number' ? [spec] : [...spec];
    if (c.length === 0 || c.some((n) => !(Number.isInteger(n) && n >= 0))) {
      throw new RangeError(`blockwise: new axis '${l}' needs a non-negative integer length or a list of block sizes, got ${JSON.stringify(spec)}`);
    }
    m.set(l, c);
  }
  return m;
}

function adjusted(l: string, chunks: readonly number[], opts: BlockwiseOptions): readonly number[] {
  const adj = opts.adjustChunks?.[l];
  if (adj === undefined) return chunks;
  if (typeof adj === 'function') return chunks.map((c) => adj(c));
  if (typeof adj === 'number') return chunks.map(() => adj);
  if (adj.length !== chunks.length) {
    throw new RangeError(`blockwise: adjustChunks for '${l}' gives ${adj.length} block sizes but the output has ${chunks.length} blocks along it`);
  }
  return [...adj];
}

/** What the task receives in one argument's position for output block `at`. */
function argExpr(arg: Arg, at: ReadonlyMap<string, number>, sizes: ReadonlyMap<string, readonly number[]>, concatenate: boolean): unknown {
  if (!('array' in arg)) return literal(arg.value);
  const { array, index } = arg;
  const contracted = index.map((l, axis) => (at.has(l) ? -1 : axis)).filter((axis) => axis >= 0);
  const blockOf = (axis: number, i: number) => (isBroadcast(array, axis) ? 0 : i);
  if (contracted.length === 0) return array.blockKey(...index.map((l, axis) => blockOf(axis, at.get(l)!)));
  // Nested lists over the contracted axes, outermost first, in the argument's axis order.
  const nest = (level: number, fixed: Map<number, number>): unknown => {
    if (level === contracted.length) return array.blockKey(...index.map((l, axis) => (fixed.has(axis) ? fixed.get(axis)! : blockOf(axis, at.get(l)!))));
    const axis = contracted[level];
    const n = isBroadcast(array, axis) ? 1 : sizes.get(index[axis])!.length;
    return Array.from({ length: n }, (_, i) => nest(level + 1, new Map(fixed).set(axis, i)));
  };
  const keys = nest(0, new Map());
  return concatenate ? [k.concatNested, keys, contracted] : keys;
}

function argToken(arg: Arg): unknown {
  return 'array' in arg ? [arg.array.name, arg.index.join('')] : arg.value;
}

function opName(fnName: string): string {
  return /^[A-Za-z_$][\w$.]*$/.test(fnName) ? fnName : 'blockwise';
}
