import { afterAll, describe, expect, it } from 'vitest';
import { isFutureLike, runSpecOfCall, toRunSpecs } from '../../../src/distributed/client/run-spec.js';
import type { RunSpec, TaskInput } from '../../../src/distributed/messages.js';
import { Serialize, Serialized } from '../../../src/distributed/protocol/index.js';
import { TaskExecutor } from '../../../src/distributed/worker/executor.js';
import { getSync, literal, ShippingError, tupleKey } from '../../../src/index.js';
import { square } from '../../fixtures/user-module.js';
import { atScheduler, atWorker, computeOnExecutor, runTasks } from './round-trip.js';

const inc = (x: number) => x + 1;
const add = (a: number, b: number) => a + b;

/** The run spec a TaskInput carries, before serialization. */
function specOf(t: TaskInput): RunSpec {
  expect(t.run).toBeInstanceOf(Serialize);
  return (t.run as Serialize).value as RunSpec;
}

const future = (key: string) => ({ daskFutureKey: key });

const ex = new TaskExecutor({ nthreads: 1 });
afterAll(() => ex.close());

describe('toRunSpecs', () => {
  it('turns tasks into calls of a function table, keys into [4, key], values into [0, value]', () => {
    const specs = toRunSpecs({ x: 1, y: [inc, 'x'], z: [add, [inc, 'y'], 'x'], s: 'not a key' });
    expect(specOf(specs.x)).toEqual({ fns: [], task: [0, 1] });
    expect(specs.x.deps).toEqual([]);
    expect(specOf(specs.y).task).toEqual([1, 0, [4, 'x']]);
    expect(specOf(specs.y).fns).toEqual([{ kind: 'source', id: expect.any(String), source: expect.any(String) }]);
    expect(specs.y.deps).toEqual(['x']);
    expect(specOf(specs.z).task).toEqual([1, 0, [1, 1, [4, 'y']], [4, 'x']]);
    expect(specs.z.deps).toEqual(['y', 'x']);
    expect(specOf(specs.s)).toEqual({ fns: [], task: [0, 'not a key'] });
  });

  it('walks lists of keys, keeps aliases and literal() strings apart', () => {
    const specs = toRunSpecs({ a: 1, b: 2, l: ['a', 'b', 3], c: 'a', q: literal('a'), d: [1, 2, 3] });
    expect(specOf(specs.l).task).toEqual([2, [4, 'a'], [4, 'b'], [0, 3]]);
    expect(specs.l.deps).toEqual(['a', 'b']);
    expect(specOf(specs.c).task).toEqual([4, 'a']);
    expect(specOf(specs.q).task).toEqual([0, 'a']);
    expect(specs.q.deps).toEqual([]);
    // An array with nothing to resolve travels as one value, the caller's own array.
    const data = [1, 2, 3];
    expect((specOf(toRunSpecs({ d: data }).d).task as readonly unknown[])[1]).toBe(data);
  });

  it('leaves typed arrays to the protocol, uncopied', () => {
    const v = new Float64Array([1, 2, 3]);
    const specs = toRunSpecs({ v, t: [add, 'v', v] });
    expect(specOf(specs.v).task[1]).toBe(v);
    expect((specOf(specs.t).task as readonly unknown[])[3]).toEqual([0, v]);
    expect(((specOf(specs.t).task as readonly unknown[])[3] as readonly unknown[])[1]).toBe(v);
  });

  it('describes module functions, built-ins and tuple keys', () => {
    const k = tupleKey('x', 0);
    const specs = toRunSpecs({ [k]: 3, m: [Math.max, k, [square, k]] });
    const spec = specOf(specs.m);
    expect(spec.fns).toEqual([
      { kind: 'global', path: 'Math.max' },
      { kind: 'module', module: new URL('../../fixtures/user-module.ts', import.meta.url).href, export: 'square' },
    ]);
    expect(spec.task).toEqual([1, 0, [4, k], [1, 1, [4, k]]]);
  });

  it('lists each function once per spec', () => {
    const spec = specOf(toRunSpecs({ y: [add, [inc, 1], [inc, 2]] }).y);
    expect(spec.fns).toHaveLength(2);
    expect(spec.task).toEqual([1, 0, [1, 1, [0, 1]], [1, 1, [0, 2]]]);
  });

  it('refers to keys of futures already on the cluster (known), by name or as Future-likes', () => {
    const specs = toRunSpecs({ y: [inc, 'x'], z: [add, future('w'), 'y'] }, { known: new Set(['x', 'w']) });
    expect(Object.keys(specs)).toEqual(['y', 'z']);
    expect(specOf(specs.y).task).toEqual([1, 0, [4, 'x']]);
    expect(specs.y.deps).toEqual(['x']);
    expect(specOf(specs.z).task).toEqual([1, 0, [4, 'w'], [4, 'y']]);
    expect(specs.z.deps).toEqual(['w', 'y']);
    // Without `known`, 'x' is just a string.
    expect(specOf(toRunSpecs({ y: [inc, 'x'] }).y).task).toEqual([1, 0, [0, 'x']]);
  });

  it('gives every task a priority from order', () => {
    const specs = toRunSpecs({ a: 1, b: [inc, 'a'], c: [inc, 'b'] });
    expect([specs.a.priority, specs.b.priority, specs.c.priority]).toEqual([0, 1, 2]);
    expect(toRunSpecs({ a: 1 }, { order: false }).a.priority).toBeUndefined();
  });

  it('refuses a cycle naming its keys', () => {
    expect(() => toRunSpecs({ a: [inc, 'b'], b: [inc, 'a'] })).toThrow(/cycle: '(a|b)' -> '(a|b)' -> '(a|b)'/);
  });

  it('refuses a closure at submission, naming the key, the variable and the fix', () => {
    const n = 5;
    const addN = (x: number) => x + n;
    let err: unknown;
    try {
      toRunSpecs({ x: 1, y: [addN, 'x'] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShippingError);
    expect((err as ShippingError).key).toBe('y');
    expect((err as Error).message).toMatch(/^task 'y': function 'addN' reads the variable 'n'/);
    expect((err as Error).message).toMatch(/pass 'n' as an argument/);
    expect((err as Error).message).toMatch(/registerModule\(import\.meta\.url, \{ addN \}\)/);
    // Also as a function passed as a value, deep in a literal.
    expect(() => toRunSpecs({ z: [(fs: Function[]) => fs.length, literal([addN])] })).toThrow(ShippingError);
  });

  it('passes functions inside values as [3, f]', () => {
    const spec = specOf(toRunSpecs({ h: [(fs: Function[]) => fs[0](-3), literal([Math.abs, 1])] }).h);
    expect(spec.task).toEqual([1, 0, [2, [3, 1], [0, 1]]]);
    expect(spec.fns[1]).toEqual({ kind: 'global', path: 'Math.abs' });
  });
});

describe('runSpecOfCall', () => {
  it('recognises Future-likes by their daskFutureKey, anywhere in arrays and plain objects', () => {
    class Future {
      constructor(readonly key: string) {}
      get daskFutureKey(): string {
        return this.key;
      }
    }
    expect(isFutureLike(new Future('a'))).toBe(true);
    expect(isFutureLike({ key: 'a' })).toBe(false);
    const t = runSpecOfCall(add, [new Future('a'), [1, { b: future('b'), c: 'a' }], 'a']);
    const spec = specOf(t);
    expect(t.deps).toEqual(['a', 'b']);
    expect(spec.fns).toEqual([
      { kind: 'source', id: expect.any(String), source: expect.any(String) },
      { kind: 'global', path: 'Object.fromEntries' },
    ]);
    // Strings are strings (submit's arguments are values); the object is rebuilt around the future.
    expect(spec.task).toEqual([1, 0, [4, 'a'], [2, [0, 1], [1, 1, [2, [2, [0, 'b'], [4, 'b']], [2, [0, 'c'], [0, 'a']]]]], [0, 'a']]);
  });

  it('keeps arguments without references as they are', () => {
    const arg = { a: [1, 2], s: 'x' };
    const spec = specOf(runSpecOfCall(inc, [arg]));
    expect(spec.task).toEqual([1, 0, [0, arg]]);
    expect((spec.task as readonly unknown[])[2]).toEqual([0, arg]);
    expect(((spec.task as readonly unknown[])[2] as readonly unknown[])[1]).toBe(arg);
  });

  it('refuses a future the client does not hold, and a closure, naming the key', () => {
    expect(() => runSpecOfCall(inc, [future('gone')], { known: new Set(['x']), key: 'inc-1' })).toThrow(
      /task 'inc-1': argument refers to the future 'gone'/,
    );
    const k = 2;
    expect(() => runSpecOfCall((x: number) => x * k, [1], { key: 'mul-1' })).toThrow(/^task 'mul-1': .*'k'/);
  });
});

describe('the journey: graph → run specs → protocol → executor', () => {
  it('computes what getSync computes, with the run spec decoded by the worker or left opaque', async () => {
    const graph = {
      x: 1,
      y: [inc, 'x'],
      z: [add, [inc, 'y'], [Math.max, 'x', 10]],
      l: ['x', 'y', [square, 'z']],
      c: 'z',
    };
    const keys = Object.keys(graph);
    const expected = await getSync(graph, keys);
    expect(await computeOnExecutor(ex, graph, keys)).toEqual(expected);
    expect(await computeOnExecutor(ex, graph, keys, { decode: false })).toEqual(expected);
  });

  it('keeps the run spec opaque at the scheduler', () => {
    const tasks = atScheduler(toRunSpecs({ x: 1, y: [inc, 'x'] }));
    expect(tasks.y.run).toBeInstanceOf(Serialized);
    expect(tasks.y.deps).toEqual(['x']);
    expect(atWorker('y', tasks.y.run, false)).toBeInstanceOf(Serialized);
    expect(atWorker('y', tasks.y.run, true)).toEqual({ fns: [expect.objectContaining({ kind: 'source' })], task: [1, 0, [4, 'x']] });
  });

  it('runs a submit call with futures among its arguments', async () => {
    const f = (a: number, o: { b: number; c: number[] }, s: string) => a + o.b + o.c[1] + s.length;
    const t = runSpecOfCall(f, [future('a'), { b: future('b'), c: [1, future('a')] }, 'a'], { known: new Set(['a', 'b']) });
    const { values } = await runTasks(ex, { call: t }, { known: { a: 10, b: 100 } });
    expect(values.get('call')).toBe(10 + 100 + 10 + 1);
  });

  it('uses futures of the cluster named in the graph', async () => {
    const graph = { y: [add, 'x', future('w')] };
    expect(await computeOnExecutor(ex, graph, ['y'], { known: { x: 1, w: 2 } })).toEqual([3]);
  });
});
