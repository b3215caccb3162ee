/**
 * Layered graphs (dask's HighLevelGraph): a collection's graph as named layers, one per
 * operation. A new operation adds one layer and shares the layers of its inputs by reference, so
 * building a long expression costs O(layers) per step instead of copying every task; the flat
 * graph is made once, when the collection is computed.
 */
import type { Graph } from './spec.js';

export class LayeredGraph {
  private constructor(readonly layers: ReadonlyMap<string, Graph>) {}

  static of(name: string, layer: Graph, ...inputs: readonly LayeredGraph[]): LayeredGraph {
    const layers = new Map<string, Graph>();
    for (const g of inputs) for (const [k, v] of g.layers) layers.set(k, v);
    layers.set(name, layer);
    return new LayeredGraph(layers);
  }

  /** The union of several graphs' layers. */
  static merge(...inputs: readonly LayeredGraph[]): LayeredGraph {
    const layers = new Map<string, Graph>();
    for (const g of inputs) for (const [k, v] of g.layers) layers.set(k, v);
    return new LayeredGraph(layers);
  }

  /** The flat graph: every task of every layer. */
  materialize(): Graph {
    if (this.layers.size === 1) return { ...this.layers.values().next().value! };
    const out: Graph = {};
    for (const layer of this.layers.values()) Object.assign(out, layer);
    return out;
  }
}
