import { afterAll, describe, expect, it } from 'vitest';
import {
  compute,
  delayed,
  getSync,
  optimize,
  persist,
  shutdownThreadPools,
  type DaskCollection,
  type Graph,
  type GetFn,
  type KeyNest,
} from '../../src/index.js';

afterAll(() => shutdownThreadPools());

const inc = (x: number) => x + 1;

/** The smallest collection: n blocks, each block i computes i*step, result is their list. */
class Steps implements DaskCollection<number[]> {
  constructor(
    readonly daskName: string,
    readonly n: number,
    private readonly graph?: Graph,
  ) {}
  daskGraph(): Graph {
    if (this.graph) return this.graph;
    const g: Graph = {};
    for (let i = 0; i < this.n; i++) g[`${this.daskName}-${i}`] = [(a: number, b: number) => a * b, i, 2];
    return g;
  }
  daskKeys(): KeyNest {
    return Array.from({ length: this.n }, (_, i) => `${this.daskName}-${i}`);
  }
  daskPostCompute(results: unknown): number[] {
    return results as number[];
  }
  daskPostPersist(data: Graph): Steps {
    return new Steps(this.daskName, this.n, data);
  }
}

describe('compute and persist', () => {
  it('computes any object implementing the protocol, and passes other values through', async () => {
    const [s, d, plain] = await compute(new Steps('s', 4), delayed(inc)(1), 'plain', { scheduler: 'sync' });
    expect(s).toEqual([0, 2, 4, 6]);
    expect(d).toBe(2);
    expect(plain).toBe('plain');
  });

  it('hands the merged, optimised graph to a custom get with the nested keys', async () => {
    const calls: { keys: KeyNest; size: number }[] = [];
    const spy: GetFn = (graph, keys, opts) => {
      calls.push({ keys, size: Object.keys(graph).length });
      return getSync(graph, keys, opts);
    };
    const s = new Steps('t', 3);
    const [r] = await compute(s, { get: spy });
    expect(r).toEqual([0, 2, 4]);
    expect(calls).toEqual([{ keys: [['t-0', 't-1', 't-2']], size: 3 }]);
  });

  it('culls unneeded tasks and fuses linear chains unless optimize is false', async () => {
    let a = delayed(inc)(0);
    for (let i = 0; i < 9; i++) a = delayed(inc)(a);
    const sizes: number[] = [];
    const spy: GetFn = (graph, keys, opts) => {
      sizes.push(Object.keys(graph).length);
      return getSync(graph, keys, opts);
    };
    expect(await compute(a, { get: spy })).toEqual([10]);
    expect(await compute(a, { get: spy, optimize: false })).toEqual([10]);
    expect(sizes).toEqual([1, 10]);
    const g = optimize({ ...a.daskGraph(), junk: [inc, 1] }, [a], [a.key]);
    expect(Object.keys(g)).toEqual([a.key]);
  });

  it('persists collections: the result is backed by computed data and computes without rerunning', async () => {
    const [p] = await persist(new Steps('p', 3), { scheduler: 'sync' });
    const g = p.daskGraph();
    expect(Object.values(g)).toEqual([0, 2, 4]);
    expect(await compute(p)).toEqual([[0, 2, 4]]);
  });

  it('validates options precisely', async () => {
    const d = delayed(inc)(1);
    await expect(compute(d, { scheduler: 'processes' } as never)).rejects.toThrow(/unknown scheduler 'processes'/);
    await expect(compute(d, { get: 5 } as never)).rejects.toThrow(/'get' must be a function/);
    await expect(compute(d, { optimize: 'no' } as never)).rejects.toThrow(/'optimize' must be a boolean/);
    await expect(compute(d, { numworkers: 2 } as never)).rejects.toThrow(/unknown option 'numworkers'/);
  });

  it('computes nothing when given no collections', async () => {
    expect(await compute(1, 'a', { scheduler: 'sync' })).toEqual([1, 'a']);
    expect(await compute()).toEqual([]);
  });
});
