/**
 * How a task's function travels to another thread or machine (DESIGN.md, "Functions on other
 * threads and machines"). In order of preference:
 *
 * 1. kernel: library functions registered under a stable name with `defineKernel`; every thread
 *    loads the same kernel modules, so the name is enough.
 * 2. module: functions exported by a user module, after one line in that module:
 *    `registerModule(import.meta.url, { square, neg })`. The receiver imports the module.
 * 3. global: built-ins such as `Math.max`, by path.
 * 4. source: self-contained functions, as source text, compiled once per thread and cached.
 *
 * A function that fits none of these (a closure over a local variable, a bound function) cannot
 * leave its thread; `describeFunction` says why, naming the variable and the fix.
 */
import { createHash } from 'node:crypto';
import { builtinAt, builtinPath } from './globals.js';
import { analyzeFunction, compileSource } from './source.js';

export type FnRef =
  | { readonly kind: 'kernel'; readonly name: string }
  | { readonly kind: 'module'; readonly module: string; readonly export: string }
  | { readonly kind: 'global'; readonly path: string }
  | { readonly kind: 'source'; readonly id: string; readonly source: string };

export type Described =
  | { readonly ok: true; readonly ref: FnRef; readonly id: string }
  | { readonly ok: false; readonly reason: string };

const kernelsByName = new Map<string, Function>();
const names = new WeakMap<Function, FnRef>();
const described = new WeakMap<Function, Described>();

/** Registers a library kernel under a stable name; returns the function for `export const`. */
export function defineKernel<F extends Function>(name: string, fn: F): F {
  const prior = kernelsByName.get(name);
  // A module evaluated twice (two bundles, a test runner's copy) registers an equal function.
  if (prior && prior !== fn && prior.toString() !== fn.toString()) {
    throw new Error(`kernel name '${name}' is already registered to a different function`);
  }
  if (!prior) kernelsByName.set(name, fn);
  names.set(fn, { kind: 'kernel', name });
  return fn;
}

/**
 * Registers the exported functions of a user module so they travel as `{ module, export }`.
 * Call it once in the module itself: `registerModule(import.meta.url, { square, neg })`.
 */
export function registerModule(moduleUrl: string, exports: Record<string, unknown>): void {
  if (typeof moduleUrl !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(moduleUrl)) {
    throw new TypeError(`registerModule: the first argument must be the module's URL (import.meta.url), got ${String(moduleUrl)}`);
  }
  if (exports === null || typeof exports !== 'object') {
    throw new TypeError('registerModule: the second argument must be an object of exported functions, like { square, neg }');
  }
  for (const [name, fn] of Object.entries(exports)) {
    if (typeof fn === 'function' && !names.has(fn)) {
      names.set(fn, { kind: 'module', module: moduleUrl, export: name });
      // Described before it was registered (as source, or as unshippable): describe it again.
      described.delete(fn);
    }
  }
}

/**
 * Where this process keeps its copy of a module uploaded from elsewhere (client.uploadFile): the
 * sender's module URL → the local file's URL. Module references are rewritten with `localRef`
 * before they are resolved or sent to pool threads, so threads import the local copy by its own URL.
 */
const moduleAliases = new Map<string, string>();

export function setModuleAlias(fromUrl: string, toUrl: string): void {
  moduleAliases.set(fromUrl, toUrl);
}

/** `ref`, pointing at this process's copy when its module was uploaded here. */
export function localRef(ref: FnRef): FnRef {
  if (ref.kind !== 'module' || moduleAliases.size === 0) return ref;
  const to = moduleAliases.get(ref.module);
  return to === undefined ? ref : { kind: 'module', module: to, export: ref.export };
}

/** `refs` through `localRef`; the same array when nothing changes (the common case, no uploads). */
export function localRefs(refs: readonly FnRef[]): readonly FnRef[] {
  if (moduleAliases.size === 0) return refs;
  let out: FnRef[] | undefined;
  for (let i = 0; i < refs.length; i++) {
    const r = localRef(refs[i]);
    if (r !== refs[i]) (out ??= [...refs])[i] = r;
  }
  return out ?? refs;
}

/** How `fn` can travel, or why it cannot. Cached per function. */
export function describeFunction(fn: Function): Described {
  let d = described.get(fn);
  if (d === undefined) {
    d = describeUncached(fn);
    described.set(fn, d);
  }
  return d;
}

function describeUncached(fn: Function): Described {
  const named = names.get(fn);
  if (named) return { ok: true, ref: named, id: refId(named) };
  const path = builtinPath(fn);
  if (path) return { ok: true, ref: { kind: 'global', path }, id: `global:${path}` };
  const a = analyzeFunction(fn);
  if (a.reason !== undefined) return { ok: false, reason: a.reason };
  const id = createHash('md5').update(a.source).digest('hex');
  return { ok: true, ref: { kind: 'source', id, source: a.source }, id: `source:${id}` };
}

export function refId(ref: FnRef): string {
  switch (ref.kind) {
    case 'kernel':
      return `kernel:${ref.name}`;
    case 'module':
      return `module:${ref.module}#${ref.export}`;
    case 'global':
      return `global:${ref.path}`;
    case 'source':
      return `source:${ref.id}`;
  }
}

/** The function a reference names, on the receiving thread; modules are imported once. */
export async function resolveFunction(ref: FnRef): Promise<Function> {
  switch (ref.kind) {
    case 'kernel': {
      const fn = kernelsByName.get(ref.name);
      if (!fn) throw new Error(`no kernel named '${ref.name}' is registered on this thread`);
      return fn;
    }
    case 'module':
      return moduleExport(ref.module, ref.export);
    case 'global':
      return builtinAt(ref.path);
    case 'source':
      return compileSource(ref.source);
  }
}

const modules = new Map<string, Promise<Record<string, unknown>>>();

async function moduleExport(url: string, name: string): Promise<Function> {
  let m = modules.get(url);
  if (!m) {
    m = import(url) as Promise<Record<string, unknown>>;
    modules.set(url, m);
  }
  const fn = (await m)[name];
  if (typeof fn !== 'function') throw new Error(`module ${url} has no exported function '${name}'`);
  return fn;
}
