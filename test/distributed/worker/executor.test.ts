import ndarray from 'ndarray';
import { afterAll, describe, expect, it } from 'vitest';
import { runSpecOfCall, toRunSpecs } from '../../../src/distributed/client/run-spec.js';
import type { RunSpec } from '../../../src/distributed/messages.js';
import { fromFrames, Serialize, toFrames } from '../../../src/distributed/protocol/index.js';
import { TaskExecutor, typeName, type ExecuteFailure, type ExecuteOutcome, type ExecuteSuccess } from '../../../src/distributed/worker/executor.js';
import { getSync, literal } from '../../../src/index.js';
import { runWire } from '../../../src/schedulers/wire.js';
import { fail, isShared, makeArray, spin, square, whereAmI, writeFirst } from '../../fixtures/user-module.js';
import { computeOnExecutor, runTasks } from '../client/round-trip.js';

// Three executors, told where to run measured tasks: the default rule, always on the pool,
// always here (a task never measured goes to the pool first whatever the rule).
const auto = new TaskExecutor({ nthreads: 2 });
const pooled = new TaskExecutor({ nthreads: 1, inlineBelowMs: 0 });
const inline = new TaskExecutor({ nthreads: 1, inlineBelowMs: Infinity });
afterAll(() => Promise.all([auto.close(), pooled.close(), inline.close()]));

const inc = (x: number) => x + 1;
const add = (a: number, b: number) => a + b;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const total = (a: Float64Array) => a.reduce((s, v) => s + v, 0);

function ok(o: ExecuteOutcome): ExecuteSuccess {
  if ('error' in o) throw new Error(`expected a value, got an error: ${o.traceback}`);
  return o;
}

function erred(o: ExecuteOutcome): ExecuteFailure {
  if (!('error' in o)) throw new Error(`expected an error, got ${String(o.value)}`);
  return o;
}

/** The exception as the client receives it: through the protocol and decoded. */
function exceptionOf(o: ExecuteFailure): Error {
  const msg = fromFrames(toFrames({ op: 'task-erred', exception: o.error })) as { exception: Error };
  return msg.exception;
}

const graphs: Record<string, Record<string, unknown>> = {
  'nested tasks': { x: 1, y: [inc, 'x'], z: [add, [inc, [inc, 'y']], [add, 'x', 'y']] },
  'lists of keys': { a: 1, b: 2, l: ['a', 'b', 3], s: [sum, ['a', [inc, 'b'], 10]], c: 'a', n: [sum, [['a'], ['b']].map((x) => x[0])] },
  literals: {
    a: 5,
    s: 'not a key',
    o: { p: 1, q: [1, 2] },
    z: null,
    q: literal('a'),
    pair: [(x: unknown, y: unknown) => [x, y], literal('a'), 'a'],
    fns: [(fs: [(x: number) => number, number]) => fs[0](-3) + fs[1], literal([Math.abs, 1])],
  },
  'typed-array dependencies': { v: new Float64Array([1, 2, 3]), t: [total, 'v'], m: [makeArray, 4], u: [total, 'm'] },
  'module functions and built-ins': { x: 3, sq: [square, 'x'], mx: [Math.max, 'sq', [square, 2], 7], ab: [Math.abs, -2] },
  'ndarray dependencies': {
    m: ndarray(new Float64Array([1, 2, 3, 4]), [2, 2]),
    g: [(a: ndarray.NdArray) => a.get(1, 0) + a.shape[0], 'm'],
  },
};

describe('TaskExecutor: the journey computes what getSync computes', () => {
  for (const [name, graph] of Object.entries(graphs)) {
    it(name, async () => {
      const keys = Object.keys(graph);
      const expected = await getSync(graph, keys);
      for (const ex of [pooled, inline, auto]) {
        expect(await computeOnExecutor(ex, graph, keys)).toEqual(expected);
        expect(await computeOnExecutor(ex, graph, keys, { decode: false })).toEqual(expected);
      }
    });
  }
});

describe('TaskExecutor: where tasks run', () => {
  it('runs pooled tasks on pool threads and cheap measured ones here', async () => {
    const tasks = toRunSpecs({ w: [whereAmI] });
    const onPool = await runTasks(pooled, tasks);
    expect(onPool.values.get('w')).toBeGreaterThan(0);
    await runTasks(inline, tasks); // measured now
    const here = await runTasks(inline, tasks);
    expect(here.values.get('w')).toBe(0);
  });

  it('passes typed-array dependencies to pool threads in shared memory, without copies', async () => {
    const graph = { a: [makeArray, 5], s: [isShared, 'a'], w: [writeFirst, 'a', 42] };
    const { values } = await runTasks(pooled, toRunSpecs(graph));
    const a = values.get('a') as Float64Array;
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(values.get('s')).toBe(true);
    expect(values.get('w')).toBe(5);
    // Written on a pool thread, seen here: the thread had the same memory.
    expect(a[0]).toBe(42);
  });

  it('reports nbytes, the type name and start/stop times in seconds since the epoch', async () => {
    const before = Date.now() / 1000;
    const { outcomes } = await runTasks(pooled, toRunSpecs({ m: [makeArray, 10], n: 3, l: [Array.of, 1, 2], s: [spin, 5] }));
    const after = Date.now() / 1000;
    const m = ok(outcomes.get('m')!);
    expect([m.nbytes, m.typeName]).toEqual([80, 'Float64Array']);
    expect(ok(outcomes.get('n')!).typeName).toBe('number');
    expect(ok(outcomes.get('l')!).typeName).toBe('Array');
    const s = ok(outcomes.get('s')!);
    expect(s.start).toBeGreaterThanOrEqual(before - 0.01);
    expect(s.stop).toBeLessThanOrEqual(after + 0.01);
    expect(s.stop - s.start).toBeGreaterThanOrEqual(0.004);
    expect([typeName(ndarray(new Float64Array(4))), typeName({}), typeName(null), typeName(new Map()), typeName('s')]).toEqual([
      'ndarray',
      'Object',
      'null',
      'Map',
      'string',
    ]);
  });

  it('settles lazy results', async () => {
    const lazy = () => ({ [Symbol.for('dask-ts.materialize')]: () => [1, 2, 3] });
    for (const ex of [pooled, inline]) {
      const { values } = await runTasks(ex, toRunSpecs({ z: [lazy] }));
      expect(values.get('z')).toEqual([1, 2, 3]);
    }
  });
});

describe('TaskExecutor: errors', () => {
  it("returns a pool task's error with the user's message and stack, and keeps working", async () => {
    const tasks = toRunSpecs({ x: [fail, 'boom'] });
    const out = erred(await pooled.run('x', tasks.x.run, {}));
    expect(out.error).toBeInstanceOf(Serialize);
    const e = exceptionOf(out);
    expect(e.message).toBe('boom');
    expect(e.name).toBe('Error');
    expect(e.stack).toMatch(/at fail .*user-module\.ts/);
    expect(out.traceback).toBe(e.stack);
    expect(ok(await pooled.run('y', runSpecOfCall(square, [4]).run, {})).value).toBe(16);
  });

  it("returns an inline task's error (its class, message and stack), and keeps working", async () => {
    const check = (x: number) => {
      if (x < 0) throw new RangeError(`negative: ${x}`);
      return x;
    };
    expect(ok(await inline.run('a', runSpecOfCall(check, [1]).run, {})).value).toBe(1);
    const before = inline.counts.inline;
    const out = erred(await inline.run('b', runSpecOfCall(check, [-1]).run, {}));
    expect(inline.counts.inline).toBe(before + 1);
    const e = exceptionOf(out);
    expect([e.name, e.message]).toEqual(['RangeError', 'negative: -1']);
    expect(e).toBeInstanceOf(RangeError);
    // A source function's frames are those of its compiled copy.
    expect(e.stack).toMatch(/^RangeError: negative: -1\n\s+at /);
    expect(ok(await inline.run('c', runSpecOfCall(check, [2]).run, {})).value).toBe(2);
  });

  it('fails only the failing task of a batch; the others run', async () => {
    const maybe = (x: number) => {
      if (x === 3) throw new Error('three');
      return x * 2;
    };
    await pooled.run('warm', runSpecOfCall(maybe, [0]).run, {}); // measured: later ones share messages
    const outs = await Promise.all(Array.from({ length: 8 }, (_, i) => pooled.run(`m-${i}`, runSpecOfCall(maybe, [i]).run, {})));
    expect(outs.map((o) => ('error' in o ? exceptionOf(o).message : o.value))).toEqual([0, 2, 4, 'three', 8, 10, 12, 14]);
  });

  it('turns a malformed run spec, an unknown function and a missing dependency into failures', async () => {
    const bad = erred(await auto.run('bad', new Serialize({ nope: 1 }), {}));
    expect(exceptionOf(bad).message).toMatch(/malformed run spec/);
    const spec: RunSpec = { fns: [{ kind: 'kernel', name: 'no.such-kernel' }], task: [1, 0] };
    const unknown = erred(await auto.run('unknown', spec, {}));
    expect(exceptionOf(unknown).message).toMatch(/no kernel named 'no.such-kernel'/);
    const missing = erred(await auto.run('missing', { fns: [], task: [4, 'gone'] }, {}));
    expect(exceptionOf(missing).message).toMatch(/dependency 'gone'/);
  });

  it('reports a result that cannot cross from a thread as that task\'s error', async () => {
    const makeFn = () => () => 1;
    const out = erred(await pooled.run('f', runSpecOfCall(makeFn, []).run, {}));
    expect(exceptionOf(out).message).toMatch(/task 'f': .*could not cross to or from a pool thread/);
    expect(ok(await pooled.run('g', runSpecOfCall(square, [3]).run, {})).value).toBe(9);
  });

  it('rejects what is still running when closed', async () => {
    const ex = new TaskExecutor({ nthreads: 1 });
    const p = ex.run('s', runSpecOfCall(spin, [200]).run, {});
    await ex.close();
    await expect(p).rejects.toThrow(/closed/);
    await expect(ex.run('t', runSpecOfCall(square, [1]).run, {})).rejects.toThrow(/closed/);
  });
});

describe('TaskExecutor: trivial tasks cost microseconds, not a pool round trip each', () => {
  const N = 10_000;
  const trivial = (i: number) => i + 1;
  const specs = Array.from({ length: 16 }, (_, i) => runSpecOfCall(trivial, [i]).run);

  async function burst(ex: TaskExecutor): Promise<{ us: number; inline: number; pooled: number; batches: number }> {
    const c0 = ex.counts;
    const t0 = performance.now();
    const outs = await Promise.all(Array.from({ length: N }, (_, i) => ex.run(`t-${i}`, specs[i % 16], {})));
    const us = ((performance.now() - t0) * 1000) / N;
    expect(outs.every((o, i) => ok(o).value === (i % 16) + 1)).toBe(true);
    const c1 = ex.counts;
    return { us, inline: c1.inline - c0.inline, pooled: c1.pooled - c0.pooled, batches: c1.batches - c0.batches };
  }

  it('runs them here once measured', async () => {
    // The first ones measure the function on the pool; the second burst warms the JIT up.
    await burst(auto);
    await burst(auto);
    const r = await burst(auto);
    console.log(`inline: ${r.us.toFixed(2)} µs per task (${N} at once), ${r.pooled} pooled in ${r.batches} messages`);
    expect(r.inline).toBeGreaterThan(N * 0.9);
    expect(r.batches).toBeLessThan(N / 100);
  });

  it('batches them when they go to the pool', async () => {
    await burst(pooled);
    await burst(pooled);
    const r = await burst(pooled);
    console.log(`pooled: ${r.us.toFixed(2)} µs per task (${N} at once) in ${r.batches} messages`);
    expect(r.pooled).toBe(N);
    expect(r.batches).toBeLessThan(N / 100);
  });
});

describe('TaskExecutor: a slow run of a cheap function', () => {
  // Spins for `ms` (0: returns at once): the same function, cheap or slow by its argument.
  const spinFor = (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end);
    return ms;
  };
  const ex = new TaskExecutor({ nthreads: 1, inlineBelowMs: 5 });
  afterAll(() => ex.close());
  let n = 0;
  const run = async (ms: number) => ok(await ex.run(`spin-${n++}`, runSpecOfCall(spinFor, [ms]).run, {})).value;
  /** Where the next cheap run goes: 'here' or 'pool'. */
  const nextCheap = async () => {
    const before = ex.counts.pooled;
    expect(await run(0)).toBe(0);
    return ex.counts.pooled > before ? 'pool' : 'here';
  };

  it('is taken as a spike of the machine once, and as the function being slow twice in a row', async () => {
    await run(0); // measured on the pool first
    expect(await nextCheap()).toBe('here');
    expect(await run(30)).toBe(30); // runs here (measured cheap), and is slow
    expect(await nextCheap()).toBe('here');
    await run(30);
    await run(30);
    expect(await nextCheap()).toBe('pool');
  });
});

describe('wire kind 4', () => {
  it('reads dependencies from the data record, own keys only', () => {
    expect(runWire([2, [4, 'a'], [0, 1]], [], { a: 5 })).toEqual([5, 1]);
    expect(() => runWire([4, 'toString'], [], {})).toThrow(/dependency 'toString'/);
    expect(() => runWire([4, 'a'], [])).toThrow(/dependency 'a'/);
  });
});
