/** client.run: a function on every worker (or some), outside the task system, against an in-process cluster. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, RunError, ShippingError, type RunContext } from '../../../src/distributed/index.js';
import { square, whereAmI } from '../../fixtures/user-module.js';
import { startClient, type ClientFixture } from './fixture.js';

let fx: ClientFixture;
let client: Client;
/** Worker address → name, as the scheduler knows them. */
let names: Record<string, string>;

beforeAll(async () => {
  fx = await startClient({ nWorkers: 2 });
  client = fx.client;
  const { workers } = await client.identity();
  names = Object.fromEntries(Object.values(workers).map((w) => [w.address, w.name]));
});

afterAll(async () => {
  fx.check();
  await fx.close();
});

describe('Client.run', () => {
  it('calls the function once on every worker and gives { address: value }', async () => {
    const out = await client.run(function (this: RunContext, x: number) {
      return { name: this.name, address: this.address, x };
    }, 7);
    expect(Object.keys(out).sort()).toEqual(Object.keys(names).sort());
    for (const [address, v] of Object.entries(out)) expect(v).toEqual({ name: names[address], address, x: 7 });
  });

  it('takes built-ins, registered module functions and functions among the arguments', async () => {
    expect(Object.values(await client.run(Math.max, 3, 9, 4))).toEqual([9, 9]);
    expect(Object.values(await client.run(square, 6))).toEqual([36, 36]);
    const apply = (f: (x: number) => number, x: number) => f(x);
    expect(Object.values(await client.run(apply, (x: number) => x * 10, 4))).toEqual([40, 40]);
    // On each worker's own thread, not on its pool (in-process workers share this process's thread).
    const { threadId } = await import('node:worker_threads');
    expect(Object.values(await client.run(whereAmI))).toEqual([threadId, threadId]);
  });

  it('awaits an async function', async () => {
    const out = await client.run(async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return 'slept';
    }, 20);
    expect(Object.values(out)).toEqual(['slept', 'slept']);
  });

  it('runs outside the task system: no key on the scheduler or the workers', async () => {
    await client.run(() => 1);
    expect(fx.cluster.scheduler.state.whoHas()).toEqual({});
    for (const w of fx.cluster.workers) expect(w.server!.state.keys()).toEqual([]);
    expect(client.refcount.size).toBe(0);
  });

  it('runs on the workers client.with({ workers }) names, by name or address', async () => {
    const [first, second] = Object.keys(names).sort();
    const byName = await client.with({ workers: [names[second]] }).run(function (this: RunContext) {
      return this.name;
    });
    expect(byName).toEqual({ [second]: names[second] });
    const byAddress = await client.with({ workers: [`tcp://${first}`] }).run(() => 'here');
    expect(byAddress).toEqual({ [first]: 'here' });
  });

  it('refuses workers that name no connected worker, saying which', async () => {
    await expect(client.with({ workers: ['nobody'] }).run(() => 1)).rejects.toThrow(/^Client\.run: 'workers' entry 'nobody' names no connected worker \(connected: /);
  });

  it('gives the per-worker error when the function throws on some workers, and the workers go on serving', async () => {
    const [ok, bad] = Object.keys(names).sort();
    const badName = names[bad];
    const err: unknown = await client
      .run(function (this: RunContext, who: string) {
        if (this.name === who) throw new RangeError(`no luck on ${this.name}`);
        return this.name;
      }, badName)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunError);
    const e = err as RunError;
    expect(e.results).toEqual({ [ok]: names[ok] });
    expect(Object.keys(e.errors)).toEqual([bad]);
    expect(e.errors[bad].name).toBe('RangeError');
    expect(e.errors[bad].message).toBe(`no luck on ${badName}`);
    expect(e.errors[bad].stack).toContain(`no luck on ${badName}`);
    expect(e.message).toBe(`Client.run: the function failed on 1 of 2 workers: ${bad}: RangeError: no luck on ${badName}`);
    // Both workers still serve: runs, tasks.
    expect(Object.keys(await client.run(() => 'still here')).sort()).toEqual([ok, bad]);
    expect(await client.gather(client.map(square, [1, 2, 3]))).toEqual([1, 4, 9]);
  });

  it('reports a thrown non-Error, a rejected promise, and a result that cannot travel back', async () => {
    const thrown = (await client.run(() => { throw 'plain string'; }).catch((e: unknown) => e)) as RunError;
    expect(thrown).toBeInstanceOf(RunError);
    for (const e of Object.values(thrown.errors)) expect(e.message).toContain('plain string');
    const rejected = (await client.run(async () => Promise.reject(new TypeError('async no'))).catch((e: unknown) => e)) as RunError;
    for (const e of Object.values(rejected.errors)) expect(`${e.name}: ${e.message}`).toBe('TypeError: async no');
    const unsendable = (await client.run(() => () => 1).catch((e: unknown) => e)) as RunError;
    expect(Object.keys(unsendable.errors)).toHaveLength(2);
    for (const [w, e] of Object.entries(unsendable.errors)) expect(e.message).toContain(`could not be sent back from worker ${w}`);
  });

  it('refuses what cannot travel before anything is sent', async () => {
    const n = 5;
    const addN = (x: number) => x + n;
    await expect(client.run(addN, 1)).rejects.toThrow(ShippingError);
    await expect(client.run(addN, 1)).rejects.toThrow(/^Client\.run: function 'addN' reads the variable 'n'/);
    const [f] = await client.scatter([1]);
    await expect(client.run((x: number) => x, f as never)).rejects.toThrow(/arguments are passed as values, and the future '.+' is among them/);
    f.release();
    await expect((client.run as (fn: unknown) => Promise<unknown>)('not a function')).rejects.toThrow(/^Client\.run: expected a function first, got string/);
    await expect(client.run((x: unknown) => x, Symbol('s') as never)).rejects.toThrow(/^Client\.run: the arguments cannot be sent to the workers/);
  });

  it('refuses on a closed client', async () => {
    const other = await Client.connect(fx.cluster, { timeoutMs: 5000 });
    await other.close();
    await expect(other.run(() => 1)).rejects.toThrow(/run: the client is closed/);
  });
});
