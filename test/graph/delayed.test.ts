import { afterAll, describe, expect, it } from 'vitest';
import { compute, delayed, Delayed, getSync, getThreads, persist, shutdownThreadPools, tokenize } from '../../src/index.js';

afterAll(() => shutdownThreadPools());

const inc = (x: number) => x + 1;
const add = (a: number, b: number) => a + b;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('delayed', () => {
  it('computes the issue example on threads, sync, and any get', async () => {
    const total = delayed(sum)(Array.from({ length: 100 }, (_, i) => delayed(inc)(i)));
    expect(await total.compute()).toBe(5050);
    expect(await total.compute({ scheduler: 'sync' })).toBe(5050);
    expect(await compute(total, total, { get: getThreads })).toEqual([5050, 5050]);
  });

  it('gives pure calls deterministic keys and impure calls random ones', () => {
    expect(delayed(inc)(1).key).toBe(delayed(inc)(1).key);
    expect(delayed(inc)(1).key).not.toBe(delayed(inc)(2).key);
    expect(delayed(inc)(1).key).toMatch(/^inc-[0-9a-f]{32}$/);
    expect(delayed(inc, { pure: false })(1).key).not.toBe(delayed(inc, { pure: false })(1).key);
    expect(delayed(inc, { name: 'plus-one' })(1).key).toMatch(/^plus-one-/);
    expect(delayed(inc, { key: 'mine' })(1).key).toBe('mine');
  });

  it('uses Delayed values nested in arrays, objects, Maps and Sets as dependencies', async () => {
    const a = delayed(inc)(1);
    const b = delayed(inc)(2);
    const describe = (o: { xs: number[]; m: Map<string, number>; s: Set<number>; tag: string }) =>
      `${o.tag}:${o.xs.join('+')}:${o.m.get('b')}:${[...o.s].join(',')}`;
    const d = delayed(describe)({ xs: [a, b, 10], m: new Map([['b', b]]), s: new Set([a]), tag: 'k' });
    expect(await d.compute({ scheduler: 'sync' })).toBe('k:2+3+10:3:2');
    expect(await d.compute()).toBe('k:2+3+10:3:2');
  });

  it('wraps plain values, and values that contain Delayed', async () => {
    expect(await delayed(5).compute()).toBe(5);
    expect(await delayed('a string').compute({ scheduler: 'sync' })).toBe('a string');
    expect(await delayed([1, 'x', [2]]).compute({ scheduler: 'sync' })).toEqual([1, 'x', [2]]);
    const v = delayed({ a: delayed(inc)(1), b: [delayed(inc)(2)] });
    expect(await v.compute()).toEqual({ a: 2, b: [3] });
    const d = delayed(inc)(1);
    expect(delayed(d)).toBe(d);
  });

  it('passes arrays that start with a function as data, not as tasks', async () => {
    const first = (xs: unknown[]) => typeof xs[0];
    expect(await delayed(first)([Math.max, 1]).compute({ scheduler: 'sync' })).toBe('function');
    expect(await delayed(first)([Math.max, delayed(inc)(1)]).compute({ scheduler: 'sync' })).toBe('function');
  });

  it('shares equal sub-expressions: a diamond runs its base once', async () => {
    let calls = 0;
    const count = (x: number) => {
      calls++;
      return x;
    };
    const base = delayed(count)(1);
    const top = delayed(add)(delayed(inc)(base), delayed(inc)(delayed(count)(1)));
    expect(await top.compute({ scheduler: 'sync' })).toBe(4);
    expect(calls).toBe(1);
  });

  it('builds and computes a 10,000-call chain without recursion limits', async () => {
    let d: Delayed<number> = delayed(0);
    for (let i = 0; i < 10_000; i++) d = delayed(inc)(d);
    expect(await d.compute({ scheduler: 'sync' })).toBe(10_000);
    expect(Object.keys(d.daskGraph())).toHaveLength(10_001);
  });

  it('implements the collection protocol and persists to a Delayed holding the value', async () => {
    let calls = 0;
    const slowInc = (x: number) => {
      calls++;
      return x + 1;
    };
    const d = delayed(slowInc)(41);
    const p = await d.persist({ scheduler: 'sync' });
    expect(p).toBeInstanceOf(Delayed);
    expect(p.key).toBe(d.key);
    expect(calls).toBe(1);
    expect(await delayed(inc)(p).compute({ scheduler: 'sync' })).toBe(43);
    expect(calls).toBe(1);
    const [q, r] = await persist(delayed('text'), delayed([1, 2]), { scheduler: 'sync' });
    expect(await getSync(q.daskGraph(), q.key)).toBe('text');
    expect(await r.compute()).toEqual([1, 2]);
  });

  it('tokenizes as its key, so equal expressions get equal names downstream', () => {
    expect(tokenize(delayed(inc)(1))).toBe(tokenize(delayed(inc)(1)));
    expect(tokenize(delayed(inc)(1))).not.toBe(tokenize(delayed(inc)(2)));
  });

  it('refuses bad options with a precise error', () => {
    expect(() => delayed(inc, { pur: true } as never)).toThrow(/unknown option 'pur'/);
    expect(() => delayed(inc, { pure: 'yes' } as never)).toThrow(/'pure' must be a boolean/);
  });
});
