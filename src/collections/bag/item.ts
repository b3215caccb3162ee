/**
 * Item: one lazy value made from a bag (the result of a reduction such as `count` or `sum`), like
 * dask.bag's Item. It is a collection of one key, so it computes, persists, and can be passed to
 * `delayed` calls and to further bag operations.
 */
import type { DaskCollection } from '../../graph/collection.js';
import { compute, persist, type ComputeOptions } from '../../graph/compute.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph, Key } from '../../graph/spec.js';

export class Item<T = unknown> implements DaskCollection<T> {
  constructor(
    readonly graph: LayeredGraph,
    readonly key: Key,
  ) {}

  get daskName(): string {
    return this.key;
  }

  daskGraph(): Graph {
    return this.graph.materialize();
  }

  daskKeys(): Key {
    return this.key;
  }

  daskPostCompute(value: unknown): T {
    return value as T;
  }

  daskPostPersist(data: Graph): Item<T> {
    return new Item<T>(LayeredGraph.of(this.key, data), this.key);
  }

  daskTokenize(): string {
    return this.key;
  }

  async compute(opts: ComputeOptions = {}): Promise<T> {
    const [r] = await compute(this, opts);
    return r as T;
  }

  async persist(opts: ComputeOptions = {}): Promise<Item<T>> {
    const [p] = await persist(this, opts);
    return p as Item<T>;
  }

  toString(): string {
    return `dask.bag.Item<${this.key}>`;
  }
}
