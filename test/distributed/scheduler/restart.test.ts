/** The scheduler state machine's restart event: everything forgotten, everyone told, stale results handled. */
import { describe, expect, it } from 'vitest';
import { computes, frees, graph, Harness } from './helpers.js';

describe('restart', () => {
  it('forgets every task of every client, tells every worker and client, and computes afresh', () => {
    const h = new Harness();
    h.addWorker('w1:1');
    h.addWorker('w2:1');
    h.addClient('c1');
    h.addClient('c2');
    h.submit('c1', graph({ a: [], b: ['a'], c: ['b'] }), ['c']);
    h.finish('w1:1', 'a');
    h.submit('c2', graph({ x: [] }), ['x']);
    h.scatter('c2', { y: ['w2:1'] }, { y: 8 });
    expect(h.s.counts().memory).toBeGreaterThan(0);

    const out = h.s.handle({ type: 'restart', client: 'c1', id: 'r1', stimulusId: 'restart-1' });

    expect(Object.values(h.s.counts()).every((n) => n === 0)).toBe(true);
    expect(h.s.whoHas()).toEqual({});
    const restarts = out.filter((i) => i.msg.op === 'restart');
    expect(restarts).toEqual([
      { type: 'send-worker', worker: 'w1:1', msg: { op: 'restart', stimulusId: 'restart-1' } },
      { type: 'send-worker', worker: 'w2:1', msg: { op: 'restart', stimulusId: 'restart-1' } },
      { type: 'send-client', client: 'c1', msg: { op: 'restart', id: 'r1' } },
      { type: 'send-client', client: 'c2', msg: { op: 'restart', id: 'r1' } },
    ]);
    // Nothing is reported about keys to clients: their restart message cancels everything.
    expect(out.some((i) => i.type === 'send-client' && 'key' in i.msg)).toBe(false);

    // A result of a run from before the restart: the key is unknown now, so the worker is told to drop it.
    const stale = h.finish('w1:1', 'b', { runId: 1 });
    expect(frees(stale)).toEqual([['w1:1', ['b']]]);
    expect(h.s.taskState('b')).toBeUndefined();

    // The same keys again: computed from scratch.
    expect(computes(h.submit('c1', graph({ a: [] }), ['a']))).toHaveLength(1);
  });
});
