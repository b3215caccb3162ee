/** Kernels that make partitions: integer ranges, and computed values checked to be partitions. */
import { defineKernel } from '../../../graph/shipping/registry.js';

/** The integers start, start + 1, ..., stop - 1. */
export const range = defineKernel('bag.range', (start: number, stop: number): number[] => {
  const out = new Array<number>(Math.max(0, stop - start));
  for (let i = 0; i < out.length; i++) out[i] = start + i;
  return out;
});

/** A computed value used as partition `p`: an array as is, another iterable as an array. */
export const asPartition = defineKernel('bag.asPartition', (p: number, value: unknown): unknown[] => {
  if (Array.isArray(value)) return value;
  if (value != null && typeof value !== 'string' && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return Array.from(value as Iterable<unknown>);
  }
  const what = value === null ? 'null' : typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
  throw new TypeError(`fromDelayed: partition ${p} computed to ${what}, not an array (each Delayed must compute to an array of elements)`);
});
