/**
 * Graphs a client sends: a user's graph (client.get) or the merged graph of collections
 * (client.compute / client.persist), prepared for toRunSpecs.
 *
 * - A graph may hold Futures. An entry whose value is the Future of its own key (`{ k: future(k) }`,
 *   what persist leaves in a collection's graph) is data already on the cluster: it is taken out
 *   of the graph and its key becomes `known`, so that the tasks that name it depend on it and
 *   nothing is recomputed or sent. A Future anywhere else (an argument inside a task, in lists and
 *   plain objects there, or a graph value under another key: an alias) travels as a reference to
 *   its key (run-spec.ts). All of them are listed, so the client can refuse a Future it does not
 *   hold (released, or another client's) before anything is sent, as submit does.
 * - compute gives one Future per collection. A collection with one key (a Delayed, a reduction) is
 *   that key; a collection of many keys gets a `finalize-<token>` task on the cluster whose value is
 *   the list of its keys' values, nested as `daskKeys()` is (a list of keys in a graph is a list of
 *   their values). The client applies the collection's post-compute after gathering it.
 */
import { isDaskCollection, type DaskCollection } from '../../graph/collection.js';
import { optimize } from '../../graph/compute.js';
import { flattenKeys } from '../../graph/keynest.js';
import type { Graph, Key, KeyNest } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';
import { Future } from './future.js';
import { collectFutures } from './structure.js';

export interface PreparedGraph {
  /** The graph without the entries that are Futures of their own key. */
  readonly graph: Graph;
  /** The Futures taken out: keys the cluster already holds. */
  readonly futures: ReadonlyMap<Key, Future>;
  /** The Futures left in the graph (arguments, aliases): references to keys the cluster holds. */
  readonly referenced: readonly Future[];
}

/** Takes the `{ k: future(k) }` entries out of `graph` (a copy is made only if there are any). */
export function takeOutFutures(graph: Graph): PreparedGraph {
  let out: Graph | undefined;
  const futures = new Map<Key, Future>();
  const referenced: Future[] = [];
  for (const k in graph) {
    const v = graph[k];
    if (v instanceof Future && v.key === k) {
      out ??= { ...graph };
      delete out[k];
      futures.set(k, v);
    } else if (typeof v === 'object' && v !== null) {
      collectFutures(v, referenced);
    }
  }
  return { graph: out ?? graph, futures, referenced };
}

export interface CollectionsGraph extends PreparedGraph {
  /** Per collection: the key its Future stands for (its own key, or its finalize key). */
  readonly keys: readonly Key[];
}

/** Refuses anything that is not a collection, naming its position. */
export function assertCollections(values: readonly unknown[], where: string): asserts values is readonly DaskCollection[] {
  values.forEach((v, i) => {
    if (!isDaskCollection(v)) {
      const what = v === null ? 'null' : typeof v === 'object' ? `an instance of ${v.constructor?.name ?? 'Object'}` : typeof v;
      throw new TypeError(`${where}: argument ${i} is ${what}, not a collection (an array, bag or delayed value); use submit for a function call`);
    }
  });
}

/** The merged, optimised graph of `collections` that computes each of `targets` (nests of keys). */
function mergedGraph(collections: readonly DaskCollection[], targets: readonly KeyNest[], opt: boolean): Graph {
  const merged: Graph = collections.length === 1 ? collections[0].daskGraph() : Object.assign({}, ...collections.map((c) => c.daskGraph()));
  return opt ? optimize(merged, collections, flattenKeys(targets)) : merged;
}

/** The graph of client.compute: the collections' graph plus a finalize task per many-keyed collection. */
export function computeGraph(collections: readonly DaskCollection[], opt = true): CollectionsGraph {
  const nests = collections.map((c) => c.daskKeys());
  const prepared = takeOutFutures(mergedGraph(collections, nests, opt));
  const graph: Graph = { ...prepared.graph };
  const keys = nests.map((nest) => {
    if (typeof nest === 'string') return nest;
    const key = `finalize-${tokenize(nest)}`;
    graph[key] = nest;
    return key;
  });
  return { ...prepared, graph, keys };
}

/** The graph of client.persist, and every key to keep on the cluster. */
export function persistGraph(collections: readonly DaskCollection[], opt = true): PreparedGraph & { readonly wanted: readonly Key[] } {
  const nests = collections.map((c) => c.daskKeys());
  const prepared = takeOutFutures(mergedGraph(collections, nests, opt));
  return { ...prepared, wanted: [...new Set(flattenKeys(nests))] };
}

/** The graph a persisted collection is rebuilt from: each of its keys to the Future of that key. */
export function futuresGraph(nest: KeyNest, futureOf: (key: Key) => Future): Graph {
  const out: Graph = {};
  for (const k of flattenKeys(nest)) out[k] = futureOf(k);
  return out;
}
