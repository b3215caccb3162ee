/** Workers leaving, data going missing, and messages that arrive late. */
import { describe, expect, it } from 'vitest';
import { computes, computeTask, frees, graph, Harness, reports } from './helpers.js';

const A = 'alice:8000';
const B = 'bob:8000';

describe('a worker leaving', () => {
  it('recomputes the data only it held, and reschedules its tasks elsewhere', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addWorker(B);
    h.addClient('c');
    h.submit('c', graph({ a: [], b: ['a'], c: ['b'] }), ['c']);
    h.finish(A, 'a');
    h.finish(A, 'b'); // a freed; c processing on alice
    expect(h.s.processing()).toEqual({ [A]: ['c'], [B]: [] });
    const out = h.removeWorker(A);
    // b was only on alice: recomputed from a (released, so recomputed too), on bob.
    expect(out).toEqual([computeTask(B, 'a', { priority: 0, runId: 4, stimulusId: 'remove-worker-6' })]);
    expect(h.s.task('c')).toMatchObject({ state: 'waiting', waitingOn: ['b'] });
    expect(h.s.task('b')).toMatchObject({ state: 'waiting', waitingOn: ['a'] });
    expect(computes(h.finish(B, 'a'))).toEqual([[B, 'b']]);
    expect(computes(h.finish(B, 'b'))).toEqual([[B, 'c']]);
    expect(reports(h.finish(B, 'c'))).toEqual([['c', 'key-in-memory', 'c']]);
    const path = h.s.story('b').map((r) => `${r.start}>${r.finish}`);
    expect(path).toEqual([
      'released>waiting', 'waiting>processing', 'processing>memory',
      'memory>released', 'released>waiting', 'waiting>processing', 'processing>memory', 'memory>released',
    ]);
  });

  it('keeps data that another worker also holds', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addWorker(B);
    h.addClient('c');
    h.scatter('c', { x: [A, B] });
    expect(h.removeWorker(A)).toEqual([]);
    expect(h.s.whoHas(['x'])).toEqual({ x: [B] });
  });

  it('sends tasks to no-worker when the last worker leaves, and runs them when one joins', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    h.submit('c', graph({ a: [], b: [] }), ['a', 'b']);
    h.finish(A, 'a');
    expect(h.removeWorker(A)).toEqual([]);
    expect(h.s.unrunnable()).toEqual({ a: 'no worker is connected', b: 'no worker is connected' });
    expect(computes(h.addWorker(B))).toEqual([[B, 'a'], [B, 'b']]);
  });

  it('reports scattered data lost (it cannot be recomputed) and errs what depends on it', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addWorker(B);
    h.addClient('c');
    h.scatter('c', { x: [A] });
    h.submit('c', graph({ y: ['x'] }), ['y']);
    const out = h.removeWorker(A);
    expect(reports(out)).toEqual([['c', 'lost-data', 'x'], ['c', 'task-erred', 'y']]);
    expect(h.s.task('y')).toMatchObject({ state: 'erred', exceptionBlame: 'x' });
    // Scattered again, the key is back in memory.
    expect(reports(h.scatter('c', { x: [B] }))).toEqual([['c', 'key-in-memory', 'x']]);
    expect(h.s.taskState('x')).toBe('memory');
  });

  it('errs a task after more than allowedFailures workers died running it (KilledWorker)', () => {
    const h = new Harness({ allowedFailures: 1 });
    h.addWorker('w1:1');
    h.addClient('c');
    h.submit('c', graph({ bad: [] }), ['bad']);
    h.addWorker('w2:1');
    expect(computes(h.removeWorker('w1:1'))).toEqual([['w2:1', 'bad']]);
    h.addWorker('w3:1');
    const out = h.removeWorker('w2:1');
    expect(reports(out)).toEqual([['c', 'task-erred', 'bad']]);
    expect(h.s.task('bad')?.exception).toMatchObject({ value: { name: 'KilledWorker' } });
  });

  it('keeps an input whose release was recommended but that became needed again in the same event', () => {
    // d (on bob) feeds x (done on alice) and t (running on alice). Alice dies: t is killed
    // (allowedFailures 0), which would release d, but lost x needs d again to be recomputed.
    const h = new Harness({ allowedFailures: 0 });
    h.addWorker(A);
    h.addWorker(B);
    h.addClient('c');
    h.submit('c', graph({ d: [] }, { d: { workers: [B] } }), ['d']);
    h.finish(B, 'd');
    h.submit('c', graph({ x: ['d'], t: ['d'] }, { x: { workers: [A] }, t: { workers: [A], allowOtherWorkers: true } }), ['x', 't']);
    h.release('c', 'd');
    h.finish(A, 'x');
    expect(h.s.task('t')).toMatchObject({ state: 'processing', processingOn: A });
    const out = h.removeWorker(A);
    expect(reports(out)).toEqual([['c', 'task-erred', 't']]);
    expect(frees(out)).toEqual([]);
    expect(h.s.taskState('d')).toBe('memory');
    expect(h.s.unrunnable()).toEqual({ x: 'no connected worker matches workers=["alice:8000"] (and allowOtherWorkers is false)' });
  });

  it('ignores messages from a worker that has left', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addWorker(B);
    h.addClient('c');
    h.submit('c', graph({ a: [] }), ['a']);
    h.removeWorker(A);
    expect(h.finish(A, 'a')).toEqual([]);
    expect(h.s.task('a')).toMatchObject({ state: 'processing', processingOn: B });
  });
});

describe('missing and dropped data', () => {
  it('missing-data drops the errant holder; with none left the key is recomputed and its users re-placed', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addWorker(B);
    h.addClient('c');
    h.submit('c', graph({ a: [], b: ['a'], c: ['a'] }, { c: { workers: [B] } }), ['b', 'c']);
    h.finish(A, 'a');
    expect(h.s.processing()).toEqual({ [A]: ['b'], [B]: ['c'] });
    // bob could not get 'a' from alice.
    const out = h.s.handle({ type: 'missing-data', worker: B, key: 'a', errantWorker: A, stimulusId: 'm' });
    expect(frees(out)).toEqual([[A, ['a', 'b']], [B, ['c']]]);
    expect(computes(out)).toEqual([[A, 'a']]);
    expect(h.s.task('b')).toMatchObject({ state: 'waiting', waitingOn: ['a'] });
    expect(computes(h.finish(A, 'a'))).toEqual([[A, 'b'], [B, 'c']]);
  });

  it('missing-data with other holders left only updates who has it', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addWorker(B);
    h.addClient('c');
    h.scatter('c', { x: [A, B] });
    const out = h.s.handle({ type: 'missing-data', worker: B, key: 'x', errantWorker: A, stimulusId: 'm' });
    expect(out).toEqual([{ type: 'send-worker', worker: A, msg: { op: 'free-keys', keys: ['x'], stimulusId: 'm' } }]);
    expect(h.s.whoHas(['x'])).toEqual({ x: [B] });
  });

  it('release-worker-data of the last copy recomputes a key still needed', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    h.submit('c', graph({ a: [] }), ['a']);
    h.finish(A, 'a');
    const out = h.s.handle({ type: 'release-worker-data', worker: A, key: 'a', stimulusId: 'r' });
    expect(computes(out)).toEqual([[A, 'a']]);
  });

  it('data scattered for a key being computed ends the computation', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addWorker(B);
    h.addClient('c');
    h.submit('c', graph({ x: [] }), ['x']);
    expect(h.s.task('x')).toMatchObject({ state: 'processing', processingOn: A });
    const out = h.scatter('c', { x: [B] }, { x: 4 });
    expect(out).toEqual([
      { type: 'send-worker', worker: A, msg: { op: 'free-keys', keys: ['x'], stimulusId: 'scatter-4' } },
      { type: 'send-client', client: 'c', msg: { op: 'key-in-memory', key: 'x', workers: [B] } },
    ]);
    expect(h.s.whoHas(['x'])).toEqual({ x: [B] });
    expect(frees(h.finish(A, 'x'))).toEqual([[A, ['x']]]);
  });

  it('add-keys records replicas of keys in memory and frees the others', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addWorker(B);
    h.addClient('c');
    h.scatter('c', { x: [A] }, { x: 5 });
    const out = h.s.handle({ type: 'add-keys', worker: B, keys: ['x', 'junk'], nbytes: { x: 5, junk: 1 }, stimulusId: 'k' });
    expect(frees(out)).toEqual([[B, ['junk']]]);
    expect(h.s.whoHas(['x'])).toEqual({ x: [A, B] });
  });

  it('a worker joining with data: needed keys are taken, unknown ones freed', () => {
    const h = new Harness();
    h.addClient('c');
    h.submit('c', graph({ a: [], b: ['a'] }), ['b']);
    expect(h.s.taskState('a')).toBe('no-worker');
    const out = h.addWorker(A, { keys: ['a', 'old'], nbytes: { a: 3, old: 9 } });
    expect(frees(out)).toEqual([[A, ['old']]]);
    expect(computes(out)).toEqual([[A, 'b']]);
    expect(h.s.task('a')).toMatchObject({ state: 'memory', nbytes: 3 });
  });
});

describe('late and stale results', () => {
  it('a result of a superseded run on the same worker is ignored', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    h.submit('c', graph({ a: [] }), ['a']); // run 1
    expect(h.finish(A, 'a', { runId: 99 })).toEqual([]);
    expect(h.s.taskState('a')).toBe('processing');
    expect(reports(h.finish(A, 'a', { runId: 1 }))).toEqual([['c', 'key-in-memory', 'a']]);
  });

  it('a result from a worker that was not asked is freed there; a repeated one is ignored', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addWorker(B);
    h.addClient('c');
    h.submit('c', graph({ a: [] }), ['a']);
    expect(h.finish(B, 'a')).toEqual([{ type: 'send-worker', worker: B, msg: { op: 'free-keys', keys: ['a'], stimulusId: 'finished-a-4' } }]);
    h.finish(A, 'a');
    expect(h.finish(A, 'a')).toEqual([]);
    expect(h.s.notes().map((n) => n.message)).toEqual([
      "task-finished 'a' from bob:8000 not expected (processing); freed",
      "task-finished 'a' from alice:8000 repeated; ignored",
    ]);
  });

  it('events from unknown clients and workers are noted and ignored', () => {
    const h = new Harness();
    expect(h.submit('ghost', graph({ a: [] }), ['a'])).toEqual([]);
    expect(h.finish('nowhere:1', 'a')).toEqual([]);
    expect(h.s.notes().map((n) => n.message)).toEqual([
      "message from unknown client 'ghost' ignored",
      "task-finished 'a' from unknown worker nowhere:1 ignored",
    ]);
  });
});
