/**
 * The get contract: what every get (sync, threads, a distributed client's) must do. Each
 * scheduler's test file calls `getContract(name, get)`; later issues run it against client.get.
 */
import { describe, expect, it } from 'vitest';
import { CycleError, GraphError, literal, TaskError, type GetFn } from '../../src/index.js';

const inc = (x: number) => x + 1;
const add = (a: number, b: number) => a + b;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function getContract(name: string, get: GetFn): void {
  describe(`get contract: ${name}`, () => {
    it('computes a key from the example graph', async () => {
      const dsk = { x: 1, y: [inc, 'x'], z: [add, 'x', 'y'] };
      expect(await get(dsk, 'z')).toBe(3);
    });

    it('mirrors the nesting of the keys it is asked for', async () => {
      const dsk = { x: 1, y: [inc, 'x'], z: [add, 'x', 'y'] };
      expect(await get(dsk, [['y'], 'z'])).toEqual([[2], 3]);
      expect(await get(dsk, [])).toEqual([]);
      expect(await get(dsk, ['z', 'z', ['x', ['y']]])).toEqual([3, 3, [1, [2]]]);
    });

    it('resolves aliases, lists of keys, nested tasks and literal strings', async () => {
      const dsk = {
        a: 10,
        b: 'a',
        c: [sum, ['a', 'b', 5]],
        d: [add, [inc, 'a'], [inc, [inc, 'b']]],
        e: [(s: string) => s.toUpperCase(), 'not-a-key'],
        f: [(s: string) => s, literal('a')],
      };
      expect(await get(dsk, ['b', 'c', 'd', 'e', 'f'])).toEqual([10, 25, 23, 'NOT-A-KEY', 'a']);
    });

    it('awaits tasks that return promises', async () => {
      const later = async (x: number) => {
        await new Promise((r) => setTimeout(r, 5));
        return x * 2;
      };
      const dsk = { x: 4, y: [later, 'x'], z: [inc, [later, 'y']] };
      expect(await get(dsk, ['y', 'z'])).toEqual([8, 17]);
    });

    it('materialises lazy task results before storing them; a fused consumer sees them lazy', async () => {
      const lazyRange = (n: number) => ({
        n,
        [Symbol.for('dask-ts.materialize')]() {
          return Array.from({ length: n }, (_, i) => i);
        },
      });
      const kind = (x: unknown) => (Array.isArray(x) ? 'array' : 'lazy');
      const dsk = { r: [lazyRange, 3], k: [kind, 'r'], nested: [kind, [lazyRange, 2]] };
      expect(await get(dsk, ['r', 'k', 'nested'])).toEqual([[0, 1, 2], 'array', 'lazy']);
    });

    it('passes typed arrays and objects through to tasks and back', async () => {
      const data = new Float64Array([1, 2, 3]);
      const total = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
      const describe = (o: { n: number; tags: string[] }) => `${o.n}:${o.tags.join(',')}`;
      const dsk = { a: data, t: [total, 'a'], o: [describe, { n: 1, tags: ['p', 'q'] }] };
      const [a, t, o] = (await get(dsk, ['a', 't', 'o'])) as [Float64Array, number, string];
      expect(Array.from(a)).toEqual([1, 2, 3]);
      expect(t).toBe(6);
      expect(o).toBe('1:p,q');
    });

    it('runs a wide reduction of 10,000 tasks', async () => {
      const dsk: Record<string, unknown> = {};
      const keys: string[] = [];
      for (let i = 0; i < 10_000; i++) {
        dsk[`x-${i}`] = [inc, i];
        keys.push(`x-${i}`);
      }
      dsk.total = [sum, keys];
      expect(await get(dsk, 'total')).toBe((10_000 * 10_001) / 2);
    });

    it('runs a chain of 5,000 tasks', async () => {
      const dsk: Record<string, unknown> = { 'c-0': 0 };
      for (let i = 1; i <= 5000; i++) dsk[`c-${i}`] = [inc, `c-${i - 1}`];
      expect(await get(dsk, 'c-5000')).toBe(5000);
    });

    describe('bad input', () => {
      it('names a requested key that is not in the graph', async () => {
        await expect(get({ x: 1 }, 'y')).rejects.toThrow(GraphError);
        await expect(get({ x: 1 }, ['x', ['nope']])).rejects.toThrow(/'nope' is not in the graph/);
      });

      it('names the keys of a cycle', async () => {
        const dsk = { a: [inc, 'c'], b: [inc, 'a'], c: [inc, 'b'], out: [inc, 'a'] };
        const err = await get(dsk, 'out').then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(CycleError);
        expect((err as CycleError).cycle.slice().sort()).toEqual(['a', 'a', 'b', 'c']);
        expect((err as Error).message).toMatch(/cycle: 'a' -> 'c' -> 'b' -> 'a'|cycle: '[abc]' -> /);
      });

      it('reports a failing task with its key and message, and the stack of where it ran', async () => {
        const boom = (x: number) => {
          if (x > 0) throw new RangeError(`too big: ${x}`);
          return x;
        };
        const dsk = { x: 1, y: [boom, 'x'], z: [inc, 'y'] };
        const err = (await get(dsk, 'z').catch((e: unknown) => e)) as TaskError;
        expect(err).toBeInstanceOf(TaskError);
        expect(err.key).toBe('y');
        expect(err.message).toContain("task 'y' failed");
        expect(err.message).toContain('too big: 1');
        expect(err.cause.name).toBe('RangeError');
        expect(err.cause.stack).toContain('too big: 1');
      });

      it('refuses something that is not a graph', async () => {
        for (const bad of [null, [1, 2], new Map([['x', 1]]), 42, 'x']) {
          await expect(get(bad as never, 'x')).rejects.toThrow(TypeError);
        }
        await expect(get([1] as never, 'x')).rejects.toThrow(/plain object of keys to tasks or values/);
      });

      it('refuses keys that are not strings or arrays of strings', async () => {
        await expect(get({ x: 1 }, 5 as never)).rejects.toThrow(/keys must be a key/);
      });

      it('refuses unknown options with the list of known ones', async () => {
        await expect(get({ x: 1 }, 'x', { bogus: 1 } as never)).rejects.toThrow(/unknown option 'bogus'/);
      });

      it('rejects at once with an already-aborted signal', async () => {
        const ac = new AbortController();
        ac.abort(new Error('stop now'));
        await expect(get({ x: 1, y: [inc, 'x'] }, 'y', { signal: ac.signal })).rejects.toThrow('stop now');
      });

      it('stops a running computation when its signal aborts', async () => {
        const slow = () => new Promise((r) => setTimeout(() => r(1), 200));
        const dsk: Record<string, unknown> = {};
        for (let i = 0; i < 50; i++) dsk[`s-${i}`] = [slow];
        dsk.all = [sum, Object.keys(dsk)];
        const ac = new AbortController();
        setTimeout(() => ac.abort(), 50);
        const t0 = Date.now();
        await expect(get(dsk, 'all', { signal: ac.signal })).rejects.toThrow(/abort/i);
        // Not a timing assertion: 50 slow tasks in sequence would take 10 s; aborting ends far sooner.
        expect(Date.now() - t0).toBeLessThan(9_000);
      });
    });
  });
}
