import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CycleError } from '../../src/graph/errors.js';
import { inline } from '../../src/graph/inline.js';
import { evaluate, normalize } from '../../src/graph/normalize.js';
import { literal, Literal, type Graph } from '../../src/graph/spec.js';
import { toposortIndices } from '../../src/graph/toposort.js';
import { getSync } from '../../src/schedulers/sync.js';

const inc = (x: number) => x + 1;
const add = (x: number, y: number) => x + y;
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
const id = <T>(x: T): T => x;

/** Computes every key of a synchronous graph in dependency order. */
function run(graph: Graph): Record<string, unknown> {
  const g = normalize(graph);
  const results: unknown[] = new Array(g.keys.length);
  for (const i of toposortIndices(g)) results[i] = evaluate(g.nodes[i], results);
  return Object.fromEntries(g.keys.map((k, i) => [k, results[i]]));
}

/** Every key left in `after` has the value it had in `before`. */
function expectSameValues(before: Graph, after: Graph): void {
  const a = run(before);
  const b = run(after);
  for (const k of Object.keys(after)) expect(b[k], k).toEqual(a[k]);
}

//  x = 1
//  |  \
//  y   |      y = inc(x)
//   \  |
//     z       z = add(x, y)
const d: Graph = { x: 1, y: [inc, 'x'], z: [add, 'x', 'y'] };

describe('inline', () => {
  it('inlines constants by default (as dask)', () => {
    expect(inline(d)).toEqual({ y: [inc, 1], z: [add, 1, 'y'] });
    expectSameValues(d, inline(d));
  });

  it('leaves the graph alone with inlineConstants: false and no keys', () => {
    expect(inline(d, [], { inlineConstants: false })).toEqual(d);
  });

  it('inlines the chosen keys as nested tasks', () => {
    expect(inline(d, ['y'], { inlineConstants: false })).toEqual({ x: 1, z: [add, 'x', [inc, 'x']] });
    expect(inline(d, ['y'])).toEqual({ z: [add, 1, [inc, 1]] });
    expectSameValues(d, inline(d, ['y'], { inlineConstants: false }));
  });

  it('keeps listed keys, even constants and chosen keys', () => {
    expect(inline(d, [], { keep: ['x'] })).toEqual(d);
    expect(inline(d, ['y'], { keep: ['y'] })).toEqual({ y: [inc, 1], z: [add, 1, 'y'] });
    expect(inline(d, ['y', 'z'], { keep: ['x', 'z'] })).toEqual({ x: 1, z: [add, 'x', [inc, 'x']] });
  });

  it('collapses chains of inlined keys completely', () => {
    //  a -> b -> c -> d    (b, c inlined, a a constant)
    const chain: Graph = { a: 1, b: [inc, 'a'], c: [inc, 'b'], d: [inc, 'c'] };
    const out = inline(chain, ['b', 'c']);
    expect(out).toEqual({ d: [inc, [inc, [inc, 1]]] });
    expect(run(out).d).toBe(4);
  });

  it('collapses chains of aliases onto what they name', () => {
    expect(inline({ a: 1, b: 'a', c: 'b', d: [inc, 'c'] })).toEqual({ d: [inc, 1] });
    // an alias of a task is a non-task value too: references move to the task itself
    expect(inline({ a: [inc, 1], b: 'a', c: [inc, 'b'] })).toEqual({ a: [inc, 1], c: [inc, 'a'] });
  });

  it('inlines a list of keys, keeping references to keys that stay', () => {
    const g: Graph = { a: [inc, 1], b: 2, l: ['a', 'b'], s: [sum, 'l'] };
    const out = inline(g);
    expect(out).toEqual({ a: [inc, 1], s: [sum, ['a', 2]] });
    expect(run(out).s).toBe(4);
  });

  it('inlines a key used several times at every use', () => {
    const out = inline({ a: [inc, 1], b: [add, 'a', [add, 'a', 'a']] }, ['a']);
    expect(out).toEqual({ b: [add, [inc, 1], [add, [inc, 1], [inc, 1]]] });
    expect(run(out).b).toBe(6);
  });

  it('keeps a quoted string quoted: it does not become a reference', () => {
    //  a = literal('b') names the key b only as text
    const g: Graph = { a: literal('b'), b: 5, c: [id, 'a'] };
    const out = inline(g);
    expect(Object.keys(out)).toEqual(['c']);
    expect((out.c as unknown[])[1]).toBeInstanceOf(Literal);
    expect(run(out).c).toBe('b');
  });

  it('ignores chosen keys that are not in the graph', () => {
    expect(inline(d, ['nope'], { inlineConstants: false })).toEqual(d);
  });

  it('does not change the graph it is given', () => {
    const g: Graph = { a: 1, b: [inc, 'a'], c: [add, 'b', ['a', 'b']] };
    const snapshot = JSON.stringify(g, (_, v) => (typeof v === 'function' ? v.name : v));
    const tasks = Object.values(g);
    inline(g, ['b']);
    expect(JSON.stringify(g, (_, v) => (typeof v === 'function' ? v.name : v))).toBe(snapshot);
    expect(Object.values(g)).toEqual(tasks);
  });

  it('reports a cycle with a CycleError', () => {
    expect(() => inline({ a: [inc, 'b'], b: [inc, 'a'] }, ['a'])).toThrow(CycleError);
  });

  it('gives a graph the real scheduler computes to the same values', async () => {
    const g: Graph = { a: 1, b: [inc, 'a'], c: [add, 'a', 'b'], e: [sum, ['b', 'c', 'a']] };
    const out = inline(g, ['b'], { keep: ['c'] });
    expect(await getSync(out, ['c', 'e'])).toEqual(await getSync(g, ['c', 'e']));
    expect(await getSync(out, ['c', 'e'])).toEqual([3, 6]);
  });

  it('collapses a 100,000-task chain into one deeply nested task that still evaluates', async () => {
    const n = 100_000;
    const chain: Graph = { k0: 0 };
    for (let i = 1; i < n; i++) chain[`k${i}`] = [inc, `k${i - 1}`];
    const last = `k${n - 1}`;
    const out = inline(chain, Object.keys(chain).slice(0, -1));
    expect(Object.keys(out)).toEqual([last]);
    expect(run(out)[last]).toBe(n - 1);
    expect(await getSync(out, last)).toBe(n - 1);
  });

  it('computes the same values as the original graph for random DAGs (property)', () => {
    type Spec = { kind: 'const'; v: number } | { kind: 'inc'; a: number } | { kind: 'add'; a: number; b: number } | { kind: 'sum'; xs: number[] } | { kind: 'alias'; a: number };
    const spec: fc.Arbitrary<Spec> = fc.oneof(
      fc.record({ kind: fc.constant('const' as const), v: fc.integer({ min: -5, max: 5 }) }),
      fc.record({ kind: fc.constant('inc' as const), a: fc.nat() }),
      fc.record({ kind: fc.constant('add' as const), a: fc.nat(), b: fc.nat() }),
      fc.record({ kind: fc.constant('sum' as const), xs: fc.array(fc.nat(), { maxLength: 3 }) }),
      fc.record({ kind: fc.constant('alias' as const), a: fc.nat() }),
    );
    fc.assert(
      fc.property(
        fc.array(spec, { minLength: 1, maxLength: 25 }),
        fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
        fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
        fc.boolean(),
        (specs, pick, keepPick, constants) => {
          const g: Graph = {};
          specs.forEach((s, i) => {
            const ref = (j: number) => `k${j % i}`;
            if (i === 0 || s.kind === 'const') g[`k${i}`] = s.kind === 'const' ? s.v : 0;
            else if (s.kind === 'inc') g[`k${i}`] = [inc, ref(s.a)];
            else if (s.kind === 'add') g[`k${i}`] = [add, ref(s.a), ref(s.b)];
            else if (s.kind === 'sum') g[`k${i}`] = [sum, s.xs.map(ref)];
            else g[`k${i}`] = ref(s.a);
          });
          const keys = Object.keys(g);
          const keep = keys.filter((_, i) => keepPick[i]);
          const out = inline(g, keys.filter((_, i) => pick[i]), { keep, inlineConstants: constants });
          for (const k of keep) expect(out).toHaveProperty(k);
          for (const k of Object.keys(out)) expect(keys).toContain(k);
          expectSameValues(g, out);
        },
      ),
    );
  });
});
