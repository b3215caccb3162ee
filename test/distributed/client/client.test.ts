/** Client, Future, asCompleted and wait against an in-process cluster (scheduler + 2 workers over TCP). */
import { createServer, type Server } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  asCompleted,
  CancelledError,
  Client,
  ClientClosedError,
  ConnectError,
  Executor,
  Future,
  LocalCluster,
  LostDataError,
  ShippingError,
  TaskError,
  TimeoutError,
  wait,
} from '../../../src/distributed/index.js';
import { createLogger, type LogRecord } from '../../../src/distributed/rpc/logger.js';
import { fail, square } from '../../fixtures/user-module.js';
import { range, until, useClientFixture, type ClientFixture } from './fixture.js';

const neg = (x: number) => -x;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const inc = (x: number) => x + 1;
const add = (a: number, b: number) => a + b;
const sleepy = (ms: number, v: number) => new Promise<number>((resolve) => setTimeout(() => resolve(v), ms));

/** The host:port part of an address, to compare 'tcp://h:p' with 'h:p'. */
const bare = (address: string) => address.replace(/^tcp:\/\//, '');

let fx: ClientFixture;
let client: Client;
useClientFixture((f) => {
  fx = f;
  client = f.client;
});

describe('submit, map and gather', () => {
  it('runs the issue example: futures as arguments, without a round trip', async () => {
    const A = client.map(square, range(10));
    const B = client.map(neg, A);
    const total = client.submit(sum, B);
    expect(A).toHaveLength(10);
    expect(A[0]).toBeInstanceOf(Future);
    const t: number = await total.result();
    expect(t).toBe(-285);
    expect(await total).toBe(-285);
    expect(await client.gather(A)).toEqual([0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    expect(total.status).toBe('finished');
    expect(total.key).toMatch(/^sum-[0-9a-f]{32}$/);
  });

  it('gathers nested arrays and plain objects of futures, keeping their shape', async () => {
    const [one, two, three] = client.map(inc, [0, 1, 2]);
    const out = await client.gather([one, [two], { x: three, y: 'y', z: [one, 5] }]);
    expect(out).toEqual([1, [2], { x: 3, y: 'y', z: [1, 5] }]);
    expect(await client.gather(two)).toBe(2);
    expect(await client.gather({ none: 1 })).toEqual({ none: 1 });
  });

  it('takes futures inside arrays and objects as arguments', async () => {
    const [a, b, c] = client.map(inc, [0, 1, 2]);
    const f = client.submit((o: { a: number; b: number[] }) => o.a + o.b[0] * o.b[1], { a, b: [b, c] });
    expect(await f).toBe(7);
  });

  it('zips the iterables of map as Python does (the shortest ends it)', async () => {
    const fs = client.map(add, [1, 2, 3], new Set([10, 20]));
    expect(fs).toHaveLength(2);
    expect(await client.gather(fs)).toEqual([11, 22]);
    expect(() => (client.map as (fn: unknown) => unknown)(inc)).toThrow(/at least one iterable/);
    expect(() => client.map(inc, 5 as never)).toThrow(/argument 2 is not iterable/);
  });

  it('passes typed arrays both ways', async () => {
    const doubled = await client.submit((a: Float64Array) => a.map((v) => v * 2), new Float64Array([1, 2, 3]));
    expect(doubled).toBeInstanceOf(Float64Array);
    expect(Array.from(doubled)).toEqual([2, 4, 6]);
  });

  it('scatters data: arrays of values or objects whose keys become the keys', async () => {
    const [f] = await client.scatter([41]);
    expect(f.status).toBe('finished');
    expect(await client.submit(inc, f)).toBe(42);
    const { a } = await client.scatter({ a: [1, 2, 3] });
    expect(a.key).toBe('a');
    expect(await client.gather(a)).toEqual([1, 2, 3]);
    const [everywhere] = await client.scatter([{ big: 'value' }], { broadcast: true });
    const who = await client.whoHas(everywhere);
    expect(who[everywhere.key]).toHaveLength(2);
    await expect(client.scatter(5 as never)).rejects.toThrow(/scatter one value as \[value\]/);
  });

  it('types a Future by what its function returns (promises awaited), arguments by its parameters', () => {
    const [a] = client.map(inc, [1]);
    expectTypeOf(a).toEqualTypeOf<Future<number>>();
    expectTypeOf(client.submit(sleepy, 1, 2)).toEqualTypeOf<Future<number>>();
    expectTypeOf(client.submit(sum, [a, 2])).toEqualTypeOf<Future<number>>();
    expectTypeOf(client.gather({ x: [a], y: 'y' })).resolves.toEqualTypeOf<{ x: number[]; y: string }>();
    // @ts-expect-error a string is not a number, nor a Future of one
    expect(() => client.submit(inc, 'one')).not.toThrow();
  });

  it('is also called Executor, as in the manual', () => {
    expect(Executor).toBe(Client);
  });
});

describe('keys and views', () => {
  it('gives a pure call one key: the same call is computed once', async () => {
    const f1 = client.submit(Math.random);
    const f2 = client.submit(Math.random);
    expect(f1.key).toBe(f2.key);
    expect(f1.key).toMatch(/^random-/);
    expect(client.refcount.get(f1.key)).toBe(2);
    expect(await f1).toBe(await f2);
  });

  it('gives pure: false calls random keys, so they run again', async () => {
    const impure = client.with({ pure: false });
    const g1 = impure.submit(Math.random);
    const g2 = impure.submit(Math.random);
    expect(g1.key).not.toBe(g2.key);
    expect(await g1).not.toBe(await g2);
    // The view is kept: its options apply to every call, and views stack.
    const [m1] = impure.map(Math.max, [1]);
    const [m2] = impure.map(Math.max, [1]);
    expect(m1.key).not.toBe(m2.key);
    expect(impure.with({ priority: 1 }).options).toEqual({ pure: false, priority: 1 });
  });

  it('takes a key, a key prefix for map, or one key per call', async () => {
    expect(client.with({ key: 'my-key' }).submit(inc, 1).key).toBe('my-key');
    const prefixed = client.with({ key: 'sq' }).map(square, [2, 3]);
    expect(prefixed.map((f) => f.key)).toEqual([expect.stringMatching(/^sq-/), expect.stringMatching(/^sq-/)]);
    const named = client.with({ key: ['k-a', 'k-b'] }).map(square, [4, 5]);
    expect(named.map((f) => f.key)).toEqual(['k-a', 'k-b']);
    expect(await client.gather(named)).toEqual([16, 25]);
    expect(() => client.with({ key: ['only-one'] }).map(square, [1, 2])).toThrow(/1 keys given for 2 calls/);
    expect(() => client.with({ key: ['a'] }).submit(inc, 1)).toThrow(/'key' must be a string/);
  });

  it('refuses unknown or ill-typed options', () => {
    expect(() => client.with({ bogus: 1 } as never)).toThrow(/unknown option 'bogus'/);
    expect(() => client.with({ workers: 5 } as never)).toThrow(/'workers'/);
  });

  it('runs a task where workers= says', async () => {
    const target = fx.cluster.workers[1];
    const f = client.with({ workers: [target.name] }).submit(inc, 1000);
    expect(await f).toBe(1001);
    const who = await client.whoHas(f);
    expect(who[f.key].map(bare)).toEqual([bare(target.address)]);
  });
});

describe('bad input and failures', () => {
  it('refuses at submit a function that cannot be shipped, naming the variable', () => {
    const offset = 3;
    const closure = (x: number) => x + offset;
    let err: unknown;
    try {
      client.submit(closure, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShippingError);
    expect((err as Error).message).toMatch(/\boffset\b/);
    expect(() => client.submit(42 as unknown as () => number)).toThrow(/expected a function/);
  });

  it('gives a failing task the remote error, and its dependents the same error', async () => {
    const f = client.submit(fail, 'boom');
    const err = (await f.result().catch((e: unknown) => e)) as TaskError;
    expect(err).toBeInstanceOf(TaskError);
    expect(err.key).toBe(f.key);
    expect(err.message).toContain('boom');
    expect(err.cause.message).toBe('boom');
    expect(err.cause.stack).toContain('fail');
    expect(f.status).toBe('error');
    expect(await f.exception()).toBeInstanceOf(TaskError);
    expect(await f.traceback()).toContain('boom');
    const g = client.submit(inc, f);
    const gErr = (await g.result().catch((e: unknown) => e)) as TaskError;
    expect(gErr).toBeInstanceOf(TaskError);
    expect(gErr.key).toBe(f.key);
    expect(g.status).toBe('error');
    await expect(client.gather([g])).rejects.toThrow(/boom/);
    // The workers keep working.
    expect(await client.submit(inc, 1)).toBe(2);
  });

  it('refuses a future this client no longer holds', async () => {
    const f = client.submit(inc, 77);
    await f;
    f.release();
    expect(() => client.submit(inc, f)).toThrow(/does not hold/);
    await expect(f.result()).rejects.toThrow(/released/);
  });
});

describe('cancel', () => {
  // A cancelled task that already runs keeps its thread until it returns (JavaScript cannot stop
  // it), so the slow tasks here are only as slow as the test needs.
  it('cancels a running task and what depends on it', async () => {
    const slow = client.submit(sleepy, 1000, 1);
    const after = client.submit(inc, slow);
    await client.cancel([slow]);
    expect(slow.cancelled()).toBe(true);
    expect(slow.status).toBe('cancelled');
    await expect(slow.result()).rejects.toThrow(CancelledError);
    await until(() => after.cancelled(), 5000, 'the dependent cancelled');
    await expect(after).rejects.toThrow(CancelledError);
  });

  it('computes a cancelled key again when it is submitted again', async () => {
    const f = client.submit(sleepy, 20, 5);
    await f.cancel();
    expect(f.cancelled()).toBe(true);
    const again = client.submit(sleepy, 20, 5);
    expect(again.key).toBe(f.key);
    expect(await again).toBe(5);
  });
});

describe('reference counting', () => {
  it('releases a key when its last future is released: the scheduler forgets it', async () => {
    const f = client.submit(inc, 41);
    const twin = client.submit(inc, 41);
    expect(await f).toBe(42);
    expect((await client.whoHas(f))[f.key]).toHaveLength(1);
    f.release();
    expect(client.refcount.get(f.key)).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    expect((await client.whoHas(twin))[twin.key]).toHaveLength(1);
    twin.release();
    expect(client.refcount.has(f.key)).toBe(false);
    await until(async () => ((await client.whoHas())[f.key] ?? []).length === 0, 5000, 'the key forgotten');
    const held = Object.values(await client.hasWhat()).flat();
    expect(held).not.toContain(f.key);
  });

  it('releases a key when its futures are garbage-collected', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const key = await (async () => {
      const f = client.submit(inc, 1234);
      await f.result();
      return f.key;
    })();
    expect(client.refcount.get(key)).toBe(1);
    await until(
      async () => {
        gc();
        await new Promise((r) => setTimeout(r, 5));
        return !client.refcount.has(key);
      },
      5000,
      'the future collected',
    );
    await until(async () => ((await client.whoHas())[key] ?? []).length === 0, 5000, 'the key forgotten');
  });
});

describe('asCompleted and wait', () => {
  it('yields futures in the order they complete', async () => {
    const fs = [400, 30, 250].map((ms) => client.with({ pure: false }).submit(sleepy, ms, ms));
    const order: number[] = [];
    for await (const f of asCompleted(fs)) {
      expect(f.done()).toBe(true);
      order.push(await f);
    }
    expect(order[0]).toBe(30);
    expect(order.slice().sort((a, b) => a - b)).toEqual([30, 250, 400]);
  });

  it('waits for all or the first, and times out', async () => {
    const impure = client.with({ pure: false });
    const quick = impure.submit(sleepy, 10, 1);
    const slow = impure.submit(sleepy, 1000, 2);
    const first = await wait([quick, slow], { returnWhen: 'FIRST_COMPLETED' });
    expect(first.done).toEqual([quick]);
    expect(first.notDone).toEqual([slow]);
    await expect(wait([slow], { timeout: 50 })).rejects.toThrow(TimeoutError);
    await slow.cancel();
    const all = await wait([quick, slow]);
    expect(all.notDone).toEqual([]);
  });
});

describe('get with futures in the graph', () => {
  it('reads futures inside tasks and as aliases, and keys the client holds', async () => {
    const f = client.submit(inc, 9);
    expect(await client.get({ y: [inc, f] }, 'y')).toBe(11);
    expect(await client.get({ x: f, y: [add, 'x', 'x'] }, ['x', 'y'])).toEqual([10, 20]);
    expect(await client.get({ [f.key]: f, z: [neg, f.key] }, [f.key, 'z'])).toEqual([10, -10]);
  });
});

describe('connecting', () => {
  it('fails with a clear ConnectError within the timeout when nothing listens', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const err = await Client.connect(`127.0.0.1:${port}`, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toMatch(/could not connect to the scheduler at tcp:\/\/127\.0\.0\.1:\d+ within 300 ms/);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('fails within the timeout when the server does not answer as a scheduler', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as { port: number };
    try {
      const t0 = Date.now();
      const err = await Client.connect(`127.0.0.1:${port}`, { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as Error).message).toMatch(/did not answer as a scheduler within 300 ms/);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      silent.close();
    }
  });

  it('refuses a bad address and bad options', async () => {
    await expect(Client.connect('no-port-here')).rejects.toThrow(TypeError);
    await expect(Client.connect('127.0.0.1:8786', { timeoutMs: -1 })).rejects.toThrow(/timeoutMs/);
    await expect(Client.connect('127.0.0.1:8786', { nWorkers: 2 })).rejects.toThrow(/only applies when no address/);
  });

  it('starts and owns a LocalCluster without an address; close() ends it, and the client', async () => {
    const own = await Client.connect(undefined, { nWorkers: 1 });
    expect(await own.submit(inc, 1)).toBe(2);
    const pending = own.submit(sleepy, 500, 1);
    const address = own.schedulerAddress;
    await own.close();
    await own.close();
    expect(pending.status).toBe('cancelled');
    expect(own.closed).toBe(true);
    expect(() => own.submit(inc, 1)).toThrow(ClientClosedError);
    await expect(own.gather([])).rejects.toThrow(ClientClosedError);
    await expect(Client.connect(address, { timeoutMs: 200 })).rejects.toThrow(ConnectError);
  });
});

describe('losing the scheduler', () => {
  it('marks pending futures lost, refuses new work, and still closes', async () => {
    const logs: LogRecord[] = [];
    const logger = createLogger('dask-ts.test', { level: 'debug', sink: (r) => logs.push(r) });
    const cluster = await LocalCluster.start({ nWorkers: 1, logger });
    const lone = await Client.connect(cluster, { logger });
    try {
      expect(await lone.submit(inc, 1)).toBe(2);
      const pending = lone.submit(sleepy, 300, 1);
      await cluster.scheduler.close();
      await until(() => pending.done(), 5000, 'the future lost');
      expect(pending.status).toBe('lost');
      await expect(pending).rejects.toThrow(LostDataError);
      expect(lone.closed).toBe(true);
      expect(() => lone.submit(inc, 2)).toThrow(/connection to the scheduler .* is broken/);
      expect(logs.some((r) => r.level === 'error' && /the connection to the scheduler at .* closed/.test(r.message))).toBe(true);
    } finally {
      await lone.close();
      await cluster.close();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
