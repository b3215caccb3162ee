import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import { nbytesOf, serialize, Serialize } from '../../../src/distributed/protocol/index.js';

describe('nbytesOf', () => {
  it('is exact for byte views and ndarrays', () => {
    expect(nbytesOf(new Float64Array(1_000_000))).toBe(8_000_000);
    expect(nbytesOf(new Float64Array(100).subarray(10, 20))).toBe(80);
    expect(nbytesOf(Buffer.alloc(5))).toBe(5);
    expect(nbytesOf(new ArrayBuffer(12))).toBe(12);
    expect(nbytesOf(ndarray(new Float32Array(24), [2, 3, 4]).pick(0, null, null))).toBe(48);
  });

  it('is the length for strings, small constants for scalars', () => {
    expect(nbytesOf('hello')).toBe(5);
    expect(nbytesOf(1.5)).toBe(8);
    expect(nbytesOf(true)).toBe(4);
    expect(nbytesOf(null)).toBe(0);
    expect(nbytesOf(undefined)).toBe(0);
  });

  it('estimates containers from their entries, cheaply', () => {
    const arr = Array.from({ length: 1000 }, () => new Float64Array(100));
    const est = nbytesOf(arr);
    expect(est).toBeGreaterThanOrEqual(800_000);
    expect(est).toBeLessThan(900_000);
    expect(nbytesOf({ a: new Uint8Array(1000), b: 'x'.repeat(500) })).toBeGreaterThan(1500);
    expect(nbytesOf(new Map([['k', new Uint8Array(1000)]]))).toBeGreaterThan(1000);
    expect(nbytesOf(new Set([new Uint8Array(1000)]))).toBeGreaterThan(1000);
    const huge = Array.from({ length: 1_000_000 }, (_, i) => i);
    const t0 = performance.now();
    expect(nbytesOf(huge)).toBeGreaterThan(8_000_000);
    expect(performance.now() - t0).toBeLessThan(50);
  });

  it('terminates on cycles and deep nesting', () => {
    const a: unknown[] = [];
    a.push(a, a);
    expect(nbytesOf(a)).toBeGreaterThan(0);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(nbytesOf(deep)).toBeGreaterThan(0);
  });

  it('counts serialized frames, and sees through Serialize', () => {
    expect(nbytesOf(serialize(new Float64Array(10)))).toBe(80);
    expect(nbytesOf(new Serialize(new Float64Array(10)))).toBe(80);
  });
});
