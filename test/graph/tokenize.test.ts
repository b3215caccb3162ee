import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenize, tokenizeFunction } from '../../src/graph/tokenize.js';

const HEX32 = /^[0-9a-f]{32}$/;

function inc(x: number): number {
  return x + 1;
}

/** All tokens distinct: each value must differ from every other one. */
function expectAllDistinct(values: unknown[]): void {
  const tokens = values.map((v) => tokenize(v));
  expect(new Set(tokens).size).toBe(values.length);
}

describe('tokenize: determinism', () => {
  it('returns 32 hex chars and the same token for equal inputs', () => {
    const t = tokenize(inc, 1, 'x', [1, 2], { a: 1 });
    expect(t).toMatch(HEX32);
    expect(tokenize(inc, 1, 'x', [1, 2], { a: 1 })).toBe(t);
    expect(tokenize({ a: [1, { b: new Map([[1, 2]]) }] })).toBe(tokenize({ a: [1, { b: new Map([[1, 2]]) }] }));
  });

  it('is stable for NaN and treats 0 and -0 alike, as dask does', () => {
    expect(tokenize(NaN)).toBe(tokenize(Number.NaN));
    expect(tokenize(0)).toBe(tokenize(-0));
    expect(tokenize(new Float64Array([NaN]))).toBe(tokenize(new Float64Array([NaN])));
  });

  it('gives the same tokens in a separate process', () => {
    // Both processes build the values from this exact text with new Function: a function defined in
    // a .ts file would be re-printed by each transpiler (tsx vs vite), and its source is its token.
    const build = `
      function inc(x) { return x + 1; }
      const values = {
        fn: [inc, 1],
        typed: new Float64Array([1.5, 2.5, -3]).subarray(1),
        map: new Map([['b', 2], ['a', [1, 2]]]),
        set: new Set([3, 'x', null]),
        nested: { z: [1, { y: 'two', x: new Date(0) }], a: /re/g, big: 10n, s: Symbol.for('k') },
        builtin: [Math.max, JSON.stringify, parseInt, Symbol.iterator],
      };
      return values;
    `;
    const dir = mkdtempSync(join(tmpdir(), 'tokenize-'));
    try {
      const modulePath = fileURLToPath(new URL('../../src/graph/tokenize.ts', import.meta.url));
      const script = join(dir, 'child.mts');
      writeFileSync(
        script,
        `import { tokenize } from ${JSON.stringify(modulePath)};\n` +
          `const values = new Function(${JSON.stringify(build)})() as Record<string, unknown>;\n` +
          `const out: Record<string, string> = {};\n` +
          `for (const [k, v] of Object.entries(values)) out[k] = tokenize(v);\n` +
          `console.log(JSON.stringify(out));\n`,
      );
      const child = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' }));
      const values = new Function(build)() as Record<string, unknown>;
      const here = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, tokenize(v)]));
      expect(Object.keys(here)).toHaveLength(6);
      expect(child).toEqual(here);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tokenize: type and structure sensitivity', () => {
  it('makes the type part of the token', () => {
    expectAllDistinct([1, '1', 1n, true, 'true', null, undefined, 'null', [], {}, '', 0, new Set(), new Map()]);
    expect(tokenize(null)).not.toBe(tokenize(undefined));
    expect(tokenize(1)).not.toBe(tokenize('1'));
  });

  it('distinguishes argument lists and nesting', () => {
    expect(tokenize(1, 2)).not.toBe(tokenize([1, 2]));
    expect(tokenize(1, 2)).not.toBe(tokenize(2, 1));
    expect(tokenize([1, [2]])).not.toBe(tokenize([[1], 2]));
    expect(tokenize(['ab', 'c'])).not.toBe(tokenize(['a', 'bc']));
    expect(tokenize({ a: 'b' })).not.toBe(tokenize({ ab: '' }));
    expect(tokenize([undefined])).not.toBe(tokenize([,]));
  });

  it('distinguishes different values of each kind', () => {
    expectAllDistinct([1, 2, 1.5, Infinity, -Infinity, NaN]);
    expectAllDistinct(['a', 'b', 'a\0', '\uD800', '\uDBFF', '\uFFFD']);
    expectAllDistinct([new Date(0), new Date(1), /a/, /a/g, /b/]);
    expectAllDistinct([new Error('x'), new Error('y'), new TypeError('x')]);
    expectAllDistinct([Symbol.for('a'), Symbol.for('b'), Symbol.iterator, Symbol('a')]);
    expectAllDistinct([{ a: 1 }, { a: 2 }, { b: 1 }, { a: 1, b: 1 }]);
  });

  it('tells unique symbols apart but keeps each one stable', () => {
    const s = Symbol('s');
    expect(tokenize(s)).toBe(tokenize(s));
    expect(tokenize(s)).not.toBe(tokenize(Symbol('s')));
    expect(tokenize(Symbol.for('s'))).toBe(tokenize(Symbol.for('s')));
  });

  it('tags class instances with their class', () => {
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    class Vec {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    expect(tokenize(new Point(1, 2))).toBe(tokenize(new Point(1, 2)));
    expect(tokenize(new Point(1, 2))).not.toBe(tokenize(new Point(1, 3)));
    expect(tokenize(new Point(1, 2))).not.toBe(tokenize(new Vec(1, 2)));
    expect(tokenize(new Point(1, 2))).not.toBe(tokenize({ x: 1, y: 2 }));
    expect(tokenize(Object.assign(Object.create(null), { x: 1 }))).toBe(tokenize({ x: 1 }));
  });

  it('does not give opaque objects one shared token', () => {
    expect(tokenize(new WeakMap())).not.toBe(tokenize(new WeakMap()));
    const w = new WeakSet();
    expect(tokenize(w)).toBe(tokenize(w));
  });
});

describe('tokenize: order independence', () => {
  it('ignores object key order', () => {
    expect(tokenize({ a: 1, b: 2 })).toBe(tokenize({ b: 2, a: 1 }));
    expect(tokenize({ x: { p: 1, q: [1, 2] }, y: 0 })).toBe(tokenize({ y: 0, x: { q: [1, 2], p: 1 } }));
  });

  it('ignores Map and Set insertion order but not contents', () => {
    expect(tokenize(new Map<unknown, unknown>([['a', 1], [2, 'b']]))).toBe(
      tokenize(new Map<unknown, unknown>([[2, 'b'], ['a', 1]])),
    );
    expect(tokenize(new Set([1, 'a', [2]]))).toBe(tokenize(new Set([[2], 'a', 1])));
    expect(tokenize(new Map([['a', 1]]))).not.toBe(tokenize(new Map([['a', 2]])));
    expect(tokenize(new Map([['a', 1], ['b', 2]]))).not.toBe(tokenize(new Map([['a', 2], ['b', 1]])));
    expect(tokenize(new Set([1, 2]))).not.toBe(tokenize(new Set([1, 3])));
  });

  it('keeps array order meaningful', () => {
    expect(tokenize([1, 2])).not.toBe(tokenize([2, 1]));
  });
});

describe('tokenize: binary data', () => {
  it('hashes dtype, length and bytes', () => {
    const bytes = new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]);
    const asInt32 = new Int32Array(bytes.buffer);
    const asUint32 = new Uint32Array(bytes.buffer);
    const asFloat32 = new Float32Array(bytes.buffer);
    expectAllDistinct([bytes, asInt32, asUint32, asFloat32, new DataView(bytes.buffer), bytes.buffer]);
    expect(tokenize(new Int32Array([1, 2]))).toBe(tokenize(asInt32));
    expect(tokenize(new Int32Array([1, 2]))).not.toBe(tokenize(new Int32Array([1, 3])));
    expect(tokenize(new Int32Array([1, 2]))).not.toBe(tokenize([1, 2]));
  });

  it('hashes only the bytes a view covers, not its whole buffer', () => {
    const a = new Float64Array([9, 1, 2, 9]).subarray(1, 3);
    const b = new Float64Array([7, 7, 1, 2]).subarray(2);
    expect(tokenize(a)).toBe(tokenize(new Float64Array([1, 2])));
    expect(tokenize(a)).toBe(tokenize(b));
    const buf = new Uint8Array([5, 1, 2, 5]).buffer;
    expect(tokenize(new DataView(buf, 1, 2))).toBe(tokenize(new DataView(new Uint8Array([1, 2]).buffer)));
  });

  it('treats a Buffer like a Uint8Array with the same bytes', () => {
    expect(tokenize(Buffer.from([1, 2, 3]))).toBe(tokenize(new Uint8Array([1, 2, 3])));
  });

  it('covers ArrayBuffer and SharedArrayBuffer by content', () => {
    const sab = new SharedArrayBuffer(4);
    new Uint8Array(sab).set([1, 2, 3, 4]);
    const ab = new Uint8Array([1, 2, 3, 4]).buffer;
    expect(tokenize(ab)).toBe(tokenize(new Uint8Array([1, 2, 3, 4]).buffer));
    expect(tokenize(ab)).not.toBe(tokenize(new Uint8Array([1, 2, 3, 5]).buffer));
    expect(tokenize(sab)).not.toBe(tokenize(ab));
  });
});

describe('tokenize: functions', () => {
  it('gives functions with the same name and source the same token', () => {
    const make = () => (x: number) => x * 2;
    expect(tokenize(make())).toBe(tokenize(make()));
    expect(tokenizeFunction(inc)).toBe(tokenize(inc));
    expect(tokenizeFunction(inc)).toMatch(HEX32);
  });

  it('tells functions with different source or name apart', () => {
    const double = (x: number) => x * 2;
    const triple = (x: number) => x * 3;
    const twice = (x: number) => x * 2;
    expectAllDistinct([double, triple, twice, inc]);
  });

  it('names builtins by their global path', () => {
    expect(tokenize(Math.max)).toBe(tokenize(Math.max));
    expectAllDistinct([Math.max, Math.min, JSON.stringify, parseInt, Array.prototype.map, Object.keys]);
    expect(tokenize(Number.parseInt)).toBe(tokenize(parseInt)); // one function, two paths
  });

  it('never lets two bound functions share a token', () => {
    const f = function (this: unknown, x: number) {
      return x;
    };
    const a = f.bind(null);
    const b = f.bind(null);
    const c = f.bind({ other: true });
    expectAllDistinct([a, b, c, f]);
    expect(tokenize(a)).toBe(tokenize(a));
  });

  it('does not mistake source that mentions native code for a native function', () => {
    const make = () => () => '{ [native code] }';
    expect(tokenize(make())).toBe(tokenize(make())); // a random id would differ per function
  });
});

describe('tokenize: daskTokenize and cycles', () => {
  it('uses daskTokenize() instead of the object fields', () => {
    class Collection {
      constructor(
        public name: string,
        public cache: unknown,
      ) {}
      daskTokenize(): unknown {
        return this.name;
      }
    }
    expect(tokenize(new Collection('x', 1))).toBe(tokenize(new Collection('x', 2)));
    expect(tokenize(new Collection('x', 1))).not.toBe(tokenize(new Collection('y', 1)));
    expect(tokenize(new Collection('x', 1))).not.toBe(tokenize('x'));
    expect(tokenize({ daskTokenize: () => [1, 2] })).toBe(tokenize({ daskTokenize: () => [1, 2], extra: 3 }));
  });

  it('terminates on cycles and tokenizes them deterministically', () => {
    const makeCycle = (n: number) => {
      const a: Record<string, unknown> = { n };
      a.self = a;
      a.list = [a, { back: a }];
      return a;
    };
    const t = tokenize(makeCycle(1));
    expect(t).toMatch(HEX32);
    expect(tokenize(makeCycle(1))).toBe(t);
    expect(tokenize(makeCycle(2))).not.toBe(t);

    const selfMap = () => {
      const m = new Map<string, unknown>([['k', 1]]);
      return m.set('m', m);
    };
    expect(tokenize(selfMap())).toBe(tokenize(selfMap()));
    const s = new Set<unknown>([1]);
    s.add(s);
    expect(tokenize(s)).not.toBe(tokenize(new Set([1])));

    const self = { daskTokenize: (): unknown => self };
    expect(tokenize(self)).toMatch(HEX32);
  });

  it('does not confuse a shared (acyclic) reference with a cycle', () => {
    const shared = { v: 1 };
    expect(tokenize([shared, shared])).toBe(tokenize([{ v: 1 }, { v: 1 }]));
  });
});

describe('tokenize of closures', () => {
  it('gives closures with the same source but different captured values different tokens', () => {
    const make = (n: number) => (x: number) => x + n;
    const a = make(1);
    const b = make(2);
    expect(a.toString()).toBe(b.toString());
    expect(tokenize(a)).not.toBe(tokenize(b));
    expect(tokenize(a)).toBe(tokenize(a));
  });
});
