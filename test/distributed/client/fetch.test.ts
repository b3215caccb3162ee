/**
 * Where the client fetches results from: the holders key-in-memory names, and who-has when those
 * are stale. A cluster of its own, since a worker leaves during the test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, LocalCluster } from '../../../src/distributed/index.js';
import { startClient, until, type ClientFixture } from './fixture.js';

const inc = (x: number) => x + 1;
const bare = (address: string) => address.replace(/^tcp:\/\//, '');

let fx: ClientFixture;
let client: Client;
let cluster: LocalCluster;

beforeAll(async () => {
  fx = await startClient({ nWorkers: 2 });
  client = fx.client;
  cluster = fx.cluster;
});

afterAll(async () => {
  // The worker that left logs that its stream closed, and the fetch from it failed: expected.
  fx.check(/could not|closed|ECONNREFUSED/);
  await fx.close();
});

describe('fetching results', () => {
  it('reads a result from a copy elsewhere when the worker key-in-memory named has left, without recomputing it', async () => {
    const [a, b] = cluster.workers;
    const x = client.with({ workers: [a.name] }).submit(inc, 41);
    // A task on b that needs x makes b fetch a copy of it.
    const y = client.with({ workers: [b.name] }).submit(inc, x);
    expect(await y).toBe(43);
    const holders = () => cluster.scheduler.state.whoHas([x.key])[x.key] ?? [];
    await until(() => holders().length === 2, 5000, 'x held by both workers');
    const computedBefore = cluster.scheduler.state.story(x.key).filter((r) => r.finish === 'processing').length;

    await a.server!.close();
    await until(() => holders().length === 1 && holders()[0] === bare(b.address), 5000, 'a removed');
    // The client was told a held x; a is gone, so the fetch asks who-has and reads b's copy.
    expect(await x.result()).toBe(42);
    expect(await client.gather([x, y])).toEqual([42, 43]);
    expect(cluster.scheduler.state.story(x.key).filter((r) => r.finish === 'processing')).toHaveLength(computedBefore);
  });
});
