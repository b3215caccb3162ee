import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CycleError } from '../../src/graph/errors.js';
import { fuse, MAX_FUSED_DEPTH } from '../../src/graph/fuse.js';
import { evaluate, normalize } from '../../src/graph/normalize.js';
import { literal, type Graph } from '../../src/graph/spec.js';
import { toposortIndices } from '../../src/graph/toposort.js';
import { getSync } from '../../src/schedulers/sync.js';

const one = () => 1;
const inc = (x: number) => x + 1;
const dbl = (x: number) => 2 * x;
const add = (x: number, y: number) => x + y;
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

/** Computes every key of a graph in dependency order, awaiting async results. */
async function run(graph: Graph): Promise<Record<string, unknown>> {
  const g = normalize(graph);
  const results: unknown[] = new Array(g.keys.length);
  for (const i of toposortIndices(g)) {
    const v = evaluate(g.nodes[i], results);
    results[i] = v instanceof Promise ? await v : v;
  }
  return Object.fromEntries(g.keys.map((k, i) => [k, results[i]]));
}

/** Like `run`, for graphs of synchronous tasks. */
function runSyncGraph(graph: Graph): Record<string, unknown> {
  const g = normalize(graph);
  const results: unknown[] = new Array(g.keys.length);
  for (const i of toposortIndices(g)) results[i] = evaluate(g.nodes[i], results);
  return Object.fromEntries(g.keys.map((k, i) => [k, results[i]]));
}

describe('fuse', () => {
  it('fuses a linear chain into its last key as nested tasks', async () => {
    //  a -> b -> c      becomes      c = dbl(inc(one()))
    const g: Graph = { a: [one], b: [inc, 'a'], c: [dbl, 'b'] };
    const out = fuse(g, 'c');
    expect(out).toEqual({ c: [dbl, [inc, [one]]] });
    expect((await run(out)).c).toBe(4);
  });

  it('fuses a constant at the head of a chain', () => {
    expect(fuse({ a: 1, b: [inc, 'a'] })).toEqual({ b: [inc, 1] });
  });

  it('fuses an alias in a chain', () => {
    const out = fuse({ a: [one], b: 'a', c: [inc, 'b'] });
    expect(out).toEqual({ c: [inc, [one]] });
  });

  it('does not fuse a branch: a key used by two tasks stays', () => {
    //      a
    //     / \
    //    b   c
    const g: Graph = { a: [one], b: [inc, 'a'], c: [dbl, 'a'] };
    expect(fuse(g, ['b', 'c'])).toEqual(g);
  });

  it('fuses the chains below and above a branch point, not through it', () => {
    //    x -> a          a used by b and c; x -> a fuses, a stays a key
    //        / \
    //       b   c -> d   c -> d fuses into d
    const g: Graph = { x: [one], a: [inc, 'x'], b: [inc, 'a'], c: [dbl, 'a'], d: [inc, 'c'] };
    expect(fuse(g, ['b', 'd'])).toEqual({ a: [inc, [one]], b: [inc, 'a'], d: [inc, [dbl, 'a']] });
  });

  it('does not fuse into a join: a task with two dependencies keeps them', () => {
    //    a   b
    //     \ /
    //      c
    const g: Graph = { a: [one], b: [one], c: [add, 'a', 'b'] };
    expect(fuse(g, 'c')).toEqual(g);
  });

  it('does not fuse a dependency referenced twice (it would run twice)', () => {
    let calls = 0;
    const counted = () => ++calls;
    const g: Graph = { a: [counted], b: [add, 'a', 'a'], c: [sum, ['a', 'a']] };
    expect(fuse({ a: g.a, b: g.b }, 'b')).toEqual({ a: g.a, b: g.b });
    expect(fuse({ a: g.a, c: g.c }, 'c')).toEqual({ a: g.a, c: g.c });
    expect(fuse({ a: g.a, d: [add, 'a', [inc, 'a']] }, 'd')).toEqual({ a: g.a, d: [add, 'a', [inc, 'a']] });
    runSyncGraph(fuse({ a: g.a, b: g.b }, 'b'));
    expect(calls).toBe(1);
  });

  it('never fuses away a requested key', () => {
    const chain: Graph = { a: [one], b: [inc, 'a'], c: [dbl, 'b'] };
    expect(fuse(chain, ['b', 'c'])).toEqual({ b: [inc, [one]], c: [dbl, 'b'] });
    expect(fuse(chain, ['a', 'c'])).toEqual({ a: [one], c: [dbl, [inc, 'a']] });
    expect(fuse(chain, [['a'], ['b', ['c']]])).toEqual(chain);
  });

  it('keeps a requested key that has no dependents, and fuses into it', () => {
    const out = fuse({ a: [one], b: [inc, 'a'] }, 'b');
    expect(Object.keys(out)).toEqual(['b']);
  });

  it('fuses through a nested task and a list that name the dependency once', async () => {
    const g: Graph = { a: [one], b: [add, [inc, 'a'], 10], c: [sum, ['b', 5]] };
    const out = fuse(g, 'c');
    expect(Object.keys(out)).toEqual(['c']);
    expect((await run(out)).c).toBe(17);
  });

  it('does not count a literal() string as a reference', async () => {
    const id = <T>(x: T): T => x;
    const g: Graph = { a: [one], b: [id, ['a', literal('a')]] };
    const out = fuse(g, 'b');
    expect(Object.keys(out)).toEqual(['b']);
    expect((await run(out)).b).toEqual([1, 'a']);
  });

  it('fuses chains of async tasks; the fused task resolves to the same value', async () => {
    const asyncInc = async (x: number) => x + 1;
    const g: Graph = { a: [async () => 1], b: [asyncInc, 'a'], c: [dbl, 'b'], d: [asyncInc, 'c'] };
    const out = fuse(g, 'd');
    expect(Object.keys(out)).toEqual(['d']);
    expect(await getSync(out, 'd')).toBe(5);
    expect(await getSync(g, 'd')).toBe(5);
  });

  it('does not change the graph it is given', () => {
    const b = [inc, 'a'];
    const c = [dbl, 'b'];
    const g: Graph = { a: [one], b, c };
    fuse(g, 'c');
    expect(Object.keys(g)).toEqual(['a', 'b', 'c']);
    expect(g.b).toBe(b);
    expect(g.c).toBe(c);
    expect(c).toEqual([dbl, 'b']);
  });

  it('reports a cycle with a CycleError', () => {
    expect(() => fuse({ a: [inc, 'b'], b: [inc, 'a'] })).toThrow(CycleError);
  });

  it('computes the same value for each kept key as the original graph, for random DAGs (property)', () => {
    // node i is a constant, inc(k_j), add(k_j, k_l) or sum([...]) of earlier nodes j, l < i;
    // j may equal l, so some tasks name a dependency twice
    type Spec = { kind: 'const'; v: number } | { kind: 'inc'; a: number } | { kind: 'add'; a: number; b: number } | { kind: 'sum'; xs: number[] };
    const spec: fc.Arbitrary<Spec> = fc.oneof(
      fc.record({ kind: fc.constant('const' as const), v: fc.integer({ min: -5, max: 5 }) }),
      fc.record({ kind: fc.constant('inc' as const), a: fc.nat() }),
      fc.record({ kind: fc.constant('inc' as const), a: fc.constant(1_000_000) }), // the one just before: long chains
      fc.record({ kind: fc.constant('add' as const), a: fc.nat(), b: fc.nat() }),
      fc.record({ kind: fc.constant('sum' as const), xs: fc.array(fc.nat(), { maxLength: 3 }) }),
    );
    fc.assert(
      fc.property(
        fc.array(spec, { minLength: 1, maxLength: 30 }),
        fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
        (specs, keepPick) => {
          const g: Graph = {};
          specs.forEach((s, i) => {
            const ref = (j: number) => (j === 1_000_000 ? `k${i - 1}` : `k${j % i}`);
            if (i === 0 || s.kind === 'const') g[`k${i}`] = s.kind === 'const' ? s.v : 0;
            else if (s.kind === 'inc') g[`k${i}`] = [inc, ref(s.a)];
            else if (s.kind === 'add') g[`k${i}`] = [add, ref(s.a), ref(s.b)];
            else g[`k${i}`] = [sum, s.xs.map(ref)];
          });
          const keys = Object.keys(g);
          const keep = keys.filter((_, i) => keepPick[i]);
          const out = fuse(g, keep);
          const before = runSyncGraph(g);
          const after = runSyncGraph(out);
          for (const k of keep) {
            expect(out).toHaveProperty(k);
            expect(after[k], k).toBe(before[k]);
          }
          // every key that stays still means what it meant
          for (const k of Object.keys(out)) {
            expect(keys).toContain(k);
            expect(after[k], k).toBe(before[k]);
          }
          // nothing that has one dependent naming it once remains fusable
          const n = normalize(out);
          const keptSet = new Set(keep);
          for (let d = 0; d < n.keys.length; d++) {
            if (keptSet.has(n.keys[d]) || n.dependents[d].length !== 1) continue;
            const c = n.dependents[d][0];
            if (n.dependencies[c].length !== 1) continue;
            const text = JSON.stringify(out[n.keys[c]], (_, v) => (typeof v === 'function' ? null : v));
            expect(text.split(JSON.stringify(n.keys[d])).length - 1, `${n.keys[d]} -> ${n.keys[c]}`).toBeGreaterThan(1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  /** k0 = 0, k_i = inc(k_{i-1}): a chain of n tasks. */
  function chainOf(n: number): Graph {
    const chain: Graph = { k0: 0 };
    for (let i = 1; i < n; i++) chain[`k${i}`] = [inc, `k${i - 1}`];
    return chain;
  }

  it('fuses a chain of MAX_FUSED_DEPTH tasks into one, and cuts a longer chain there', () => {
    expect(MAX_FUSED_DEPTH).toBeGreaterThanOrEqual(2);
    const m = MAX_FUSED_DEPTH;
    expect(Object.keys(fuse(chainOf(m), `k${m - 1}`))).toEqual([`k${m - 1}`]);
    const out = fuse(chainOf(m + 1), `k${m}`);
    expect(Object.keys(out).sort()).toEqual([`k${m - 1}`, `k${m}`].sort());
    expect(runSyncGraph(out)[`k${m}`]).toBe(m);
  });

  it('fuses a 100,000-task chain into a few tasks (one per MAX_FUSED_DEPTH links) that evaluate', async () => {
    const n = 100_000;
    const last = `k${n - 1}`;
    const out = fuse(chainOf(n), last);
    expect(Object.keys(out)).toHaveLength(Math.ceil(n / MAX_FUSED_DEPTH));
    expect(out).toHaveProperty(last);
    expect((await run(out))[last]).toBe(n - 1);
    expect(await getSync(out, last)).toBe(n - 1);
  });
});

describe('fuse with cull', () => {
  it('drops what the kept keys do not need and fuses what remains in one pass', () => {
    const inc = (x: number) => x + 1;
    //  a -> b -> c (kept)      a -> unused
    const dsk = { a: [inc, 1], b: [inc, 'a'], c: [inc, 'b'], unused: [inc, 'a'] };
    const out = fuse(dsk, ['c'], { cull: true });
    expect(Object.keys(out)).toEqual(['c']);
    // Without cull, `a` has two dependents and stays; b fuses into c.
    expect(Object.keys(fuse(dsk, ['c'])).sort()).toEqual(['a', 'c', 'unused']);
  });
});
