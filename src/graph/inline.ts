/** inline: substitute the values of some keys into the tasks that use them. */
import { normalize } from './normalize.js';
import { subs } from './subs.js';
import { isTask, type Graph, type Key } from './spec.js';
import { toposortIndices } from './toposort.js';

export interface InlineOptions {
  /** Also inline every key whose value is not a task (a constant). Default true, as dask. */
  readonly inlineConstants?: boolean;
  /** Keys that must stay in the graph (outputs), even if listed or constant. */
  readonly keep?: readonly Key[];
}

/**
 * Like dask.optimization.inline: each inlined key's value replaces the references to it, and the
 * key leaves the graph. Inlining in topological order makes chains of inlined keys collapse fully.
 */
export function inline(graph: Graph, keys: readonly Key[] = [], opts: InlineOptions = {}): Graph {
  const keep = new Set(opts.keep ?? []);
  const chosen = new Set(keys.filter((k) => !keep.has(k)));
  if (opts.inlineConstants ?? true) {
    for (const k of Object.keys(graph)) if (!keep.has(k) && !isTask(graph[k])) chosen.add(k);
  }
  const g = normalize(graph);
  const out: Graph = { ...graph };
  for (const i of toposortIndices(g)) {
    const k = g.keys[i];
    if (!chosen.has(k)) continue;
    for (const dep of g.dependents[i]) out[g.keys[dep]] = subs(out[g.keys[dep]], k, out[k]);
    delete out[k];
  }
  return out;
}
