/** The cluster queries: whoHas, hasWhat, ncores, nbytes, schedulerInfo (real TCP, in-process cluster). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/distributed/index.js';
import { startClient, type ClientFixture } from './fixture.js';

const inc = (x: number) => x + 1;
const bare = (address: string) => address.replace(/^tcp:\/\//, '');

let fx: ClientFixture;
let client: Client;
let addresses: string[];

beforeAll(async () => {
  fx = await startClient({ nWorkers: 2, threadsPerWorker: 2 });
  client = fx.client;
  addresses = fx.cluster.workers.map((w) => bare(w.address));
});

afterAll(async () => {
  fx.check();
  await fx.close();
});

describe('whoHas and hasWhat', () => {
  it('name the holders of Futures and of key strings, by host:port address', async () => {
    const fs = client.map(inc, [1, 2, 3]);
    await client.gather(fs);
    const who = await client.whoHas(fs);
    expect(Object.keys(who).sort()).toEqual(fs.map((f) => f.key).sort());
    for (const holders of Object.values(who)) {
      expect(holders).toHaveLength(1);
      expect(addresses).toContain(holders[0]);
    }
    expect(await client.whoHas([fs[0].key])).toEqual({ [fs[0].key]: who[fs[0].key] });
    expect(await client.whoHas({ a: fs[1] })).toEqual({ [fs[1].key]: who[fs[1].key] });
    expect(await client.whoHas(['never-computed'])).toEqual({ 'never-computed': [] });

    const what = await client.hasWhat();
    expect(Object.keys(what).sort()).toEqual([...addresses].sort());
    for (const f of fs) expect(what[who[f.key][0]]).toContain(f.key);
    for (const f of fs) f.release();
  });

  it('take workers as addresses (with or without tcp://), names or hosts', async () => {
    const [a, b] = fx.cluster.workers;
    expect(Object.keys(await client.hasWhat(bare(a.address)))).toEqual([bare(a.address)]);
    expect(Object.keys(await client.hasWhat(`tcp://${bare(b.address)}`))).toEqual([bare(b.address)]);
    expect(Object.keys(await client.hasWhat([a.name]))).toEqual([bare(a.address)]);
    expect(Object.keys(await client.hasWhat('127.0.0.1')).sort()).toEqual([...addresses].sort());
  });

  it('refuse a worker that is not connected, naming it and who is', async () => {
    await expect(client.hasWhat(['local-0', 'nobody'])).rejects.toThrow(/hasWhat: 'workers' entry 'nobody' names no connected worker \(connected: .*'local-0'/);
    await expect(client.ncores('10.9.9.9:1')).rejects.toThrow(/ncores: 'workers' entry '10.9.9.9:1'/);
    await expect(client.hasWhat([])).rejects.toThrow(/'workers' is an empty list/);
    await expect(client.hasWhat([42 as unknown as string])).rejects.toThrow(TypeError);
  });

  it('whoHas refuses what is neither a Future nor a key', async () => {
    await expect(client.whoHas([42])).rejects.toThrow(/whoHas: 'futures' must hold Futures or keys/);
  });
});

describe('ncores', () => {
  it('gives the threads per worker address', async () => {
    expect(await client.ncores()).toEqual(Object.fromEntries(addresses.map((a) => [a, 2])));
    expect(await client.ncores(fx.cluster.workers[1].name)).toEqual({ [addresses[1]]: 2 });
  });
});

describe('nbytes', () => {
  it('gives bytes per key, and per key prefix with summary (the default)', async () => {
    const fs = client.map(inc, [10, 20, 30]);
    const arr = client.submit((n: number) => new Float64Array(n), 1000);
    await client.gather([...fs, arr]);
    const keys = [...fs.map((f) => f.key), arr.key];
    const perKey = await client.nbytes(keys, { summary: false });
    expect(perKey).toEqual({ [fs[0].key]: 8, [fs[1].key]: 8, [fs[2].key]: 8, [arr.key]: 8000 });
    expect(await client.nbytes(fs)).toEqual({ inc: 24 });
    const all = await client.nbytes();
    expect(all.inc).toBeGreaterThanOrEqual(24);
    expect(await client.nbytes(['not-a-key'], { summary: false })).toEqual({});
    for (const f of [...fs, arr]) f.release();
  });

  it('checks its options', async () => {
    await expect(client.nbytes(undefined, { summary: 'yes' as unknown as boolean })).rejects.toThrow(/nbytes: 'summary' must be a boolean/);
    await expect(client.nbytes(undefined, { sumary: true } as never)).rejects.toThrow(/unknown option 'sumary'/);
  });
});

describe('schedulerInfo', () => {
  it('gives the address and, per worker, its identity, data held and tasks', async () => {
    const f = client.submit((n: number) => new Uint8Array(n), 5000);
    await f;
    const info = await client.schedulerInfo();
    expect(info.type).toBe('Scheduler');
    expect(info.address).toBe(fx.cluster.schedulerAddress);
    expect(info.clients).toBe(1);
    expect(info.tasks.memory).toBeGreaterThanOrEqual(1);
    expect(Object.keys(info.workers).sort()).toEqual([...addresses].sort());
    const holder = (await client.whoHas([f]))[f.key][0];
    for (const w of fx.cluster.workers) {
      const wi = info.workers[bare(w.address)];
      expect(wi).toMatchObject({ address: bare(w.address), name: w.name, nthreads: 2, host: '127.0.0.1', processing: 0 });
      expect(wi.memoryLimit).toBeGreaterThan(0);
      expect(wi.lastSeen).toBeGreaterThan(Date.now() / 1000 - 60);
    }
    expect(info.workers[holder].nbytes).toBeGreaterThanOrEqual(5000);
    expect(info.workers[holder].nkeys).toBeGreaterThanOrEqual(1);
    f.release();
  });
});
