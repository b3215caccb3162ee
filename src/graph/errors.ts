/** Errors of the graph layer, each naming what was wrong and how to fix it. */
import type { Key } from './spec.js';

export class GraphError extends Error {
  override name = 'GraphError';

  static missingKey(key: Key, known: readonly Key[]): GraphError {
    const near = known.filter((k) => k.includes(key) || key.includes(k)).slice(0, 3);
    const hint = near.length ? `; similar keys: ${near.map((k) => `'${k}'`).join(', ')}` : '';
    return new GraphError(`key '${key}' is not in the graph (${known.length} keys)${hint}`);
  }
}

/** The graph has a cycle; `cycle` lists its keys in order, the first repeated at the end. */
export class CycleError extends GraphError {
  override name = 'CycleError';
  constructor(readonly cycle: readonly Key[]) {
    super(`the graph has a cycle: ${cycle.map((k) => `'${k}'`).join(' -> ')}`);
  }
}
