import { describe, expect, it } from 'vitest';
import { getSync } from '../../src/index.js';
import { getContract } from './get-contract.js';

getContract('sync', getSync);

describe('getSync', () => {
  it('runs every task on the calling thread, in dependency order', async () => {
    const log: string[] = [];
    const note = (name: string) => (...xs: unknown[]) => {
      log.push(name);
      return xs.length;
    };
    await getSync({ a: [note('a')], b: [note('b'), 'a'], c: [note('c'), 'a', 'b'] }, 'c');
    expect(log).toEqual(['a', 'b', 'c']);
  });

  it('calls onTaskFinished once per task it ran (only what the keys need)', async () => {
    const seen: string[] = [];
    const inc = (x: number) => x + 1;
    await getSync({ x: [inc, 1], y: [inc, 'x'], unused: [inc, 5] }, 'y', { onTaskFinished: (k) => seen.push(k) });
    expect(seen.sort()).toEqual(['x', 'y']);
  });
});
