import { describe, expect, it } from 'vitest';
import { ExecutorState, FINISHED, RELEASED } from '../../src/schedulers/executor.js';
import { runSync } from '../../src/schedulers/sync.js';
import type { Graph } from '../../src/index.js';

const add = (a: number, b: number) => a + b;
const inc = (x: number) => x + 1;

describe('ExecutorState', () => {
  it('releases results as soon as no pending task needs them: a long reduction stays small', async () => {
    // A tree reduction over 4096 leaves: at most a path of partial sums should be alive at once.
    const g: Graph = {};
    let level = Array.from({ length: 4096 }, (_, i) => {
      g[`leaf-${i}`] = [inc, i];
      return `leaf-${i}`;
    });
    let depth = 0;
    while (level.length > 1) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += 2) {
        const k = `sum-${depth}-${i / 2}`;
        g[k] = [add, level[i], level[i + 1]];
        next.push(k);
      }
      level = next;
      depth++;
    }
    const ex = new ExecutorState(g, [level[0]]);
    await runSync(ex, {});
    expect(ex.result(level[0])).toBe((4096 * 4097) / 2);
    expect(ex.peakLive).toBeLessThanOrEqual(2 * Math.log2(4096) + 2);
    expect(ex.live).toBe(1);
  });

  it('keeps a long chain at two live results', async () => {
    const g: Graph = { 'c-0': [inc, 0] };
    for (let i = 1; i < 10_000; i++) g[`c-${i}`] = [inc, `c-${i - 1}`];
    const ex = new ExecutorState(g, ['c-9999']);
    await runSync(ex, {});
    expect(ex.peakLive).toBeLessThanOrEqual(2);
  });

  it('keeps requested keys, releases the rest, and never runs what is not needed', async () => {
    const g: Graph = { a: 1, b: [inc, 'a'], c: [inc, 'b'], d: [inc, 'c'], unused: [inc, 'a'] };
    const ex = new ExecutorState(g, ['b', 'd']);
    await runSync(ex, {});
    const state = (k: string) => ex.state[ex.graph.index.get(k)!];
    expect(state('b')).toBe(FINISHED);
    expect(state('d')).toBe(FINISHED);
    expect(state('c')).toBe(RELEASED);
    expect(state('a')).toBe(RELEASED);
    expect(state('unused')).toBe(RELEASED);
    expect(ex.results[ex.graph.index.get('unused')!]).toBeUndefined();
    expect([ex.result('b'), ex.result('d')]).toEqual([2, 4]);
  });

  it('hands out ready tasks in priority order: one branch is finished before the next starts', () => {
    //   a1   b1
    //   |    |
    //   a2   b2
    //     \ /
    //      c
    const g: Graph = { a1: [inc, 0], a2: [inc, 'a1'], b1: [inc, 0], b2: [inc, 'b1'], c: [add, 'a2', 'b2'] };
    const ex = new ExecutorState(g, ['c']);
    const ran: string[] = [];
    for (let i = ex.next(); i >= 0; i = ex.next()) {
      ran.push(ex.graph.keys[i]);
      ex.finish(i, 1);
    }
    const pos = (k: string) => ran.indexOf(k);
    const [first, second] = pos('a1') < pos('b1') ? ['a', 'b'] : ['b', 'a'];
    expect(pos(`${first}2`)).toBeLessThan(pos(`${second}1`));
    expect(ran[ran.length - 1]).toBe('c');
  });
});
