import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeFunction, compileSource, TRANSPILER_HELPERS } from '../../../src/graph/shipping/source.js';

type AnyFn = (...args: any[]) => any;

/** Analyzes, expects shippable, and returns the function compiled from the shipped source. */
function ship<F extends AnyFn>(fn: F): F {
  const a = analyzeFunction(fn);
  expect(a.reason).toBeUndefined();
  expect(a.freeVariables).toEqual([]);
  return compileSource(a.source) as F;
}

// Modules written by the tests are loaded by Node itself (require of an ES module, Node >= 20.19),
// not by vitest's module runner, which rewrites imports and import.meta in the source.
const nativeRequire = createRequire(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'dask-ts-source-'));
let moduleCount = 0;
function importModule(code: string): Record<string, AnyFn> {
  const file = join(dir, `m${moduleCount++}.mjs`);
  writeFileSync(file, code);
  return nativeRequire(file) as Record<string, AnyFn>;
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shippable functions', () => {
  it('plain arrow', () => {
    const inc = (x: number) => x + 1;
    expect(ship(inc)(41)).toBe(42);
    expect(analyzeFunction(inc).source).toBe(inc.toString());
  });

  it('block arrow with locals, loops, catch parameters and nested declarations', () => {
    const f = (xs: number[]) => {
      let total = 0;
      for (let i = 0; i < xs.length; i++) {
        var last = xs[i];
        total += last;
      }
      function double(v: number): number {
        return v * 2;
      }
      class Box {
        constructor(readonly v: number) {}
        get twice() {
          return double(this.v);
        }
      }
      try {
        JSON.parse('{');
      } catch ({ name }: any) {
        total += name === 'SyntaxError' ? 100 : 0;
      }
      return new Box(total).twice + last!;
    };
    expect(ship(f)([1, 2, 3])).toBe(f([1, 2, 3]));
  });

  it('async function and async arrow', async () => {
    async function fetchTwice(x: number) {
      const a = await Promise.resolve(x);
      return a * 2;
    }
    const arrow = async (x: number) => (await fetchTwice(x)) + 1;
    expect(await ship(fetchTwice)(21)).toBe(42);
    expect(analyzeFunction(arrow).freeVariables).toEqual(['fetchTwice']);
  });

  it('generator function', () => {
    function* range(n: number) {
      for (let i = 0; i < n; i++) yield i;
    }
    expect([...ship(range)(4)]).toEqual([0, 1, 2, 3]);
  });

  it('recursion through the function expression name', () => {
    const fact = function f(n: number): number {
      return n <= 1 ? 1 : n * f(n - 1);
    };
    expect(ship(fact)(5)).toBe(120);
  });

  it('recursion through a declared function name', () => {
    function fib(n: number): number {
      return n < 2 ? n : fib(n - 1) + fib(n - 2);
    }
    expect(ship(fib)(10)).toBe(55);
  });

  it('method shorthand, async and generator methods, getters, class methods', async () => {
    const o = {
      inc(x: number) {
        return x + 1;
      },
      async m(x: number) {
        return x * 3;
      },
      *gen() {
        yield 1;
        yield 2;
      },
      'odd-name'(x: number) {
        return -x;
      },
      get size() {
        return 7;
      },
    };
    const inc = ship(o.inc);
    expect(inc(1)).toBe(2);
    expect(inc.name).toBe('inc');
    expect(analyzeFunction(o.inc).source).toMatch(/^\(\{ inc\(x\)/);
    expect(await ship(o.m)(2)).toBe(6);
    expect([...ship(o.gen)()]).toEqual([1, 2]);
    expect(ship(o['odd-name'])(3)).toBe(-3);
    const getter = Object.getOwnPropertyDescriptor(o, 'size')!.get!;
    expect(ship(getter)()).toBe(7);

    class K {
      static twice(x: number) {
        return x * 2;
      }
      plus(this: { base: number }, x: number) {
        return this.base + x;
      }
    }
    expect(ship(K.twice)(4)).toBe(8);
    expect(ship(K.prototype.plus).call({ base: 10 }, 1)).toBe(11);
  });

  it('destructuring parameters with defaults that read other parameters, and rest', () => {
    const f = ({ a, b = a * 2 }: { a: number; b?: number }, [c = b + 1, ...more]: number[] = [], ...rest: number[]) =>
      [a, b, c, more.length, rest.length];
    const g = ship(f);
    expect(g({ a: 1 })).toEqual(f({ a: 1 }));
    expect(g({ a: 1, b: 5 }, [], 9, 9)).toEqual([1, 5, 6, 0, 2]);
    expect(g({ a: 1 }, [4, 5, 6])).toEqual([1, 2, 4, 2, 0]);
  });

  it('globals such as Math, JSON, console, Array, and arguments of a non-arrow function', () => {
    const f = function (this: unknown, xs: number[]) {
      if (xs.length === 0) console.log('empty');
      const copy = Array.from(xs);
      return JSON.stringify({ max: Math.max(...copy), n: arguments.length, t: typeof setTimeout, g: typeof globalThis });
    };
    expect(ship(f)([1, 5, 2])).toBe(f([1, 5, 2]));
  });

  it('object keys, member names, class member names and labels are not references', () => {
    const f = (o: Record<string, number>) => {
      const out = { notDeclared: 1, alsoNot: o.missing ?? 0 };
      class C {
        notDeclaredEither = 2;
        method() {
          return this.notDeclaredEither;
        }
      }
      outer: for (const k in o) {
        for (;;) {
          if (k === 'stop') break outer;
          continue outer;
        }
      }
      return out.notDeclared + out.alsoNot + new C().method();
    };
    expect(ship(f)({ missing: 4 })).toBe(7);
  });

  it('a class expression may name itself; its private members are its own', () => {
    const f = (x: number) => {
      const Counter = class Named {
        #count = x;
        static make() {
          return new Named();
        }
        next() {
          return ++this.#count;
        }
      };
      return Counter.make().next();
    };
    expect(ship(f)(1)).toBe(2);
  });

  it('nested methods may use super; nested functions have their own this and arguments', () => {
    const f = () => {
      class A {
        hi() {
          return 'a';
        }
      }
      class B extends A {
        override hi() {
          return super.hi() + 'b';
        }
      }
      function count(this: unknown, ..._xs: number[]) {
        return [this === undefined, arguments.length];
      }
      return [new B().hi(), ...count(1, 2)];
    };
    expect(ship(f)()).toEqual(['ab', true, 2]);
  });

  it('functions made by new Function', () => {
    const add = new Function('a', 'b', 'return a + b') as (a: number, b: number) => number;
    expect(ship(add)(2, 3)).toBe(5);
  });
});

describe('refused functions', () => {
  it('closure over an outer const names the variable and the fix', () => {
    const n = 3;
    const addN = (x: number) => x + n;
    const a = analyzeFunction(addN);
    expect(a.freeVariables).toEqual(['n']);
    expect(a.reason).toBe(
      "function 'addN' reads the variable 'n' from its enclosing scope, which cannot travel to another thread; " +
        "pass 'n' as an argument, or export the function from a module and register it with registerModule(import.meta.url, { addN })",
    );
  });

  it('several free variables are listed once each, in source order', () => {
    const a1 = 1;
    const b1 = 2;
    const f = (x: number) => x + b1 + a1 + b1;
    const a = analyzeFunction(f);
    expect(a.freeVariables).toEqual(['b1', 'a1']);
    expect(a.reason).toContain("reads the variables 'b1' and 'a1'");
    expect(a.reason).toContain("pass 'b1' and 'a1' as arguments");
  });

  it('free variables in defaults, computed keys and nested functions count', () => {
    const k = 'key';
    const d = 1;
    const f = (x = d) => ({ [k]: () => x });
    expect(analyzeFunction(f).freeVariables).toEqual(['d', 'k']);
  });

  it('closure over an imported binding', () => {
    const m = importModule(
      "import { join } from 'node:path';\nimport * as url from 'node:url';\n" +
        'export function joinAll(a, b) { return url.pathToFileURL(join(a, b)).href; }\n',
    );
    const a = analyzeFunction(m.joinAll);
    expect(a.freeVariables).toEqual(['url', 'join']);
    expect(a.reason).toContain("function 'joinAll' reads the variables 'url' and 'join' from its enclosing scope");
    expect(a.reason).toContain('registerModule(import.meta.url, { joinAll })');
  });

  it('an arrow function that uses this', () => {
    const holder = {
      base: 1,
      make() {
        return (x: number) => x + this.base;
      },
    };
    const a = analyzeFunction(holder.make());
    expect(a.freeVariables).toEqual(['this']);
    expect(a.reason).toContain("reads 'this' from its enclosing scope (an arrow function has no this of its own)");
    expect(a.reason).toContain('pass the value of this as an argument');
  });

  it('an arrow function that uses arguments of its enclosing function', () => {
    function outer(this: unknown, ..._xs: number[]) {
      return () => arguments.length;
    }
    expect(analyzeFunction(outer(1, 2)).freeVariables).toEqual(['arguments']);
  });

  it('native and bound functions', () => {
    const max = analyzeFunction(Math.max);
    expect(max.reason).toMatch(/^function 'max' is native code, which has no source to ship/);
    expect(max.reason).toContain('registerModule(import.meta.url, { max })');

    function scale(k: number, x: number) {
      return k * x;
    }
    const bound = analyzeFunction(scale.bind(null, 2));
    expect(bound.reason).toMatch(/^function 'bound scale' is a bound function/);
    expect(bound.reason).toContain('registerModule(import.meta.url, { scale })');
    expect(analyzeFunction(((x: number) => x).bind(null)).reason).toMatch(/^an anonymous function is a bound function/);
  });

  it('classes', () => {
    class Point {}
    expect(analyzeFunction(Point).reason).toMatch(/^function 'Point' is a class; classes cannot be shipped as source; .*registerModule/);
  });

  it('methods with a computed name, private methods, super, import.meta', () => {
    const o = {
      [Symbol.iterator]() {
        return [][Symbol.iterator]();
      },
      viaSuper() {
        return super.toString();
      },
    };
    expect(analyzeFunction(o[Symbol.iterator]).reason).toContain(
      'is a method with a computed name ([Symbol.iterator]), which cannot be recreated from its source; ' +
        'write it as a function expression or an arrow function, or export the function from a module',
    );
    expect(analyzeFunction(o.viaSuper).reason).toContain("uses 'super'");

    class P {
      #secret = 1;
      #hidden() {
        return 1;
      }
      reveal() {
        return this.#secret;
      }
      hiddenMethod() {
        return this.#hidden;
      }
    }
    expect(analyzeFunction(new P().hiddenMethod()).reason).toContain('is a private method of a class');
    const nested = { [['x'][0]]() {} };
    expect(analyzeFunction(nested.x).reason).toMatch(/is a method with a computed name \(\[\[['"]x['"]\]\[0\]\]\)/);
    expect(analyzeFunction(P.prototype.reveal).reason).toContain("uses the private member '#secret' of its class");

    const m = importModule('export const where = () => import.meta.url;\n');
    expect(analyzeFunction(m.where).reason).toContain('reads import.meta of the module it was defined in');
  });

  it('caches the analysis per function', () => {
    const f = (x: number) => x;
    expect(analyzeFunction(f)).toBe(analyzeFunction(f));
  });
});

describe('transpiled code', () => {
  it('lists the helpers', () => {
    for (const name of ['__name', '__awaiter', '__generator', '__assign', '__rest', '__spreadArray', '__async', '__spreadValues', '__spreadProps', '__objRest', '__publicField', '__defProp']) {
      expect(TRANSPILER_HELPERS).toContain(name);
    }
  });

  it('esbuild with keepNames: __name inside the body, lowered spread, rest, async and class fields', async () => {
    const code = transformSync(
      `
      export function outer(xs: number[]): number {
        function inner(y: number) { return y * 2; }
        const twice = (v: number) => inner(v);
        return xs.map(twice).reduce((a, b) => a + b, 0);
      }
      export function objects(o: { a: number; b: number; c: number }) {
        const { a, ...rest } = o;
        class Acc { total = a; static kind = 'acc'; }
        return { ...rest, a, total: new Acc().total, kind: Acc.kind };
      }
      export async function later(x: number) {
        await null;
        return x + 1;
      }`,
      { loader: 'ts', keepNames: true, format: 'esm', target: 'es2016' },
    ).code;
    const m = importModule(code);
    expect(m.outer.toString()).toContain('__name(inner');
    expect(m.objects.toString()).toMatch(/__objRest[\s\S]*__publicField[\s\S]*__spreadValues/);
    expect(m.later.toString()).toContain('__async(');

    const outer = ship(m.outer);
    expect(outer([1, 2, 3])).toBe(12);
    expect(ship(m.objects)({ a: 1, b: 2, c: 3 })).toEqual({ b: 2, c: 3, a: 1, total: 1, kind: 'acc' });
    expect(await ship(m.later)(1)).toBe(2);
  });

  it('TypeScript ES2015: __awaiter for an async function', async () => {
    const { outputText } = ts.transpileModule(
      'export async function addLater(a: number, b: number) { const x = await Promise.resolve(a); return x + b; }',
      { compilerOptions: { target: ts.ScriptTarget.ES2015, module: ts.ModuleKind.ESNext } },
    );
    const m = importModule(outputText);
    expect(m.addLater.toString()).toContain('__awaiter(');
    expect(await ship(m.addLater)(1, 2)).toBe(3);
  });

  it('TypeScript ES2017: __rest for an object rest', async () => {
    const { outputText } = ts.transpileModule(
      'export function split(o: { a: number; b: number; c: number }) { const { a, ...rest } = o; return [a, rest]; }',
      { compilerOptions: { target: ts.ScriptTarget.ES2017, module: ts.ModuleKind.ESNext } },
    );
    const m = importModule(outputText);
    expect(m.split.toString()).toContain('__rest(');
    expect(ship(m.split)({ a: 1, b: 2, c: 3 })).toEqual([1, { b: 2, c: 3 }]);
  });

  it('TypeScript ES5: __generator, __assign, __spreadArray, __values and __read', async () => {
    const { outputText } = ts.transpileModule(
      `export async function everything(xs: number[], o: object) {
         let sum = 0;
         for (const x of xs) sum += await Promise.resolve(x);
         const [first, ...others] = xs;
         return { ...o, sum, all: [...xs, first], others };
       }`,
      { compilerOptions: { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.ESNext, downlevelIteration: true, ignoreDeprecations: '6.0' } },
    );
    const m = importModule(outputText);
    const text = m.everything.toString();
    for (const helper of ['__awaiter', '__generator', '__assign', '__spreadArray', '__values', '__read']) expect(text).toContain(helper);
    expect(await ship(m.everything)([1, 2, 3], { k: 'v' })).toEqual({ k: 'v', sum: 6, all: [1, 2, 3, 1], others: [2, 3] });
  });
});

describe('compileSource', () => {
  it('compiles each source once, or once per caller key', () => {
    const source = '(x) => x * 10';
    const f = compileSource(source);
    expect(f(2)).toBe(20);
    expect(compileSource(source)).toBe(f);
    expect(compileSource('(x) => x * 10 /* other text */', 'hash-1')).toBe(compileSource('ignored when the key is cached', 'hash-1'));
  });

  it('compiles in strict mode, and sloppy source that strict mode rejects', () => {
    expect(compileSource('function () { return this; }')()).toBeUndefined();
    const withStatement = compileSource('function (o) { with (o) { return a + 1; } }');
    expect(withStatement({ a: 1 })).toBe(2);
  });

  it('refuses source that is not a function', () => {
    expect(() => compileSource('42')).toThrow(/did not evaluate to a function/);
  });
});
