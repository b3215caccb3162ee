/**
 * Work stealing end to end: the data every task needs is scattered to one worker, so decide-worker
 * puts every task there; stealing moves queued ones to the idle worker, which fetches the data and
 * runs them. With stealing off, the same work stays on the one worker (so the test can fail).
 */
import { describe, expect, it } from 'vitest';
import { Client } from '../../../src/distributed/index.js';
import { WorkerServer } from '../../../src/distributed/worker/server.js';
import { until, withCluster, type Cluster } from '../cluster.js';

const bare = (address: string) => address.replace('tcp://', '');

/** Busy for `ms` (a pool thread runs it; self-contained, so it travels as source). */
function slow(data: Float64Array, i: number, ms: number): number {
  const end = Date.now() + ms;
  while (Date.now() < end);
  return data.length + i;
}

/** Runs 16 tasks of 30 ms, all on one scattered array held by w0; returns who computed each result. */
async function unevenRun(c: Cluster): Promise<{ results: number[]; holders: string[] }> {
  const client = await Client.connect(c.scheduler.address, { timeoutMs: 5000 });
  try {
    const w0 = bare(c.workers[0].address);
    const [d] = await client.scatter([new Float64Array(1000)], { workers: [w0] });
    expect(await client.whoHas([d])).toEqual({ [d.key]: [w0] });
    const futures = client.map(slow, Array(16).fill(d), Array.from({ length: 16 }, (_, i) => i), Array(16).fill(30));
    const results = (await client.gather(futures)) as number[];
    const whoHas = await client.whoHas(futures);
    // Each result lives where it was computed (nothing else needed them, so no copies were made).
    const holders = futures.map((f) => whoHas[f.key][0]);
    return { results, holders };
  } finally {
    await client.close();
  }
}

describe('work stealing on a cluster', () => {
  it('spreads tasks piled on the worker holding their data over both workers', async () => {
    await withCluster({ nWorkers: 2, nthreads: 1 }, async (c) => {
      const { results, holders } = await unevenRun(c);
      expect(results).toEqual(Array.from({ length: 16 }, (_, i) => 1000 + i));
      const w1 = bare(c.workers[1].address);
      const onW1 = holders.filter((h) => h === w1).length;
      expect(onW1).toBeGreaterThan(0);
      expect(onW1).toBeLessThan(16);
      const steals = c.scheduler.state.steals();
      expect(steals.length).toBeGreaterThan(0);
      // The idle w1 steals first; on a loaded machine w0 may later take some back once w1 has a
      // queue of its own, which is balance too, so only the first steal's direction is fixed.
      expect(steals[0].thief).toBe(w1);
    });
  });

  it('asks a worker for tasks it was sent but has not started (steal-request) when a worker joins', async () => {
    // One worker is sent every task (a thread + 8 queued); then a second one joins.
    await withCluster({ nWorkers: 1, nthreads: 1, scheduler: { state: { workerQueue: { minTasks: 8 } } } }, async (c) => {
      const client = await Client.connect(c.scheduler.address, { timeoutMs: 5000 });
      let late: WorkerServer | undefined;
      try {
        const w0 = bare(c.workers[0].address);
        const futures = client.map(slow, Array(9).fill(new Float64Array(1)), Array.from({ length: 9 }, (_, i) => i), Array(9).fill(100));
        await until(() => c.scheduler.state.processing()[w0]?.length === 9, 5000, 'all nine sent to the first worker');
        late = await WorkerServer.start({ scheduler: c.scheduler.address, nthreads: 1, name: 'late', validate: true, connectTimeoutMs: 5000, logger: c.logger.child('late') });
        expect(await client.gather(futures)).toEqual(Array.from({ length: 9 }, (_, i) => 1 + i));
        const whoHas = await client.whoHas(futures);
        const onLate = futures.filter((f) => whoHas[f.key][0] === bare(late!.address)).length;
        expect(onLate).toBeGreaterThan(0);
        expect(c.scheduler.state.steals().some((s) => s.how === 'request' && s.victim === w0)).toBe(true);
      } finally {
        await client.close();
        await late?.close();
      }
    });
  });

  it('keeps them on that worker with workStealing: false', async () => {
    await withCluster({ nWorkers: 2, nthreads: 1, scheduler: { state: { workStealing: false } } }, async (c) => {
      const { holders } = await unevenRun(c);
      const w0 = bare(c.workers[0].address);
      expect(new Set(holders)).toEqual(new Set([w0]));
      expect(c.scheduler.state.steals()).toEqual([]);
    });
  });
});
