/**
 * Normalisation: the public graph, read once into explicit nodes.
 *
 * In the public format a string argument may be a key or a literal and an array may be a task, a
 * list to walk, or data. Deciding that on every execution would cost a hash lookup per string per
 * run; instead the graph is read once into nodes whose kind is fixed (literal, reference by index,
 * task, list), with keys numbered 0..n-1 and dependency lists as index arrays. The executor and the
 * thread dispatcher only ever see this form.
 */
import { GraphError } from './errors.js';
import { isGraphLike, isTask, Literal, type Graph, type Key, type TaskFn } from './spec.js';

export const LIT = 0;
export const REF = 1;
export const TASK = 2;
export const LIST = 3;

export type Node =
  | { readonly k: typeof LIT; readonly v: unknown }
  | { readonly k: typeof REF; readonly i: number }
  | { readonly k: typeof TASK; readonly fn: TaskFn; readonly args: readonly Node[] }
  | { readonly k: typeof LIST; readonly items: readonly Node[] };

export interface NormalGraph {
  readonly keys: readonly Key[];
  readonly index: ReadonlyMap<Key, number>;
  readonly nodes: readonly Node[];
  readonly dependencies: readonly (readonly number[])[];
  readonly dependents: readonly (readonly number[])[];
}

/** Reads a public graph into explicit nodes. Throws a TypeError for anything that is not a graph. */
export function normalize(graph: Graph): NormalGraph {
  assertGraph(graph);
  const keys = Object.keys(graph);
  const index = new Map<Key, number>();
  for (let i = 0; i < keys.length; i++) index.set(keys[i], i);
  const nodes: Node[] = new Array(keys.length);
  const dependencies: number[][] = new Array(keys.length);
  const deps = new Set<number>();
  for (let i = 0; i < keys.length; i++) {
    deps.clear();
    nodes[i] = toNode(graph[keys[i]], index, deps);
    dependencies[i] = deps.size === 0 ? EMPTY : [...deps];
  }
  return { keys, index, nodes, dependencies, dependents: reverse(dependencies) };
}

const EMPTY: number[] = [];

/**
 * Nesting depth up to which `toNode` and `evaluate` recurse; deeper subtrees (a long chain that
 * `inline` collapsed into one task nests one level per link) are walked with an explicit stack, so
 * no depth overflows the call stack.
 */
const MAX_RECURSION = 1000;

function toNode(x: unknown, index: ReadonlyMap<Key, number>, deps: Set<number>, depth = 0): Node {
  if (!Array.isArray(x)) return leafNode(x, index, deps);
  if (depth >= MAX_RECURSION) return toNodeDeep(x, index, deps);
  if (isTask(x)) {
    const args = new Array<Node>(x.length - 1);
    for (let j = 1; j < x.length; j++) args[j - 1] = toNode(x[j], index, deps, depth + 1);
    return { k: TASK, fn: x[0], args };
  }
  return listNode(x, x.map((item) => toNode(item, index, deps, depth + 1)));
}

function leafNode(x: unknown, index: ReadonlyMap<Key, number>, deps: Set<number>): Node {
  if (typeof x === 'string') {
    const i = index.get(x);
    if (i === undefined) return { k: LIT, v: x };
    deps.add(i);
    return { k: REF, i };
  }
  if (x instanceof Literal) return { k: LIT, v: x.value };
  return { k: LIT, v: x };
}

/** The node of an array that is not a task, given the nodes of its items. */
function listNode(x: readonly unknown[], items: Node[]): Node {
  // An array with nothing to resolve stays the caller's own array, uncopied.
  const unchanged = items.every((n, j) => n.k === LIT && n.v === x[j]);
  if (unchanged) return { k: LIT, v: x };
  return items.every((n) => n.k === LIT) ? { k: LIT, v: items.map((n) => (n as { v: unknown }).v) } : { k: LIST, items };
}

/** `toNode` with an explicit stack instead of recursion, for deeply nested arrays. */
function toNodeDeep(root: readonly unknown[], index: ReadonlyMap<Key, number>, deps: Set<number>): Node {
  interface Frame {
    readonly x: readonly unknown[];
    readonly task: boolean;
    j: number;
    readonly out: Node[];
  }
  const open = (x: readonly unknown[]): Frame => {
    const task = isTask(x);
    return { x, task, j: task ? 1 : 0, out: [] };
  };
  const stack: Frame[] = [open(root)];
  for (;;) {
    const f = stack[stack.length - 1];
    if (f.j < f.x.length) {
      const item = f.x[f.j++];
      if (Array.isArray(item)) stack.push(open(item));
      else f.out.push(leafNode(item, index, deps));
      continue;
    }
    stack.pop();
    const node: Node = f.task ? { k: TASK, fn: f.x[0] as TaskFn, args: f.out } : listNode(f.x, f.out);
    if (stack.length === 0) return node;
    stack[stack.length - 1].out.push(node);
  }
}

/** The reverse of an adjacency list. */
export function reverse(adj: readonly (readonly number[])[]): number[][] {
  const out: number[][] = Array.from({ length: adj.length }, () => []);
  for (let i = 0; i < adj.length; i++) for (const j of adj[i]) out[j].push(i);
  return out;
}

/**
 * Evaluates a node against computed results (indexed like the graph's keys). A task may be async:
 * when an argument evaluates to a Promise (a nested async task, as fusing makes), the call waits
 * for its arguments and the result is a Promise that the executor awaits. `depth` is internal (how
 * deep the recursion already is); callers leave it out.
 */
export function evaluate(node: Node, results: readonly unknown[], depth = 0): unknown {
  switch (node.k) {
    case LIT:
      return node.v;
    case REF:
      return results[node.i];
    case TASK: {
      if (depth >= MAX_RECURSION) return evaluateDeep(node, results);
      const a = node.args;
      const fn = node.fn;
      if (a.length === 0) return fn();
      if (a.length === 1) {
        const x = evaluate(a[0], results, depth + 1);
        return x instanceof Promise ? x.then((v) => fn(v)) : fn(x);
      }
      const vals = evaluateAll(a, results, depth + 1);
      return vals instanceof Promise ? vals.then((v) => fn(...v)) : fn(...vals);
    }
    case LIST:
      if (depth >= MAX_RECURSION) return evaluateDeep(node, results);
      return evaluateAll(node.items, results, depth + 1);
  }
}

function evaluateAll(nodes: readonly Node[], results: readonly unknown[], depth: number): unknown[] | Promise<unknown[]> {
  const vals = new Array<unknown>(nodes.length);
  let pending = false;
  for (let j = 0; j < nodes.length; j++) {
    const v = evaluate(nodes[j], results, depth);
    if (v instanceof Promise) pending = true;
    vals[j] = v;
  }
  return pending ? Promise.all(vals) : vals;
}

/** `evaluate` with an explicit stack instead of recursion, for deeply nested tasks and lists. */
function evaluateDeep(root: Node, results: readonly unknown[]): unknown {
  interface Frame {
    readonly node: Node & { k: typeof TASK | typeof LIST };
    readonly children: readonly Node[];
    j: number;
    readonly vals: unknown[];
    pending: boolean;
  }
  const open = (node: Node & { k: typeof TASK | typeof LIST }): Frame => {
    const children = node.k === TASK ? node.args : node.items;
    return { node, children, j: 0, vals: new Array<unknown>(children.length), pending: false };
  };
  if (root.k === LIT || root.k === REF) return evaluate(root, results, 0);
  const stack: Frame[] = [open(root)];
  let value: unknown;
  for (;;) {
    const f = stack[stack.length - 1];
    if (f.j < f.children.length) {
      const child = f.children[f.j];
      if (child.k === TASK || child.k === LIST) {
        stack.push(open(child));
        continue;
      }
      value = child.k === LIT ? child.v : results[child.i];
    } else {
      stack.pop();
      const vals = f.pending ? Promise.all(f.vals) : f.vals;
      if (f.node.k === TASK) {
        const fn = f.node.fn;
        value = vals instanceof Promise ? vals.then((v) => fn(...v)) : fn(...vals);
      } else {
        value = vals;
      }
      if (stack.length === 0) return value;
    }
    // `value` is the result of the current child of the frame on top of the stack.
    const top = stack[stack.length - 1];
    if (value instanceof Promise) top.pending = true;
    top.vals[top.j++] = value;
  }
}

/** Every key named in `keys`, checked against the graph: a missing key is an error naming it. */
export function resolveKeys(g: NormalGraph, keys: readonly Key[]): number[] {
  return keys.map((k) => {
    const i = g.index.get(k);
    if (i === undefined) throw GraphError.missingKey(k, g.keys);
    return i;
  });
}

function assertGraph(graph: unknown): asserts graph is Graph {
  if (!isGraphLike(graph)) {
    throw new TypeError(
      `a graph must be a plain object of keys to tasks or values, like { x: 1, y: [inc, 'x'] }; got ${describe(graph)}`,
    );
  }
}

/** A short description of a value's type for error messages. */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (typeof x === 'object') return `an instance of ${x.constructor?.name ?? 'a class'}`;
  return `${typeof x} ${String(x).slice(0, 40)}`;
}
