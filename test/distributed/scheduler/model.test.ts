/** TaskState's lazily made sets and the column-wise transition log (story.ts). */
import { describe, expect, it } from 'vitest';
import { ClientState, TaskState, WorkerState } from '../../../src/distributed/scheduler/model.js';
import { TransitionLog } from '../../../src/distributed/scheduler/story.js';
import { identity } from './helpers.js';

describe('TaskState sets', () => {
  it('gives each task its own set on the first element, never sharing one between tasks', () => {
    const a = new TaskState('a', undefined, 0);
    const b = new TaskState('b', undefined, 1);
    const c = new TaskState('c', undefined, 2);
    b.link(a);
    c.link(a);
    b.addWaitingOn(a);
    a.addWaiter(b);
    const ws = new WorkerState(identity('w:1'), 0);
    a.addHolder(ws);
    a.addWanter(new ClientState('x'));
    expect([...a.dependents]).toEqual([b, c]);
    expect([...b.dependencies]).toEqual([a]);
    expect([...c.dependencies]).toEqual([a]);
    expect(b.dependencies).not.toBe(c.dependencies);
    expect(c.waitingOn.size).toBe(0);
    expect(b.waiters.size).toBe(0);
    expect(b.whoHas.size + b.whoWants.size + c.whoHas.size).toBe(0);
    expect([...a.whoHas]).toEqual([ws]);
  });

  it('refuses an add that bypasses the add* methods, rather than filling the set all tasks share', () => {
    const a = new TaskState('a', undefined, 0);
    const b = new TaskState('b', undefined, 1);
    expect(() => a.dependents.add(b)).toThrow(/shared empty set/);
    expect(new TaskState('c', undefined, 2).dependents.size).toBe(0);
    a.dependents.delete(b); // delete and clear on the shared empty set are harmless
    a.dependents.clear();
  });
});

describe('TransitionLog', () => {
  it('returns the last `capacity` records oldest first, rebuilt from its columns', () => {
    const log = new TransitionLog(3);
    log.push('a', 'released', 'waiting', 's1', 1);
    log.push('a', 'waiting', 'processing', 's1', 1);
    log.push('b', 'released', 'waiting', 's2', 2);
    log.push('a', 'processing', 'memory', 's3', 3.5);
    expect(log.size).toBe(3);
    expect(log.records()).toEqual([
      { key: 'a', start: 'waiting', finish: 'processing', stimulusId: 's1', time: 1 },
      { key: 'b', start: 'released', finish: 'waiting', stimulusId: 's2', time: 2 },
      { key: 'a', start: 'processing', finish: 'memory', stimulusId: 's3', time: 3.5 },
    ]);
    expect(log.records(new Set(['a'])).map((r) => r.finish)).toEqual(['processing', 'memory']);
  });

  it('keeps nothing with capacity 0, and refuses a capacity that is not a non-negative integer', () => {
    const log = new TransitionLog(0);
    log.push('a', 'released', 'waiting', 's', 0);
    expect(log.records()).toEqual([]);
    expect(() => new TransitionLog(-1)).toThrow(TypeError);
    expect(() => new TransitionLog(1.5)).toThrow(TypeError);
  });
});
