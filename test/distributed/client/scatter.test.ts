/**
 * Client.scatter (src/distributed/client/scatter.ts) and the workers' broadcast-data
 * (src/distributed/worker/forward.ts), against real schedulers and workers over TCP in this process.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commTraffic, connect, type Comm } from '../../../src/distributed/comm/index.js';
import { broadcastForest, MAX_DEPTH } from '../../../src/distributed/broadcast.js';
import { readInput, roundRobin } from '../../../src/distributed/client/scatter.js';
import { Client, Future } from '../../../src/distributed/index.js';
import { Serialize } from '../../../src/distributed/protocol/index.js';
import { SchedulerServer } from '../../../src/distributed/scheduler/server.js';
import { WorkerServer } from '../../../src/distributed/worker/server.js';
import { schedulerCall, workerCall } from '../cluster.js';
import { range, startClient, until, type ClientFixture } from './fixture.js';

const bare = (address: string) => address.replace(/^tcp:\/\//, '');

describe('placement (pure)', () => {
  it('goes round robin over threads, each worker once per thread in a row', () => {
    const keys = range(10).map(String);
    const placed = roundRobin(keys, [{ address: 'A', nthreads: 2 }, { address: 'B', nthreads: 2 }], 0);
    expect(placed.get('A')).toEqual(['0', '1', '4', '5', '8', '9']);
    expect(placed.get('B')).toEqual(['2', '3', '6', '7']);
    expect(roundRobin(['x', 'y', 'z'], [{ address: 'A', nthreads: 1 }, { address: 'B', nthreads: 3 }], 3).get('A')).toEqual(['y']);
  });

  it('builds a broadcast tree below the client: at most b children per node, log_b(n) deep', () => {
    expect(broadcastForest(['a', 'b', 'c', 'd'], 2)).toEqual([
      { address: 'a', forward: [{ address: 'c', forward: [] }] },
      { address: 'b', forward: [{ address: 'd', forward: [] }] },
    ]);
    expect(broadcastForest(['a'], 2)).toEqual([{ address: 'a', forward: [] }]);
    expect(broadcastForest([], 2)).toEqual([]);
    type Node = { forward: readonly Node[] };
    const depth = (n: Node): number => 1 + Math.max(0, ...n.forward.map(depth));
    const forest = broadcastForest(range(100).map(String), 2);
    expect(Math.max(...forest.map(depth))).toBe(6);
    const all: string[] = [];
    const walk = (n: { address: string; forward: readonly { address: string; forward: readonly never[] }[] }) => {
      all.push(n.address);
      expect(n.forward.length).toBeLessThanOrEqual(2);
      n.forward.forEach(walk);
    };
    forest.forEach(walk as never);
    expect(all.sort()).toEqual(range(100).map(String).sort());
  });

  it('reads every accepted shape, and names the type of what it refuses', () => {
    expect(readInput(new Set([1, 2]))).toEqual({ kind: 'list', values: [1, 2] });
    expect(readInput((function* () { yield 'a'; })())).toEqual({ kind: 'list', values: ['a'] });
    expect(readInput(new Map([['k', 1]]))).toEqual({ kind: 'map', entries: [['k', 1]] });
    for (const [value, named] of [
      [42, /cannot scatter a number \(42\)/],
      ['text', /cannot scatter a string/],
      [Math.max, /cannot scatter a function \(max\)/],
      [null, /cannot scatter null/],
      [undefined, /cannot scatter undefined/],
      [new Float64Array(4), /cannot scatter a Float64Array \(one value\)/],
      [new Date(0), /cannot scatter an instance of Date/],
    ] as const) {
      expect(() => readInput(value)).toThrow(TypeError);
      expect(() => readInput(value)).toThrow(named);
      expect(() => readInput(value)).toThrow(/scatter accepts an array, a plain object or a Map.*scatter one value as \[value\]/);
    }
    expect(() => readInput(new Map([[1, 'x']]))).toThrow(/a Map's keys become keys on the cluster and must be strings; got a number \(1\)/);
  });
});

describe('Alice and Bob, two threads each', () => {
  let scheduler: SchedulerServer;
  let alice: WorkerServer;
  let bob: WorkerServer;
  let client: Client;

  beforeAll(async () => {
    scheduler = await SchedulerServer.start({ port: 0, validate: true });
    // Alice joins first: the scheduler's order of workers is the order they joined.
    alice = await WorkerServer.start({ scheduler: scheduler.address, name: 'alice', nthreads: 2, validate: true });
    await until(() => scheduler.workerAddresses.length === 1);
    bob = await WorkerServer.start({ scheduler: scheduler.address, name: 'bob', nthreads: 2, validate: true });
    await until(() => scheduler.workerAddresses.length === 2);
    client = await Client.connect(scheduler.address, { timeoutMs: 5000 });
  });

  afterAll(async () => {
    await client?.close();
    await Promise.all([alice?.close(), bob?.close()]);
    await scheduler?.close();
    expect([...scheduler.errors, ...alice.errors, ...bob.errors]).toEqual([]);
  });

  const valuesOn = async (worker: WorkerServer, futures: readonly Future[]) => {
    const held = new Set((await client.hasWhat())[bare(worker.address)]);
    return futures.flatMap((f, i) => (held.has(f.key) ? [i] : []));
  };

  it('scatters range(10) as the manual says: [0, 1, 4, 5, 8, 9] on Alice, [2, 3, 6, 7] on Bob', async () => {
    const futures = await client.scatter(range(10));
    expect(futures).toHaveLength(10);
    expect(await client.gather(futures)).toEqual(range(10));
    expect(await valuesOn(alice, futures)).toEqual([0, 1, 4, 5, 8, 9]);
    expect(await valuesOn(bob, futures)).toEqual([2, 3, 6, 7]);
    const who = await client.whoHas(futures);
    expect(who[futures[4].key]).toEqual([bare(alice.address)]);
    expect(who[futures[6].key]).toEqual([bare(bob.address)]);
    // The round robin carries on where the last scatter stopped (slot 10 of A A B B is Bob's).
    const next = await client.scatter(['p', 'q', 'r', 's']);
    expect(await valuesOn(bob, next)).toEqual([0, 1]);
    expect(await valuesOn(alice, next)).toEqual([2, 3]);
  });

  it('restricts placement to workers named by alias, address (either spelling) or host', async () => {
    const onBob = await client.scatter(range(6).map((i) => `bob-${i}`), { workers: 'bob' });
    expect(await valuesOn(bob, onBob)).toEqual(range(6));
    const onAlice = await client.scatter(range(3).map((i) => `alice-${i}`), { workers: [alice.address] });
    expect(await valuesOn(alice, onAlice)).toEqual(range(3));
    const byBare = await client.scatter(['bare'], { workers: [bare(bob.address)] });
    expect(await valuesOn(bob, byBare)).toEqual([0]);
    const byHost = await client.scatter(range(8).map((i) => `host-${i}`), { workers: '127.0.0.1' });
    expect((await valuesOn(alice, byHost)).length + (await valuesOn(bob, byHost)).length).toBe(8);
    expect((await valuesOn(alice, byHost)).length).toBeGreaterThan(0);
    expect((await valuesOn(bob, byHost)).length).toBeGreaterThan(0);
  });

  it('refuses a worker list that names no connected worker, listing those there are', async () => {
    await expect(client.scatter([1], { workers: ['carol'] })).rejects.toThrow(
      /no worker connected to the scheduler at .* matches 'carol'; connected workers: alice \(127\.0\.0\.1:\d+\), bob \(127\.0\.0\.1:\d+\)/,
    );
  });

  it('broadcasts to the chosen workers only', async () => {
    const [f] = await client.scatter(['only-bob'], { workers: ['bob'], broadcast: true });
    expect((await client.whoHas([f]))[f.key]).toEqual([bare(bob.address)]);
  });
});

describe('on a cluster of four workers', () => {
  let fx: ClientFixture;
  let client: Client;

  beforeAll(async () => {
    fx = await startClient({ nWorkers: 4 });
    client = fx.client;
  });

  afterAll(async () => {
    fx.check();
    await fx.close();
  });

  const addresses = () => fx.cluster.workers.map((w) => bare(w.address)).sort();

  it('keeps the keys of plain objects and Maps', async () => {
    const { x, y } = await client.scatter({ x: 1, y: [2, 3] });
    expect(x.key).toBe('x');
    expect(y.key).toBe('y');
    expect(await client.gather([x, y])).toEqual([1, [2, 3]]);
    const m = await client.scatter(new Map([['m1', 'one'], ['m2', 'two']]));
    expect(m).toBeInstanceOf(Map);
    expect([...m.keys()]).toEqual(['m1', 'm2']);
    expect(m.get('m2')!.key).toBe('m2');
    expect(await m.get('m1')!.result()).toBe('one');
  });

  it('reads a Set or a generator to its end and gives an array of Futures in order', async () => {
    const fromSet = await client.scatter(new Set(['s1', 's2', 's3']));
    expect(await client.gather(fromSet)).toEqual(['s1', 's2', 's3']);
    function* gen() {
      for (let i = 0; i < 5; i++) yield i * 10;
    }
    expect(await client.gather(await client.scatter(gen()))).toEqual([0, 10, 20, 30, 40]);
    expect(await client.scatter([])).toEqual([]);
    expect(await client.scatter({})).toEqual({});
  });

  it('names values by content (equal data, one key) unless hash is false', async () => {
    const [a, b] = await client.scatter([{ v: 7 }, { v: 7 }]);
    expect(a.key).toBe(b.key);
    expect(a.key).toMatch(/^object-[0-9a-f]{32}$/);
    expect(client.refcount.get(a.key)).toBe(2);
    const [c, d] = await client.scatter([{ v: 7 }, { v: 7 }], { hash: false });
    expect(c.key).not.toBe(d.key);
    expect(c.key).toMatch(/^object-[0-9a-f-]{36}$/);
    expect(await client.gather([c, d])).toEqual([{ v: 7 }, { v: 7 }]);
  });

  it('scatters an async iterable element by element, as they arrive', async () => {
    let pulled = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* source() {
      pulled++;
      yield 'first';
      await gate; // the second element does not exist until the first Future is out
      pulled++;
      yield 'second';
    }
    const stream = client.scatter(source());
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    expect(pulled).toBe(1);
    expect(first.value).toBeInstanceOf(Future);
    expect(first.value.status).toBe('finished');
    release();
    const second = await it.next();
    expect(await client.gather([first.value, second.value])).toEqual(['first', 'second']);
    expect((await it.next()).done).toBe(true);
  });

  it('broadcasts every element to every worker: one Future each, whoHas lists all workers', async () => {
    const futures = await client.scatter([1, 2, 3], { broadcast: true });
    expect(futures).toHaveLength(3);
    const who = await client.whoHas(futures);
    for (const f of futures) expect([...who[f.key]].sort()).toEqual(addresses());
    expect(await client.gather(futures)).toEqual([1, 2, 3]);
  });

  it('refuses unsupported values and bad options with TypeErrors naming them', async () => {
    await expect(client.scatter(5 as never)).rejects.toThrow(/cannot scatter a number \(5\).*scatter one value as \[value\]/);
    await expect(client.scatter('abc' as never)).rejects.toThrow(TypeError);
    await expect(client.scatter((() => 1) as never)).rejects.toThrow(/cannot scatter a function/);
    await expect(client.scatter(null as never)).rejects.toThrow(/cannot scatter null/);
    await expect(client.scatter([1], { broadcast: 'yes' } as never)).rejects.toThrow(/'broadcast' must be a boolean/);
    await expect(client.scatter([1], { workers: [] })).rejects.toThrow(/'workers' must be .* non-empty array/);
    await expect(client.scatter([1], { where: 'x' } as never)).rejects.toThrow(/unknown option 'where'; known options are workers, broadcast, hash/);
  });
});

describe('a worker that fails mid-scatter', () => {
  let fx: ClientFixture;
  let broken: Server;
  let stream: Comm;
  let fake = '';

  beforeAll(async () => {
    fx = await startClient({ nWorkers: 2 });
    // A registered worker whose server hangs up on every connection: sends to it fail at once.
    broken = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => broken.listen(0, '127.0.0.1', r));
    fake = `127.0.0.1:${(broken.address() as AddressInfo).port}`;
    const identity = { address: fake, name: 'broken', nthreads: 4, memoryLimit: 1e9, host: '127.0.0.1', pid: 1, keys: [], nbytes: {} };
    await schedulerCall(fx.cluster.schedulerAddress, { op: 'register-worker', ...identity });
    stream = await connect(fx.cluster.schedulerAddress, { timeoutMs: 2000 });
    await stream.write({ op: 'worker-stream', address: fake });
    await until(async () => Object.keys((await fx.client.identity()).workers).length === 3);
  });

  afterAll(async () => {
    stream?.abort();
    await new Promise((r) => broken?.close(r));
    await fx?.close();
  });

  const real = () => fx.cluster.workers.map((w) => bare(w.address)).sort();

  it("places the failed worker's share on the others", async () => {
    const futures = await fx.client.scatter(range(12).map((i) => `v${i}`));
    const who = await fx.client.whoHas(futures);
    for (const f of futures) expect(real()).toContain(who[f.key][0]);
    expect(await fx.client.gather(futures)).toEqual(range(12).map((i) => `v${i}`));
  });

  it('broadcasts to the workers that are there, whether the broken one is a root or a child', async () => {
    for (let round = 0; round < 3; round++) {
      const futures = await fx.client.scatter([`b${round}-0`, `b${round}-1`, `b${round}-2`], { broadcast: true });
      const who = await fx.client.whoHas(futures);
      for (const f of futures) expect([...who[f.key]].sort()).toEqual(real());
    }
  });

  it('rejects, naming the worker and its error, when only the broken worker may hold the data', async () => {
    await expect(fx.client.scatter(['lost'], { workers: 'broken' })).rejects.toThrow(
      new RegExp(`could not place 1 of 1 values \\(worker ${fake.replace(/\./g, '\\.')} failed: `),
    );
  });
});

describe('the pre-scatter pattern', () => {
  it('moves no further copies of the data for 200 submits that use it', async () => {
    const fx = await startClient({ nWorkers: 2 });
    try {
      const { client } = fx;
      const big = Float64Array.from({ length: 1_000_000 }, Math.random); // 8 MB that do not compress
      const t0 = commTraffic().written;
      const [d] = await client.scatter([big], { broadcast: true, hash: false });
      const t1 = commTraffic().written;
      // The broadcast itself: one copy per worker (the counter sees the data move).
      expect(t1 - t0).toBeGreaterThan(2 * big.byteLength);
      expect(t1 - t0).toBeLessThan(2.5 * big.byteLength);
      const head = (a: Float64Array, i: number) => a[i] + a.length;
      const results = await client.gather(range(200).map((i) => client.submit(head, d, i)));
      expect(results).toEqual(range(200).map((i) => big[i] + 1_000_000));
      const t2 = commTraffic().written;
      // 200 tasks' messages and results, and not one more copy of the 8 MB.
      expect(t2 - t1).toBeLessThan(big.byteLength / 8);
      const info = await client.whoHas([d]);
      expect(info[d.key]).toHaveLength(2);
      fx.check();
    } finally {
      await fx.close();
    }
  });
});

describe('broadcast-data on a worker', () => {
  let fx: ClientFixture;
  const w = (i: number) => bare(fx.cluster.workers[i].address);
  const held = (i: number, key: string) => fx.cluster.workers[i].server!.state.data.has(key);

  beforeAll(async () => {
    fx = await startClient({ nWorkers: 3 });
  });

  afterAll(async () => {
    await fx.close();
  });

  it('keeps the data and passes it down the tree', async () => {
    const reply = await workerCall(fx.cluster.workers[0].address, {
      op: 'broadcast-data',
      data: { tree: new Serialize('value') },
      forward: [{ address: w(1), forward: [{ address: w(2), forward: [] }] }],
    });
    expect(reply.holders.sort()).toEqual([w(0), w(1), w(2)].sort());
    expect(reply.failed).toEqual({});
    expect(reply.nbytes.tree).toBeGreaterThan(0);
    for (const i of [0, 1, 2]) expect(held(i, 'tree')).toBe(true);
  });

  it('serves the children of a worker that fails, and reports it', async () => {
    // A peer that hangs up on every connection: the call to it fails at once.
    const broken = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => broken.listen(0, '127.0.0.1', r));
    const gone = `127.0.0.1:${(broken.address() as AddressInfo).port}`;
    try {
      const reply = await workerCall(fx.cluster.workers[0].address, {
        op: 'broadcast-data',
        data: { adopted: new Serialize(1) },
        forward: [{ address: gone, forward: [{ address: w(2), forward: [] }] }],
      });
      expect(reply.holders.sort()).toEqual([w(0), w(2)].sort());
      expect(Object.keys(reply.failed)).toEqual([gone]);
      expect(held(2, 'adopted')).toBe(true);
    } finally {
      await new Promise((r) => broken.close(r));
    }
  });

  it('refuses a malformed tree before keeping anything, and goes on serving', async () => {
    const send = (forward: unknown, key: string) =>
      workerCall(fx.cluster.workers[0].address, { op: 'broadcast-data', data: { [key]: new Serialize(1) }, forward: forward as never });
    await expect(send('nope', 'b1')).rejects.toThrow(/forward must be an array/);
    await expect(send([{ address: 'not an address', forward: [] }], 'b2')).rejects.toThrow(/forward\[0\]\.address must be a worker address/);
    await expect(send([{ address: w(1), forward: [{ address: w(1), forward: [] }] }], 'b3')).rejects.toThrow(/appears twice/);
    await expect(send([{ address: w(0), forward: [] }], 'b4')).rejects.toThrow(/appears twice in the tree \(or is this worker\)/);
    let deep: unknown = [];
    for (let i = 0; i < MAX_DEPTH + 1; i++) deep = [{ address: `127.0.0.1:${20000 + i}`, forward: deep }];
    await expect(send(deep, 'b5')).rejects.toThrow(/deeper than 64 levels/);
    await expect(send([7], 'b6')).rejects.toThrow(/forward\[0\] is not a \{ address, forward \} node/);
    for (const k of ['b1', 'b2', 'b3', 'b4', 'b5', 'b6']) expect(held(0, k)).toBe(false);
    expect(await workerCall(fx.cluster.workers[0].address, { op: 'get-data', keys: ['tree'] })).toEqual({ data: { tree: 'value' } });
  });
});
