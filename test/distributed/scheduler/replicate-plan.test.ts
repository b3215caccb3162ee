/**
 * The replicate planner (scheduler/replicate.ts), without sockets: tree rounds, fan-out limits,
 * reductions that respect pinned and last copies; and the state machine's replica events
 * (scheduler/replicas.ts) with validate mode on.
 */
import { describe, expect, it } from 'vitest';
import { planCopyRound, planReductions, shortOf, type CopyRound, type KeyReplicas } from '../../../src/distributed/scheduler/replicate.js';
import { frees, graph, Harness } from './helpers.js';

const workers = (n: number) => Array.from({ length: n }, (_, i) => `w${String(i).padStart(2, '0')}:1`);

/** Applies a round as if every copy arrived. */
function apply(keys: KeyReplicas[], round: CopyRound): KeyReplicas[] {
  return keys.map((k) => {
    const added = Object.entries(round).filter(([, ks]) => k.key in ks).map(([to]) => to);
    return { ...k, holders: [...k.holders, ...added] };
  });
}

/** Plans and applies rounds until none is left; returns the rounds. */
function simulate(keys: KeyReplicas[], allowed: string[], n: number, branchingFactor: number): { rounds: CopyRound[]; keys: KeyReplicas[] } {
  const rounds: CopyRound[] = [];
  for (let i = 0; i < 100; i++) {
    const round = planCopyRound(keys, { allowed, n, branchingFactor });
    if (Object.keys(round).length === 0) return { rounds, keys };
    rounds.push(round);
    keys = apply(keys, round);
  }
  throw new Error('the planner did not finish within 100 rounds');
}

/** How many new holders each source feeds, per key, in a round. */
function fanOut(round: CopyRound): Map<string, number> {
  const out = new Map<string, number>();
  for (const ks of Object.values(round)) {
    for (const [key, sources] of Object.entries(ks)) {
      expect(sources).toHaveLength(1);
      const id = `${key}@${sources[0]}`;
      out.set(id, (out.get(id) ?? 0) + 1);
    }
  }
  return out;
}

describe('planCopyRound', () => {
  it('grows the holders geometrically: 1 -> 3 -> 9 -> 16 with branching factor 2', () => {
    const ws = workers(16);
    const { rounds, keys } = simulate([{ key: 'x', nbytes: 100, holders: [ws[0]] }], ws, 16, 2);
    const sizes = [1];
    let k: KeyReplicas[] = [{ key: 'x', nbytes: 100, holders: [ws[0]] }];
    for (const r of rounds) {
      k = apply(k, r);
      sizes.push(k[0].holders.length);
      for (const n of fanOut(r).values()) expect(n).toBeLessThanOrEqual(2);
    }
    expect(sizes).toEqual([1, 3, 9, 16]);
    expect(new Set(keys[0].holders)).toEqual(new Set(ws));
  });

  it('takes fewer rounds with a larger branching factor, and one round with enough of it', () => {
    const ws = workers(16);
    const one = [{ key: 'x', nbytes: 1, holders: [ws[0]] }];
    expect(simulate(one, ws, 16, 3).rounds).toHaveLength(2); // 1 -> 4 -> 16
    expect(simulate(one, ws, 16, 15).rounds).toHaveLength(1);
    expect(simulate(one, ws, 16, 1).rounds).toHaveLength(4); // 1 -> 2 -> 4 -> 8 -> 16
  });

  it('stops at n copies and copies only onto allowed workers', () => {
    const ws = workers(8);
    const allowed = ws.slice(2, 6);
    const { keys } = simulate([{ key: 'x', nbytes: 1, holders: [ws[0]] }], allowed, 3, 2);
    const onAllowed = keys[0].holders.filter((h) => allowed.includes(h));
    expect(onAllowed).toHaveLength(3);
    expect(keys[0].holders).toContain(ws[0]); // the source outside the allowed set keeps its copy
    expect(keys[0].holders).toHaveLength(4);
  });

  it('clamps n to the allowed workers, and plans nothing for keys already replicated', () => {
    const ws = workers(3);
    expect(simulate([{ key: 'x', nbytes: 1, holders: [ws[0]] }], ws, 10, 2).keys[0].holders).toHaveLength(3);
    expect(planCopyRound([{ key: 'x', nbytes: 1, holders: ws }], { allowed: ws, n: 3, branchingFactor: 2 })).toEqual({});
  });

  it('sends copies to the least loaded workers first, biggest keys first', () => {
    const ws = ['a:1', 'b:1', 'c:1', 'd:1'];
    const load = { 'a:1': 0, 'b:1': 500, 'c:1': 100, 'd:1': 50 };
    const round = planCopyRound(
      [
        { key: 'small', nbytes: 10, holders: ['a:1'] },
        { key: 'big', nbytes: 1000, holders: ['a:1'] },
      ],
      { allowed: ws, n: 2, branchingFactor: 2, load },
    );
    // big first: d (50) is the least loaded non-holder; then small: c (100) < d (1050).
    expect(round).toEqual({ 'd:1': { big: ['a:1'] }, 'c:1': { small: ['a:1'] } });
  });

  it('spreads the sends of one round over every holder', () => {
    const ws = workers(9);
    const round = planCopyRound([{ key: 'x', nbytes: 1, holders: [ws[0], ws[1], ws[2]] }], { allowed: ws, n: 9, branchingFactor: 2 });
    expect(Object.keys(round)).toHaveLength(6);
    expect([...fanOut(round).values()]).toEqual([2, 2, 2]);
  });

  it('plans nothing for a key without holders, and reports what is short', () => {
    const ws = workers(2);
    const keys = [{ key: 'gone', nbytes: 1, holders: [] }, { key: 'x', nbytes: 1, holders: [ws[0]] }];
    expect(planCopyRound(keys, { allowed: ws, n: 2, branchingFactor: 2 })).toEqual({ [ws[1]]: { x: [ws[0]] } });
    expect(shortOf(keys, { allowed: ws, n: 2 })).toEqual({ gone: 0, x: 1 });
  });
});

describe('planReductions', () => {
  it('drops the surplus from the most loaded holders, within the allowed workers only', () => {
    const ws = ['a:1', 'b:1', 'c:1', 'd:1'];
    const plan = planReductions([{ key: 'x', nbytes: 10, holders: ws }], { allowed: ws.slice(0, 3), n: 1, load: { 'a:1': 5, 'b:1': 50, 'c:1': 20, 'd:1': 1000 } });
    expect(plan).toEqual({ remove: { 'b:1': ['x'], 'c:1': ['x'] }, pinned: [] });
  });

  it('never drops a pinned copy, and says which keys kept more than n', () => {
    const ws = ['a:1', 'b:1', 'c:1'];
    const plan = planReductions([{ key: 'x', nbytes: 10, holders: ws, pinned: ['b:1', 'c:1'] }], { allowed: ws, n: 1 });
    expect(plan).toEqual({ remove: { 'a:1': ['x'] }, pinned: ['x'] });
  });

  it('keeps at least one copy whatever n says', () => {
    const plan = planReductions([{ key: 'x', nbytes: 10, holders: ['a:1', 'b:1'] }], { allowed: ['a:1', 'b:1'], n: 0 });
    expect(plan.remove).toEqual({});
  });
});

describe('replica events in the state machine', () => {
  function cluster() {
    const h = new Harness();
    for (const w of ['a:1', 'b:1', 'c:1']) h.addWorker(w);
    h.addClient('c');
    h.scatter('c', { x: ['a:1', 'b:1', 'c:1'] }, { x: 100 });
    return h;
  }

  it('acquire-replicas asks the new holder to fetch from the given source, and counts nothing until add-keys', () => {
    const h = new Harness();
    for (const w of ['a:1', 'b:1']) h.addWorker(w);
    h.addClient('c');
    h.scatter('c', { x: ['a:1'] }, { x: 100 });
    const out = h.s.handle({ type: 'acquire-replicas', gathers: { 'b:1': { x: ['a:1'] } }, stimulusId: 'r1' });
    expect(out).toEqual([{ type: 'send-worker', worker: 'b:1', msg: { op: 'acquire-replicas', whoHas: { x: ['a:1'] }, nbytes: { x: 100 }, stimulusId: 'r1' } }]);
    expect(h.s.whoHas(['x'])).toEqual({ x: ['a:1'] });
    h.s.handle({ type: 'add-keys', worker: 'b:1', keys: ['x'], nbytes: { x: 100 }, stimulusId: 'k1' });
    expect(h.s.whoHas(['x']).x.sort()).toEqual(['a:1', 'b:1']);
  });

  it('acquire-replicas falls back to any holder when the given source no longer has the key', () => {
    const h = cluster();
    h.s.handle({ type: 'remove-replicas', removals: { 'c:1': ['x'] }, stimulusId: 'r0' });
    const out = h.s.handle({ type: 'acquire-replicas', gathers: { 'c:1': { x: ['d:1'] } }, stimulusId: 'r1' });
    expect(out).toHaveLength(1);
    const msg = out[0].type === 'send-worker' ? out[0].msg : undefined;
    expect(msg?.op === 'acquire-replicas' && msg.whoHas.x.sort()).toEqual(['a:1', 'b:1']);
  });

  it('remove-replicas drops copies with free-keys, but never the last one', () => {
    const h = cluster();
    const out = h.s.handle({ type: 'remove-replicas', removals: { 'a:1': ['x'], 'b:1': ['x'], 'c:1': ['x'] }, stimulusId: 'r1' });
    expect(frees(out)).toEqual([['a:1', ['x']], ['b:1', ['x']]]);
    expect(h.s.whoHas(['x'])).toEqual({ x: ['c:1'] });
    expect(h.s.notes().at(-1)?.message).toMatch(/kept 'x' on c:1, its last copy/);
  });

  it('remove-replicas keeps a copy that a task assigned to that worker needs', () => {
    const h = cluster();
    h.submit('c', graph({ y: ['x'] }), ['y']);
    const on = h.s.task('y')!.processingOn!;
    const out = h.s.handle({ type: 'remove-replicas', removals: { 'a:1': ['x'], 'b:1': ['x'], 'c:1': ['x'] }, stimulusId: 'r1' });
    expect(frees(out).map(([w]) => w)).not.toContain(on);
    expect(h.s.whoHas(['x']).x).toEqual([on]);
    expect(h.s.replicas(['x']).keys[0].pinned).toEqual([on]);
  });

  it('replicas() reports keys not in memory as absent', () => {
    const h = cluster();
    h.submit('c', graph({ y: ['x'] }), ['y']);
    expect(h.s.replicas(['x', 'y', 'nope']).absent).toEqual(['y', 'nope']);
  });
});
