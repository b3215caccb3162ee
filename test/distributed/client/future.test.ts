/**
 * The client's pieces without sockets: KeyState, Future (with a fake client), asCompleted, wait,
 * option validation, key names, nested structures, and how a large update-graph is split.
 */
import { describe, expect, it } from 'vitest';
import { AsCompleted, asCompleted } from '../../../src/distributed/client/as-completed.js';
import { CancelledError, remoteTaskError, TimeoutError } from '../../../src/distributed/client/errors.js';
import { Future, type FutureLink } from '../../../src/distributed/client/future.js';
import { KeyState } from '../../../src/distributed/client/key-state.js';
import { callKey, dataKey, funcName } from '../../../src/distributed/client/keys.js';
import { DEFAULT_CALL_OPTIONS, resolveCallOptions, resolveConnectOptions } from '../../../src/distributed/client/options.js';
import { splitUpdateGraph } from '../../../src/distributed/client/outbox.js';
import { collectFutures, replaceFutures } from '../../../src/distributed/client/structure.js';
import { wait } from '../../../src/distributed/client/wait.js';
import type { ClientToScheduler, TaskInput } from '../../../src/distributed/messages.js';
import { Serialized } from '../../../src/distributed/protocol/index.js';
import { TaskError, tokenize } from '../../../src/index.js';

/** A client stand-in: values per key, and a log of what the Futures asked for. */
function fakeLink(values: Record<string, unknown> = {}) {
  const released: string[] = [];
  const cancelled: string[] = [];
  const link: FutureLink = {
    clientId: 'fake',
    gather: async (fs) => {
      await Promise.all(fs.map((f) => stateOf(f).wait()));
      return fs.map((f) => {
        const s = stateOf(f);
        if (s.status !== 'finished') throw s.error;
        return values[f.key];
      });
    },
    cancel: async (fs) => {
      for (const f of fs) cancelled.push(f.key);
    },
    release: (f) => released.push(f.key),
  };
  const states = new Map<Future, KeyState>();
  const stateOf = (f: Future) => states.get(f)!;
  const make = <T>(key: string, state = new KeyState(key)) => {
    const f = new Future<T>(key, state, link);
    states.set(f, state);
    return { f, state };
  };
  return { link, make, released, cancelled };
}

describe('KeyState', () => {
  it('starts pending and settles once per transition; wait() resolves on any terminal status', async () => {
    const s = new KeyState('k');
    expect(s.status).toBe('pending');
    expect(s.done).toBe(false);
    const waited = s.wait();
    s.finish('number');
    await waited;
    expect(s.status).toBe('finished');
    expect(s.typeName).toBe('number');
    s.reset();
    expect(s.status).toBe('pending');
    const again = s.wait();
    s.fail(new Error('boom'), 'tb');
    await again;
    expect(s.status).toBe('error');
    expect(s.traceback).toBe('tb');
    s.cancel(new CancelledError('k'));
    expect(s.status).toBe('cancelled');
    expect(s.error).toBeInstanceOf(CancelledError);
  });
});

describe('Future', () => {
  it('is awaitable: await gives the result, as result() does', async () => {
    const { make } = fakeLink({ k: 42 });
    const { f, state } = make<number>('k');
    state.finish();
    expect(await f).toBe(42);
    expect(await f.result()).toBe(42);
    expect(f.done()).toBe(true);
    expect(f.status).toBe('finished');
  });

  it('survives async boundaries inside an array, not bare (a thenable is unwrapped)', async () => {
    const { make } = fakeLink({ k: 7 });
    const { f, state } = make<number>('k');
    state.finish();
    const wrapped = async () => [f] as const;
    const bare = async () => f;
    const [back] = await wrapped();
    expect(back).toBe(f);
    expect(await bare()).toBe(7);
  });

  it('reports errors: result() rejects, exception() and traceback() resolve', async () => {
    const { make } = fakeLink();
    const { f, state } = make('k');
    const remote = new RangeError('too big');
    remote.stack = 'RangeError: too big\n    at worker.js:1:1';
    state.fail(remoteTaskError('k', remote, remote.stack, 'dep'), remote.stack);
    const err = (await f.result().catch((e: unknown) => e)) as TaskError;
    expect(err).toBeInstanceOf(TaskError);
    expect(err.key).toBe('dep');
    expect(err.cause.name).toBe('RangeError');
    expect(await f.exception()).toBe(err);
    expect(await f.traceback()).toContain('worker.js:1:1');
    await expect(f).rejects.toThrow(/task 'dep' failed: RangeError: too big/);
  });

  it('cancel() and release() go to the client; release is idempotent', async () => {
    const { make, released, cancelled } = fakeLink();
    const { f } = make('k');
    await f.cancel();
    f.release();
    f.release();
    expect(cancelled).toEqual(['k']);
    expect(released).toEqual(['k']);
  });

  it('stands for its key in run specs and tokens, and prints its status', () => {
    const { make } = fakeLink();
    const { f } = make('inc-123');
    expect(f.daskFutureKey).toBe('inc-123');
    expect(tokenize(f)).toBe(tokenize(make('inc-123').f));
    expect(tokenize(f)).not.toBe(tokenize('inc-123'));
    expect(String(f)).toBe('<Future: status: pending, key: inc-123>');
  });
});

describe('remoteTaskError', () => {
  it('rebuilds an error-like that is not an Error, keeping its name, message and the traceback', () => {
    const e = remoteTaskError('k', { name: 'TypeError', message: 'nope' }, 'TypeError: nope\n    at w:1', undefined);
    expect(e.key).toBe('k');
    expect(e.cause.name).toBe('TypeError');
    expect(e.cause.stack).toContain('at w:1');
    expect(remoteTaskError('k', 'weird', undefined, undefined).message).toContain('weird');
  });
});

describe('asCompleted', () => {
  it('yields the Futures themselves in the order they complete, then ends', async () => {
    const { make } = fakeLink();
    const a = make('a');
    const b = make('b');
    const c = make('c');
    const seen: string[] = [];
    const it = asCompleted([a.f, b.f, c.f]);
    expect(it.count).toBe(3);
    setTimeout(() => b.state.finish(), 5);
    setTimeout(() => c.state.fail(new Error('x')), 10);
    setTimeout(() => a.state.cancel(new CancelledError('a')), 15);
    for await (const f of it) {
      expect(f).toBeInstanceOf(Future);
      seen.push(f.key);
    }
    expect(seen).toEqual(['b', 'c', 'a']);
  });

  it('takes more Futures while iterating, and stops on break', async () => {
    const { make } = fakeLink();
    const a = make('a');
    const b = make('b');
    const it = new AsCompleted([a.f]);
    a.state.finish();
    const first = await it.next();
    expect(first.value).toBe(a.f);
    it.add(b.f);
    b.state.finish();
    expect((await it.next()).value).toBe(b.f);
    expect((await it.next()).done).toBe(true);
    const c = make('c');
    const d = make('d');
    const stopped = new AsCompleted([c.f, d.f]);
    c.state.finish();
    for await (const f of stopped) {
      expect(f).toBe(c.f);
      break;
    }
    // d is still pending, but the iteration is over.
    expect((await stopped.next()).done).toBe(true);
  });
});

describe('wait', () => {
  it('waits for all, or for the first; errors count as done', async () => {
    const { make } = fakeLink();
    const a = make('a');
    const b = make('b');
    setTimeout(() => a.state.fail(new Error('x')), 5);
    const first = await wait([a.f, b.f], { returnWhen: 'FIRST_COMPLETED' });
    expect(first.done).toEqual([a.f]);
    expect(first.notDone).toEqual([b.f]);
    setTimeout(() => b.state.finish(), 5);
    const all = await wait([a.f, b.f]);
    expect(all.done).toEqual([a.f, b.f]);
    expect(all.notDone).toEqual([]);
  });

  it('rejects with a TimeoutError after `timeout` ms, and refuses bad options', async () => {
    const { make } = fakeLink();
    const a = make('a');
    await expect(wait([a.f], { timeout: 20 })).rejects.toThrow(TimeoutError);
    await expect(wait([a.f], { returnWhen: 'SOMETIMES' as never })).rejects.toThrow(/returnWhen/);
    await expect(wait([a.f], { timeout: -1 })).rejects.toThrow(/timeout/);
    await expect(wait([a.f], { bogus: 1 } as never)).rejects.toThrow(/unknown option 'bogus'/);
    await expect(wait([1 as never])).rejects.toThrow(/expected Futures/);
  });
});

describe('options', () => {
  it('lays a view over its parent and validates each option', () => {
    const gpu = resolveCallOptions({ workers: 'gpu-1' }, DEFAULT_CALL_OPTIONS, 'with');
    expect(gpu).toEqual({ pure: true, priority: 0, workers: ['gpu-1'] });
    const impure = resolveCallOptions({ pure: false, priority: 5 }, gpu, 'with');
    expect(impure).toEqual({ pure: false, priority: 5, workers: ['gpu-1'] });
    expect(() => resolveCallOptions({ bogus: 1 }, DEFAULT_CALL_OPTIONS, 'with')).toThrow(/unknown option 'bogus'; known options are key, pure/);
    expect(() => resolveCallOptions({ pure: 'yes' }, DEFAULT_CALL_OPTIONS, 'with')).toThrow(/'pure' must be a boolean/);
    expect(() => resolveCallOptions({ priority: NaN }, DEFAULT_CALL_OPTIONS, 'with')).toThrow(/'priority' must be a finite number/);
    expect(() => resolveCallOptions({ workers: [3] }, DEFAULT_CALL_OPTIONS, 'with')).toThrow(/'workers'/);
    expect(() => resolveCallOptions({ key: 5 }, DEFAULT_CALL_OPTIONS, 'with')).toThrow(/'key'/);
    expect(() => resolveCallOptions([1], DEFAULT_CALL_OPTIONS, 'with')).toThrow(/options must be an object, got an array/);
  });

  it('checks connect options; cluster options need the client to start the cluster', () => {
    expect(resolveConnectOptions(undefined, true).timeoutMs).toBe(5000);
    expect(() => resolveConnectOptions({ timeoutMs: 0 }, true)).toThrow(/'timeoutMs' must be a positive number/);
    expect(() => resolveConnectOptions({ nWorkers: 2 }, true)).toThrow(/only applies when no address is given/);
    expect(() => resolveConnectOptions({ nWorkers: 1.5 }, false)).toThrow(/'nWorkers' must be a positive integer/);
    expect(resolveConnectOptions({ nWorkers: 3, threadsPerWorker: 2 }, false)).toMatchObject({ nWorkers: 3, threadsPerWorker: 2 });
  });
});

describe('keys', () => {
  const add = (a: number, b: number) => a + b;

  it('names a pure call by its function and a token of the call: equal calls, equal keys', () => {
    const k = callKey(add, [1, 2], true);
    expect(k).toMatch(/^add-[0-9a-f]{32}$/);
    expect(callKey(add, [1, 2], true)).toBe(k);
    expect(callKey(add, [2, 1], true)).not.toBe(k);
    expect(callKey(add, [1, 2], true, 'sum')).toMatch(/^sum-/);
  });

  it('gives impure calls random keys, anonymous functions the name lambda', () => {
    expect(callKey(add, [1, 2], false)).not.toBe(callKey(add, [1, 2], false));
    expect(callKey(add, [1, 2], false)).toMatch(/^add-[0-9a-f-]{36}$/);
    expect(funcName((() => (x: number) => x)())).toBe('lambda');
    expect(dataKey([1, 2])).toBe(dataKey([1, 2]));
    expect(dataKey(new Float64Array(2))).toMatch(/^float64array-/);
  });
});

describe('nested structures of Futures', () => {
  it('collects Futures through arrays and plain objects, and rebuilds them with values', () => {
    const { make } = fakeLink();
    const a = make('a').f;
    const b = make('b').f;
    const m = new Map([['a', a]]);
    const x = [a, { b, list: [a, 3], m }, 'a'];
    expect(collectFutures(x).map((f) => f.key)).toEqual(['a', 'b', 'a']);
    const out = replaceFutures(x, (f) => f.key.toUpperCase());
    expect(out).toEqual(['A', { b: 'B', list: ['A', 3], m }, 'a']);
    expect(collectFutures(a)).toEqual([a]);
    expect(replaceFutures(a, () => 1)).toBe(1);
  });
});

describe('splitUpdateGraph', () => {
  const task = (deps: string[], frames = 1): TaskInput => ({
    run: new Serialized({}, Array.from({ length: frames }, () => new Uint8Array(1))),
    deps,
  });

  it('leaves a graph within the budget alone', () => {
    const msg: ClientToScheduler = { op: 'update-graph', tasks: { a: task([]), b: task(['a']) }, keys: ['b'] };
    expect(splitUpdateGraph(msg, 10, () => false)).toEqual([msg]);
  });

  it('cuts a wide reduction into parts in dependency order, each wanting what later parts need', () => {
    const tasks: Record<string, TaskInput> = {};
    for (let i = 0; i < 10; i++) tasks[`x-${i}`] = task([]);
    tasks.total = task(Object.keys(tasks));
    const parts = splitUpdateGraph({ op: 'update-graph', tasks, keys: ['total'] }, 4, (k) => k === 'x-3') as Extract<
      ClientToScheduler,
      { op: 'update-graph' } | { op: 'client-releases-keys' }
    >[];
    const graphs = parts.filter((p) => p.op === 'update-graph') as Extract<ClientToScheduler, { op: 'update-graph' }>[];
    expect(graphs.map((g) => Object.keys(g.tasks).length)).toEqual([4, 4, 3]);
    const seen = new Set<string>();
    for (const g of graphs) {
      for (const [k, t] of Object.entries(g.tasks)) {
        for (const d of t.deps) expect(seen.has(d) || d in g.tasks).toBe(true);
        seen.add(k);
      }
    }
    // Each earlier part wants its x keys (total needs them); the last wants total.
    expect(graphs[0].keys.length).toBe(4);
    expect(graphs[2].keys).toContain('total');
    const release = parts[parts.length - 1] as Extract<ClientToScheduler, { op: 'client-releases-keys' }>;
    expect(release.op).toBe('client-releases-keys');
    // Every frontier key is released afterwards except the one the client holds itself.
    expect(release.keys.sort()).toEqual(
      [...graphs[0].keys, ...graphs[1].keys].filter((k) => k !== 'x-3').sort(),
    );
  });

  it('keeps a chain in order across parts', () => {
    const tasks: Record<string, TaskInput> = { 'c-0': task([]) };
    for (let i = 1; i < 9; i++) tasks[`c-${i}`] = task([`c-${i - 1}`]);
    const parts = splitUpdateGraph({ op: 'update-graph', tasks, keys: ['c-8'] }, 3, () => false);
    const order = parts.flatMap((p) => (p.op === 'update-graph' ? Object.keys(p.tasks) : []));
    expect(order).toEqual(Object.keys(tasks));
    expect(parts.map((p) => (p as { keys: string[] }).keys)).toEqual([['c-2'], ['c-5'], ['c-8'], ['c-2', 'c-5']]);
  });
});
