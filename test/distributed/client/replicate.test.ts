/** client.replicate on an in-process cluster of 5 workers: tree copies, reductions, bad input. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Future } from '../../../src/distributed/index.js';
import { startClient, until, type ClientFixture } from './fixture.js';

const bare = (address: string) => address.replace(/^tcp:\/\//, '');
const filled = (n: number, v: number) => new Float64Array(n).fill(v);
const total = (a: Float64Array, _salt: number) => a.reduce((s, x) => s + x, 0);

let fx: ClientFixture;
let client: Client;
let addresses: string[];

beforeAll(async () => {
  fx = await startClient({ nWorkers: 5 });
  client = fx.client;
  addresses = fx.cluster.workers.map((w) => bare(w.address));
});

afterAll(async () => {
  fx.check();
  await fx.close();
});

/** The workers whose data store holds `key` (what they really have, not what the scheduler thinks). */
function storesWith(key: string): string[] {
  return fx.cluster.workers.filter((w) => w.server!.state.data.has(key)).map((w) => bare(w.address));
}

async function holders(f: Future): Promise<string[]> {
  return ((await client.whoHas([f]))[f.key] ?? []).sort();
}

describe('replicate', () => {
  it('copies to every worker as a tree: 1 -> 3 -> 5 in two rounds, every copy the same value', async () => {
    const f = client.submit(filled, 50_000, 3);
    await f;
    const result = await client.replicate([f]);
    expect(result).toMatchObject({ n: 5, rounds: 2, copied: 4, removed: 0 });
    expect(await holders(f)).toEqual([...addresses].sort());
    expect(storesWith(f.key).sort()).toEqual([...addresses].sort());
    for (const w of fx.cluster.workers) expect(w.server!.state.data.get(f.key)).toEqual(filled(50_000, 3));
    expect(await f).toEqual(filled(50_000, 3));
    f.release();
  });

  it('takes more rounds with branchingFactor 1 (1 -> 2 -> 4 -> 5)', async () => {
    const f = client.submit(filled, 1000, 4);
    await f;
    expect((await client.replicate([f], { branchingFactor: 1 })).rounds).toBe(3);
    expect(await holders(f)).toHaveLength(5);
    f.release();
  });

  it('makes n copies, then reduces to fewer, and the dropped copies leave the workers', async () => {
    const fs = client.map(filled, [2000, 3000], [1, 2]);
    await client.gather(fs);
    await client.replicate(fs, { n: 3 });
    for (const f of fs) expect(await holders(f)).toHaveLength(3);
    const r = await client.replicate(fs, { n: 1 });
    expect(r).toMatchObject({ n: 1, removed: 4, rounds: 0 });
    for (const f of fs) {
      const [only] = await holders(f);
      expect((await holders(f)).length).toBe(1);
      await until(() => storesWith(f.key).length === 1, 5000, `the dropped copies of ${f.key} freed`);
      expect(storesWith(f.key)).toEqual([only]);
    }
    expect(await client.gather(fs)).toEqual([filled(2000, 1), filled(3000, 2)]);
    for (const f of fs) f.release();
  });

  it('counts and copies only on the workers given by name, keeping copies elsewhere', async () => {
    const f = client.submit(filled, 100, 5);
    await f;
    const [first] = await holders(f);
    const others = fx.cluster.workers.filter((w) => bare(w.address) !== first).slice(0, 2);
    const r = await client.replicate([f], { workers: others.map((w) => w.name) });
    expect(r.workers.sort()).toEqual(others.map((w) => bare(w.address)).sort());
    expect(await holders(f)).toEqual([first, ...others.map((w) => bare(w.address))].sort());
    // n on the given workers only: one of the two named loses its copy, the first holder keeps its.
    await client.replicate([f], { n: 1, workers: others.map((w) => w.name) });
    const now = await holders(f);
    expect(now).toContain(first);
    expect(now).toHaveLength(2);
    f.release();
  });

  it('reduces copies while tasks that read them run: every task still gets the value', async () => {
    const x = client.submit(filled, 20_000, 1);
    await x;
    await client.replicate([x]);
    const sums = client.map(total, Array.from({ length: 20 }, () => x), Array.from({ length: 20 }, (_, i) => i));
    const reduced = client.replicate([x], { n: 1 });
    expect(await client.gather(sums)).toEqual(Array.from({ length: 20 }, () => 20_000));
    const r = await reduced;
    // Copies that a task assigned to their worker needed were kept (and the key reported pinned).
    const after = await holders(x);
    if (r.pinned.includes(x.key)) expect(after.length).toBeGreaterThan(1);
    else expect(after).toHaveLength(1);
    // With the tasks done, nothing pins them any more.
    expect((await client.replicate([x], { n: 1 })).pinned).toEqual([]);
    expect(await holders(x)).toHaveLength(1);
    expect(await x).toEqual(filled(20_000, 1));
    for (const f of [x, ...sums]) f.release();
  });

  it('resolves at once for nothing to do', async () => {
    expect(await client.replicate([])).toMatchObject({ rounds: 0, copied: 0, removed: 0 });
  });
});

describe('replicate: bad input', () => {
  it('refuses unknown keys and released futures, naming them', async () => {
    await expect(client.replicate(['no-such-key'])).rejects.toThrow(/replicate: 'futures' holds key 'no-such-key', which is not in memory on the cluster/);
    const f = client.submit(filled, 10, 9);
    await f;
    f.release();
    await expect(client.replicate([f])).rejects.toThrow(/replicate: the future '.*' in 'futures' was released/);
    await expect(client.replicate(undefined as never)).rejects.toThrow(/replicate: 'futures' is required/);
  });

  it('refuses a worker list naming no connected worker, bad n and bad branchingFactor', async () => {
    const f = client.submit(filled, 10, 8);
    await f;
    await expect(client.replicate([f], { workers: ['nobody'] })).rejects.toThrow(/replicate: 'workers' entry 'nobody' names no connected worker/);
    await expect(client.replicate([f], { n: 0 })).rejects.toThrow(/replicate: 'n' must be an integer >= 1/);
    await expect(client.replicate([f], { n: 1.5 })).rejects.toThrow(/'n' must be an integer/);
    await expect(client.replicate([f], { branchingFactor: 1.5 })).rejects.toThrow(/replicate: 'branchingFactor' must be an integer >= 1, got number 1.5/);
    await expect(client.replicate([f], { branchingFactor: 0 })).rejects.toThrow(/'branchingFactor'/);
    await expect(client.replicate([f], { copies: 2 } as never)).rejects.toThrow(/unknown option 'copies'/);
    expect(await holders(f)).toHaveLength(1);
    f.release();
  });

  // Last: it leaves a worker paused.
  it('rejects, naming the missing copies, when copies do not arrive within timeoutMs', async () => {
    const f = client.submit(filled, 10, 7);
    await f;
    const [holder] = await holders(f);
    const stuck = fx.cluster.workers.find((w) => bare(w.address) !== holder)!;
    // A paused worker (as under memory pressure) starts no fetch: the copy can never arrive.
    stuck.server!.state.handle({ type: 'pause' });
    await expect(client.replicate([f], { workers: [holder, stuck.name], timeoutMs: 300 })).rejects.toThrow(
      new RegExp(`replicate: 1 of 1 copies did not arrive within 300 ms \\('${f.key}' to ${bare(stuck.address)}\\)`),
    );
    expect(await holders(f)).toEqual([holder]);
    expect(await f).toEqual(filled(10, 7));
    f.release();
  });
});
