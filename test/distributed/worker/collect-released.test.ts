/**
 * A worker that frees large data collects on a later turn (shared-memory.ts collectReleased), so
 * the next large receive finds the memory given back without a collection of its own. The
 * collection itself is the module's (test/schedulers/shared-memory.test.ts); here, that freeing
 * keys prompts it, and only for large data.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startClient, until, type ClientFixture } from '../client/fixture.js';

const collectReleased = vi.hoisted(() => vi.fn());
vi.mock('../../../src/schedulers/shared-memory.js', async (original) => ({
  ...(await original<typeof import('../../../src/schedulers/shared-memory.js')>()),
  collectReleased,
}));

let fx: ClientFixture;
beforeAll(async () => {
  fx = await startClient({ nWorkers: 1 });
});
afterAll(async () => {
  fx.check();
  await fx.close();
});

/** Scatters `value`, waits until the worker holds it, releases it, waits until the worker dropped it. */
async function holdAndFree(value: unknown): Promise<void> {
  const [f] = await fx.client.scatter([value], { hash: false });
  const worker = fx.cluster.workers[0].server!;
  expect(worker.state.data.has(f.key)).toBe(true);
  f.release();
  await until(() => !worker.state.data.has(f.key), 5000, 'the worker to free the key');
  await new Promise((r) => setImmediate(r));
}

describe('a worker freeing keys', () => {
  it('collects on a later turn after freeing 16 MiB or more of data', async () => {
    collectReleased.mockClear();
    await holdAndFree(new Float64Array(3 * 2 ** 20)); // 24 MiB
    expect(collectReleased).toHaveBeenCalledTimes(1);
  });

  it('does not collect for small data', async () => {
    collectReleased.mockClear();
    await holdAndFree(new Float64Array(1000));
    await holdAndFree({ some: 'object' });
    expect(collectReleased).not.toHaveBeenCalled();
  });
});
