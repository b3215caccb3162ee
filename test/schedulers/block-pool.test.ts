/**
 * The block pool (native/block-pool.cc through src/schedulers/block-pool.ts): large shared blocks
 * reused once V8 says nothing holds them, and never before.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { blockPool, DEFAULT_MAX_FREE_BYTES, maxFreeBytes, pooledSharedBuffer } from '../../src/schedulers/block-pool.js';

const MiB = 2 ** 20;
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const pool = () => {
  const p = blockPool();
  if (p === null) throw new Error('build/Release/block_pool.node is missing: run `npm install` (it needs python3, make and a C++ compiler)');
  return p;
};

/** Collects until the pool has more free blocks than `before` (V8 may free on a background thread). */
async function collectUntilFreed(before: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 10));
    gc();
    if (pool().stats().freeBlocks > before) return true;
  }
  return false;
}

/** A block of `bytes` with `mark` in its first and last byte, dropped before this returns. */
function allocateAndDrop(bytes: number, mark: number): void {
  const b = new Uint8Array(pooledSharedBuffer(bytes));
  b[0] = mark;
  b[b.length - 1] = mark;
}

// Built by `npm install` unless DASK_TS_NATIVE=0 asked it not to be (then these do not apply).
describe.skipIf(process.env.DASK_TS_NATIVE === '0')('the block pool', () => {
  /** Every test starts with nothing pending and an empty free list: blocks an earlier one dropped are freed and unmapped. */
  beforeEach(async () => {
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 5));
      gc();
    }
    pool().setMaxFreeBytes(0);
    pool().setMaxFreeBytes(DEFAULT_MAX_FREE_BYTES);
  });
  afterEach(() => pool().setMaxFreeBytes(DEFAULT_MAX_FREE_BYTES));

  it('is built by npm install', () => {
    expect(blockPool()).not.toBeNull();
  });

  it('reuses a freed block for the next one of about its size instead of mapping new memory', async () => {
    const before = pool().stats();
    allocateAndDrop(24 * MiB, 7);
    expect(await collectUntilFreed(before.freeBlocks)).toBe(true);
    const freed = pool().stats();
    const again = new Uint8Array(pooledSharedBuffer(23 * MiB));
    const after = pool().stats();
    expect(again.length).toBe(23 * MiB);
    expect(after.reused).toBe(freed.reused + 1);
    expect(after.mapped).toBe(freed.mapped);
    expect(again[0]).toBe(7); // the same memory, not zeroed: the comm overwrites every byte
  });

  it('does not reuse a block a worker thread still holds, after this thread dropped it', async () => {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       let held;
       parentPort.on('message', (m) => {
         if (m.block) { held = new Uint8Array(m.block); parentPort.postMessage('holding'); }
         else parentPort.postMessage([held[0], held[held.length - 1]]);
       });`,
      { eval: true },
    );
    const reply = () => new Promise<unknown>((r) => worker.once('message', r));
    try {
      const size = 20 * MiB;
      const share = () => {
        const b = pooledSharedBuffer(size);
        new Uint8Array(b).fill(42);
        worker.postMessage({ block: b });
      };
      share();
      expect(await reply()).toBe('holding');
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 10));
        gc();
      }
      // Were the block in the free list, one of these would get it: the worker's bytes stay.
      const mine = [0, 1, 2].map(() => new Uint8Array(pooledSharedBuffer(size)).fill(1));
      worker.postMessage({});
      expect(await reply()).toEqual([42, 42]);
      expect(mine.every((b) => b[0] === 1)).toBe(true);
    } finally {
      await worker.terminate();
    }
  });

  it('keeps blocks for sizes within a quarter of theirs, and maps anew for smaller ones', async () => {
    const before = pool().stats();
    allocateAndDrop(40 * MiB, 1);
    expect(await collectUntilFreed(before.freeBlocks)).toBe(true);
    const freed = pool().stats();
    const small = pooledSharedBuffer(20 * MiB); // 40 MiB would waste half
    expect(pool().stats().mapped).toBe(freed.mapped + 1);
    const near = pooledSharedBuffer(34 * MiB); // 40 MiB is within 34 + 8.5
    expect(pool().stats().reused).toBe(freed.reused + 1);
    expect([small.byteLength, near.byteLength]).toEqual([20 * MiB, 34 * MiB]);
  });

  it('unmaps freed memory past its limit, least recently freed first', async () => {
    pool().setMaxFreeBytes(0);
    expect(pool().stats().freeBytes).toBe(0);
    const before = pool().stats();
    allocateAndDrop(18 * MiB, 3);
    for (let i = 0; i < 50 && pool().stats().unmapped === before.unmapped; i++) {
      await new Promise((r) => setTimeout(r, 10));
      gc();
    }
    const after = pool().stats();
    expect(after.unmapped).toBe(before.unmapped + 1);
    expect(after.freeBytes).toBe(0);
  });

  it('refuses sizes that are not a positive whole number of bytes, naming what it wants', () => {
    expect(() => pool().allocate(0)).toThrow(RangeError);
    expect(() => pool().allocate(-1)).toThrow(/non-negative integer/);
    expect(() => pool().allocate(1.5)).toThrow(TypeError);
    expect(() => pool().allocate('8' as never)).toThrow(TypeError);
    expect(() => pool().setMaxFreeBytes(Number.NaN)).toThrow(/setMaxFreeBytes/);
  });

  it('reads DASK_TS_BLOCK_POOL_BYTES, and warns about a bad value rather than failing a receive', () => {
    expect(maxFreeBytes(undefined)).toBe(DEFAULT_MAX_FREE_BYTES);
    expect(maxFreeBytes('1048576')).toBe(MiB);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      expect(maxFreeBytes('lots')).toBe(DEFAULT_MAX_FREE_BYTES);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/DASK_TS_BLOCK_POOL_BYTES must be a number of bytes.*'lots'/);
    } finally {
      warn.mockRestore();
    }
  });
});
