/** Helpers for array tests: compare computed arrays with direct computations on whole arrays. */
import ndarray from 'ndarray';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { ArrayResult, NdArray } from '../../../src/collections/array/index.js';

/** Nested JS arrays of an ndarray's values (a number for 0-d). */
export function toNested(a: ArrayResult): unknown {
  if (typeof a === 'number') return a;
  const walk = (prefix: number[]): unknown =>
    prefix.length === a.shape.length ? a.get(...prefix) : Array.from({ length: a.shape[prefix.length] }, (_, i) => walk([...prefix, i]));
  return walk([]);
}

/** A C-contiguous Float64 ndarray of a shape, filled by f(flat index). */
export function make(shape: number[], f: (i: number) => number = (i) => i): NdArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return ndarray(Float64Array.from({ length: n }, (_, i) => f(i)), shape) as NdArray;
}

/** Asserts equal shapes and values within a relative tolerance (NaN equals NaN). */
export function expectClose(actual: ArrayResult, expected: ArrayResult, rtol = 1e-9): void {
  if (typeof expected === 'number' || typeof actual === 'number') {
    expect(typeof actual).toBe('number');
    expectNumberClose(actual as number, expected as number, rtol);
    return;
  }
  expect(actual.shape).toEqual(expected.shape);
  const a = toNested(actual);
  const e = toNested(expected);
  const flatA = [a].flat(Infinity) as number[];
  const flatE = [e].flat(Infinity) as number[];
  flatA.forEach((v, i) => expectNumberClose(v, flatE[i], rtol));
}

function expectNumberClose(a: number, e: number, rtol: number): void {
  if (Number.isNaN(e)) return void expect(a).toBeNaN();
  if (!Number.isFinite(e)) return void expect(a).toBe(e);
  expect(Math.abs(a - e)).toBeLessThanOrEqual(rtol * Math.max(1, Math.abs(e)));
}

/** A random partition of n into positive block sizes ([n] for n <= 1): random chunkings for fast-check. */
export const partition = (n: number): fc.Arbitrary<number[]> =>
  n <= 1
    ? fc.constant([n])
    : fc.uniqueArray(fc.integer({ min: 1, max: n - 1 }), { maxLength: n - 1 }).map((cuts) => {
        const b = [0, ...cuts.sort((a, c) => a - c), n];
        return b.slice(1).map((o, i) => o - b[i]);
      });

/** Calls f with every index of `shape`, in C order. */
export function forEachIndex(shape: readonly number[], f: (idx: number[]) => void): void {
  const n = shape.reduce((a, b) => a * b, 1);
  for (let flat = 0; flat < n; flat++) {
    const idx: number[] = [];
    for (let k = shape.length - 1, r = flat; k >= 0; k--) {
      idx.unshift(r % shape[k]);
      r = Math.floor(r / shape[k]);
    }
    f(idx);
  }
}

/**
 * A view of `shape` holding value(index) whose storage runs in the axis order `perm` (a transposed
 * view unless perm is 0, 1, ...) and backwards along axis `flip` (none when -1).
 */
export function stridedView(
  shape: readonly number[],
  Ctor: Float64ArrayConstructor | Float32ArrayConstructor | Int32ArrayConstructor,
  perm: readonly number[],
  flip: number,
  value: (idx: number[]) => number,
): NdArray {
  const store = ndarray(new Ctor(shape.reduce((a, b) => a * b, 1)), perm.map((k) => shape[k]));
  let view = store.transpose(...perm.map((_, k) => perm.indexOf(k)));
  if (flip >= 0) view = view.step(...shape.map((_, k) => (k === flip ? -1 : 1)));
  forEachIndex(shape, (idx) => view.set(...idx, value(idx)));
  return view as NdArray;
}

/** A permutation of the axes of an nd-dimensional array. */
export const permutation = (nd: number): fc.Arbitrary<number[]> => fc.shuffledSubarray([...Array(nd).keys()], { minLength: nd, maxLength: nd });
