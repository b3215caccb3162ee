/** Graphs end to end by feeding task-finished events: exact instructions, release, forget, sharing. */
import { describe, expect, it } from 'vitest';
import { computes, computeTask, frees, graph, Harness, reports } from './helpers.js';

const A = 'alice:8000';
const B = 'bob:8000';

describe('a chain a -> b -> c', () => {
  it('runs in order on the worker holding the input, frees inputs once used, and reports the result', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addWorker(B);
    h.addClient('c');
    expect(h.submit('c', graph({ a: [], b: ['a'], c: ['b'] }), ['c'], 'u')).toEqual([
      computeTask(A, 'a', { priority: 0, runId: 1, stimulusId: 'u' }),
    ]);
    expect(h.s.task('b')).toMatchObject({ state: 'waiting', waitingOn: ['a'] });
    expect(h.finish(A, 'a', { nbytes: 10 })).toEqual([
      computeTask(A, 'b', { priority: 1, runId: 2, stimulusId: 'finished-a-3', whoHas: { a: [A] }, nbytes: { a: 10 } }),
    ]);
    expect(h.finish(A, 'b', { nbytes: 20 })).toEqual([
      { type: 'send-worker', worker: A, msg: { op: 'free-keys', keys: ['a'], stimulusId: 'finished-b-4' } },
      computeTask(A, 'c', { priority: 2, runId: 3, stimulusId: 'finished-b-4', whoHas: { b: [A] }, nbytes: { b: 20 } }),
    ]);
    expect(h.finish(A, 'c', { nbytes: 30 })).toEqual([
      { type: 'send-client', client: 'c', msg: { op: 'key-in-memory', key: 'c', type: 'number', workers: [A] } },
      { type: 'send-worker', worker: A, msg: { op: 'free-keys', keys: ['b'], stimulusId: 'finished-c-5' } },
    ]);
    expect(h.s.whoHas()).toEqual({ a: [], b: [], c: [A] });
    expect(h.s.hasWhat()).toEqual({ [A]: ['c'], [B]: [] });
    expect(h.s.nbytes()).toEqual({ c: 30 });
    expect(h.s.counts()).toMatchObject({ memory: 1, released: 2 });
  });

  it('is forgotten entirely when the client releases the result', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    h.submit('c', graph({ a: [], b: ['a'], c: ['b'] }), ['c']);
    h.finish(A, 'a');
    h.finish(A, 'b');
    h.finish(A, 'c');
    expect(h.release('c', 'c')).toEqual([{ type: 'send-worker', worker: A, msg: { op: 'free-keys', keys: ['c'], stimulusId: 'release-6' } }]);
    expect(h.s.counts()).toMatchObject({ released: 0, memory: 0 });
    expect(h.s.taskState('a')).toBeUndefined();
    expect(h.s.hasWhat()).toEqual({ [A]: [] });
  });

  it("story(key) lists the key's path with the stimulus of each step", () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    h.submit('c', graph({ a: [], b: ['a'] }), ['b'], 'u');
    h.finish(A, 'a');
    h.finish(A, 'b');
    h.release('c', 'b');
    const path = (key: string) => h.s.story(key).map((r) => `${r.start}>${r.finish}@${r.stimulusId}`);
    expect(path('a')).toEqual([
      'released>waiting@u',
      'waiting>processing@u',
      'processing>memory@finished-a-2',
      'memory>released@finished-b-3',
      'released>forgotten@release-4',
    ]);
    expect(path('b')).toEqual([
      'released>waiting@u',
      'waiting>processing@finished-a-2',
      'processing>memory@finished-b-3',
      'memory>released@release-4',
      'released>forgotten@release-4',
    ]);
    expect(h.s.story('a', 'b')).toHaveLength(10);
    expect(h.s.story('a')[0]).toEqual({ key: 'a', start: 'released', finish: 'waiting', stimulusId: 'u', time: 1 });
  });

  it('keeps only the last transitionLogSize records', () => {
    const h = new Harness({ transitionLogSize: 3 });
    h.addWorker(A);
    h.addClient('c');
    h.submit('c', graph({ a: [], b: ['a'] }), ['b']);
    h.finish(A, 'a');
    expect(h.s.story().map((r) => `${r.key}:${r.finish}`)).toEqual(['a:processing', 'a:memory', 'b:processing']);
  });
});

describe('a diamond a -> (b, c) -> d', () => {
  it('runs b and c once a is done, d once both are, then frees everything but d', () => {
    const h = new Harness();
    h.addWorker(A, { nthreads: 2 });
    h.addWorker(B, { nthreads: 2 });
    h.addClient('c');
    expect(computes(h.submit('c', graph({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'] }), ['d']))).toEqual([[A, 'a']]);
    expect(computes(h.finish(A, 'a', { nbytes: 100 }))).toEqual([[A, 'b'], [A, 'c']]);
    const afterB = h.finish(A, 'b');
    expect(afterB).toEqual([]);
    expect(h.s.task('d')).toMatchObject({ state: 'waiting', waitingOn: ['c'] });
    const afterC = h.finish(A, 'c');
    expect(frees(afterC)).toEqual([[A, ['a']]]);
    expect(computes(afterC)).toEqual([[A, 'd']]);
    const done = h.finish(A, 'd');
    expect(reports(done)).toEqual([['c', 'key-in-memory', 'd']]);
    expect(frees(done)).toEqual([[A, ['b', 'c']]]);
  });
});

describe('sharing', () => {
  it('reuses tasks in memory or processing: same key, no recomputation', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c1');
    h.addClient('c2');
    h.submit('c1', graph({ x: [], y: ['x'] }), ['y']);
    // c2 asks for y too while x runs: nothing new is sent.
    expect(h.submit('c2', graph({ x: [], y: ['x'] }), ['y'])).toEqual([]);
    h.finish(A, 'x');
    expect(reports(h.finish(A, 'y'))).toEqual([['c1', 'key-in-memory', 'y'], ['c2', 'key-in-memory', 'y']]);
    // A third graph on y: y is in memory, so z runs at once with y's location.
    const out = h.submit('c2', graph({ y: ['x'], z: ['y'] }), ['z']);
    expect(computes(out)).toEqual([[A, 'z']]);
    // Asking for a key already in memory is answered at once.
    expect(reports(h.submit('c1', graph({ y: ['x'] }), ['y']))).toEqual([['c1', 'key-in-memory', 'y']]);
  });

  it('keeps a key as long as any client wants it', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c1');
    h.addClient('c2');
    h.submit('c1', graph({ x: [] }), ['x']);
    h.submit('c2', graph({ x: [] }), ['x']);
    h.finish(A, 'x');
    expect(h.release('c1', 'x')).toEqual([]);
    expect(h.s.taskState('x')).toBe('memory');
    expect(frees(h.release('c2', 'x'))).toEqual([[A, ['x']]]);
    expect(h.s.taskState('x')).toBeUndefined();
  });

  it('releases what a client wanted when it goes away', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c1');
    h.addClient('c2');
    h.submit('c1', graph({ x: [], y: [] }), ['x', 'y']);
    h.submit('c2', graph({ y: [] }), ['y']);
    h.finish(A, 'x');
    h.finish(A, 'y');
    expect(frees(h.s.handle({ type: 'remove-client', client: 'c1' }))).toEqual([[A, ['x']]]);
    expect(h.s.clients()).toEqual(['c2']);
    expect(h.s.whoHas()).toEqual({ y: [A] });
  });

  it('drops the extra tasks of a graph that nothing wants', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    expect(computes(h.submit('c', graph({ a: [], b: ['a'], unused: [] }), ['b']))).toEqual([[A, 'a']]);
    expect(h.s.taskState('unused')).toBeUndefined();
  });

  it('answers client-desires-keys for known keys and errs on unknown ones', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c1');
    h.addClient('c2');
    h.submit('c1', graph({ x: [] }), ['x']);
    h.finish(A, 'x');
    const out = h.s.handle({ type: 'client-desires-keys', client: 'c2', keys: ['x', 'nope'], stimulusId: 'd' });
    expect(reports(out)).toEqual([['c2', 'key-in-memory', 'x'], ['c2', 'task-erred', 'nope']]);
    expect(h.s.task('x')?.whoWants).toEqual(['c1', 'c2']);
  });
});

describe('releasing and cancelling work in flight', () => {
  it('a released processing task is cancelled on its worker; a late result is freed', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    h.submit('c', graph({ a: [], b: ['a'] }), ['b']);
    expect(frees(h.release('c', 'b'))).toEqual([[A, ['a']]]);
    expect(h.s.counts()).toMatchObject({ processing: 0, waiting: 0, released: 0 });
    const late = h.finish(A, 'a');
    expect(frees(late)).toEqual([[A, ['a']]]);
    expect(h.s.notes().at(-1)?.message).toMatch(/not expected \(unknown key\); freed/);
  });

  it('cancel-keys tells the client, cancels its dependents, and leaves other clients alone', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c1');
    h.addClient('c2');
    h.submit('c1', graph({ x: [], y: ['x'] }), ['x', 'y']);
    const out = h.cancel('c1', 'x');
    expect(reports(out)).toEqual([['c1', 'cancelled-key', 'x'], ['c1', 'cancelled-key', 'y']]);
    expect(frees(out)).toEqual([[A, ['x']]]);
    expect(h.s.counts()).toMatchObject({ processing: 0, waiting: 0 });

    h.submit('c1', graph({ x: [] }), ['x']);
    h.submit('c2', graph({ x: [] }), ['x']);
    const shared = h.cancel('c1', 'x');
    expect(reports(shared)).toEqual([['c1', 'cancelled-key', 'x']]);
    expect(frees(shared)).toEqual([]);
    expect(h.s.task('x')).toMatchObject({ state: 'processing', whoWants: ['c2'] });
  });
});

describe('placement over time', () => {
  it('sends a worker nthreads + 1 tasks while durations are unknown and keeps the rest, by priority', () => {
    const h = new Harness();
    h.addWorker(A, { nthreads: 2 });
    h.addClient('c');
    const keys = ['t0', 't1', 't2', 't3', 't4', 't5'];
    const out = h.submit('c', graph(Object.fromEntries(keys.map((k) => [k, []]))), keys);
    expect(computes(out)).toEqual([[A, 't0'], [A, 't1'], [A, 't2']]);
    expect(h.s.processing()).toEqual({ [A]: keys });
    expect(computes(h.finish(A, 't1'))).toEqual([[A, 't3']]);
  });

  it('sends more once tasks are measured to be short (up to ~20 ms of work per thread)', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    const keys = Array.from({ length: 40 }, (_, i) => `inc-${String(i).padStart(8, '0')}f`);
    const out = h.submit('c', graph(Object.fromEntries(keys.map((k) => [k, []]))), keys);
    expect(computes(out)).toHaveLength(2);
    // Measured at 1 ms: the worker gets tasks until 20 ms per thread are out.
    expect(computes(h.finish(A, keys[0], { seconds: 0.001 }))).toHaveLength(19);
  });

  it('runs an earlier graph before a later one (the generation counter)', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c1');
    h.addClient('c2');
    h.submit('c1', graph({ r0: [], r1: [], r2: [] }), ['r0', 'r1', 'r2']);
    h.submit('c2', graph({ s0: [], s1: [] }), ['s0', 's1']);
    const order: string[] = ['r0', 'r1'];
    for (let i = 0; i < 3; i++) {
      const next = computes(h.finish(A, order[i]));
      order.push(...next.map(([, k]) => k));
    }
    expect(order).toEqual(['r0', 'r1', 'r2', 's0', 's1']);
  });

  it("follows the client's priorities within a graph", () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    const g = graph({ p: [], q: [], r: [] }, { p: { priority: 2 }, q: { priority: 0 }, r: { priority: 1 } });
    expect(computes(h.submit('c', g, ['p', 'q', 'r']))).toEqual([[A, 'q'], [A, 'r']]);
    expect(h.s.task('p')?.priority).toBe(2);
  });
});
