/** Kernels that move elements between partitions: slices, concatenation, take, tuple access. */
import { defineKernel } from '../../../graph/shipping/registry.js';
import { eachUntil, toArray, type Part } from './stream.js';

/** Piece r of s nearly equal pieces of a partition (repartition to more partitions). */
export const piece = defineKernel('bag.piece', (input: Part, r: number, s: number): unknown[] => {
  const part = toArray(input);
  const n = part.length;
  return part.slice(Math.floor((r * n) / s), Math.floor(((r + 1) * n) / s));
});

/** Partitions concatenated in order (repartition to fewer partitions). */
export const concatParts = defineKernel('bag.concatParts', (inputs: readonly Part[]): unknown[] => {
  const parts = inputs.map(toArray);
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Array<unknown>(n);
  let j = 0;
  for (const p of parts) for (let i = 0; i < p.length; i++) out[j++] = p[i];
  return out;
});

export function insufficientMessage(n: number, got: number): string {
  return (
    `Insufficient elements for \`take\`. ${n} elements requested, only ${got} elements available. ` +
    'Try passing larger `npartitions` to `take`.'
  );
}

/**
 * The first n elements of the partitions, in order; warns (when asked) if there are fewer. A
 * stream stops at the n-th element, as dask's lazy partitions do: the elements after it are
 * never computed (their functions do not run, their errors do not raise).
 */
export const take = defineKernel('bag.take', (n: number, warn: boolean, parts: readonly Part[]): unknown[] => {
  const out: unknown[] = [];
  for (const p of parts) {
    if (out.length >= n) break;
    eachUntil(p, (x) => out.push(x) >= n);
  }
  if (warn && out.length < n) process.emitWarning(insufficientMessage(n, out.length), 'DaskBagWarning');
  return out;
});

/** x[j]: one field of an intermediate tuple (accumulate's carry, groupby's pieces). */
export const getItem = defineKernel('bag.getItem', (x: readonly unknown[], j: number): unknown => x[j]);
