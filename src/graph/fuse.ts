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
import { normalize } from './normalize.js';
import { countRefs, subs } from './subs.js';
import type { Graph, KeyNest } from './spec.js';
import { toposortIndices } from './toposort.js';

export const MAX_FUSED_DEPTH = 256;

export function fuse(graph: Graph, keep: KeyNest = []): Graph {
  const g = normalize(graph);
  const kept = new Set(flattenKeys(keep));
  const out: Graph = { ...graph };
  const depth = new Int32Array(g.keys.length).fill(1);
  for (const d of toposortIndices(g)) {
    const key = g.keys[d];
    if (kept.has(key) || g.dependents[d].length !== 1) continue;
    const c = g.dependents[d][0];
    if (g.dependencies[c].length !== 1) continue;
    const child = g.keys[c];
    if (depth[d] + depth[c] > MAX_FUSED_DEPTH || countRefs(out[child], key) !== 1) continue;
    depth[c] += depth[d];
    out[child] = subs(out[child], key, out[key]);
    delete out[key];
  }
  return out;
}
