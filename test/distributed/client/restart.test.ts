/** client.restart: every task and all data forgotten, every Future cancelled, the cluster usable at once. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, Client, ClientClosedError, LocalCluster } from '../../../src/distributed/index.js';
import { spin, square } from '../../fixtures/user-module.js';
import { range, startClient, until, type ClientFixture } from './fixture.js';

const inc = (x: number) => x + 1;
const sleepy = (ms: number, v: string) => new Promise<string>((resolve) => setTimeout(() => resolve(v), ms));
const identity = (v: string) => v;

let fx: ClientFixture;
let client: Client;

beforeAll(async () => {
  fx = await startClient({ nWorkers: 2, threadsPerWorker: 2 });
  client = fx.client;
});

afterAll(async () => {
  fx.check();
  await fx.close();
});

/** Every key the scheduler and the workers know. */
function clusterKeys(): { scheduler: string[]; workers: string[][] } {
  return {
    scheduler: Object.keys(fx.cluster.scheduler.state.whoHas()),
    workers: fx.cluster.workers.map((w) => [...w.server!.state.keys(), ...w.server!.state.data.keys()]),
  };
}

describe('Client.restart', () => {
  it('cancels every Future, empties the scheduler and the workers, and the cluster computes right after', async () => {
    const done = client.map(inc, range(20));
    await client.gather(done);
    const [scattered] = await client.scatter([new Float64Array(1000)]);
    const pending = client.with({ pure: false }).submit(spin, 2000);
    const waiting = client.submit(inc, client.submit(inc, pending));
    await until(() => fx.cluster.workers.some((w) => w.server!.state.executingCount > 0), 10_000, 'the spin to start');
    expect(clusterKeys().scheduler.length).toBeGreaterThan(0);

    await client.restart();

    for (const f of [...done, scattered, pending, waiting]) expect(f.status).toBe('cancelled');
    await expect(done[3].result()).rejects.toBeInstanceOf(CancelledError);
    await expect(pending.result()).rejects.toThrow(/the cluster restarted/);
    await until(() => clusterKeys().scheduler.length === 0 && clusterKeys().workers.every((k) => k.length === 0), 5000, 'the cluster to be empty');
    expect(fx.cluster.scheduler.state.counts()).toEqual({ released: 0, waiting: 0, 'no-worker': 0, processing: 0, memory: 0, erred: 0, forgotten: 0 });

    // The same keys again (pure), new keys, module functions: all computed after the restart.
    expect(await client.gather(client.map(inc, range(20)))).toEqual(range(20).map(inc));
    expect(await client.submit(square, 12)).toBe(144);
    for (const f of done) f.release();
  });

  it('cancels the Futures of every client; the other client can go on', async () => {
    const other = await Client.connect(fx.cluster, { timeoutMs: 5000 });
    try {
      const theirs = other.submit(inc, 100);
      expect(await theirs).toBe(101);
      await client.restart();
      await until(() => theirs.status === 'cancelled', 5000, "the other client's future to be cancelled");
      expect(await other.submit(inc, 100)).toBe(101);
    } finally {
      await other.close();
    }
  });

  it('drops the result of a task still running when the cluster restarted, even under the same key', async () => {
    const old = client.with({ key: 'same-key' }).submit(sleepy, 300, 'before');
    await until(() => fx.cluster.workers.some((w) => w.server!.state.taskState('same-key')?.state === 'executing'), 10_000, 'the task to run');
    await client.restart();
    const fresh = client.with({ key: 'same-key' }).submit(identity, 'after');
    expect(await fresh).toBe('after');
    // Long enough for the old task to have finished, had it not been stopped: its result never arrives.
    expect(await client.with({ pure: false }).submit(sleepy, 600, 'waited')).toBe('waited');
    // A Future is its key: the old Future of 'same-key' now names the new result.
    expect(await fresh).toBe('after');
    expect(await old).toBe('after');
    const holders = Object.values(await client.whoHas([fresh]))[0];
    for (const w of fx.cluster.workers) {
      const data = w.server!.state.data;
      if (holders.includes(w.address.replace('tcp://', ''))) expect(data.get('same-key')).toBe('after');
      else expect(data.has('same-key')).toBe(false);
    }
    fresh.release();
  });

  it('does not cancel what was submitted after restart() was called', async () => {
    const before = client.submit(inc, 1000);
    const restarting = client.restart();
    const after = client.submit(inc, 2000);
    await restarting;
    expect(before.status).toBe('cancelled');
    expect(await after).toBe(2001);
  });

  it('refuses bad options and a closed client', async () => {
    await expect(client.restart({ timeout: 5 } as never)).rejects.toThrow(/^Client\.restart: unknown option 'timeout' \(known: timeoutMs\)/);
    await expect(client.restart({ timeoutMs: -1 })).rejects.toThrow(/timeoutMs must be a positive number, got -1/);
    const other = await Client.connect(fx.cluster, { timeoutMs: 5000 });
    await other.close();
    await expect(other.restart()).rejects.toBeInstanceOf(ClientClosedError);
  });
});

describe('Client.restart with worker processes', () => {
  it('clears the worker processes, which keep serving', async () => {
    const cluster = await LocalCluster.start({ nWorkers: 1, threadsPerWorker: 1, processes: true });
    const c = await Client.connect(cluster, { timeoutMs: 10_000 });
    try {
      const f = c.submit(square, 3);
      expect(await f).toBe(9);
      const busy = c.with({ pure: false }).submit(spin, 60_000);
      await until(async () => (await c.identity()) !== undefined && cluster.scheduler.state.taskState(busy.key) === 'processing', 10_000, 'the spin to be sent');
      await c.restart();
      expect(f.status).toBe('cancelled');
      expect(busy.status).toBe('cancelled');
      // The worker's one thread was busy for a minute: the restart stopped it, so this runs now.
      expect(await c.submit(square, 4)).toBe(16);
      expect(Object.values(await c.run(() => process.pid))[0]).toBe(cluster.workers[0].process!.pid);
    } finally {
      await c.close();
      await cluster.close();
    }
  });
});
