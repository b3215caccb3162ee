/**
 * The manual's `decide_worker` doctests (Scheduler chapter), translated into events: the data
 * sits where the doctest puts it (scattered with update-data), 'z' on alice's stack is a task
 * processing there, and the instruction list is exact.
 */
import { describe, expect, it } from 'vitest';
import { computeTask, computes, graph, Harness } from './helpers.js';

const ALICE = 'alice:8000';
const BOB = 'bob:8000';

/** alice and bob, a client 'c', and 'z' running on alice (restricted there). */
function cluster(): Harness {
  const h = new Harness();
  h.addWorker(ALICE);
  h.addWorker(BOB);
  h.addClient('c');
  return h;
}

function busyAlice(h: Harness): void {
  expect(computes(h.submit('c', graph({ z: [] }, { z: { workers: ['alice'] } }), ['z']))).toEqual([[ALICE, 'z']]);
}

describe('decide-worker, as in the manual', () => {
  it("chooses the worker that has the data 'b' depends on (alice has 'a'), busy or not", () => {
    const h = cluster();
    h.scatter('c', { a: [ALICE] }, { a: 100 }); // priority 0
    busyAlice(h); // z: priority 1, run 1
    const out = h.submit('c', graph({ b: ['a'] }), ['b'], 'doc');
    expect(out).toEqual([computeTask(ALICE, 'b', { priority: 2, runId: 2, stimulusId: 'doc', whoHas: { a: [ALICE] }, nbytes: { a: 100 } })]);
  });

  it('chooses the less busy worker when both have the dependencies', () => {
    const h = cluster();
    h.scatter('c', { a: [ALICE, BOB] }, { a: 100 });
    busyAlice(h);
    const out = h.submit('c', graph({ b: ['a'] }), ['b'], 'doc');
    expect(out).toEqual([computeTask(BOB, 'b', { priority: 2, runId: 2, stimulusId: 'doc', whoHas: { a: [ALICE, BOB] }, nbytes: { a: 100 } })]);
  });

  it("honours restrictions by host name: {'b': {'alice', 'charlie'}}", () => {
    const h = cluster();
    h.scatter('c', { a: [ALICE, BOB] }, { a: 100 });
    busyAlice(h);
    const out = h.submit('c', graph({ b: ['a'] }, { b: { workers: ['alice', 'charlie'] } }), ['b'], 'doc');
    expect(out).toEqual([computeTask(ALICE, 'b', { priority: 2, runId: 2, stimulusId: 'doc', whoHas: { a: [ALICE, BOB] }, nbytes: { a: 100 } })]);
  });

  it('minimises bytes moved before occupancy: c needs a (1 byte, alice) and b (1000 bytes, bob)', () => {
    const h = cluster();
    h.scatter('c', { a: [ALICE], b: [BOB] }, { a: 1, b: 1000 }); // priorities 0, 1
    // Make bob the busier one: the bytes still decide.
    h.submit('c', graph({ y: [] }, { y: { workers: ['bob'] } }), ['y']); // priority 2, run 1
    const out = h.submit('c', graph({ c: ['a', 'b'] }), ['c'], 'doc');
    expect(out).toEqual([
      computeTask(BOB, 'c', { priority: 3, runId: 2, stimulusId: 'doc', whoHas: { a: [ALICE], b: [BOB] }, nbytes: { a: 1, b: 1000 } }),
    ]);
  });

  it('spreads independent tasks over workers by occupancy per thread', () => {
    const h = new Harness();
    h.addWorker('a:1', { nthreads: 1 });
    h.addWorker('b:1', { nthreads: 3 });
    h.addClient('c');
    h.submit('c', graph({ t0: [], t1: [], t2: [], t3: [] }), ['t0', 't1', 't2', 't3']);
    // All durations unknown (0.5 s each): a gets 1 (0.5 s/thread), b gets 3 (0.5 s/thread).
    expect(h.s.processing()).toEqual({ 'a:1': ['t0'], 'b:1': ['t1', 't2', 't3'] });
  });

  it('uses measured durations per key prefix for occupancy', () => {
    const h = new Harness({ workerQueue: { minTasks: 100, maxTasks: 100 } });
    h.addWorker('a:1');
    h.addWorker('b:1');
    h.addClient('c');
    // Measure: 'slow' takes 1 s, 'fast' 1 ms.
    h.submit('c', graph({ 'slow-00000000aa': [], 'fast-00000000aa': [] }), ['slow-00000000aa', 'fast-00000000aa']);
    h.finish('a:1', 'slow-00000000aa', { seconds: 1 });
    h.finish('b:1', 'fast-00000000aa', { seconds: 0.001 });
    expect(h.s.taskDurations()).toEqual({ slow: 1, fast: 0.001 });
    // One slow task on a; then ten fast ones all fit on b before b is as busy as a.
    h.submit('c', graph({ 'slow-00000000bb': [] }, { 'slow-00000000bb': { workers: ['a:1'] } }), ['slow-00000000bb']);
    const fast = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`fast-0000000${i}cc`, []]));
    h.submit('c', graph(fast), Object.keys(fast));
    expect(h.s.processing()['b:1']).toHaveLength(10);
    expect(h.s.occupancy()).toEqual({ 'a:1': 1, 'b:1': expect.closeTo(0.01, 9) });
  });
});

describe('restrictions', () => {
  it('match a worker by address, host or --name alias', () => {
    const h = new Harness();
    h.addWorker('10.0.0.1:9000', { name: 'gpu-1', host: '10.0.0.1' });
    h.addWorker('10.0.0.2:9000', { name: 'cpu-1', host: '10.0.0.2' });
    h.addClient('c');
    const g = graph({ byName: [], byHost: [], byAddress: [], byScheme: [] }, {
      byName: { workers: ['gpu-1'] },
      byHost: { workers: ['10.0.0.2'] },
      byAddress: { workers: ['10.0.0.1:9000'] },
      byScheme: { workers: ['tcp://10.0.0.2:9000'] },
    });
    h.submit('c', g, Object.keys(g));
    expect(h.s.processing()).toEqual({ '10.0.0.1:9000': ['byName', 'byAddress'], '10.0.0.2:9000': ['byHost', 'byScheme'] });
  });

  it('are strict: with no matching worker the task waits in no-worker, says why, and runs when one joins', () => {
    const h = new Harness();
    h.addWorker('alice:8000');
    h.addClient('c');
    const out = h.submit('c', graph({ t: [] }, { t: { workers: ['carol'] } }), ['t']);
    expect(out).toEqual([]);
    expect(h.s.taskState('t')).toBe('no-worker');
    expect(h.s.unrunnable()).toEqual({ t: 'no connected worker matches workers=["carol"] (and allowOtherWorkers is false)' });
    expect(h.addWorker('bob:8000')).toEqual([]);
    expect(h.s.taskState('t')).toBe('no-worker');
    const joined = h.addWorker('10.1.1.1:7000', { name: 'carol' });
    expect(computes(joined)).toEqual([['10.1.1.1:7000', 't']]);
    expect(h.s.unrunnable()).toEqual({});
  });

  it('with allowOtherWorkers run elsewhere when no allowed worker is there', () => {
    const h = new Harness();
    h.addWorker('alice:8000');
    h.addClient('c');
    const out = h.submit('c', graph({ t: [] }, { t: { workers: ['carol'], allowOtherWorkers: true } }), ['t']);
    expect(computes(out)).toEqual([['alice:8000', 't']]);
  });

  it('move the data to the allowed worker whatever its size', () => {
    const h = new Harness();
    h.addWorker('alice:8000');
    h.addWorker('bob:8000');
    h.addClient('c');
    h.scatter('c', { big: ['alice:8000'] }, { big: 1e9 });
    const out = h.submit('c', graph({ t: ['big'] }, { t: { workers: ['bob'] } }), ['t']);
    expect(computes(out)).toEqual([['bob:8000', 't']]);
  });

  it('a task with no worker at all is unrunnable until any worker joins', () => {
    const h = new Harness();
    h.addClient('c');
    expect(h.submit('c', graph({ a: [], b: ['a'] }), ['b'])).toEqual([]);
    expect(h.s.unrunnable()).toEqual({ a: 'no worker is connected' });
    expect(h.s.taskState('b')).toBe('waiting');
    expect(computes(h.addWorker('w:1'))).toEqual([['w:1', 'a']]);
  });
});
