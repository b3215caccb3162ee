/**
 * The chunked array: dask.array's `Array` for TypeScript.
 *
 * An array is a name, a layered graph, per-axis chunk sizes and a dtype. Block (i, j, ...) is the
 * value of key `('name', i, j, ...)`: an `ndarray` over a typed array (usually in shared memory).
 * Operations build new arrays from old ones by adding one graph layer (the modules beside this
 * one); the per-block functions they put in tasks live in chunk/, registered as kernels.
 * Methods are one-line delegates to those modules.
 */
import type ndarray from 'ndarray';
import type { DaskCollection } from '../../graph/collection.js';
import { compute, persist, type ComputeOptions } from '../../graph/compute.js';
import { tupleKey } from '../../graph/keys.js';
import { LayeredGraph } from '../../graph/layers.js';
import type { Graph, Key, KeyNest } from '../../graph/spec.js';
import { assemble } from './assemble.js';
import { hasUnknown, shapeOf, type Chunks } from './chunks.js';
import { itemsize, type DType } from './dtype.js';

export type NdArray = ndarray.NdArray<ndarray.TypedArray>;

/** What computing an array gives: an ndarray, or a plain number for a 0-d array. */
export type ArrayResult = NdArray | number;

export class DaskArray implements DaskCollection<ArrayResult> {
  readonly shape: readonly number[];

  constructor(
    readonly graph: LayeredGraph,
    readonly name: string,
    readonly chunks: Chunks,
    readonly dtype: DType,
  ) {
    this.shape = shapeOf(chunks);
  }

  get ndim(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get nbytes(): number {
    return this.size * itemsize(this.dtype);
  }

  get numblocks(): number[] {
    return this.chunks.map((c) => c.length);
  }

  get npartitions(): number {
    return this.numblocks.reduce((a, b) => a * b, 1);
  }

  /** The largest block size along each axis. */
  get chunksize(): number[] {
    return this.chunks.map((c) => (c.length ? Math.max(...c) : 0));
  }

  /** The key of block (i, j, ...). */
  blockKey(...index: number[]): Key {
    return tupleKey(this.name, ...index);
  }

  get daskName(): string {
    return this.name;
  }

  daskGraph(): Graph {
    return this.graph.materialize();
  }

  /** Keys nested like the blocks: `[[('x',0,0), ('x',0,1)], ...]`; a 0-d array has one key. */
  daskKeys(): KeyNest {
    const build = (prefix: number[]): KeyNest =>
      prefix.length === this.ndim
        ? this.blockKey(...prefix)
        : Array.from({ length: this.chunks[prefix.length].length }, (_, i) => build([...prefix, i]));
    return build([]);
  }

  daskPostCompute(blocks: unknown): ArrayResult {
    return assemble(blocks, this.chunks, this.dtype);
  }

  daskPostPersist(data: Graph): DaskArray {
    return new DaskArray(LayeredGraph.of(this.name, data), this.name, this.chunks, this.dtype);
  }

  daskTokenize(): string {
    return this.name;
  }

  /** Computes the array: an ndarray, or a number for a 0-d array. */
  async compute(opts: ComputeOptions = {}): Promise<ArrayResult> {
    const [r] = await compute(this, opts);
    return r as ArrayResult;
  }

  /** Computes the blocks and returns the same array backed by them. */
  async persist(opts: ComputeOptions = {}): Promise<DaskArray> {
    const [p] = await persist(this, opts);
    return p as DaskArray;
  }

  /** Like dask's repr: `dask.array<name, shape=(...), dtype=..., chunksize=(...)>`. */
  toString(): string {
    const tuple = (xs: readonly number[]) => `(${xs.map((x) => (Number.isNaN(x) ? 'nan' : x)).join(', ')}${xs.length === 1 ? ',' : ''})`;
    const op = this.name.replace(/-[0-9a-f]{8,}$/, '');
    const unknown = hasUnknown(this.chunks) ? ', unknown chunk sizes' : '';
    return `dask.array<${op}, shape=${tuple(this.shape)}, dtype=${this.dtype}, chunksize=${tuple(this.chunksize)}, chunktype=ndarray${unknown}>`;
  }
}
