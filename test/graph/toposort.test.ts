import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CycleError, GraphError } from '../../src/graph/errors.js';
import { normalize } from '../../src/graph/normalize.js';
import type { Graph } from '../../src/graph/spec.js';
import { assertAcyclic, toposort, toposortIndices } from '../../src/graph/toposort.js';

const f = (...xs: unknown[]) => xs.length;

/** Every key comes after each key it depends on, and every key appears exactly once. */
function expectTopological(graph: Graph, order: string[]): void {
  expect([...order].sort()).toEqual(Object.keys(graph).sort());
  const g = normalize(graph);
  const pos = new Map(order.map((k, i) => [k, i]));
  for (let i = 0; i < g.keys.length; i++) {
    for (const d of g.dependencies[i]) expect(pos.get(g.keys[d])!).toBeLessThan(pos.get(g.keys[i])!);
  }
}

/** The CycleError a call throws (fails the test if it throws nothing or something else). */
function cycleOf(fn: () => unknown): CycleError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CycleError);
    return e as CycleError;
  }
  throw new Error('expected a CycleError, nothing was thrown');
}

describe('toposort', () => {
  it('puts every key after the keys it depends on', () => {
    //      a
    //     / \
    //    b   c
    //     \ /
    //      d     e (alone)
    const graph = { d: [f, 'b', 'c'], c: [f, 'a'], e: 5, b: [f, 'a'], a: 1 };
    const order = toposort(graph);
    expectTopological(graph, order);
    expect(order.indexOf('a')).toBe(Math.min(order.indexOf('a'), order.indexOf('b'), order.indexOf('c'), order.indexOf('d')));
    expect(order.indexOf('d')).toBeGreaterThan(order.indexOf('b'));
    expect(order.indexOf('d')).toBeGreaterThan(order.indexOf('c'));
  });

  it('follows references in nested tasks, lists and aliases', () => {
    const graph = { z: [f, [f, ['y', ['x']]]], y: 'x', x: [f] };
    expect(toposort(graph)).toEqual(['x', 'y', 'z']);
  });

  it('sorts the empty graph and graphs of constants', () => {
    expect(toposort({})).toEqual([]);
    expect(toposort({ a: 1, b: 2 }).sort()).toEqual(['a', 'b']);
  });

  it('gives a topological order for random DAGs (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        (picks, reversed) => {
          // node i depends on earlier nodes only; insert the keys in either direction
          const entries: [string, unknown][] = picks.map((ps, i) => [
            `k${i}`,
            i === 0 ? 0 : [f, ...ps.map((p) => `k${p % i}`)],
          ]);
          if (reversed) entries.reverse();
          const graph = Object.fromEntries(entries);
          expectTopological(graph, toposort(graph));
        },
      ),
    );
  });

  it('sorts only what the roots need when given roots', () => {
    const g = normalize({ a: 1, b: [f, 'a'], c: [f, 'b'], other: [f] });
    const order = toposortIndices(g, [g.index.get('b')!]).map((i) => g.keys[i]);
    expect(order).toEqual(['a', 'b']);
  });

  it('sorts a 200,000-task chain without overflowing the stack', () => {
    const n = 200_000;
    // inserted from the end of the chain, so the search starts at the deepest point
    const graph: Graph = {};
    for (let i = n - 1; i > 0; i--) graph[`k${i}`] = [f, `k${i - 1}`];
    graph.k0 = 0;
    const order = toposort(graph);
    expect(order.length).toBe(n);
    for (let i = 0; i < n; i++) if (order[i] !== `k${i}`) expect(order[i]).toBe(`k${i}`);
  });
});

describe('cycles', () => {
  it('a -> b -> c -> a: a CycleError names the keys of the cycle in order', () => {
    //  a needs b, b needs c, c needs a
    const graph = { a: [f, 'b'], b: [f, 'c'], c: [f, 'a'] };
    const e = cycleOf(() => toposort(graph));
    expect(e).toBeInstanceOf(GraphError);
    expect(e.name).toBe('CycleError');
    expect(e.cycle).toEqual(['a', 'b', 'c', 'a']);
    expect(e.message).toBe("the graph has a cycle: 'a' -> 'b' -> 'c' -> 'a'");
  });

  it('a self-loop a -> a', () => {
    const e = cycleOf(() => toposort({ a: [f, 'a'], b: 1 }));
    expect(e.cycle).toEqual(['a', 'a']);
    expect(e.message).toBe("the graph has a cycle: 'a' -> 'a'");
  });

  it('an alias loop a -> b -> a', () => {
    const e = cycleOf(() => toposort({ a: 'b', b: 'a' }));
    expect(e.cycle).toEqual(['a', 'b', 'a']);
  });

  it('names only the keys of the cycle, not the path that led to it', () => {
    //  x -> y -> a -> b -> a
    const graph = { x: [f, 'y'], y: [f, 'a'], a: [f, 'b'], b: [f, [f, 'a']] };
    const e = cycleOf(() => toposort(graph));
    expect(e.cycle).toEqual(['a', 'b', 'a']);
    expect(e.message).not.toMatch(/'x'|'y'/);
  });

  it('each step of the reported cycle is a real dependency', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.array(fc.nat(), { maxLength: 30 }), (n, extra) => {
        // a ring of n keys plus random extra edges
        const graph: Graph = {};
        for (let i = 0; i < n; i++) graph[`k${i}`] = [f, `k${(i + 1) % n}`, ...extra.slice(i, i + 2).map((e) => `k${e % n}`)];
        const e = cycleOf(() => toposort(graph));
        const g = normalize(graph);
        expect(e.cycle[0]).toBe(e.cycle[e.cycle.length - 1]);
        expect(new Set(e.cycle.slice(1)).size).toBe(e.cycle.length - 1);
        for (let j = 0; j + 1 < e.cycle.length; j++) {
          const from = g.index.get(e.cycle[j])!;
          expect(g.dependencies[from]).toContain(g.index.get(e.cycle[j + 1])!);
        }
      }),
    );
  });

  it('assertAcyclic throws for a cycle among the roots and ignores one outside them', () => {
    const g = normalize({ a: [f, 'b'], b: [f, 'a'], c: 1, d: [f, 'c'] });
    expect(() => assertAcyclic(g)).toThrow(CycleError);
    expect(() => assertAcyclic(g, [g.index.get('d')!])).not.toThrow();
    expect(() => assertAcyclic(g, [g.index.get('a')!])).toThrow(/'a' -> 'b' -> 'a'/);
  });

  it('finds a cycle at the end of a 200,000-task chain without overflowing the stack', () => {
    const n = 200_000;
    const graph: Graph = {};
    for (let i = n - 1; i > 0; i--) graph[`k${i}`] = [f, `k${i - 1}`];
    graph.k0 = [f, 'k1'];
    const e = cycleOf(() => toposort(graph));
    expect(e.cycle).toEqual(['k1', 'k0', 'k1']);
  });
});
