import { describe, expect, it } from 'vitest';
import { Client } from '../../src/distributed/client/client.js';
import { toRunSpecs } from '../../src/distributed/client/run-spec.js';
import { LocalCluster } from '../../src/distributed/local-cluster.js';
import { WORKER_MALLOC_TUNABLES } from '../../src/distributed/worker/process-env.js';
import { RawClient, schedulerCall, within, workerCall } from './cluster.js';

const square = (x: number) => x * x;

async function squareOnCluster(cluster: LocalCluster): Promise<unknown> {
  const c = await RawClient.connect(cluster.schedulerAddress);
  try {
    await c.send({ op: 'update-graph', tasks: toRunSpecs({ sq: [square, 7] }), keys: ['sq'] });
    await c.inMemory('sq', 15_000);
    const holder = (await schedulerCall(cluster.schedulerAddress, { op: 'who-has', keys: ['sq'] })).sq[0];
    return (await workerCall(holder, { op: 'get-data', keys: ['sq'] })).data.sq;
  } finally {
    await c.close();
  }
}

describe('LocalCluster', () => {
  it('runs a scheduler and workers in this process', async () => {
    const cluster = await LocalCluster.start({ nWorkers: 2, threadsPerWorker: 2, validate: true });
    try {
      expect(cluster.schedulerAddress).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      expect(cluster.workers.map((w) => w.name)).toEqual(['local-0', 'local-1']);
      const ncores = await schedulerCall(cluster.schedulerAddress, { op: 'ncores' });
      expect(Object.values(ncores)).toEqual([2, 2]);
      expect(await squareOnCluster(cluster)).toBe(49);
    } finally {
      await within(10_000, cluster.close(), 'closing the cluster');
    }
    expect(cluster.scheduler.closed).toBe(true);
    expect(cluster.workers.every((w) => w.server!.closed)).toBe(true);
    expect(cluster.scheduler.errors).toEqual([]);
  });

  it('runs workers as child processes through dworker', async () => {
    const cluster = await LocalCluster.start({ nWorkers: 2, processes: true });
    try {
      const ids = await schedulerCall(cluster.schedulerAddress, { op: 'identity' });
      const pids = Object.values(ids.workers).map((w) => w.pid);
      expect(pids).toHaveLength(2);
      expect(pids).not.toContain(process.pid);
      expect(Object.values(ids.workers).map((w) => w.name).sort()).toEqual(['local-0', 'local-1']);
      // Started with the allocator settings that let large frames reuse freed memory.
      const client = await Client.connect(cluster.schedulerAddress);
      try {
        const seen = await client.run(() => process.env.GLIBC_TUNABLES);
        const expected = process.env.GLIBC_TUNABLES ?? WORKER_MALLOC_TUNABLES; // a user's own setting is kept
        expect(Object.values(seen)).toEqual([expected, expected]);
      } finally {
        await client.close();
      }
      expect(await squareOnCluster(cluster)).toBe(49);
    } finally {
      await within(15_000, cluster.close(), 'closing the cluster');
    }
    for (const w of cluster.workers) expect(w.process!.exitCode).toBe(0);
  }, 40_000);
});
