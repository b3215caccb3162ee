/**
 * compute and persist: run any mix of collections through one graph and one get.
 *
 * The graphs of all collections are merged (equal names share work), optimised (cull to the
 * requested keys, each collection kind's own optimisation, fusion of linear chains), run by the
 * chosen get, and each result is assembled by its collection's post-compute. Values that are not
 * collections pass through, as in dask.
 */
import { isDaskCollection, type Computed, type DaskCollection } from './collection.js';
import { cull } from './cull.js';
import { fuse } from './fuse.js';
import { flattenKeys } from './keynest.js';
import { isGraphLike, literal, type Graph, type Key, type KeyNest } from './spec.js';
import { getSync } from '../schedulers/sync.js';
import { getThreads } from '../schedulers/threads.js';
import { validateGetOptions, type GetFn, type GetOptions } from '../schedulers/get-options.js';

export type SchedulerName = 'sync' | 'synchronous' | 'single-threaded' | 'threads' | 'threading';

export interface ComputeOptions extends GetOptions {
  /** A local scheduler by name; default 'threads'. */
  readonly scheduler?: SchedulerName;
  /** Any get function, such as a distributed client's `client.get`; wins over `scheduler`. */
  readonly get?: GetFn;
  /** Cull, optimise and fuse the graph before running it (default true). */
  readonly optimize?: boolean;
}

const SCHEDULERS: Record<SchedulerName, GetFn> = {
  sync: getSync,
  synchronous: getSync,
  'single-threaded': getSync,
  threads: getThreads,
  threading: getThreads,
};

type ComputedAll<T extends readonly unknown[]> = { -readonly [K in keyof T]: Computed<T[K]> };

/** Computes collections (and passes other values through): `await compute(a, b, { scheduler: 'sync' })`. */
export function compute<T extends readonly unknown[]>(...args: [...T, ComputeOptions]): Promise<ComputedAll<T>>;
export function compute<T extends readonly unknown[]>(...args: T): Promise<ComputedAll<T>>;
export async function compute(...args: unknown[]): Promise<unknown[]> {
  const { values, opts } = splitOptions(args, 'compute');
  const { results } = await run(values, opts);
  return values.map((v, j) => (isDaskCollection(v) ? v.daskPostCompute(results[j]) : v));
}

/** Computes collections and returns them backed by their computed chunks. */
export function persist<T extends readonly unknown[]>(...args: [...T, ComputeOptions]): Promise<T>;
export function persist<T extends readonly unknown[]>(...args: T): Promise<T>;
export async function persist(...args: unknown[]): Promise<unknown[]> {
  const { values, opts } = splitOptions(args, 'persist');
  const { results } = await run(values, opts);
  return values.map((v, j) => (isDaskCollection(v) ? v.daskPostPersist(dataGraph(v.daskKeys(), results[j])) : v));
}

async function run(values: readonly unknown[], opts: ComputeOptions): Promise<{ results: unknown[] }> {
  const collections = values.filter(isDaskCollection);
  if (collections.length === 0) return { results: [] };
  const keys = values.map((v) => (isDaskCollection(v) ? v.daskKeys() : []));
  let graph = mergeGraphs(collections);
  if (opts.optimize ?? true) graph = optimize(graph, collections, flattenKeys(keys));
  const get = opts.get ?? SCHEDULERS[opts.scheduler ?? 'threads'];
  const { scheduler: _s, get: _g, optimize: _o, ...getOpts } = opts;
  const results = (await get(graph, keys, getOpts)) as unknown[];
  return { results };
}

/** The default optimisation: cull, the collections' own passes, then fusion of linear chains. */
export function optimize(graph: Graph, collections: readonly DaskCollection[], keys: readonly Key[]): Graph {
  // Each kind's pass once, called on a collection of that kind.
  const passes = new Map<Function, DaskCollection>();
  for (const c of collections) if (c.daskOptimize && !passes.has(c.daskOptimize)) passes.set(c.daskOptimize, c);
  // Without collection passes, one walk over the graph both culls and fuses.
  if (passes.size === 0) return fuse(graph, keys, { cull: true });
  let g = cull(graph, keys).graph;
  for (const [pass, c] of passes) g = pass.call(c, g, keys) as Graph;
  return fuse(g, keys);
}

function mergeGraphs(collections: readonly DaskCollection[]): Graph {
  if (collections.length === 1) return collections[0].daskGraph();
  return Object.assign({}, ...collections.map((c) => c.daskGraph()));
}

/** A graph of computed values, quoted so that no value is mistaken for a key or a task. */
function dataGraph(keys: KeyNest, values: unknown): Graph {
  const out: Graph = {};
  const put = (k: KeyNest, v: unknown): void => {
    if (typeof k === 'string') out[k] = typeof v === 'string' || Array.isArray(v) ? literal(v) : v;
    else (k as KeyNest[]).forEach((kk, j) => put(kk, (v as unknown[])[j]));
  };
  put(keys, values);
  return out;
}

const COMPUTE_OPTIONS = ['scheduler', 'get', 'optimize'];

function splitOptions(args: unknown[], where: string): { values: unknown[]; opts: ComputeOptions } {
  const last = args[args.length - 1];
  if (args.length === 0 || !isGraphLike(last)) return { values: args, opts: {} };
  const opts = validateGetOptions(last, where, COMPUTE_OPTIONS) as ComputeOptions;
  if (opts.scheduler !== undefined && !(opts.scheduler in SCHEDULERS)) {
    throw new TypeError(`${where}: unknown scheduler '${String(opts.scheduler)}'; use one of ${Object.keys(SCHEDULERS).join(', ')}, or pass { get }`);
  }
  if (opts.get !== undefined && typeof opts.get !== 'function') {
    throw new TypeError(`${where}: 'get' must be a function (graph, keys, options) => Promise, such as client.get`);
  }
  if (opts.optimize !== undefined && typeof opts.optimize !== 'boolean') {
    throw new TypeError(`${where}: 'optimize' must be a boolean`);
  }
  return { values: args.slice(0, -1), opts };
}
