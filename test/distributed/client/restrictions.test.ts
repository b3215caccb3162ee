/**
 * Restrictions end to end (the data-locality page's `workers=` and `allow_other_workers`, and the
 * manual's `get(dsk, keys, restrictions=)`): by name, address and host; strict by default (the data
 * moves to the allowed worker); pending and reported while no allowed worker is connected, run
 * when one joins.
 */
import { describe, expect, it } from 'vitest';
import { Client } from '../../../src/distributed/index.js';
import { WorkerServer } from '../../../src/distributed/worker/server.js';
import { until, withCluster, type Cluster } from '../cluster.js';

const inc = (x: number) => x + 1;
const length = (a: Float64Array) => a.length;
const bare = (address: string) => address.replace('tcp://', '');

async function withClient(c: Cluster, body: (client: Client) => Promise<void>): Promise<void> {
  const client = await Client.connect(c.scheduler.address, { timeoutMs: 5000 });
  try {
    await body(client);
  } finally {
    await client.close();
  }
}

/** Where each future's result is held (each lives where it was computed: nothing copied them). */
async function placement(client: Client, futures: { key: string }[]): Promise<Set<string>> {
  const whoHas = await client.whoHas(futures);
  return new Set(futures.flatMap((f) => whoHas[f.key]));
}

async function startWorker(c: Cluster, name: string, host = '127.0.0.1'): Promise<WorkerServer> {
  return WorkerServer.start({ scheduler: c.scheduler.address, nthreads: 1, name, host, validate: true, connectTimeoutMs: 5000, logger: c.logger.child(name) });
}

describe('workers= restrictions', () => {
  it('run tasks only on the workers named by alias or address', async () => {
    await withCluster({ nWorkers: 2 }, async (c) => {
      await withClient(c, async (client) => {
        const byName = client.with({ workers: 'w1' }).map(inc, [1, 2, 3, 4, 5, 6]);
        expect(await client.gather(byName)).toEqual([2, 3, 4, 5, 6, 7]);
        expect(await placement(client, byName)).toEqual(new Set([bare(c.workers[1].address)]));
        const byAddress = client.with({ workers: [c.workers[0].address] }).map(inc, [10, 11, 12, 13]);
        await client.gather(byAddress);
        expect(await placement(client, byAddress)).toEqual(new Set([bare(c.workers[0].address)]));
      });
    });
  });

  it('take a host (IP) as any worker on that host', async () => {
    await withCluster({ nWorkers: 2 }, async (c) => {
      const other = await startWorker(c, 'elsewhere', '127.0.0.2');
      try {
        await until(() => c.scheduler.workerAddresses.length === 3, 5000, 'the third worker registered');
        await withClient(c, async (client) => {
          const there = client.with({ workers: '127.0.0.2' }).map(inc, [1, 2, 3, 4]);
          await client.gather(there);
          expect(await placement(client, there)).toEqual(new Set([bare(other.address)]));
          const here = client.with({ workers: ['127.0.0.1'] }).map(inc, [5, 6, 7, 8, 9, 10]);
          await client.gather(here);
          const hosts = [...(await placement(client, here))].map((a) => a.split(':')[0]);
          expect(new Set(hosts)).toEqual(new Set(['127.0.0.1']));
        });
      } finally {
        await other.close();
      }
    });
  });

  it('are strict: the input moves to the allowed worker, however large', async () => {
    await withCluster({ nWorkers: 2 }, async (c) => {
      await withClient(c, async (client) => {
        const [w0, w1] = c.workers.map((w) => bare(w.address));
        const [big] = await client.scatter([new Float64Array(1 << 20)], { workers: [w0] });
        const f = client.with({ workers: ['w1'] }).submit(length, big);
        expect(await f).toBe(1 << 20);
        expect((await client.whoHas([f]))[f.key]).toEqual([w1]);
        expect(new Set((await client.whoHas([big]))[big.key])).toEqual(new Set([w0, w1]));
      });
    });
  });

  it('keep a task that no connected worker may run pending, reported, until such a worker joins', async () => {
    await withCluster({ nWorkers: 2 }, async (c) => {
      await withClient(c, async (client) => {
        const f = client.with({ workers: ['carol'] }).submit(inc, 41);
        await until(() => c.scheduler.state.taskState(f.key) === 'no-worker', 5000, 'the task waiting for carol');
        expect(await client.unrunnable()).toEqual({ [f.key]: 'no connected worker matches workers=["carol"] (and allowOtherWorkers is false)' });
        expect(f.status).toBe('pending');
        const warning = c.logs.find((r) => r.level === 'warn' && r.message.includes(f.key));
        expect(warning?.message).toMatch(/1 task cannot run yet and waits for a worker: 'inc-\w+': no connected worker matches workers=\["carol"\]/);

        const carol = await startWorker(c, 'carol');
        try {
          expect(await f).toBe(42);
          expect((await client.whoHas([f]))[f.key]).toEqual([bare(carol.address)]);
          expect(await client.unrunnable()).toEqual({});
        } finally {
          f.release();
          await carol.close();
        }
      });
    });
  });

  it('with allowOtherWorkers, run elsewhere while none named is connected', async () => {
    await withCluster({ nWorkers: 2 }, async (c) => {
      await withClient(c, async (client) => {
        const f = client.with({ workers: ['carol'], allowOtherWorkers: true }).submit(inc, 1);
        expect(await f).toBe(2);
        expect(await client.unrunnable()).toEqual({});
      });
    });
  });
});

describe('Client.get restrictions', () => {
  it('restrict keys of a raw graph, strictly unless listed in looseRestrictions', async () => {
    await withCluster({ nWorkers: 2 }, async (c) => {
      await withClient(c, async (client) => {
        const dsk = { x: 1, y: [inc, 'x'] as [typeof inc, string] };
        expect(await client.get(dsk, 'y', { restrictions: { y: 'w1', x: ['w0', 'w1'] } })).toBe(2);

        const controller = new AbortController();
        const pending = client.get({ a: 1, b: [inc, 'a'] }, 'b', { restrictions: { b: ['carol'] }, signal: controller.signal });
        await until(() => c.scheduler.state.taskState('b') === 'no-worker', 5000, "'b' waiting for carol");
        expect(await client.unrunnable()).toEqual({ b: 'no connected worker matches workers=["carol"] (and allowOtherWorkers is false)' });
        controller.abort();
        await expect(pending).rejects.toThrow();

        expect(await client.get({ p: 1, q: [inc, 'p'] }, 'q', { restrictions: { q: ['carol'] }, looseRestrictions: ['q'] })).toBe(2);
      });
    });
  });

  it('refuses malformed restrictions with errors that say what is wrong', async () => {
    await withCluster({ nWorkers: 1 }, async (c) => {
      await withClient(c, async (client) => {
        const dsk = { x: 1, y: [inc, 'x'] as [typeof inc, string] };
        await expect(client.get(dsk, 'y', { restrictions: ['w0'] as never })).rejects.toThrow(
          "Client.get: 'restrictions' must be an object of keys to workers, like { x: ['alice'] }, got an array",
        );
        await expect(client.get(dsk, 'y', { restrictions: { y: [] } })).rejects.toThrow(
          "Client.get: restrictions['y'] must be a worker address, host or name, or a non-empty array of them; got []",
        );
        await expect(client.get(dsk, 'y', { restrictions: { z: 'w0' } })).rejects.toThrow("Client.get: restrictions names 'z', which is not a task of the graph");
        await expect(client.get(dsk, 'y', { restrictions: { y: 'w0' }, looseRestrictions: ['x'] })).rejects.toThrow(
          "Client.get: looseRestrictions lists 'x', which has no entry in restrictions",
        );
        await expect(client.get(dsk, 'y', { looseRestrictions: ['y'] })).rejects.toThrow("Client.get: 'looseRestrictions' needs 'restrictions'");
        await expect(client.get(dsk, 'y', { workers: ['w0'] } as never)).rejects.toThrow("Client.get: unknown option 'workers'");
        // Nothing was sent for the refused calls: the client still works.
        expect(await client.get(dsk, 'y')).toBe(2);
      });
    });
  });
});
