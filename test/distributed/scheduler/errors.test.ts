/** Failing tasks, blame, tasks that can never run, and the transition table refusing what it does not know. */
import { describe, expect, it } from 'vitest';
import type { Opaque } from '../../../src/distributed/messages.js';
import { Serialize } from '../../../src/distributed/protocol/index.js';
import { coreOf } from '../../../src/distributed/scheduler/state.js';
import { transition } from '../../../src/distributed/scheduler/transitions.js';
import { InvariantError, TransitionError, transitionAllowed } from '../../../src/distributed/scheduler/index.js';
import { computes, exception, frees, graph, Harness, reports } from './helpers.js';

const A = 'alice:8000';

/** The error inside a scheduler-made exception. */
const errorOf = (o: Opaque | undefined) => (o as Serialize).value as Error;

describe('a failing task', () => {
  it('errs its dependents with the same exception, blaming the original key, and tells each wanting client once', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c1');
    h.addClient('c2');
    h.submit('c1', graph({ a: [], b: ['a'], c: ['b'] }), ['c']);
    h.submit('c2', graph({ a: [], b: ['a'], c: ['b'] }), ['c', 'a']);
    const boom = exception('boom');
    const out = h.s.handle({ type: 'task-erred', worker: A, key: 'a', exception: boom, traceback: 'tb', startstops: [], stimulusId: 'e' });
    expect(out).toEqual([
      { type: 'send-client', client: 'c2', msg: { op: 'task-erred', key: 'a', exception: boom, traceback: 'tb' } },
      { type: 'send-client', client: 'c1', msg: { op: 'task-erred', key: 'c', exception: boom, traceback: 'tb', blame: 'a' } },
      { type: 'send-client', client: 'c2', msg: { op: 'task-erred', key: 'c', exception: boom, traceback: 'tb', blame: 'a' } },
    ]);
    expect(h.s.task('c')).toMatchObject({ state: 'erred', exception: boom, exceptionBlame: 'a' });
    // b is wanted by nobody: it is not kept erred.
    expect(h.s.taskState('b')).toBe('released');
    expect(h.s.story('b').map((r) => r.finish)).toEqual(['waiting', 'erred', 'released']);
  });

  it('a new task on an erred key errs at once with that exception', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    h.submit('c', graph({ a: [] }), ['a']);
    const boom = exception('boom');
    h.err(A, 'a', boom);
    const out = h.submit('c', graph({ a: [], d: ['a'] }), ['d']);
    expect(out).toEqual([{ type: 'send-client', client: 'c', msg: { op: 'task-erred', key: 'd', exception: boom, blame: 'a' } }]);
    expect(h.s.task('d')?.exceptionBlame).toBe('a');
  });

  it('asking again for an erred key gets the error again; released and resubmitted, it runs again', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    h.submit('c', graph({ a: [] }), ['a']);
    h.err(A, 'a', exception('boom'));
    expect(reports(h.submit('c', graph({ a: [] }), ['a']))).toEqual([['c', 'task-erred', 'a']]);
    h.release('c', 'a');
    expect(h.s.taskState('a')).toBeUndefined();
    expect(computes(h.submit('c', graph({ a: [] }), ['a']))).toEqual([[A, 'a']]);
  });

  it('frees the inputs a failed task no longer needs', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    h.submit('c', graph({ a: [], b: ['a'] }), ['b']);
    h.finish(A, 'a');
    const out = h.err(A, 'b', exception('boom'));
    expect(frees(out)).toEqual([[A, ['a']]]);
    // Kept as a released record while b refers to it; forgotten with b.
    expect(h.s.taskState('a')).toBe('released');
    h.release('c', 'b');
    expect(h.s.counts()).toMatchObject({ released: 0, erred: 0 });
  });

  it('ignores an error from a worker the task is not running on', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addWorker('bob:1');
    h.addClient('c');
    h.submit('c', graph({ a: [] }), ['a']);
    expect(h.err('bob:1', 'a', exception('x'))).toEqual([]);
    expect(h.s.taskState('a')).toBe('processing');
  });
});

describe('tasks that can never run', () => {
  it('a dependency the scheduler does not know errs the task with a message naming it', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    const out = h.submit('c', graph({ z: ['ghost'], w: ['z'] }), ['w']);
    expect(reports(out)).toEqual([['c', 'task-erred', 'w']]);
    const e = errorOf(h.s.task('w')?.exception);
    expect(e.name).toBe('MissingDependencyError');
    expect(e.message).toMatch(/task 'z' depends on 'ghost', which the scheduler does not know/);
    expect(h.s.task('w')?.exceptionBlame).toBe('z');
  });

  it('a cycle errs its tasks instead of waiting forever', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    const out = h.submit('c', graph({ x: ['y'], y: ['x'], ok: [] }), ['x', 'ok']);
    expect(reports(out)).toEqual([['c', 'task-erred', 'x']]);
    expect(computes(out)).toEqual([[A, 'ok']]);
    expect(errorOf(h.s.task('x')?.exception).name).toBe('CycleError');
    h.release('c', 'x');
    expect(h.s.taskState('y')).toBeUndefined();
  });

  it('a key wanted but not known is an error to that client only', () => {
    const h = new Harness();
    h.addClient('c');
    const out = h.submit('c', {}, ['nothing']);
    expect(reports(out)).toEqual([['c', 'task-erred', 'nothing']]);
  });
});

describe('the transition table', () => {
  it('allows only the listed transitions', () => {
    expect(transitionAllowed('processing', 'memory')).toBe(true);
    expect(transitionAllowed('memory', 'processing')).toBe(false);
    expect(transitionAllowed('forgotten', 'waiting')).toBe(false);
  });

  it('refuses an impossible transition in validate mode, naming key, states and stimulus', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    h.submit('c', graph({ a: [] }), ['a'], 'the-update');
    const core = coreOf(h.s);
    const ts = core.tasks.get('a')!;
    let err: unknown;
    try {
      transition(core, ts, 'forgotten');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TransitionError);
    expect(err).toMatchObject({ key: 'a', start: 'processing', finish: 'forgotten', stimulusId: 'the-update' });
    expect((err as Error).message).toBe("impossible transition of 'a' from processing to forgotten (stimulus the-update): no such transition in the table");
    expect(ts.state).toBe('processing');
  });

  it('outside validate mode skips it and notes it', () => {
    const h = new Harness({ validate: false });
    h.addWorker(A);
    h.addClient('c');
    h.submit('c', graph({ a: [] }), ['a']);
    const core = coreOf(h.s);
    expect(transition(core, core.tasks.get('a')!, 'forgotten')).toBe(false);
    expect(h.s.notes().at(-1)?.message).toBe("skipped impossible transition of 'a' from processing to forgotten");
  });

  it('validate() reports a broken invariant', () => {
    const h = new Harness();
    h.addWorker(A);
    h.addClient('c');
    h.submit('c', graph({ a: [] }), ['a']);
    const core = coreOf(h.s);
    core.workers.get(A)!.occupancy = -1;
    expect(() => h.s.validate()).toThrow(InvariantError);
    expect(() => h.s.validate()).toThrow(/worker alice:8000 has negative occupancy/);
  });

  it('handle() refuses an unknown event type', () => {
    const h = new Harness();
    expect(() => h.s.handle({ type: 'nope' } as never)).toThrow(/unknown event type "nope"/);
  });
});
