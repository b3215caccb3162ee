/**
 * Shared memory that is given back: the collection before a large block that arrives from outside.
 */
import { describe, expect, it } from 'vitest';
import { collectBeforeLargeBlock } from '../../src/schedulers/shared-memory.js';

const turn = () => new Promise((r) => setTimeout(r, 0));

describe('collectBeforeLargeBlock', () => {
  it('collects the block dropped before it, every time, before allocating the next', async () => {
    // A WeakRef's target is kept until the end of the turn that made or read it: each check
    // comes a turn after the block was dropped, in the same turn as the next allocation.
    const size = 64 * 2 ** 20;
    // In a function of its own, so no register of the async test function holds a block.
    const next = (previous: WeakRef<SharedArrayBuffer> | undefined) => {
      collectBeforeLargeBlock(size);
      const block = new SharedArrayBuffer(size);
      const survived = previous?.deref() !== undefined;
      new Uint8Array(block)[size - 1] = 1;
      return { ref: new WeakRef(block), survived, size: block.byteLength };
    };
    let previous: WeakRef<SharedArrayBuffer> | undefined;
    const survivors: number[] = [];
    for (let i = 0; i < 8; i++) {
      await turn();
      const r = next(previous);
      expect(r.size).toBe(size);
      if (r.survived) survivors.push(i);
      previous = r.ref;
    }
    // Every block, not most: a collection that ran only every few blocks (or that the block's
    // own count could skip) leaves the previous one alive, to be received into fresh memory.
    expect(survivors).toEqual([]);
  });
});
