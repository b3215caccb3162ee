/** cull: keep only the tasks the requested keys need. */
import { normalize, resolveKeys, type NormalGraph } from './normalize.js';
import { flattenKeys } from './keynest.js';
import type { Graph, Key, KeyNest } from './spec.js';

/** Indices of the requested nodes and everything they depend on, transitively. */
export function neededIndices(g: NormalGraph, targets: readonly number[]): Uint8Array {
  const needed = new Uint8Array(g.keys.length);
  const stack = [...targets];
  for (const t of targets) needed[t] = 1;
  while (stack.length > 0) {
    for (const d of g.dependencies[stack.pop()!]) {
      if (!needed[d]) {
        needed[d] = 1;
        stack.push(d);
      }
    }
  }
  return needed;
}

/** Like dask.optimization.cull: the subgraph the keys need, and its dependencies. */
export function cull(graph: Graph, keys: KeyNest): { graph: Graph; dependencies: Record<Key, Key[]> } {
  const g = normalize(graph);
  const needed = neededIndices(g, resolveKeys(g, flattenKeys(keys)));
  const out: Graph = {};
  const dependencies: Record<Key, Key[]> = {};
  for (let i = 0; i < g.keys.length; i++) {
    if (!needed[i]) continue;
    out[g.keys[i]] = graph[g.keys[i]];
    dependencies[g.keys[i]] = g.dependencies[i].map((d) => g.keys[d]);
  }
  return { graph: out, dependencies };
}
