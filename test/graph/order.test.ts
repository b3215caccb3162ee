import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GraphError } from '../../src/graph/errors.js';
import { order, orderIndices } from '../../src/graph/order.js';

type Deps = Record<string, string[]>;

// ---------------------------------------------------------------------------------------------
// helpers

/** Keys sorted by priority: the order a depth-first executor runs them in. */
function runOrder(o: Record<string, number>): string[] {
  return Object.keys(o).sort((a, b) => o[a] - o[b]);
}

function reverse(dependencies: number[][]): number[][] {
  const dependents: number[][] = dependencies.map(() => []);
  dependencies.forEach((ds, i) => ds.forEach((d) => dependents[d].push(i)));
  return dependents;
}

function orderOf(dependencies: number[][]): Int32Array {
  return orderIndices(dependencies, reverse(dependencies));
}

/**
 * Executes in priority order and returns the most results alive at once. A result is alive from
 * when it is computed until its last dependent has run; outputs (no dependents) stay. Inputs count
 * while their consumer runs, so computing `c = a + b` holds a, b and c.
 */
function peakLive(dependencies: number[][], priority: Int32Array): number {
  const n = dependencies.length;
  const dependents = reverse(dependencies);
  const remaining = Int32Array.from(dependents, (ds) => ds.length);
  const done = new Uint8Array(n);
  const byPriority = Array.from({ length: n }, (_, i) => i).sort((a, b) => priority[a] - priority[b]);
  let live = 0;
  let peak = 0;
  for (const v of byPriority) {
    for (const d of dependencies[v]) if (!done[d]) throw new Error(`${v} runs before its dependency ${d}`);
    done[v] = 1;
    peak = Math.max(peak, ++live);
    for (const d of dependencies[v]) if (--remaining[d] === 0) live--;
  }
  return peak;
}

/** Index graph builder: `node(deps)` adds a node and returns its index. */
function builder(): { deps: number[][]; node: (...deps: number[]) => number } {
  const deps: number[][] = [];
  return { deps, node: (...ds) => deps.push(ds) - 1 };
}

/** Pairwise tree sum over `inputs`; returns the root. */
function treeSum(node: (...deps: number[]) => number, inputs: number[]): number {
  let level = inputs;
  while (level.length > 1) {
    const next: number[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(node(level[i], level[i + 1]));
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    level = next;
  }
  return level[0];
}

function chain(node: (...deps: number[]) => number, length: number): number {
  let last = node();
  for (let i = 1; i < length; i++) last = node(last);
  return last;
}

function isPermutation(priority: Int32Array): boolean {
  const seen = new Uint8Array(priority.length);
  for (const p of priority) {
    if (p < 0 || p >= priority.length || seen[p]) return false;
    seen[p] = 1;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------

describe('order: branches are finished before new ones start', () => {
  it('finishes one whole chain before starting the other', () => {
    /*
     *      c
     *     / \
     *   a3   b3
     *   |    |
     *   a2   b2
     *   |    |
     *   a1   b1
     */
    const o = order({
      a1: [], a2: ['a1'], a3: ['a2'],
      b1: [], b2: ['b1'], b3: ['b2'],
      c: ['a3', 'b3'],
    });
    expect(runOrder(o)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'c']);
  });

  it('keeps the inputs of each reduction together (dask: test_ordering_keeps_groups_together)', () => {
    /*
     *    b0      b1          b0      b1
     *   /  \    /  \        /  \    /  \
     *  a0  a1  a2  a3      a0  a2  a1  a3
     */
    const o1 = order({ a0: [], a1: [], a2: [], a3: [], b0: ['a0', 'a1'], b1: ['a2', 'a3'] });
    expect(Math.abs(o1.a0 - o1.a1)).toBe(1);
    expect(Math.abs(o1.a2 - o1.a3)).toBe(1);
    const o2 = order({ a0: [], a1: [], a2: [], a3: [], b0: ['a0', 'a2'], b1: ['a1', 'a3'] });
    expect(Math.abs(o2.a0 - o2.a2)).toBe(1);
    expect(Math.abs(o2.a1 - o2.a3)).toBe(1);
  });

  it('runs each pair sum right after its two inputs in a reduction tree', () => {
    /*
     *                 t
     *           /           \
     *        s0123          s4567
     *       /     \        /     \
     *     s01     s23    s45     s67
     *     / \     / \    / \     / \
     *    x0 x1   x2 x3  x4 x5   x6 x7
     */
    const deps: Deps = { t: ['s0123', 's4567'], s0123: ['s01', 's23'], s4567: ['s45', 's67'] };
    for (let i = 0; i < 8; i++) deps[`x${i}`] = [];
    for (let i = 0; i < 8; i += 2) deps[`s${i}${i + 1}`] = [`x${i}`, `x${i + 1}`];
    const o = order(deps);
    for (let i = 0; i < 8; i += 2) {
      const pair = o[`s${i}${i + 1}`];
      expect(pair).toBe(Math.max(o[`x${i}`], o[`x${i + 1}`]) + 1);
      // no input of another pair runs between the two inputs of this pair
      expect(Math.abs(o[`x${i}`] - o[`x${i + 1}`])).toBe(1);
    }
    expect(o.s0123).toBe(Math.max(o.s01, o.s23) + 1);
    expect(o.s4567).toBe(Math.max(o.s45, o.s67) + 1);
    expect(o.t).toBe(14);
  });
});

describe('order: few results alive at once', () => {
  it('a 1024-leaf tree reduction holds at most log2(n) + 2 results', () => {
    const { deps, node } = builder();
    const leaves = Array.from({ length: 1024 }, () => node());
    treeSum(node, leaves);
    expect(peakLive(deps, orderOf(deps))).toBeLessThanOrEqual(10 + 2);
  });

  it('a tree reduction whose leaves are numbered after the sums still runs depth first', () => {
    const { deps, node } = builder();
    // heap numbering: sum i adds nodes 2i+1 and 2i+2, so sums come first and leaves last, and
    // index tie-breaks must not turn the walk breadth-first
    const n = 1024;
    for (let i = 0; i < n - 1; i++) node(2 * i + 1, 2 * i + 2);
    for (let i = 0; i < n; i++) node();
    expect(peakLive(deps, orderOf(deps))).toBeLessThanOrEqual(10 + 2);
  });

  it('a long chain holds two results', () => {
    const { deps, node } = builder();
    chain(node, 10_000);
    expect(peakLive(deps, orderOf(deps))).toBe(2);
  });

  it('many chains, each reduced to one result, then tree-summed: log2(chains) + 2', () => {
    const { deps, node } = builder();
    const ends = Array.from({ length: 64 }, () => chain(node, 20));
    treeSum(node, ends);
    expect(peakLive(deps, orderOf(deps))).toBeLessThanOrEqual(6 + 2);
  });

  it('many chains summed at once: one chain at a time, only the chain ends wait', () => {
    const { deps, node } = builder();
    const chains = 50;
    const length = 10;
    const ends = Array.from({ length: chains }, () => chain(node, length));
    node(...ends);
    const priority = orderOf(deps);
    expect(peakLive(deps, priority)).toBeLessThanOrEqual(chains + 1);
    for (let c = 0; c < chains; c++) {
      // chain c occupies indices c*length .. c*length+length-1; its priorities are consecutive
      const ps = Array.from({ length }, (_, j) => priority[c * length + j]);
      expect(Math.max(...ps) - Math.min(...ps)).toBe(length - 1);
    }
  });

  it('a shared input used by every leaf does not make the walk breadth-first', () => {
    /*
     *            sum tree
     *        /    |    ...    \
     *     f0(w,x0) f1(w,x1) ... f255(w,x255)
     *
     * w is computed early and feeds every f; walking up to all of them at once would compute
     * every x before any sum.
     */
    const { deps, node } = builder();
    const w = node();
    const fs = Array.from({ length: 256 }, () => node(w, node()));
    treeSum(node, fs);
    expect(peakLive(deps, orderOf(deps))).toBeLessThanOrEqual(8 + 3);
  });
});

describe('order: classic cases from dask test_order.py', () => {
  it('prefers the deeper chain (test_prefer_deep)', () => {
    /*
     *      c
     *      |
     *  e   b
     *  |   |
     *  d   a
     */
    const o = order({ a: [], b: ['a'], c: ['b'], d: [], e: ['d'] });
    expect(o.a).toBeLessThan(o.d);
    expect(o.b).toBeLessThan(o.d);
  });

  it('runs the base of a reduction early (test_base_of_reduce_preferred)', () => {
    /*
     *             a3
     *            /|
     *          a2 |
     *         /|  |
     *       a1 |  |
     *      /|  |  |
     *    a0 |  |  |
     *    |  |  |  |
     *    b0 b1 b2 b3
     *      \ \ / /
     *         c
     */
    const o = order({
      c: [], b0: ['c'], b1: ['c'], b2: ['c'], b3: ['c'],
      a0: ['b0'], a1: ['a0', 'b1'], a2: ['a1', 'b2'], a3: ['a2', 'b3'],
    });
    expect(o.b0).toBeLessThanOrEqual(4);
    expect(o.b1).toBeLessThanOrEqual(6);
    expect(o.a0).toBeLessThan(o.b2);
  });

  it('finishes a short side branch before a long one (test_avoid_upwards_branching)', () => {
    /*
     *       a1
     *       |
     *       a2
     *       |
     *       a3    d1
     *      /  \  /
     *    b1    c1
     *    |     |
     *    b2    c2
     *          |
     *          c3
     *
     * Run d1 before b1, so c1 is not kept waiting for d1 while b1 computes.
     */
    const o = order({
      a1: ['a2'], a2: ['a3'], a3: ['b1', 'c1'],
      b1: ['b2'], b2: [], c1: ['c2'], c2: ['c3'], c3: [], d1: ['c1'],
    });
    expect(o.d1).toBeLessThan(o.b1);
  });

  it('prefers the branch released sooner (test_avoid_upwards_branching_complex)', () => {
    /*
     *        a1
     *        |
     *   e2   a2  d2  d3
     *   |    |    \  /
     *   e1   a3    d1
     *    \  /  \  /
     *     b1    c1
     *     |     |
     *     b2    c2
     *           |
     *           c3
     */
    const o = order({
      a1: ['a2'], a2: ['a3'], a3: ['b1', 'c1'],
      b1: ['b2'], b2: [], c1: ['c2'], c2: ['c3'], c3: [],
      d1: ['c1'], d2: ['d1'], d3: ['d1'], e1: ['b1'], e2: ['e1'],
    });
    expect(o.c1).toBeLessThan(o.b1);
    expect(o.d2).toBeLessThan(o.b1);
    expect(o.d3).toBeLessThan(o.b1);
  });

  it('finishes short dependents before a long one (test_prefer_short_dependents)', () => {
    /*
     *        a
     *        |
     *     d  b  e
     *      \ | /
     *        c
     */
    const o = order({ c: [], d: ['c'], e: ['c'], b: ['c'], a: ['b'] });
    expect(o.d).toBeLessThan(o.b);
    expect(o.e).toBeLessThan(o.b);
  });

  it('finishes the local stack before the next (test_local_parents_of_reduction)', () => {
    /*
     *            c1
     *            |
     *        b1  c2
     *        |  /|
     *    a1  b2  c3
     *    |  /|
     *    a2  b3
     *    |
     *    a3
     */
    const o = order({
      a3: [], a2: ['a3'], a1: ['a2'],
      b3: [], b2: ['b3', 'a2'], b1: ['b2'],
      c3: [], c2: ['c3', 'b2'], c1: ['c2'],
    });
    expect(runOrder(o)).toEqual(['a3', 'a2', 'a1', 'b3', 'b2', 'b1', 'c3', 'c2', 'c1']);
  });

  it('breaks ties by key string order (test_break_ties_by_str)', () => {
    const deps: Deps = {};
    const xs = Array.from({ length: 10 }, (_, i) => `('x', ${i})`);
    for (const x of [...xs].reverse()) deps[x] = [];
    deps.y = [...xs].reverse();
    const expected: Record<string, number> = { y: 10 };
    xs.forEach((x, i) => (expected[x] = i));
    expect(order(deps)).toEqual(expected);
  });
});

describe('order: invariants on random graphs', () => {
  /** A random DAG on n nodes whose edges point down a random ranking of the nodes. */
  const randomDag = fc
    .integer({ min: 1, max: 200 })
    .chain((n) =>
      fc.record({
        rank: fc.shuffledSubarray(
          Array.from({ length: n }, (_, i) => i),
          { minLength: n, maxLength: n },
        ),
        edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 3 * n }),
      }),
    )
    .map(({ rank, edges }) => {
      const n = rank.length;
      const sets = Array.from({ length: n }, () => new Set<number>());
      for (const [a, b] of edges) {
        if (a === b) continue;
        // the node ranked higher depends on the one ranked lower
        const [hi, lo] = rank[a] > rank[b] ? [a, b] : [b, a];
        sets[hi].add(lo);
      }
      return sets.map((s) => [...s]);
    });

  it('gives a permutation of 0..n-1 with every dependency first', () => {
    fc.assert(
      fc.property(randomDag, (deps) => {
        const priority = orderOf(deps);
        expect(isPermutation(priority)).toBe(true);
        deps.forEach((ds, i) => ds.forEach((d) => expect(priority[d]).toBeLessThan(priority[i])));
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on the insertion order of keys or dependency lists', () => {
    fc.assert(
      fc.property(randomDag, fc.integer(), (deps, seed) => {
        const keys = deps.map((_, i) => `k${i}`);
        const forward: Record<string, Iterable<string>> = {};
        keys.forEach((k, i) => (forward[k] = deps[i].map((d) => keys[d])));
        const shuffled: Record<string, Iterable<string>> = {};
        for (const i of shuffle(keys.map((_, j) => j), seed)) {
          shuffled[keys[i]] = new Set(shuffle(deps[i], seed).map((d) => keys[d]));
        }
        expect(order(shuffled)).toEqual(order(forward));
      }),
      { numRuns: 200 },
    );
  });
});

/** A deterministic Fisher-Yates shuffle. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('order: edge cases', () => {
  it('orders an empty graph and lone nodes', () => {
    expect(order({})).toEqual({});
    expect(orderIndices([], [])).toEqual(new Int32Array(0));
    expect(order({ b: [], a: [] })).toEqual({ a: 0, b: 1 });
  });

  it('ignores a dependency of a key on itself, as dask does', () => {
    expect(order({ a: ['a'], b: ['a', 'b'] })).toEqual({ a: 0, b: 1 });
  });

  it('rejects a dependency on a missing key', () => {
    expect(() => order({ a: ['zzz'] })).toThrow(/'a' depends on 'zzz'/);
  });

  it('rejects cycles and inconsistent adjacency', () => {
    expect(() => order({ a: ['b'], b: ['c'], c: ['a'], d: [] })).toThrow(GraphError);
    expect(() => orderIndices([[1], []], [[], []])).toThrow(GraphError);
    expect(() => orderIndices([[]], [])).toThrow(GraphError);
  });
});

describe('order: large graphs', () => {
  it('orders a 200,000-node chain without overflowing the stack', () => {
    const n = 200_000;
    const deps = Array.from({ length: n }, (_, i) => (i === 0 ? [] : [i - 1]));
    const priority = orderOf(deps);
    expect(priority.every((p, i) => p === i)).toBe(true);
  });

  it('orders a 200,000-leaf flat reduction', () => {
    const n = 200_000;
    const deps: number[][] = Array.from({ length: n }, () => []);
    deps.push(Array.from({ length: n }, (_, i) => i));
    const priority = orderOf(deps);
    expect(priority.every((p, i) => p === i)).toBe(true);
  });

  it('orders a 100,000-node reduction tree depth first', () => {
    const { deps, node } = builder();
    const leaves = Array.from({ length: 50_000 }, () => node());
    treeSum(node, leaves);
    const priority = orderOf(deps);
    expect(isPermutation(priority)).toBe(true);
    expect(peakLive(deps, priority)).toBeLessThanOrEqual(Math.ceil(Math.log2(50_000)) + 2);
  });
});
