/** client.rebalance on an in-process cluster of 3 workers: even bytes, values intact, bad input. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Future } from '../../../src/distributed/index.js';
import { startClient, until, type ClientFixture } from './fixture.js';

const bare = (address: string) => address.replace(/^tcp:\/\//, '');
const filled = (n: number, v: number) => new Float64Array(n).fill(v);
const sizes = Array.from({ length: 24 }, (_, i) => 1000 + ((i * 7919) % 23) * 500);

let fx: ClientFixture;
let client: Client;

beforeAll(async () => {
  fx = await startClient({ nWorkers: 3 });
  client = fx.client;
});

afterAll(async () => {
  fx.check();
  await fx.close();
});

/** Bytes of `fs` each worker holds, by the scheduler's count. */
async function bytesPerWorker(fs: Future[]): Promise<Record<string, number>> {
  const who = await client.whoHas(fs);
  const nbytes = await client.nbytes(fs, { summary: false });
  const out: Record<string, number> = Object.fromEntries(fx.cluster.workers.map((w) => [bare(w.address), 0]));
  for (const f of fs) for (const a of who[f.key]) out[a] += nbytes[f.key];
  return out;
}

const spread = (r: Record<string, number>) => Math.max(...Object.values(r)) - Math.min(...Object.values(r));
const mean = (r: Record<string, number>) => Object.values(r).reduce((s, v) => s + v, 0) / Object.keys(r).length;

describe('rebalance', () => {
  it('evens out data made on one worker; every value is still there and correct, once', async () => {
    const first = fx.cluster.workers[0];
    const fs = client.with({ workers: [first.name] }).map(filled, sizes, sizes.map((_, i) => i));
    await client.gather(fs);
    const before = await bytesPerWorker(fs);
    expect(before[bare(first.address)]).toBe(sizes.reduce((s, n) => s + 8 * n, 0));

    const r = await client.rebalance(fs);
    const after = await bytesPerWorker(fs);
    expect(r.before).toEqual(before);
    expect(r.after).toEqual(after);
    expect(r.moved).toBeGreaterThan(0);
    expect(spread(after)).toBeLessThanOrEqual(0.1 * mean(after));

    // The senders dropped their copies: each value lives on exactly one worker's store.
    for (const f of fs) {
      await until(() => fx.cluster.workers.filter((w) => w.server!.state.data.has(f.key)).length === 1, 5000, `one copy of ${f.key}`);
    }
    expect(await client.gather(fs)).toEqual(sizes.map((n, i) => filled(n, i)));
    for (const f of fs) f.release();
  });

  it('balances only the given keys among the given workers', async () => {
    const [a, b, c] = fx.cluster.workers;
    const fs = client.with({ workers: [a.name] }).map(filled, [4000, 4000, 4000, 4000], [1, 2, 3, 4]);
    const other = client.with({ workers: [c.name] }).submit(filled, 100, 7);
    await client.gather([...fs, other]);
    await client.rebalance(fs, [a.name, b.name]);
    const after = await bytesPerWorker(fs);
    expect(after).toEqual({ [bare(a.address)]: 64_000, [bare(b.address)]: 64_000, [bare(c.address)]: 0 });
    expect((await client.whoHas([other]))[other.key]).toEqual([bare(c.address)]);
    expect(await client.gather(fs)).toEqual([1, 2, 3, 4].map((v) => filled(4000, v)));
    for (const f of [...fs, other]) f.release();
  });

  it('does nothing when already even', async () => {
    const [a, b, c] = fx.cluster.workers;
    const fs = [a, b, c].map((w, i) => client.with({ workers: [w.name] }).submit(filled, 1000, 10 + i));
    await client.gather(fs);
    expect(await client.rebalance(fs)).toMatchObject({ moved: 0, nbytes: 0 });
    for (const f of fs) f.release();
  });
});

describe('rebalance: bad input', () => {
  it('refuses unknown keys and workers, naming them', async () => {
    await expect(client.rebalance(['no-such-key'])).rejects.toThrow(/rebalance: 'futures' holds key 'no-such-key', which is not in memory on the cluster/);
    await expect(client.rebalance(undefined, ['nobody'])).rejects.toThrow(/rebalance: 'workers' entry 'nobody' names no connected worker/);
    await expect(client.rebalance([3])).rejects.toThrow(/rebalance: 'futures' must hold Futures or keys/);
  });
});
