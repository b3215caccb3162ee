/**
 * The bag: dask.bag for TypeScript, a collection of plain JavaScript values cut into partitions.
 *
 * Partition i is the value of key `('name', i)`: a JavaScript array. Operations add one graph
 * layer whose tasks call a registered kernel (chunk/) with the user's function as an argument, so
 * the user's function travels like any task function (kernel name, registered module, or source).
 * Per-partition steps form linear chains that the optimiser fuses, so a pipeline such as
 * readText → map → filter → frequencies runs as one task per partition and streams through the
 * data partition by partition. Methods are one-line delegates to the modules beside this one.
 */
import type { DaskCollection } from '../../graph/collection.js';
import { compute, persist, type ComputeOptions } from '../../graph/compute.js';
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph, Key } from '../../graph/spec.js';
import { tokenize } from '../../graph/tokenize.js';

export class Bag<T = unknown> implements DaskCollection<T[]> {
  constructor(
    readonly graph: LayeredGraph,
    readonly name: string,
    readonly npartitions: number,
  ) {}

  /** The key of partition i. */
  partitionKey(i: number): Key {
    return tupleKey(this.name, i);
  }

  get daskName(): string {
    return this.name;
  }

  daskGraph(): Graph {
    return this.graph.materialize();
  }

  daskKeys(): Key[] {
    return Array.from({ length: this.npartitions }, (_, i) => this.partitionKey(i));
  }

  daskPostCompute(partitions: unknown): T[] {
    return (partitions as T[][]).flat(1) as T[];
  }

  daskPostPersist(data: Graph): Bag<T> {
    return new Bag<T>(LayeredGraph.of(this.name, data), this.name, this.npartitions);
  }

  daskTokenize(): string {
    return this.name;
  }

  /** Computes every partition and concatenates them into one array. */
  async compute(opts: ComputeOptions = {}): Promise<T[]> {
    const [r] = await compute(this, opts);
    return r as T[];
  }

  /** Computes the partitions and returns the same bag backed by them. */
  async persist(opts: ComputeOptions = {}): Promise<Bag<T>> {
    const [p] = await persist(this, opts);
    return p as Bag<T>;
  }

  toString(): string {
    return `dask.bag<${this.name.replace(/-[0-9a-f]{8,}$/, '')}, npartitions=${this.npartitions}>`;
  }
}

/**
 * A new bag whose partition i is `task(i, inputKey(i))`: the building block of per-partition
 * operations. `op` names the operation; `token` inputs make the name deterministic.
 */
export function partitionwise<U>(
  op: string,
  input: Bag<unknown>,
  task: (i: number, inputKey: Key) => unknown,
  tokenInputs: readonly unknown[],
  extraGraphs: readonly LayeredGraph[] = [],
): Bag<U> {
  const name = `${op}-${tokenize(input.name, ...tokenInputs)}`;
  const layer: Graph = {};
  for (let i = 0; i < input.npartitions; i++) layer[tupleKey(name, i)] = task(i, input.partitionKey(i));
  return new Bag<U>(LayeredGraph.of(name, layer, input.graph, ...extraGraphs), name, input.npartitions);
}
