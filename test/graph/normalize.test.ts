import { describe, expect, it } from 'vitest';
import { GraphError } from '../../src/graph/errors.js';
import { evaluate, LIST, LIT, normalize, REF, resolveKeys, TASK, type NormalGraph } from '../../src/graph/normalize.js';
import { literal, type Graph } from '../../src/graph/spec.js';
import { toposortIndices } from '../../src/graph/toposort.js';

const inc = (x: number) => x + 1;
const add = (x: number, y: number) => x + y;
const mul = (x: number, y: number) => x * y;
const sum = (xs: unknown): number => (Array.isArray(xs) ? xs.reduce((s: number, x) => s + sum(x), 0) : (xs as number));
const id = <T>(x: T): T => x;

/** Runs every key of a graph in dependency order; awaits async results. */
async function run(graph: Graph): Promise<Record<string, unknown>> {
  const g = normalize(graph);
  const results: unknown[] = new Array(g.keys.length);
  for (const i of toposortIndices(g)) {
    const v = evaluate(g.nodes[i], results);
    results[i] = v instanceof Promise ? await v : v;
  }
  return Object.fromEntries(g.keys.map((k, i) => [k, results[i]]));
}

function node(g: NormalGraph, key: string) {
  return g.nodes[g.index.get(key)!];
}

function deps(g: NormalGraph, key: string): string[] {
  return g.dependencies[g.index.get(key)!].map((d) => g.keys[d]).sort();
}

function dependents(g: NormalGraph, key: string): string[] {
  return g.dependents[g.index.get(key)!].map((d) => g.keys[d]).sort();
}

describe('normalize', () => {
  it('numbers the keys in the order of the graph', () => {
    const g = normalize({ a: 1, b: [inc, 'a'], c: 3 });
    expect(g.keys).toEqual(['a', 'b', 'c']);
    expect([...g.index]).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
    ]);
  });

  it('reads a string argument that is a key as a reference', async () => {
    //  a -> b
    const g = normalize({ a: 1, b: [inc, 'a'] });
    expect(node(g, 'a')).toEqual({ k: LIT, v: 1 });
    expect(node(g, 'b')).toEqual({ k: TASK, fn: inc, args: [{ k: REF, i: 0 }] });
    expect(deps(g, 'b')).toEqual(['a']);
    expect(dependents(g, 'a')).toEqual(['b']);
    expect(await run({ a: 1, b: [inc, 'a'] })).toEqual({ a: 1, b: 2 });
  });

  it('reads a value that is a key as an alias of that key', async () => {
    const graph = { a: 1, b: 'a', c: 'b' };
    const g = normalize(graph);
    expect(node(g, 'b')).toEqual({ k: REF, i: 0 });
    expect(deps(g, 'b')).toEqual(['a']);
    expect(deps(g, 'c')).toEqual(['b']);
    expect(await run(graph)).toEqual({ a: 1, b: 1, c: 1 });
  });

  it('passes strings that are not keys through as literals', async () => {
    const concat = (...xs: string[]) => xs.join('');
    const graph = { a: 'hello', b: [concat, 'a', ' ', 'world'] };
    const g = normalize(graph);
    expect(node(g, 'a')).toEqual({ k: LIT, v: 'hello' });
    expect(deps(g, 'a')).toEqual([]);
    expect(deps(g, 'b')).toEqual(['a']);
    expect((await run(graph)).b).toBe('hello world');
  });

  it('walks nested lists of keys, keeping their shape', async () => {
    //  a   b
    //   \ /
    //    c = sum([a, [b, 3]])
    const graph = { a: 1, b: 2, c: [id, ['a', ['b', 3]]], d: [sum, ['a', ['b', 3]]] };
    const g = normalize(graph);
    expect(node(g, 'c')).toMatchObject({ k: TASK, args: [{ k: LIST }] });
    expect(deps(g, 'c')).toEqual(['a', 'b']);
    const r = await run(graph);
    expect(r.c).toEqual([1, [2, 3]]);
    expect(r.d).toBe(6);
  });

  it('reads a list of keys as a value', async () => {
    const r = await run({ a: 1, b: 2, c: ['a', 'b', 'c-not-a-key'] });
    expect(r.c).toEqual([1, 2, 'c-not-a-key']);
  });

  it('leaves an array with nothing to resolve as the same array', () => {
    const data = [1, 'x', { y: 2 }];
    const g = normalize({ a: data, b: [sum, data] });
    expect(node(g, 'a')).toEqual({ k: LIT, v: data });
    expect((node(g, 'a') as { v: unknown }).v).toBe(data);
    expect(node(g, 'b')).toMatchObject({ k: TASK, args: [{ k: LIT }] });
  });

  it('evaluates nested tasks', async () => {
    //  b = add(inc(a), mul(2, a))
    const graph = { a: 3, b: [add, [inc, 'a'], [mul, 2, 'a']] };
    const g = normalize(graph);
    expect(deps(g, 'b')).toEqual(['a']);
    expect((await run(graph)).b).toBe(10);
  });

  it('calls a task with no arguments', async () => {
    expect((await run({ a: [() => 42] })).a).toBe(42);
  });

  it('literal() quotes a string that equals a key', async () => {
    const graph = { a: 1, b: [id, literal('a')], c: literal('a') };
    const g = normalize(graph);
    expect(deps(g, 'b')).toEqual([]);
    expect(deps(g, 'c')).toEqual([]);
    expect(node(g, 'c')).toEqual({ k: LIT, v: 'a' });
    const r = await run(graph);
    expect(r.b).toBe('a');
    expect(r.c).toBe('a');
  });

  it('literal() quotes an array that starts with a function', async () => {
    const quoted = [inc, 1];
    const graph = { a: 1, b: [id, literal(quoted)], c: literal(quoted), d: [id, [literal('a'), 'a']] };
    const r = await run(graph);
    expect(r.b).toBe(quoted);
    expect(r.c).toBe(quoted);
    expect(r.d).toEqual(['a', 1]);
  });

  it('does not resolve inside a literal', async () => {
    const r = await run({ a: 1, b: [id, literal(['a', [inc, 'a']])] });
    expect(r.b).toEqual(['a', [inc, 'a']]);
  });

  it('computes each dependency once, without duplicates, and dependents as its reverse', () => {
    //      a
    //     / \        c names a twice (and b inside a nested task and a list)
    //    b   |
    //     \ /
    //      c
    const g = normalize({ a: 1, b: [inc, 'a'], c: [add, 'a', [add, 'a', 'b']], d: [sum, ['a', 'a', 'b', ['b']]] });
    expect(deps(g, 'c')).toEqual(['a', 'b']);
    expect(deps(g, 'd')).toEqual(['a', 'b']);
    expect(dependents(g, 'a')).toEqual(['b', 'c', 'd']);
    expect(dependents(g, 'b')).toEqual(['c', 'd']);
    for (let i = 0; i < g.keys.length; i++) {
      expect(new Set(g.dependencies[i]).size).toBe(g.dependencies[i].length);
      expect(new Set(g.dependents[i]).size).toBe(g.dependents[i].length);
      for (const d of g.dependencies[i]) expect(g.dependents[d]).toContain(i);
      for (const d of g.dependents[i]) expect(g.dependencies[d]).toContain(i);
    }
  });

  it('records a self reference as a dependency (a cycle, for toposort to report)', () => {
    const g = normalize({ a: [inc, 'a'] });
    expect(deps(g, 'a')).toEqual(['a']);
  });

  it('accepts an object with a null prototype and an empty graph', () => {
    const graph = Object.create(null) as Graph;
    graph.a = 1;
    expect(normalize(graph).keys).toEqual(['a']);
    expect(normalize({}).keys).toEqual([]);
  });

  it('does not change the graph it reads', () => {
    const graph = { a: 1, b: [inc, 'a'], c: ['a', 'b'] };
    const copy = { a: 1, b: [inc, 'a'], c: ['a', 'b'] };
    normalize(graph);
    expect(graph).toEqual(copy);
  });

  describe('refuses what is not a graph, saying what a graph is and what it got', () => {
    class Foo {
      a = 1;
    }
    const cases: [string, unknown, RegExp][] = [
      ['an array', [[inc, 1]], /an array of length 1/],
      ['a Map', new Map([['a', 1]]), /an instance of Map/],
      ['null', null, /got null/],
      ['a number', 5, /got number 5/],
      ['a class instance', new Foo(), /an instance of Foo/],
      ['a string', 'abc', /got string abc/],
      ['undefined', undefined, /got undefined/],
    ];
    for (const [what, value, got] of cases) {
      it(what, () => {
        expect(() => normalize(value as Graph)).toThrow(TypeError);
        expect(() => normalize(value as Graph)).toThrow(/a graph must be a plain object of keys to tasks or values/);
        expect(() => normalize(value as Graph)).toThrow(got);
      });
    }
  });

  it('reads a 100,000-deep nested task and list without overflowing the stack', async () => {
    // what fuse makes of a long chain: inc(inc(inc(... a ...)))
    const depth = 100_000;
    let task: unknown = 'a';
    for (let i = 0; i < depth; i++) task = [inc, task];
    let list: unknown = 'a';
    for (let i = 0; i < depth; i++) list = [list];
    /** How deep a list nests, and what is at its bottom (iteratively: it is deep). */
    const unwrap = (x: unknown): [number, unknown] => {
      let d = 0;
      for (; Array.isArray(x); d++) x = x[0];
      return [d, x];
    };
    const graph = { a: 0, b: task, c: [unwrap, list] };
    const g = normalize(graph);
    expect(deps(g, 'b')).toEqual(['a']);
    expect(deps(g, 'c')).toEqual(['a']);
    const r = await run(graph);
    expect(r.b).toBe(depth);
    expect(r.c).toEqual([depth, 0]);
  });
});

describe('evaluate', () => {
  it('takes referenced values from the results by index', () => {
    const g = normalize({ a: 1, b: 2, c: [add, 'a', 'b'] });
    expect(evaluate(g.nodes[2], [10, 20])).toBe(30);
  });

  it('returns the Promise of an async task, resolving to its value', async () => {
    const g = normalize({ a: [async () => 7] });
    const v = evaluate(g.nodes[0], []);
    expect(v).toBeInstanceOf(Promise);
    await expect(v).resolves.toBe(7);
  });

  it('waits for a nested async task inside a sync task: the result is a Promise', async () => {
    const asyncInc = async (x: number) => x + 1;
    //  b = inc(asyncInc(a))
    const g = normalize({ a: 1, b: [inc, [asyncInc, 'a']], c: [add, [asyncInc, 'a'], [inc, 'a']] });
    const b = evaluate(g.nodes[1], [1]);
    expect(b).toBeInstanceOf(Promise);
    await expect(b).resolves.toBe(3);
    const c = evaluate(g.nodes[2], [1]);
    expect(c).toBeInstanceOf(Promise);
    await expect(c).resolves.toBe(4);
  });

  it('waits for an async task inside a list argument', async () => {
    const g = normalize({ a: 1, b: [sum, [[async () => 10], 'a', [[async () => 100]]]] });
    const b = evaluate(g.nodes[1], [1]);
    expect(b).toBeInstanceOf(Promise);
    await expect(b).resolves.toBe(111);
  });

  it('stays synchronous when nothing is async', () => {
    const g = normalize({ a: [add, [inc, 1], [inc, 2]] });
    expect(evaluate(g.nodes[0], [])).toBe(5);
  });

  it('throws what a sync task throws, and rejects with what a nested async task rejects with', async () => {
    const boom = () => {
      throw new RangeError('boom');
    };
    const asyncBoom = async () => {
      throw new RangeError('async boom');
    };
    const g = normalize({ a: [inc, [boom]], b: [inc, [asyncBoom]] });
    expect(() => evaluate(g.nodes[0], [])).toThrow('boom');
    await expect(evaluate(g.nodes[1], [])).rejects.toThrow('async boom');
  });

  it('evaluates a 100,000-deep chain of nested async tasks', async () => {
    const asyncInc = async (x: number) => x + 1;
    let task: unknown = 0;
    for (let i = 0; i < 100_000; i++) task = [i % 2 ? inc : asyncInc, task];
    const g = normalize({ a: task });
    await expect(evaluate(g.nodes[0], [])).resolves.toBe(100_000);
  });
});

describe('resolveKeys', () => {
  it('answers the index of each key, in order', () => {
    const g = normalize({ a: 1, b: 2, c: 3 });
    expect(resolveKeys(g, ['c', 'a'])).toEqual([2, 0]);
    expect(resolveKeys(g, [])).toEqual([]);
  });

  it('throws a GraphError naming a missing key', () => {
    const g = normalize({ a: 1, b: 2 });
    expect(() => resolveKeys(g, ['a', 'zz'])).toThrow(GraphError);
    expect(() => resolveKeys(g, ['a', 'zz'])).toThrow(/key 'zz' is not in the graph \(2 keys\)/);
  });

  it('suggests similar keys', () => {
    const g = normalize({ 'inc-0123abcd': 1, other: 2 });
    expect(() => resolveKeys(g, ['inc'])).toThrow(/similar keys: 'inc-0123abcd'/);
  });
});
