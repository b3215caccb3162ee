/**
 * The client's end of a task's journey: a public graph, or one `client.submit(fn, ...args)` call,
 * to the run specs that workers execute (src/distributed/worker/executor.ts is the other end).
 *
 * A run spec is `{ fns, task }`: the functions the task calls, as FnRefs (registry.ts: kernel
 * names, `{ module, export }`, built-in paths, self-contained source), and the call as a wire tree
 * (src/schedulers/wire.ts): `[0, value]` a value, `[1, f, ...args]` a call of `fns[f]`,
 * `[2, ...items]` a list, `[3, f]` `fns[f]` passed as a value, `[4, key]` the value of dependency
 * `key`. It travels as `new Serialize(spec)`: the scheduler forwards it without decoding, and the
 * values inside stay as they are until the protocol serializes them (typed arrays and ndarrays
 * become frames of their own, not msgpack bytes).
 *
 * Decisions:
 * - Which strings are keys and which arrays are tasks is `normalize()`'s decision, as on every
 *   local scheduler. Keys in `known` (futures the client already has on the cluster) count as keys
 *   of the graph, so `{ y: [inc, 'x'] }` may name the key of a future `x`.
 * - Every key becomes a task, a plain value too (`[0, value]`), so the scheduler treats every key
 *   alike.
 * - A function that cannot travel (a closure over a local variable) is refused here, at submission,
 *   with a ShippingError naming the key, the variable and the fix. There is no main-thread fallback
 *   on a cluster: there is no main thread that holds the closure.
 * - Future-likes, objects with a string `daskFutureKey` property (a Future defines it as a getter
 *   returning its key), become `[4, key]` wherever they sit inside arrays and plain objects of an
 *   argument or a graph value. Functions found there travel as `[3, f]`. A plain object that holds
 *   either is rebuilt on the worker by the built-in `Object.fromEntries` (as dask rebuilds a dict
 *   from `(dict, [[k, v], ...])`). Maps, Sets and class instances are left to the serializer.
 * - `submit(fn, ...args)` takes its arguments as values: a string is a string even when it equals a
 *   key (dask's submit does the same), and an array that starts with a function is a list, not a
 *   task. Only Future-likes are references.
 */
import { assertAcyclic } from '../../graph/toposort.js';
import { normalize, LIST, LIT, REF, TASK, type NormalGraph, type Node } from '../../graph/normalize.js';
import { orderIndices } from '../../graph/order.js';
import { ShippingError } from '../../graph/shipping/errors.js';
import { describeFunction, type FnRef } from '../../graph/shipping/registry.js';
import type { Graph, TaskFn } from '../../graph/spec.js';
import type { Wire } from '../../schedulers/wire.js';
import type { Key, RunSpec, TaskInput } from '../messages.js';
import { Serialize } from '../protocol/index.js';

/** Anything that stands for a key on the cluster: a Future, or an object with `daskFutureKey`. */
export interface FutureLike {
  readonly daskFutureKey: string;
}

export function isFutureLike(x: unknown): x is FutureLike {
  return typeof x === 'object' && x !== null && typeof (x as Partial<FutureLike>).daskFutureKey === 'string';
}

export interface ToRunSpecsOptions {
  /** Keys already on the cluster (the client's futures) that the graph may refer to by name. */
  readonly known?: ReadonlySet<Key>;
  /** Attach `priority` from `orderIndices` over the graph (default true). */
  readonly order?: boolean;
}

/**
 * One TaskInput per key of `graph`: `run` is `new Serialize({ fns, task })`, `deps` the keys the
 * task refers to (keys of the graph, keys in `known`, keys of Future-likes), `priority` its rank in
 * `order`. Throws a ShippingError for a function that cannot travel, naming its key.
 */
export function toRunSpecs(graph: Graph, opts: ToRunSpecsOptions = {}): Record<Key, TaskInput> {
  const placeholders = new Set<Key>();
  let source = graph;
  if (opts.known !== undefined && opts.known.size > 0) {
    source = { ...graph };
    for (const k of opts.known) {
      if (!Object.hasOwn(graph, k)) {
        source[k] = null;
        placeholders.add(k);
      }
    }
  }
  const g = normalize(source);
  const priorities = opts.order === false ? undefined : priorityOf(g);
  const out: Record<Key, TaskInput> = {};
  for (let i = 0; i < g.keys.length; i++) {
    const key = g.keys[i];
    if (placeholders.has(key)) continue;
    const b = new SpecBuilder(key);
    const task = b.node(g.nodes[i], g.keys);
    out[key] = b.input(task, priorities?.[i]);
  }
  return out;
}

export interface RunSpecOfCallOptions {
  /** When given, a Future-like whose key is not in it is refused (released, or another client's). */
  readonly known?: ReadonlySet<Key>;
  /** The key the call will have, for error messages. */
  readonly key?: Key;
}

/** The TaskInput of `fn(...args)` (`client.submit`): args are values; Future-likes are references. */
export function runSpecOfCall(fn: TaskFn, args: readonly unknown[], opts: RunSpecOfCallOptions = {}): TaskInput {
  if (typeof fn !== 'function') throw new TypeError(`submit expects a function first, got ${typeof fn}`);
  const b = new SpecBuilder(opts.key);
  const task: Wire = [1, b.fn(fn), ...args.map((a) => b.value(a))];
  if (opts.known !== undefined) {
    for (const d of b.deps) {
      if (!opts.known.has(d)) {
        throw new TypeError(`${opts.key === undefined ? '' : `task '${opts.key}': `}argument refers to the future '${d}', which this client does not hold (released, or another client's)`);
      }
    }
  }
  return b.input(task, undefined);
}

function priorityOf(g: NormalGraph): Int32Array {
  try {
    return orderIndices(g.dependencies, g.dependents);
  } catch (e) {
    assertAcyclic(g); // a CycleError naming the keys of the cycle
    throw e;
  }
}

/** Nesting beyond which values are left to the serializer (which refuses deeper than 512). */
const MAX_WALK = 256;

/** Builds one run spec: its function table, its wire tree and its dependencies. */
class SpecBuilder {
  readonly fns: FnRef[] = [];
  readonly deps = new Set<Key>();
  private readonly fnIndex = new Map<Function, number>();
  private readonly ancestors = new Set<object>();

  constructor(private readonly key: Key | undefined) {}

  input(task: Wire, priority: number | undefined): TaskInput {
    const spec: RunSpec = { fns: this.fns, task };
    const base = { run: new Serialize(spec), deps: [...this.deps] };
    return priority === undefined ? base : { ...base, priority };
  }

  /** The index of `f` in this spec's function table; refuses what cannot travel. */
  fn(f: Function): number {
    let j = this.fnIndex.get(f);
    if (j === undefined) {
      const d = describeFunction(f);
      if (!d.ok) throw new ShippingError(this.key, d.reason);
      j = this.fns.push(d.ref) - 1;
      this.fnIndex.set(f, j);
    }
    return j;
  }

  /** A normalised node: keys by name, values walked for functions and Future-likes. */
  node(n: Node, keys: readonly Key[]): Wire {
    switch (n.k) {
      case LIT:
        return this.value(n.v);
      case REF:
        this.deps.add(keys[n.i]);
        return [4, keys[n.i]];
      case TASK:
        return [1, this.fn(n.fn), ...n.args.map((a) => this.node(a, keys))];
      case LIST:
        return [2, ...n.items.map((a) => this.node(a, keys))];
    }
  }

  /** A value: `[0, value]` itself unless functions or Future-likes sit inside it. */
  value(x: unknown): Wire {
    if (typeof x === 'function') return [3, this.fn(x)];
    if (typeof x !== 'object' || x === null) return [0, x];
    if (isFutureLike(x)) {
      this.deps.add(x.daskFutureKey);
      return [4, x.daskFutureKey];
    }
    if (this.ancestors.size >= MAX_WALK || this.ancestors.has(x) || !hasReference(x, new Set(), 0)) return [0, x];
    this.ancestors.add(x);
    try {
      if (Array.isArray(x)) return [2, ...x.map((v) => this.value(v))];
      const entries = Object.keys(x).map((k): Wire => [2, [0, k], this.value((x as Record<string, unknown>)[k])]);
      return [1, this.fn(Object.fromEntries), [2, ...entries]];
    } finally {
      this.ancestors.delete(x);
    }
  }
}

function isWalked(x: object): boolean {
  if (Array.isArray(x)) return true;
  const p = Object.getPrototypeOf(x);
  return p === Object.prototype || p === null;
}

/** Whether a function or a Future-like sits in `x`, through arrays and plain objects. */
function hasReference(x: object, seen: Set<object>, depth: number): boolean {
  if (!isWalked(x) || seen.has(x) || depth >= MAX_WALK) return false;
  seen.add(x);
  const items: unknown[] = Array.isArray(x) ? x : Object.values(x);
  for (const v of items) {
    if (typeof v === 'function') return true;
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) continue;
    if (isFutureLike(v) || hasReference(v, seen, depth + 1)) return true;
  }
  return false;
}
