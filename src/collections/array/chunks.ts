/**
 * Chunk specifications: how an array's axes are cut into blocks.
 *
 * Normalised chunks are one list of block sizes per axis, summing to that axis's length, like
 * dask's `((2, 2, 1), (3, 3))`. A user may write a number (the same block size on every axis),
 * one entry per axis (a size, -1 or null for the whole axis, 'auto', or the explicit sizes), or
 * 'auto', which picks blocks of about AUTO_BYTES. Unknown sizes (after a boolean mask) are NaN.
 */
import { itemsize, type DType } from './dtype.js';

export type Chunks = readonly (readonly number[])[];
export type AxisChunkSpec = number | null | 'auto' | readonly number[];
export type ChunkSpec = number | 'auto' | readonly AxisChunkSpec[];

/** dask's default `array.chunk-size`: 128 MiB. */
export const AUTO_BYTES = 128 * 2 ** 20;

export function normalizeChunks(spec: ChunkSpec | Chunks | undefined, shape: readonly number[], dtype: DType): Chunks {
  if (spec === undefined || spec === 'auto') return autoChunks(shape, dtype, shape.map(() => true));
  if (typeof spec === 'number') return shape.map((n, axis) => blocks(n, spec, axis));
  if (!Array.isArray(spec)) throw new TypeError(`chunks must be a number, 'auto', or one entry per axis; got ${String(spec)}`);
  if (spec.length !== shape.length) {
    throw new RangeError(`chunks has ${spec.length} entries but the array has ${shape.length} axes (shape [${shape.join(', ')}])`);
  }
  const auto = spec.map((s) => s === 'auto');
  const fixed = spec.map((s, axis) => (s === 'auto' ? undefined : axisChunks(s as AxisChunkSpec, shape[axis], axis)));
  if (!auto.some(Boolean)) return fixed as number[][];
  const a = autoChunks(shape, dtype, auto, fixed);
  return a;
}

function axisChunks(s: AxisChunkSpec, n: number, axis: number): number[] {
  if (s === null || s === -1) return [n];
  if (typeof s === 'number') return blocks(n, s, axis);
  if (Array.isArray(s)) {
    for (const c of s) {
      if (!(Number.isInteger(c) && c >= 0) && !Number.isNaN(c)) {
        throw new RangeError(`chunks along axis ${axis} must be non-negative integers, got ${c}`);
      }
    }
    const total = s.reduce((a: number, b: number) => a + b, 0);
    if (!Number.isNaN(total) && total !== n) {
      throw new RangeError(`chunks (${s.join(', ')}) along axis ${axis} sum to ${total} but the axis has length ${n}`);
    }
    return [...s];
  }
  throw new TypeError(`chunks along axis ${axis} must be a number, null, 'auto' or a list of sizes; got ${String(s)}`);
}

function blocks(n: number, size: number, axis: number): number[] {
  if (size === -1) return [n];
  if (!(Number.isInteger(size) && size > 0)) {
    throw new RangeError(`chunk size along axis ${axis} must be a positive integer (or -1 for the whole axis), got ${size}`);
  }
  if (n === 0) return [0];
  const out: number[] = [];
  for (let start = 0; start < n; start += size) out.push(Math.min(size, n - start));
  return out;
}

/**
 * 'auto': equal block sizes on the auto axes, as large as fits AUTO_BYTES given the fixed axes.
 */
function autoChunks(shape: readonly number[], dtype: DType, auto: readonly boolean[], fixed: (number[] | undefined)[] = []): Chunks {
  let budget = AUTO_BYTES / itemsize(dtype);
  for (let a = 0; a < shape.length; a++) if (!auto[a]) budget /= Math.max(1, ...(fixed[a] ?? [1]));
  const autoAxes = shape.map((_, a) => a).filter((a) => auto[a]);
  const per = Math.max(1, Math.floor(budget ** (1 / Math.max(1, autoAxes.length))));
  return shape.map((n, a) => (auto[a] ? blocks(n, Math.max(1, Math.min(n, per)), a) : fixed[a]!));
}

/** Start offsets of each block along an axis, and the total as last entry. */
export function offsets(sizes: readonly number[]): number[] {
  const out = [0];
  for (const s of sizes) out.push(out[out.length - 1] + s);
  return out;
}

export function shapeOf(chunks: Chunks): number[] {
  return chunks.map((c) => c.reduce((a, b) => a + b, 0));
}

/** Every block index of a chunking, in row-major order. */
export function blockIndices(numblocks: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const n of numblocks) {
    const next: number[][] = [];
    for (const prefix of out) for (let i = 0; i < n; i++) next.push([...prefix, i]);
    out = next;
  }
  return out;
}

export function hasUnknown(chunks: Chunks): boolean {
  return chunks.some((c) => c.some(Number.isNaN));
}
