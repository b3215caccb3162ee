import { afterAll, describe, expect, it } from 'vitest';
import * as da from '../../../src/collections/array/index.js';
import type { NdArray } from '../../../src/collections/array/index.js';
import * as k from '../../../src/collections/array/chunk/random.js';
import { blockState, Sfc32 } from '../../../src/collections/array/chunk/random.js';
import { streamOf } from '../../../src/collections/array/chunk/stream.js';
import { streamChunk } from '../../../src/collections/array/chunk/reduce.js';
import { random } from '../../../src/collections/array/random.js';
import * as red from '../../../src/collections/array/reductions.js';
import { shutdownThreadPools } from '../../../src/index.js';

afterAll(() => shutdownThreadPools());

async function values(x: { compute: (o?: object) => Promise<unknown> }, opts: object = {}): Promise<number[]> {
  const r = (await x.compute(opts)) as NdArray;
  return Array.from(r.data as ArrayLike<number>);
}

describe('random arrays', () => {
  it('give the same numbers for the same seed and chunks on sync, threads, 1 or 2 workers', async () => {
    const make = () => random.random([5000, 3], { chunks: [700, 2], seed: 42 });
    const sync = await values(make(), { scheduler: 'sync' });
    expect(await values(make(), { scheduler: 'threads' })).toEqual(sync);
    expect(await values(make(), { numWorkers: 1 })).toEqual(sync);
    expect(await values(make(), { numWorkers: 2 })).toEqual(sync);
    expect(make().name).toBe(make().name);
    for (const f of [
      () => random.normal(1, 2, [3000], { chunks: 999, seed: 5 }),
      () => random.randint(-3, 9, [3000], { chunks: 999, seed: 5 }),
      () => random.uniform(-1, 1, [3000], { chunks: 999, seed: 5, dtype: 'float32' }),
    ]) {
      expect(await values(f(), { scheduler: 'threads' })).toEqual(await values(f(), { scheduler: 'sync' }));
    }
  });

  it('differ between seeds, between blocks, and between unseeded calls', async () => {
    const a = await values(random.random([1000], { chunks: 100, seed: 1 }));
    const b = await values(random.random([1000], { chunks: 100, seed: 2 }));
    expect(a).not.toEqual(b);
    expect(a.slice(0, 100)).not.toEqual(a.slice(100, 200));
    const u1 = random.random([10], { chunks: 5 });
    const u2 = random.random([10], { chunks: 5 });
    expect(u1.name).not.toBe(u2.name);
    expect(await values(u1)).not.toEqual(await values(u2));
    // An unseeded array is fixed once built: computing it twice gives the same numbers.
    expect(await values(u1)).toEqual(await values(u1, { scheduler: 'sync' }));
    // Seeds differing only above 32 bits, and block indices, all reach the state.
    expect(blockState(1, 0)).not.toEqual(blockState(1 + 2 ** 32, 0));
    expect(blockState(1, 0)).not.toEqual(blockState(1, 2 ** 32));
  });

  it('random: uniform in [0, 1) with mean ~ 0.5 and variance ~ 1/12 over 1e6 draws', async () => {
    const x = random.random([1_000_000], { chunks: 100_000, seed: 123 });
    const v = await values(x);
    expect(Math.min(...v.slice(0, 100_000))).toBeGreaterThanOrEqual(0);
    expect(v.every((y) => y >= 0 && y < 1)).toBe(true);
    expect(await red.mean(x).compute()).toBeCloseTo(0.5, 2);
    expect(Math.abs(((await red.variance(x).compute()) as number) - 1 / 12)).toBeLessThan(1e-3);
    // 53-bit doubles: the low bits are used too.
    expect(v.some((y) => (y * 2 ** 53) % 2 === 1)).toBe(true);
    expect(x.dtype).toBe('float64');
  });

  it('uniform(low, high) stays in [low, high); float32 stays below 1', async () => {
    const v = await values(random.uniform(-2, 3, [100_000], { chunks: 30_000, seed: 9 }));
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...v)).toBeLessThan(3);
    expect(v.reduce((s, y) => s + y, 0) / v.length).toBeCloseTo(0.5, 1);
    const f = random.random([100_000], { chunks: 30_000, seed: 9, dtype: 'float32' });
    expect(f.dtype).toBe('float32');
    const fv = await values(f);
    expect(Math.max(...fv)).toBeLessThan(1);
    expect(Math.min(...fv)).toBeGreaterThanOrEqual(0);
  });

  it('normal(loc, scale): sample mean and standard deviation close', async () => {
    const x = random.normal(10, 3, [400_000], { chunks: 100_000, seed: 77 });
    expect(Math.abs(((await red.mean(x).compute()) as number) - 10)).toBeLessThan(0.03);
    expect(Math.abs(((await red.std(x).compute()) as number) - 3)).toBeLessThan(0.03);
    // About 68% within one standard deviation.
    const v = await values(x);
    const within = v.filter((y) => Math.abs(y - 10) < 3).length / v.length;
    expect(within).toBeCloseTo(0.6827, 2);
    // Odd block lengths use half of the last pair.
    const odd = await values(random.normal(0, 1, [7], { chunks: 3, seed: 1 }));
    expect(odd.every(Number.isFinite)).toBe(true);
  });

  it('randint(low, high): int32 in [low, high), every value drawn, roughly uniform', async () => {
    const x = random.randint(-3, 4, [70_000], { chunks: 25_000, seed: 3 });
    expect(x.dtype).toBe('int32');
    const v = await values(x);
    const counts = new Map<number, number>();
    for (const y of v) counts.set(y, (counts.get(y) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    for (const c of counts.values()) expect(Math.abs(c - 10_000)).toBeLessThan(600);
    const wide = await values(random.randint(-(2 ** 31), 2 ** 31, [1000], { seed: 4 }));
    expect(wide.some((y) => y < -(2 ** 30))).toBe(true);
    expect(wide.some((y) => y > 2 ** 30)).toBe(true);
  });

  it('reductions over every axis stream the generator tile by tile, with the numbers of the blocks', async () => {
    for (const x of [
      random.normal(0, 1, [20_000, 7], { chunks: [9_000, 7], seed: 21 }), // tiles of 4681 rows: fills end inside pairs
      random.random([100_001], { chunks: 40_000, seed: 22 }),
      random.uniform(-1.3, 2.9, [10_000, 7], { chunks: [6_000, 7], seed: 25 }), // odd tiles: the one-number tail
      random.randint(0, 1000, [3, 50_000], { chunks: [2, 50_000], seed: 23 }),
      random.random([70_000], { chunks: 70_000, seed: 24, dtype: 'float32' }),
    ]) {
      const data = (await x.compute()) as NdArray;
      const materialized = da.fromArray(data, { chunks: x.chunks });
      for (const op of ['sum', 'mean', 'std', 'min', 'max', 'argmin', 'argmax', 'any', 'all'] as const) {
        const f = op === 'std' ? red.std : red[op];
        const streamed = f(x);
        const chunkLayer = [...streamed.graph.layers].find(([name]) => name.startsWith(`${op}-chunk-`))![1];
        expect(Object.values(chunkLayer).every((t) => (t as unknown[])[0] === streamChunk)).toBe(true);
        const a = (await streamed.compute()) as number;
        const b = (await f(materialized).compute()) as number;
        if (op === 'sum' || op === 'mean' || op === 'std') expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
        else expect(a).toBe(b);
      }
    }
  });

  it('a block streamed in pieces of any size has exactly the numbers of the whole block', () => {
    const cases: [Function, unknown[], new (n: number) => ArrayLike<number> & { subarray(a: number, b: number): never }][] = [
      [k.uniform, [[1001], 7, 3, -1.3, 2.9, 'float64'], Float64Array as never],
      [k.uniform, [[1001], 7, 3, 0, 1, 'float32'], Float32Array as never],
      [k.normal, [[1001], 7, 3, 2, 0.5, 'float64'], Float64Array as never],
      [k.randint, [[1001], 7, 3, -5, 1000], Int32Array as never],
    ];
    for (const [kernel, args, Ctor] of cases) {
      const whole = Array.from((kernel(...args) as NdArray).data as ArrayLike<number>);
      const stream = streamOf(kernel)!(...args);
      const pieces = new Ctor(1001);
      for (let at = 0, len = 1; at < 1001; at += len, len = (len * 3 + 1) % 17) {
        stream.fill(pieces.subarray(at, Math.min(1001, at + len)));
      }
      expect(Array.from(pieces)).toEqual(whole);
    }
  });

  it('refuses bad arguments with errors naming them', () => {
    expect(() => random.random([3], { seed: -1 })).toThrow(/seed must be an integer/);
    expect(() => random.random([3], { seed: 1.5 })).toThrow(/seed/);
    expect(() => random.random([3], { dtype: 'int32' })).toThrow(/float64 or float32/);
    expect(() => random.random([3], { chunk: 1 } as never)).toThrow(/unknown option 'chunk'/);
    expect(() => random.random([-3])).toThrow(/non-negative integers/);
    expect(() => random.normal(0, -1, [3])).toThrow(/scale/);
    expect(() => random.uniform(0, Infinity, [3])).toThrow(/high/);
    expect(() => random.randint(5, 5, [3])).toThrow(/low >= high/);
    expect(() => random.randint(0, 2 ** 32, [3])).toThrow(/int32/);
    expect(() => random.randint(0, 1.5, [3])).toThrow(/high must be an integer/);
  });

  it('sfc32 steps as PractRand defines it (outputs computed independently in Python)', () => {
    const g = new Sfc32(Int32Array.of(0x12345678, 0x9abcdef0 | 0, 0x0fedcba9, 1));
    const out = Array.from({ length: 5 }, () => g.next() >>> 0);
    expect(out).toEqual([2901489001, 709732754, 3251131162, 903276048, 1254894385]);
  });

  it('makes empty and 0-d arrays', async () => {
    expect(await values(random.random([0], { seed: 1 }))).toEqual([]);
    const s = await random.normal(0, 1, [], { seed: 1 }).compute();
    expect(typeof s).toBe('number');
  });
});
