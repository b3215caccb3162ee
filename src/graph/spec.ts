/**
 * The public graph format, as dask defines it and DESIGN.md fixes it for TypeScript.
 *
 * A graph is a plain object `{ [key]: task | value }`. A task is an array whose first element is
 * a function: `[fn, ...args]`. When a task runs, each argument is resolved: a string that is a key
 * of the graph becomes that key's value, arrays are walked element by element, nested tasks are
 * evaluated, and anything else (numbers, objects, typed arrays, strings that are not keys) is passed
 * through as a literal.
 */

/** A key of a graph. Tuple keys of dask (`('x', 0)`) use the canonical string of `tupleKey`. */
export type Key = string;

/** Any function a task may call. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TaskFn = (...args: any[]) => unknown;

/** `[fn, ...args]`: a call whose arguments are resolved against the graph before `fn` runs. */
export type Task = readonly [TaskFn, ...unknown[]];

/** A graph: keys to tasks or plain values. */
export type Graph = Record<Key, unknown>;

/** A key, or arrays of keys nested to any depth; `get` answers with the same nesting. */
export type KeyNest = Key | readonly KeyNest[];

/** True when `x` is a task: an array whose first element is a function. */
export function isTask(x: unknown): x is Task {
  return Array.isArray(x) && x.length > 0 && typeof x[0] === 'function';
}

/**
 * Marks a value to be passed as is, never resolved: a string that happens to equal a key, or an
 * array that starts with a function (dask's `quote`).
 */
export class Literal<T = unknown> {
  constructor(readonly value: T) {}
}

/** `literal(v)` in an argument position passes `v` through untouched. */
export function literal<T>(value: T): Literal<T> {
  return new Literal(value);
}

/** True for a plain object that can be a graph (not an array, not a class instance). */
export function isGraphLike(x: unknown): x is Graph {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}
