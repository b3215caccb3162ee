/**
 * fuse: collapse linear chains into single tasks.
 *
 * A task d whose only dependent is c, where c depends on nothing but d (and names it once), is
 * substituted into c as a nested task, so the chain runs as one task: no scheduling, no thread
 * round trip, and the intermediate never becomes a stored result. Walking in topological order
 * makes whole chains collapse into their last key, which keeps its name (dask renames fused keys;
 * keeping the last key means nothing that refers to it has to change). Requested keys are never
 * fused away. A fused task evaluates recursively, so chains are cut every MAX_FUSED_DEPTH tasks;
 * beyond that the saving per task is nil anyway.
 */
import { flattenKeys } from './keynest.js';
import { neededIndices } from './cull.js';
import { normalize, resolveKeys } from './normalize.js';
import { countRefs, subs } from './subs.js';
import type { Graph, KeyNest } from './spec.js';
import { toposortIndices } from './toposort.js';

export const MAX_FUSED_DEPTH = 256;

export interface FuseOptions {
  /** Also drop every task the kept keys do not need (cull and fuse in one pass over the graph). */
  readonly cull?: boolean;
}

export function fuse(graph: Graph, keep: KeyNest = [], opts: FuseOptions = {}): Graph {
  const g = normalize(graph);
  const keptKeys = flattenKeys(keep);
  const kept = new Set(keptKeys);
  const roots = opts.cull ? resolveKeys(g, keptKeys) : undefined;
  const order = toposortIndices(g, roots);
  const needed = roots ? neededIndices(g, roots) : undefined;
  const out: Graph = needed ? {} : { ...graph };
  if (needed) for (const i of order) out[g.keys[i]] = graph[g.keys[i]];
  const depth = new Int32Array(g.keys.length).fill(1);
  for (const d of order) {
    const key = g.keys[d];
    const dependents = needed ? g.dependents[d].filter((x) => needed[x]) : g.dependents[d];
    if (kept.has(key) || dependents.length !== 1) continue;
    const c = dependents[0];
    if (g.dependencies[c].length !== 1) continue;
    const child = g.keys[c];
    if (depth[d] + depth[c] > MAX_FUSED_DEPTH || countRefs(out[child], key) !== 1) continue;
    depth[c] += depth[d];
    out[child] = subs(out[child], key, out[key]);
    delete out[key];
  }
  return out;
}
