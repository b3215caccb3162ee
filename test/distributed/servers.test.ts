/**
 * The scheduler and worker servers end to end, without the Client class: a raw comm registers as a
 * client, sends update-graph messages built by the run-spec module, receives key-in-memory /
 * task-erred, and fetches values from workers with get-data.
 */
import { describe, expect, it } from 'vitest';
import { toRunSpecs } from '../../src/distributed/client/run-spec.js';
import { connect } from '../../src/distributed/comm/connect.js';
import type { TaskInput } from '../../src/distributed/messages.js';
import { encodeHeader } from '../../src/distributed/comm/frame-header.js';
import { Serialize, toFrames } from '../../src/distributed/protocol/index.js';
import { SchedulerServer } from '../../src/distributed/scheduler/server.js';
import { WorkerServer } from '../../src/distributed/worker/server.js';
import { closedPort, rawSocket, socketClosed, u64 } from './comm/helpers.js';
import { RawClient, recordingLogger, schedulerCall, until, withCluster, within, workerCall } from './cluster.js';
import type { LogRecord } from '../../src/distributed/rpc/logger.js';

const inc = (x: number) => x + 1;
const add = (a: number, b: number) => a + b;
const boom = (message: string) => {
  throw new RangeError(message);
};

const isKey = (op: string, key: string) => (m: { op: string; key?: string }) => m.op === op && m.key === key;

/** update-graph for a graph, every key wanted unless `keys` says otherwise. */
function updateGraph(graph: Record<string, unknown>, keys?: string[], extra: Record<string, Partial<TaskInput>> = {}, known: string[] = []) {
  const tasks = toRunSpecs(graph, { known: new Set(known) });
  for (const [k, o] of Object.entries(extra)) tasks[k] = { ...tasks[k], ...o };
  return { op: 'update-graph' as const, tasks, keys: keys ?? Object.keys(graph) };
}

describe('a scheduler and workers in one process', () => {
  it('runs a task and serves its value with get-data', () =>
    withCluster({ nWorkers: 1 }, async ({ scheduler, workers }) => {
      const c = await RawClient.connect(scheduler.address);
      await c.send(updateGraph({ x: [inc, 1] }));
      await c.inMemory('x');
      const m = await c.waitFor(isKey('key-in-memory', 'x'));
      expect(m).toMatchObject({ op: 'key-in-memory', key: 'x', type: 'number' });

      const whoHas = await schedulerCall(scheduler.address, { op: 'who-has', keys: ['x'] });
      expect(whoHas.x).toEqual([workers[0].address.replace('tcp://', '')]);
      const { data } = await workerCall(whoHas.x[0], { op: 'get-data', keys: ['x', 'nope'] });
      expect(data).toEqual({ x: 2 });

      // The worker reported nbytes, type and epoch-second times.
      const info = scheduler.state.task('x')!;
      expect(info).toMatchObject({ state: 'memory', nbytes: 8, type: 'number' });
      const story = workers[0].state.taskState('x')!;
      const [ss] = story.startstops;
      expect(ss.action).toBe('compute');
      expect(Math.abs(ss.start - Date.now() / 1000)).toBeLessThan(30);
      expect(ss.stop).toBeGreaterThanOrEqual(ss.start);
      await c.close();
      await until(() => scheduler.clientIds.length === 0, 2000, 'client removed');
      // Nobody wants x any more: released everywhere.
      await until(() => scheduler.state.taskState('x') === undefined && workers[0].state.data.size === 0, 2000, 'x released');
    }));

  it('runs a chain across two workers, the second fetching its input from the first', () =>
    withCluster({ nWorkers: 2 }, async ({ scheduler, workers }) => {
      const [w0, w1] = workers;
      const c = await RawClient.connect(scheduler.address);
      await c.send(updateGraph({ a: [inc, 10], b: [inc, 'a'], c: [add, 'a', 'b'] }, ['c'], { a: { workers: ['w0'] }, b: { workers: ['w1'] } }));
      await c.inMemory('c');
      const holder = scheduler.state.whoHas(['c']).c[0];
      const { data } = await workerCall(holder, { op: 'get-data', keys: ['c'] });
      expect(data).toEqual({ c: 23 });
      // b ran on w1 with a fetched from w0 (peer to peer); the transfer is in b's report.
      const transfers = w1.state.story('a').map((r) => r.finish);
      expect(transfers).toContain('flight');
      expect(scheduler.state.story('b').some((r) => r.finish === 'memory')).toBe(true);
      expect(w0.state.story('a').some((r) => r.finish === 'executing')).toBe(true);
      await c.close();
    }));

  it('reports an erring task (and its dependents) and keeps the worker working', () =>
    withCluster({ nWorkers: 1 }, async ({ scheduler }) => {
      const c = await RawClient.connect(scheduler.address);
      await c.send(updateGraph({ bad: [boom, 'no luck'], after: [inc, 'bad'] }));
      const erred = (await c.waitFor(isKey('task-erred', 'bad'))) as { exception: unknown; traceback?: string };
      // The scheduler forwarded the worker's exception without decoding it; here it is an Error again.
      expect(erred.exception).toBeInstanceOf(Error);
      expect(erred.exception).toMatchObject({ name: 'RangeError', message: 'no luck' });
      expect(erred.traceback).toContain('no luck');
      const dependent = (await c.waitFor(isKey('task-erred', 'after'))) as { exception: unknown };
      expect(dependent.exception).toMatchObject({ message: 'no luck' });
      // The worker goes on.
      await c.send(updateGraph({ fine: [add, 2, 3] }));
      await c.inMemory('fine');
      await c.close();
    }));

  it('takes scattered data (update-data to the worker, then on the stream) as task input', () =>
    withCluster({ nWorkers: 2 }, async ({ scheduler, workers }) => {
      const c = await RawClient.connect(scheduler.address);
      const reply = await workerCall(workers[1].address, { op: 'update-data', data: { s: new Serialize(new Float64Array([1, 2, 3])) } });
      expect(reply.nbytes).toEqual({ s: 24 });
      await c.send({ op: 'update-data', whoHas: { s: [workers[1].address] }, nbytes: reply.nbytes });
      await c.inMemory('s');
      const total = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
      await c.send(updateGraph({ t: [total, 's'] }, ['t'], { t: { workers: ['w0'] } }, ['s']));
      await c.inMemory('t');
      const { data } = await workerCall(workers[0].address, { op: 'get-data', keys: ['t'] });
      expect(data).toEqual({ t: 6 });
      await c.close();
    }));

  it('keeps answering peers while a long task runs on the thread pool', () =>
    withCluster({ nWorkers: 1 }, async ({ scheduler, workers }) => {
      const spin = (ms: number) => {
        const end = Date.now() + ms;
        while (Date.now() < end);
        return ms;
      };
      const c = await RawClient.connect(scheduler.address);
      await workerCall(workers[0].address, { op: 'update-data', data: { small: new Serialize(1) } });
      await c.send(updateGraph({ long: [spin, 1500] }));
      await until(() => workers[0].state.executingCount === 1, 2000, 'the task started');
      const t0 = performance.now();
      const { data } = await workerCall(workers[0].address, { op: 'get-data', keys: ['small'] });
      expect(data).toEqual({ small: 1 });
      expect(performance.now() - t0).toBeLessThan(300);
      expect(workers[0].state.executingCount).toBe(1);
      await c.inMemory('long');
      await c.close();
    }));

  it('runs a task elsewhere when its worker leaves while running it', () =>
    withCluster({ nWorkers: 2 }, async ({ scheduler, workers }) => {
      const [w0, w1] = workers;
      const sleepy = (ms: number) => new Promise((resolve) => setTimeout(() => resolve(ms), ms));
      const c = await RawClient.connect(scheduler.address);
      await c.send(updateGraph({ t: [sleepy, 300] }, ['t'], { t: { workers: ['w0'], allowOtherWorkers: true } }));
      await until(() => w0.state.executingCount === 1, 2000, 'the task started on w0');
      await w0.close();
      await c.inMemory('t');
      expect(scheduler.state.whoHas(['t']).t).toEqual([w1.address.replace('tcp://', '')]);
      await c.close();
    }));

  it('answers who-has, has-what, ncores and identity', () =>
    withCluster({ nWorkers: 2, nthreads: 2 }, async ({ scheduler, workers }) => {
      const id = await schedulerCall(scheduler.address, { op: 'identity' });
      expect(id.address).toBe(scheduler.address);
      expect(Object.values(id.workers).map((w) => w.name).sort()).toEqual(['w0', 'w1']);
      const ncores = await schedulerCall(scheduler.address, { op: 'ncores' });
      expect(Object.values(ncores)).toEqual([2, 2]);
      const one = await schedulerCall(scheduler.address, { op: 'ncores', workers: [workers[0].address] });
      expect(one).toEqual({ [workers[0].address.replace('tcp://', '')]: 2 });
      const hasWhat = await schedulerCall(scheduler.address, { op: 'has-what' });
      expect(Object.values(hasWhat)).toEqual([[], []]);
    }));
});

describe('bad input', () => {
  it('closes a connection that sends a malformed frame, and keeps serving the others', () =>
    withCluster({ nWorkers: 1, noErrorLogs: false }, async ({ scheduler, logs }) => {
      const good = await RawClient.connect(scheduler.address);
      // A header claiming 2^40 frames: the frame parser refuses it without reading on.
      const sock = await rawSocket(scheduler.address);
      sock.write(Buffer.concat([u64(2 ** 40), u64(8), Buffer.alloc(8)]));
      await within(3000, socketClosed(sock), 'the bad connection to close');
      // A registered client's stream that then carries a frame of garbage (undecodable) bytes.
      const raw = await rawSocket(scheduler.address);
      const hello = toFrames({ op: 'register-client', client: 'bad-frames' });
      raw.write(Buffer.concat([encodeHeader(hello), ...hello]));
      await until(() => scheduler.clientIds.includes('bad-frames'), 2000, 'bad client registered');
      const junk = Buffer.from('this is not msgpack at all, just bytes \xc1\xc1\xc1');
      raw.write(Buffer.concat([encodeHeader([junk]), junk]));
      await within(3000, socketClosed(raw), 'the bad stream to close');
      await until(() => !scheduler.clientIds.includes('bad-frames'), 2000, 'bad client removed');
      expect(logs.some((r) => r.level === 'error' && r.message.includes('closed the connection'))).toBe(true);
      expect(logs.some((r) => r.level === 'error' && /stream from .* closed: a message could not be decoded/.test(r.message))).toBe(true);
      // The good client still gets work done.
      await good.send(updateGraph({ y: [inc, 41] }));
      await good.inMemory('y');
      await good.close();
    }));

  it('closes a client stream carrying a malformed message or an unknown op; other clients go on', () =>
    withCluster({ nWorkers: 1, noErrorLogs: false }, async ({ scheduler, logs }) => {
      const good = await RawClient.connect(scheduler.address, 'good');
      const bad1 = await RawClient.connect(scheduler.address, 'bad1');
      const bad2 = await RawClient.connect(scheduler.address, 'bad2');
      const bad3 = await RawClient.connect(scheduler.address, 'bad3');
      await until(() => scheduler.clientIds.length === 4, 2000, 'clients registered');
      await bad1.send({ op: 'update-graph', tasks: { x: { deps: [] } }, keys: ['x'] } as never);
      await bad2.send({ op: 'frobnicate' } as never);
      await bad3.comm.write(42);
      await Promise.all([bad1.whenEnded(), bad2.whenEnded(), bad3.whenEnded()]);
      await until(() => scheduler.clientIds.join() === 'good', 2000, 'bad clients removed');
      const errors = logs.filter((r: LogRecord) => r.level === 'error').map((r) => r.message).join('\n');
      expect(errors).toMatch(/task 'x' has no 'run'/);
      expect(errors).toMatch(/unknown operation 'frobnicate'/);
      expect(errors).toMatch(/malformed message/);
      // A second register-client with a taken id is refused.
      const dup = await RawClient.connect(scheduler.address, 'good');
      await dup.whenEnded();
      await good.send(updateGraph({ z: [inc, 1] }));
      await good.inMemory('z');
      await good.close();
    }));

  it('refuses a worker-stream without registration, and an unknown RPC op with an error reply', () =>
    withCluster({ nWorkers: 0, noErrorLogs: false }, async ({ scheduler }) => {
      const comm = await connect(scheduler.address, { timeoutMs: 2000 });
      await comm.write({ op: 'worker-stream', address: '127.0.0.1:1' });
      await within(3000, comm.finished, 'the stream to be refused');
      await expect(schedulerCall(scheduler.address, { op: 'no-such-op' } as never)).rejects.toThrow(/unknown operation 'no-such-op'/);
      await expect(
        schedulerCall(scheduler.address, { op: 'register-worker', address: 'nonsense' } as never),
      ).rejects.toThrow(/malformed register-worker/);
    }));

  it('fails to start a worker whose scheduler is not there, with a clear error within the timeout', async () => {
    const port = await closedPort();
    const t0 = Date.now();
    const logs: LogRecord[] = [];
    await expect(
      within(5000, WorkerServer.start({ scheduler: `127.0.0.1:${port}`, nthreads: 1, connectTimeoutMs: 500, logger: recordingLogger('w', logs) })),
    ).rejects.toThrow(new RegExp(`could not register with the scheduler at tcp://127.0.0.1:${port}: could not connect`));
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('refuses a second worker with a name already taken', () =>
    withCluster({ nWorkers: 1 }, async ({ scheduler, logger }) => {
      await expect(
        WorkerServer.start({ scheduler: scheduler.address, nthreads: 1, name: 'w0', connectTimeoutMs: 2000, logger: logger.child('dup') }),
      ).rejects.toThrow(/name 'w0' is already taken/);
    }));
});

describe('worker lifecycle', () => {
  it('removes a worker that stops heartbeating, and reschedules its work', async () => {
    const logs: LogRecord[] = [];
    const logger = recordingLogger('t', logs);
    const scheduler = await SchedulerServer.start({ port: 0, validate: true, workerTimeoutMs: 400, checkIntervalMs: 50, logger });
    try {
      // A "worker" that registers and opens its stream by hand, then stays silent.
      await schedulerCall(scheduler.address, {
        op: 'register-worker',
        address: '127.0.0.1:9',
        name: 'silent',
        nthreads: 1,
        memoryLimit: 0,
        host: '127.0.0.1',
        pid: 0,
        keys: [],
        nbytes: {},
      });
      const stream = await connect(scheduler.address, { timeoutMs: 2000 });
      await stream.write({ op: 'worker-stream', address: '127.0.0.1:9' });
      await until(() => scheduler.workerAddresses.includes('127.0.0.1:9'), 2000, 'silent worker added');
      const c = await RawClient.connect(scheduler.address);
      await c.send(updateGraph({ x: [inc, 1] }));
      // The compute-task reaches the silent worker, which never answers.
      const sent = await within(2000, stream.read(), 'compute-task');
      expect((sent as { op: string }[])[0].op).toBe('compute-task');
      await within(3000, stream.finished, 'the silent worker to be dropped');
      expect(scheduler.workerAddresses).toEqual([]);
      expect(logs.some((r) => r.message.includes('heartbeat timeout') || r.message.includes('sent nothing'))).toBe(true);
      // A real worker joins and gets x.
      const w = await WorkerServer.start({ scheduler: scheduler.address, nthreads: 1, validate: true, logger, heartbeatMs: 100 });
      await c.inMemory('x');
      await w.close();
      await c.close();
    } finally {
      await scheduler.close();
    }
    expect(scheduler.errors).toEqual([]);
  });

  it('closes a worker when its scheduler goes away, and unregisters a worker that closes', async () => {
    const logs: LogRecord[] = [];
    const logger = recordingLogger('t', logs);
    const scheduler = await SchedulerServer.start({ port: 0, validate: true, logger });
    const w1 = await WorkerServer.start({ scheduler: scheduler.address, nthreads: 1, logger });
    const w2 = await WorkerServer.start({ scheduler: scheduler.address, nthreads: 1, logger });
    await until(() => scheduler.workerAddresses.length === 2, 2000, 'workers registered');
    await w1.close();
    expect(scheduler.workerAddresses).toEqual([w2.address.replace('tcp://', '')]);
    await scheduler.close();
    await within(3000, w2.finished, 'the worker to close itself');
    expect(w2.closed).toBe(true);
  });
});
