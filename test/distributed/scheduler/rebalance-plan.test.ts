/** The rebalance planner (scheduler/rebalance.ts), without sockets. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesPerWorker, planRebalance, type Move } from '../../../src/distributed/scheduler/rebalance.js';
import type { KeyReplicas } from '../../../src/distributed/scheduler/replicate.js';

const spread = (after: Record<string, number>) => Math.max(...Object.values(after)) - Math.min(...Object.values(after));

/** Applies moves to the holders, checking each is legal: the sender held it, the recipient did not. */
function apply(keys: KeyReplicas[], moves: Move[]): KeyReplicas[] {
  const holders = new Map(keys.map((k) => [k.key, new Set(k.holders)]));
  for (const m of moves) {
    const hs = holders.get(m.key)!;
    expect(hs.has(m.from)).toBe(true);
    expect(hs.has(m.to)).toBe(false);
    hs.delete(m.from);
    hs.add(m.to);
  }
  return keys.map((k) => ({ ...k, holders: [...holders.get(k.key)!] }));
}

describe('planRebalance', () => {
  it('evens out equal keys held by one worker', () => {
    const keys = Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, nbytes: 100, holders: ['a:1'] }));
    const plan = planRebalance(keys, ['a:1', 'b:1', 'c:1']);
    expect(plan.before).toEqual({ 'a:1': 1200, 'b:1': 0, 'c:1': 0 });
    expect(plan.after).toEqual({ 'a:1': 400, 'b:1': 400, 'c:1': 400 });
    expect(plan.moves).toHaveLength(8);
    expect(bytesPerWorker(apply(keys, plan.moves), ['a:1', 'b:1', 'c:1'])).toEqual(plan.after);
  });

  it('moves the key closest to half the gap first, and never one that would overshoot', () => {
    const keys = [
      { key: 'big', nbytes: 900, holders: ['a:1'] },
      { key: 'mid', nbytes: 400, holders: ['a:1'] },
      { key: 'small', nbytes: 100, holders: ['a:1'] },
    ];
    // Gap 1400, half 700: 'big' (900) is closer than 'mid' (400), and leaves 500 / 900 where 'mid'
    // would leave 1000 / 400. Then b is the sender, with nothing it may move.
    const plan = planRebalance(keys, ['a:1', 'b:1']);
    expect(plan.moves.map((m) => m.key)).toEqual(['big']);
    expect(plan.after).toEqual({ 'a:1': 500, 'b:1': 900 });
    // A key as big as the gap would only swap the loads: it stays.
    expect(planRebalance([{ key: 'x', nbytes: 1000, holders: ['a:1'] }], ['a:1', 'b:1']).moves).toEqual([]);
  });

  it('stops within the tolerance and makes no move for crumbs', () => {
    const keys = [
      { key: 'x', nbytes: 1000, holders: ['a:1'] },
      { key: 'y', nbytes: 990, holders: ['b:1'] },
      { key: 'z', nbytes: 5, holders: ['a:1'] },
    ];
    expect(planRebalance(keys, ['a:1', 'b:1']).moves).toEqual([]);
    expect(planRebalance(keys, ['a:1', 'b:1'], { tolerance: 0 }).moves.map((m) => m.key)).toEqual(['z']);
  });

  it('balances only among the given workers and leaves pinned copies and copies elsewhere alone', () => {
    const keys = [
      { key: 'p', nbytes: 500, holders: ['a:1'], pinned: ['a:1'] },
      { key: 'q', nbytes: 500, holders: ['a:1', 'c:1'] },
      { key: 'r', nbytes: 500, holders: ['c:1'] },
    ];
    const plan = planRebalance(keys, ['a:1', 'b:1']);
    expect(plan.moves).toEqual([{ key: 'q', from: 'a:1', to: 'b:1', nbytes: 500 }]);
    expect(plan.after).toEqual({ 'a:1': 500, 'b:1': 500 });
  });

  it('does not move a key onto a worker that already holds it', () => {
    const keys = [{ key: 'x', nbytes: 100, holders: ['a:1', 'b:1'] }, { key: 'y', nbytes: 100, holders: ['a:1'] }];
    const plan = planRebalance(keys, ['a:1', 'b:1'], { tolerance: 0 });
    expect(plan.moves).toEqual([]);
  });

  it('never makes the spread worse, moves each copy at most once, and every move is legal', () => {
    const arb = fc.record({
      nworkers: fc.integer({ min: 1, max: 6 }),
      keys: fc.array(fc.record({ nbytes: fc.integer({ min: 0, max: 5000 }), holders: fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 }) }), { maxLength: 60 }),
    });
    fc.assert(
      fc.property(arb, ({ nworkers, keys }) => {
        const ws = Array.from({ length: nworkers }, (_, i) => `w${i}:1`);
        const ks: KeyReplicas[] = keys.map((k, i) => ({ key: `k${i}`, nbytes: k.nbytes, holders: k.holders.map((h) => `w${h}:1`) }));
        const plan = planRebalance(ks, ws);
        expect(bytesPerWorker(apply(ks, plan.moves), ws)).toEqual(plan.after);
        expect(new Set(plan.moves.map((m) => `${m.key}@${m.from}`)).size).toBe(plan.moves.length);
        const sq = (r: Record<string, number>) => Object.values(r).reduce((s, v) => s + v * v, 0);
        expect(sq(plan.after)).toBeLessThanOrEqual(sq(plan.before));
        if (ws.length > 1) expect(spread(plan.after)).toBeLessThanOrEqual(spread(plan.before));
      }),
      { numRuns: 300 },
    );
  });

  it('splits 10,000 equal keys held by one worker exactly in two', () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => ({ key: `k${i}`, nbytes: 8, holders: ['a:1'] }));
    const plan = planRebalance(keys, ['a:1', 'b:1'], { tolerance: 0 });
    expect(plan.after).toEqual({ 'a:1': 40_000, 'b:1': 40_000 });
  });
});
