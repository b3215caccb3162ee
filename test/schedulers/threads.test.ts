import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { delayed, getThreads, ShippingError, shutdownThreadPools, TaskError } from '../../src/index.js';
import { fail, isShared, makeArray, spin, square, whereAmI, writeFirst } from '../fixtures/user-module.js';
import { getContract } from './get-contract.js';

afterAll(() => shutdownThreadPools());

getContract('threads', getThreads);

describe('getThreads: functions on pool threads', () => {
  it('runs registered module functions on pool threads, not the main thread', async () => {
    const dsk: Record<string, unknown> = {};
    for (let i = 0; i < 8; i++) dsk[`w-${i}`] = [whereAmI];
    dsk.sq = [square, 7];
    const res = (await getThreads(dsk, [...Object.keys(dsk)])) as number[];
    expect(res.pop()).toBe(49);
    expect(res.every((t) => t > 0)).toBe(true);
  });

  it('ships self-contained functions as source', async () => {
    // Only a pool thread returns typed arrays in shared memory; the main thread would not.
    const make = (n: number) => {
      const end = Date.now() + 2;
      while (Date.now() < end);
      return new Float64Array(n).fill(2);
    };
    const out = (await getThreads({ a: [make, 4] }, 'a')) as Float64Array;
    expect(Array.from(out)).toEqual([2, 2, 2, 2]);
    expect(out.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('shares typed-array data with pool threads instead of cloning it per task', async () => {
    // Task w writes into a's memory on another thread; the main thread sees the write only
    // because the memory is shared.
    const dsk = { a: [makeArray, 5], s: [isShared, 'a'], w: [writeFirst, 'a', 42] };
    const [a, shared, n] = (await getThreads(dsk, ['a', 's', 'w'])) as [Float64Array, boolean, number];
    expect(shared).toBe(true);
    expect(n).toBe(5);
    expect(a[0]).toBe(42);
  });

  it('runs a closure on the main thread with a warning that names the variable', async () => {
    const offset = 10;
    const addOffset = (x: number) => x + offset;
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      expect(await getThreads({ y: [addOffset, 1] }, 'y')).toBe(11);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.join('\n')).toMatch(/'offset'/);
  });

  it("refuses a closure with unshippable: 'error', naming the variable and the fix", async () => {
    const scale = 3;
    const times = (x: number) => x * scale;
    const err = (await getThreads({ y: [times, 2] }, 'y', { unshippable: 'error' }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ShippingError);
    expect(err.message).toContain("'scale'");
    expect(err.message).toMatch(/argument/);
    expect(err.message).toContain("task 'y'");
  });

  it("reports a thread's error with the key, the message and the thread's stack", async () => {
    const err = (await getThreads({ x: [fail, 'disk on fire'], y: [square, 'x'] }, 'y').catch((e: unknown) => e)) as TaskError;
    expect(err).toBeInstanceOf(TaskError);
    expect(err.key).toBe('x');
    expect(err.message).toContain('disk on fire');
    expect(err.cause.stack).toContain('user-module');
  });

  it('aborts a task running on a thread and keeps the pool usable', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    await expect(getThreads({ s: [spin, 20_000] }, 's', { signal: ac.signal })).rejects.toThrow(/abort/i);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(await getThreads({ q: [square, 3] }, 'q')).toBe(9);
  });

  it('honours numWorkers', async () => {
    const dsk: Record<string, unknown> = {};
    for (let i = 0; i < 6; i++) dsk[`w-${i}`] = [spin, 20];
    dsk.who = [whereAmI];
    expect(await getThreads(dsk, 'who', { numWorkers: 1 })).toBeGreaterThan(0);
    await expect(getThreads(dsk, 'who', { numWorkers: 0 })).rejects.toThrow(/positive integer/);
  });

  it('computes delayed calls of module functions on threads', async () => {
    const total = delayed((xs: number[]) => xs.reduce((a, b) => a + b, 0))(
      Array.from({ length: 20 }, (_, i) => delayed(square)(i)),
    );
    expect(await total.compute()).toBe(2470);
  });
});

describe('getThreads: process lifetime', () => {
  it('lets a program exit promptly after computing, without closing the pool', () => {
    const script = fileURLToPath(new URL('../fixtures/compute-and-exit.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBeNull();
    expect(r.stdout.trim()).toBe('5050');
    expect(r.status).toBe(0);
  });
});
