import { describe, expect, it } from 'vitest';
import { cull, neededIndices } from '../../src/graph/cull.js';
import { GraphError } from '../../src/graph/errors.js';
import { evaluate, normalize } from '../../src/graph/normalize.js';
import { literal, type Graph } from '../../src/graph/spec.js';
import { toposortIndices } from '../../src/graph/toposort.js';

const inc = (x: number) => x + 1;
const add = (x: number, y: number) => x + y;
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

/** Computes every key of a synchronous graph in dependency order. */
function run(graph: Graph): Record<string, unknown> {
  const g = normalize(graph);
  const results: unknown[] = new Array(g.keys.length);
  for (const i of toposortIndices(g)) results[i] = evaluate(g.nodes[i], results);
  return Object.fromEntries(g.keys.map((k, i) => [k, results[i]]));
}

//      a       e
//     / \      |
//    b   d     f
//    |
//    c         g (alone)
const graph: Graph = {
  a: 1,
  b: [inc, 'a'],
  c: [inc, 'b'],
  d: [add, 'a', 10],
  e: 5,
  f: [sum, ['e', 'e']],
  g: [inc, 100],
};

describe('cull', () => {
  it('keeps exactly the keys a key needs, transitively', () => {
    const { graph: out } = cull(graph, 'c');
    expect(Object.keys(out).sort()).toEqual(['a', 'b', 'c']);
  });

  it('keeps the very same values (tasks are not copied or rewritten)', () => {
    const { graph: out } = cull(graph, 'c');
    for (const k of Object.keys(out)) expect(out[k]).toBe(graph[k]);
  });

  it('takes nested lists of keys', () => {
    const { graph: out } = cull(graph, [['c'], ['d', ['f']]]);
    expect(Object.keys(out).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(Object.keys(cull(graph, []).graph)).toEqual([]);
    expect(Object.keys(cull(graph, [[], ['g']]).graph)).toEqual(['g']);
  });

  it('follows references inside nested tasks, lists and aliases', () => {
    const g2: Graph = { x: 1, y: 2, z: 3, alias: 'x', t: [add, [inc, 'alias'], [sum, ['y', 'y']]], unused: [inc, 'z'] };
    expect(Object.keys(cull(g2, 't').graph).sort()).toEqual(['alias', 't', 'x', 'y']);
  });

  it('returns the dependencies of each kept key', () => {
    const { dependencies } = cull(graph, ['c', 'd', 'f', 'g']);
    expect(dependencies).toEqual({
      a: [],
      b: ['a'],
      c: ['b'],
      d: ['a'],
      e: [],
      f: ['e'], // named twice, listed once
      g: [],
    });
  });

  it('does not count a literal() string as a dependency', () => {
    const g2: Graph = { a: 1, b: [(x: unknown) => x, literal('a')] };
    const { graph: out, dependencies } = cull(g2, 'b');
    expect(Object.keys(out)).toEqual(['b']);
    expect(dependencies).toEqual({ b: [] });
  });

  it('gives the same values for the requested keys as the full graph', () => {
    const full = run(graph);
    const culled = run(cull(graph, ['c', 'f']).graph);
    expect(culled.c).toBe(full.c);
    expect(culled.f).toBe(full.f);
    expect(culled.c).toBe(3);
    expect(culled.f).toBe(10);
  });

  it('does not change the graph it is given', () => {
    const before = { ...graph };
    cull(graph, 'c');
    expect(graph).toEqual(before);
    expect(Object.keys(graph)).toHaveLength(7);
  });

  it('throws a GraphError naming a missing key', () => {
    expect(() => cull(graph, 'nope')).toThrow(GraphError);
    expect(() => cull(graph, ['c', ['nope']])).toThrow(/key 'nope' is not in the graph/);
  });

  it('refuses keys that are not strings or arrays of strings', () => {
    expect(() => cull(graph, 5 as unknown as string)).toThrow(TypeError);
    expect(() => cull(graph, [null as unknown as string])).toThrow(/keys must be a key/);
  });

  it('refuses a graph that is not a plain object', () => {
    expect(() => cull(new Map() as unknown as Graph, 'a')).toThrow(/a graph must be a plain object/);
  });
});

describe('neededIndices', () => {
  it('marks the targets and everything they depend on', () => {
    const g = normalize(graph);
    const needed = neededIndices(g, [g.index.get('c')!, g.index.get('g')!]);
    expect(g.keys.filter((_, i) => needed[i])).toEqual(['a', 'b', 'c', 'g']);
  });

  it('handles a 100,000-task chain', () => {
    const chain: Graph = { k0: 0 };
    for (let i = 1; i < 100_000; i++) chain[`k${i}`] = [inc, `k${i - 1}`];
    chain.other = [inc, 'k5'];
    const { graph: out } = cull(chain, 'k99999');
    expect(Object.keys(out)).toHaveLength(100_000);
    expect(out.other).toBeUndefined();
  });
});
