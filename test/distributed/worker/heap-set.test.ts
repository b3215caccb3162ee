import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeapSet } from '../../../src/distributed/worker/heap-set.js';

describe('HeapSet', () => {
  it('pops by (priority, seq), skips discarded items and re-keys pushed ones', () => {
    const h = new HeapSet<string>();
    h.push('a', 2, 0);
    h.push('b', 1, 1);
    h.push('c', 1, 0);
    h.push('d', Infinity, 3);
    h.push('e', Infinity, 2);
    expect(h.discard('b')).toBe(true);
    expect(h.discard('b')).toBe(false);
    h.push('a', 0, 5);
    expect(h.size).toBe(4);
    expect([h.pop(), h.pop(), h.pop(), h.pop(), h.pop()]).toEqual(['a', 'c', 'e', 'd', undefined]);
  });

  it('agrees with sorting under random pushes, re-keys and discards', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('push', 'discard'), fc.integer({ min: 0, max: 9 }), fc.integer({ min: -5, max: 5 }))),
        (ops) => {
          const h = new HeapSet<number>();
          const model = new Map<number, [number, number]>();
          ops.forEach(([op, item, prio], seq) => {
            if (op === 'push') {
              h.push(item, prio, seq);
              model.set(item, [prio, seq]);
            } else {
              expect(h.discard(item)).toBe(model.delete(item));
            }
          });
          const expected = [...model].sort((x, y) => x[1][0] - y[1][0] || x[1][1] - y[1][1]).map(([i]) => i);
          expect(h.sorted()).toEqual(expected);
          const popped: number[] = [];
          for (let i = h.pop(); i !== undefined; i = h.pop()) popped.push(i);
          expect(popped).toEqual(expected);
        },
      ),
    );
  });
});
