/**
 * delayed: build graphs from ordinary function calls.
 *
 * `delayed(fn)(...args)` records a call instead of making it; arguments may be Delayed values,
 * nested anywhere in arrays, plain objects, Maps and Sets, and become dependencies. Each Delayed
 * holds only its own task and its direct dependencies, so building a chain of n calls costs O(n);
 * the whole graph is assembled once, when it is computed.
 *
 * Keys are `${name}-${tokenize(fn, args)}` by default (pure): the same call gives the same key and
 * runs once. `pure: false` gives a random key per call, for functions such as Math.random. (dask's
 * delayed defaults to impure; we follow the manual's Executor, which assumes pure functions.)
 */
import { randomUUID } from 'node:crypto';
import { isDaskCollection, type DaskCollection } from './collection.js';
import { compute, persist, type ComputeOptions } from './compute.js';
import { buildMap, buildObject, buildSet } from './kernels.js';
import { defineKernel } from './shipping/registry.js';
import { isGraphLike, literal, type Graph, type Key } from './spec.js';
import { tokenize } from './tokenize.js';

export interface DelayedOptions {
  /** Same inputs, same key (default true); false gives a random key per call. */
  readonly pure?: boolean;
  /** The name part of the key (default: the function's name, or the value's type). */
  readonly name?: string;
  /** The whole key, for a single call or value. */
  readonly key?: Key;
}

/** A value that may be given directly or as a Delayed, also inside arrays and objects. */
export type Lazy<T> =
  | T
  | Delayed<T>
  | (T extends Function
      ? never
      : T extends readonly (infer E)[]
        ? readonly Lazy<E>[]
        : T extends Map<infer K, infer V>
          ? Map<Lazy<K>, Lazy<V>>
          : T extends Set<infer E>
            ? Set<Lazy<E>>
            : T extends object
          ? { [K in keyof T]: Lazy<T[K]> }
          : never);

/** Each parameter of a function, as a Lazy. */
export type LazyArgs<P extends readonly unknown[]> = { [K in keyof P]: Lazy<P[K]> };

export type DelayedFunction<F extends (...args: any[]) => any> = (
  ...args: LazyArgs<Parameters<F>>
) => Delayed<Awaited<ReturnType<F>>>;

/** A lazy value: the result of a recorded call, or a wrapped value. */
export class Delayed<T = unknown> implements DaskCollection<T> {
  /** @internal */
  constructor(
    readonly key: Key,
    /** @internal The task (or quoted value) stored under `key`. */
    readonly task: unknown,
    /** @internal The Delayed values `task` refers to. */
    readonly deps: readonly Delayed[],
    /** @internal Graphs of other collections used as arguments. */
    readonly extra?: Graph,
  ) {}

  get daskName(): string {
    return this.key;
  }

  /** The whole graph: this task and every task it depends on, collected without recursion. */
  daskGraph(): Graph {
    const graph: Graph = {};
    const stack: Delayed[] = [this];
    while (stack.length > 0) {
      const d = stack.pop()!;
      if (d.key in graph) continue;
      graph[d.key] = d.task;
      if (d.extra) for (const k in d.extra) if (!(k in graph)) graph[k] = d.extra[k];
      for (const dep of d.deps) if (!(dep.key in graph)) stack.push(dep);
    }
    return graph;
  }

  daskKeys(): Key {
    return this.key;
  }

  daskPostCompute(result: unknown): T {
    return result as T;
  }

  daskPostPersist(data: Graph): Delayed<T> {
    return new Delayed<T>(this.key, data[this.key], []);
  }

  daskTokenize(): string {
    return this.key;
  }

  /** Computes the value: `await d.compute()` on threads, or `d.compute({ scheduler: 'sync' })`. */
  async compute(opts: ComputeOptions = {}): Promise<T> {
    const [v] = await compute(this, opts);
    return v as T;
  }

  /** Computes the value and returns a Delayed that holds it. */
  async persist(opts: ComputeOptions = {}): Promise<Delayed<T>> {
    const [d] = await persist(this, opts);
    return d as Delayed<T>;
  }

  toString(): string {
    return `Delayed('${this.key}')`;
  }
}

/** `delayed(fn)` records calls of fn; `delayed(value)` wraps a value (with any Delayed inside it). */
export function delayed<F extends (...args: any[]) => any>(fn: F, opts?: DelayedOptions): DelayedFunction<F>;
export function delayed<T>(value: T, opts?: DelayedOptions): Delayed<Unlazy<T>>;
export function delayed(x: unknown, opts: DelayedOptions = {}): unknown {
  validateOptions(opts);
  if (x instanceof Delayed) return x;
  if (typeof x === 'function') return delayedFunction(x as (...a: unknown[]) => unknown, opts);
  const u = new Unpacker();
  const task = u.unpack(x);
  const name = opts.name ?? typeName(x);
  const key = opts.key ?? `${name}-${opts.pure === false ? randomUUID() : tokenize(x)}`;
  return new Delayed(key, u.deps.length === 0 ? quote(x) : task, u.deps, u.extra);
}

/** What a Lazy<T> computes to. */
export type Unlazy<T> = T extends Delayed<infer R> ? R : T;

function delayedFunction(fn: (...a: unknown[]) => unknown, opts: DelayedOptions): (...args: unknown[]) => Delayed {
  const name = opts.name ?? (fn.name || 'lambda');
  return (...args: unknown[]) => {
    const u = new Unpacker();
    const task = [fn, ...args.map((a) => u.unpack(a))];
    const key = opts.key ?? `${name}-${opts.pure === false ? randomUUID() : tokenize(fn, args)}`;
    return new Delayed(key, task, u.deps, u.extra);
  };
}

/** A list whose first element is a function, rebuilt by a task so it is not read as a task. */
const list = defineKernel('core.list', (...items: unknown[]) => items);

/**
 * Turns an argument into its graph form: Delayed values become their keys (and dependencies),
 * containers holding them become tasks that rebuild them, anything else stays a literal.
 */
class Unpacker {
  readonly deps: Delayed[] = [];
  extra: Graph | undefined;

  unpack(x: unknown): unknown {
    if (typeof x !== 'object' || x === null) return x;
    if (x instanceof Delayed) {
      this.deps.push(x);
      return x.key;
    }
    if (isDaskCollection(x)) return this.collection(x);
    const before = this.deps.length + (this.extra ? 1 : 0);
    const out = this.container(x);
    const changed = this.deps.length + (this.extra ? 1 : 0) !== before;
    return changed ? out : quote(x);
  }

  private container(x: object): unknown {
    if (Array.isArray(x)) {
      const items = x.map((y) => this.unpack(y));
      return typeof x[0] === 'function' ? [list, ...items] : items;
    }
    if (x instanceof Map) return [buildMap, [...x].map(([k, v]) => [this.unpack(k), this.unpack(v)])];
    if (x instanceof Set) return [buildSet, [...x].map((v) => this.unpack(v))];
    if (isGraphLike(x)) {
      const keys = Object.keys(x);
      return [buildObject, literal(keys), keys.map((k) => this.unpack((x as Record<string, unknown>)[k]))];
    }
    return x;
  }

  private collection(c: DaskCollection): unknown {
    throw new TypeError(
      `a ${c.constructor.name} collection cannot be an argument of delayed yet; compute it first ` +
        `(await c.compute()) or pass its Delayed form`,
    );
  }
}

/** Quotes a literal argument that the graph would otherwise read as a list or a task. */
function quote(x: unknown): unknown {
  return Array.isArray(x) || typeof x === 'string' ? literal(x) : x;
}

function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return (x.constructor?.name ?? 'object').toLowerCase();
  return typeof x;
}

function validateOptions(opts: DelayedOptions): void {
  if (opts === null || typeof opts !== 'object') throw new TypeError('delayed: options must be an object');
  for (const k of Object.keys(opts)) {
    if (k !== 'pure' && k !== 'name' && k !== 'key') {
      throw new TypeError(`delayed: unknown option '${k}'; known options are pure, name, key`);
    }
  }
  if (opts.pure !== undefined && typeof opts.pure !== 'boolean') throw new TypeError("delayed: 'pure' must be a boolean");
  if (opts.name !== undefined && typeof opts.name !== 'string') throw new TypeError("delayed: 'name' must be a string");
  if (opts.key !== undefined && typeof opts.key !== 'string') throw new TypeError("delayed: 'key' must be a string");
}

