/**
 * Shared memory that is given back: the collection before a large block that arrives from outside.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { blockPool, pooledSharedBuffer } from '../../src/schedulers/block-pool.js';
import { collectBeforeLargeBlock, collectReleased, setLargeBlockCollection } from '../../src/schedulers/shared-memory.js';

const turn = () => new Promise((r) => setTimeout(r, 0));
const size = 64 * 2 ** 20;

afterEach(() => setLargeBlockCollection('minor'));

describe('collectBeforeLargeBlock', () => {
  it("'full' (worker processes): collects the block dropped before it, every time, before allocating the next", async () => {
    setLargeBlockCollection('full');
    // A WeakRef's target is kept until the end of the turn that made or read it: each check
    // comes a turn after the block was dropped, in the same turn as the next allocation. In a
    // function of its own, so no register of the async test function holds a block.
    const next = (previous: WeakRef<SharedArrayBuffer> | undefined) => {
      collectBeforeLargeBlock(size);
      const block = new SharedArrayBuffer(size);
      const survived = previous?.deref() !== undefined;
      new Uint8Array(block)[size - 1] = 1;
      return { ref: new WeakRef(block), survived };
    };
    let previous: WeakRef<SharedArrayBuffer> | undefined;
    const survivors: number[] = [];
    for (let i = 0; i < 8; i++) {
      await turn();
      const r = next(previous);
      if (r.survived) survivors.push(i);
      previous = r.ref;
    }
    // Every block, not most: a collection that ran only every few blocks (or that the block's
    // own count could skip) leaves the previous one alive, to be received into fresh memory.
    expect(survivors).toEqual([]);
  });

  it.skipIf(process.env.DASK_TS_NATIVE === '0')("'minor' (the default): gives a block that died young back to the pool before the next", async () => {
    const pool = blockPool();
    expect(pool, 'build/Release/block_pool.node is missing: run `npm install`').not.toBeNull();
    const receive = () => {
      collectBeforeLargeBlock(size);
      new Uint8Array(pooledSharedBuffer(size))[size - 1] = 1; // dropped at once, as a used-up result
    };
    receive();
    const before = pool!.stats();
    for (let i = 0; i < 8; i++) {
      await turn();
      receive();
    }
    const after = pool!.stats();
    // V8 may free on a background thread after the collection, so now and then a block comes
    // back just too late and a new one is mapped; without the collection none would come back.
    expect(after.reused - before.reused).toBeGreaterThanOrEqual(6);
  });

  it("'full': collectReleased gives back what was dropped since the last collection", async () => {
    setLargeBlockCollection('full');
    const make = () => {
      collectBeforeLargeBlock(size); // counts the block
      const block = new SharedArrayBuffer(size);
      new Uint8Array(block)[0] = 1;
      return new WeakRef(block);
    };
    const ref = make();
    await turn();
    collectReleased();
    expect(ref.deref()).toBeUndefined();
  });

  it('refuses a kind of collection it does not know', () => {
    expect(() => setLargeBlockCollection('major' as never)).toThrow(/expected 'minor' or 'full', got major/);
  });
});
