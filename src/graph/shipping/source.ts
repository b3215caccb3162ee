/**
 * Functions shipped as source text: the last resort of `registry.ts` when a task's function is
 * neither a kernel, a registered module export nor a built-in.
 *
 * JavaScript has no cloudpickle: a closure's captured variables cannot be read from outside, so a
 * function can travel only if its source says everything it needs. `analyzeFunction` parses
 * `Function.prototype.toString(fn)` with acorn, lets periscopic build the scopes, and walks the
 * tree resolving every reference. A reference is fine when it is declared inside the function,
 * is a global of this process (or of every worker: `console`, `process`, `setTimeout`, ...), is
 * `arguments` of a non-arrow function, or names a helper that tsc or esbuild emit into function
 * bodies (`__name`, `__awaiter`, ...). Anything else, and a lexical `this` of an arrow function,
 * is a free variable: its value lives in the sender's heap, so the function is refused with a
 * reason that names the variable and the fix. So are native and bound functions (no source),
 * classes, methods that use `super`, private members or a computed name, and `import.meta`.
 *
 * `compileSource` is the receiving side: it compiles the source once per thread (cached by text
 * or by the caller's hash) in a scope that defines the transpiler helpers. It compiles in strict
 * mode, as ES modules and class bodies are, and falls back to sloppy mode for source that only
 * parses there (`with`, legacy octal literals).
 */
import { parse, type Options, type Program } from 'acorn';
import { analyze, type Scope } from 'periscopic';

export interface SourceAnalysis {
  /** Source that evaluates to the function when compiled as an expression: `(${source})`. */
  readonly source: string;
  /** Free variables the function reads that are not globals nor known transpiler helpers. */
  readonly freeVariables: readonly string[];
  /** Why it cannot be shipped, or undefined when it can: native code, `this` in an arrow, free variables, unparsable source. */
  readonly reason?: string;
}

// ---------------------------------------------------------------------------------------------
// Transpiler helpers
// ---------------------------------------------------------------------------------------------

/**
 * The standard helpers, as tsc (5.x, without importHelpers) and esbuild (keepNames, lowered
 * syntax) emit them at the top of a module. A function body compiled by either refers to them by
 * name, so the receiving scope must define them.
 */
const HELPERS_JS = String.raw`
var __defProp = Object.defineProperty;
var __defProps = Object.defineProperties;
var __getOwnPropDescs = Object.getOwnPropertyDescriptors;
var __getOwnPropSymbols = Object.getOwnPropertySymbols;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __propIsEnum = Object.prototype.propertyIsEnumerable;
var __defNormalProp = (obj, key, value) => key in obj ? __defProp(obj, key, { enumerable: true, configurable: true, writable: true, value }) : obj[key] = value;
var __name = (target, value) => __defProp(target, "name", { value, configurable: true });
var __publicField = (obj, key, value) => __defNormalProp(obj, typeof key !== "symbol" ? key + "" : key, value);
var __spreadValues = (a, b) => {
  for (var prop in b || (b = {}))
    if (__hasOwnProp.call(b, prop)) __defNormalProp(a, prop, b[prop]);
  if (__getOwnPropSymbols)
    for (var prop of __getOwnPropSymbols(b))
      if (__propIsEnum.call(b, prop)) __defNormalProp(a, prop, b[prop]);
  return a;
};
var __spreadProps = (a, b) => __defProps(a, __getOwnPropDescs(b));
var __objRest = (source, exclude) => {
  var target = {};
  for (var prop in source)
    if (__hasOwnProp.call(source, prop) && exclude.indexOf(prop) < 0) target[prop] = source[prop];
  if (source != null && __getOwnPropSymbols)
    for (var prop of __getOwnPropSymbols(source))
      if (exclude.indexOf(prop) < 0 && __propIsEnum.call(source, prop)) target[prop] = source[prop];
  return target;
};
var __async = (__this, __arguments, generator) => new Promise((resolve, reject) => {
  var fulfilled = (value) => { try { step(generator.next(value)); } catch (e) { reject(e); } };
  var rejected = (value) => { try { step(generator.throw(value)); } catch (e) { reject(e); } };
  var step = (x) => x.done ? resolve(x.value) : Promise.resolve(x.value).then(fulfilled, rejected);
  step((generator = generator.apply(__this, __arguments)).next());
});
var __assign = Object.assign || function (t) {
  for (var s, i = 1, n = arguments.length; i < n; i++) {
    s = arguments[i];
    for (var p in s) if (Object.prototype.hasOwnProperty.call(s, p)) t[p] = s[p];
  }
  return t;
};
var __rest = function (s, e) {
  var t = {};
  for (var p in s) if (Object.prototype.hasOwnProperty.call(s, p) && e.indexOf(p) < 0) t[p] = s[p];
  if (s != null && typeof Object.getOwnPropertySymbols === "function")
    for (var i = 0, p = Object.getOwnPropertySymbols(s); i < p.length; i++)
      if (e.indexOf(p[i]) < 0 && Object.prototype.propertyIsEnumerable.call(s, p[i])) t[p[i]] = s[p[i]];
  return t;
};
var __spreadArray = function (to, from, pack) {
  if (pack || arguments.length === 2) for (var i = 0, l = from.length, ar; i < l; i++) {
    if (ar || !(i in from)) {
      if (!ar) ar = Array.prototype.slice.call(from, 0, i);
      ar[i] = from[i];
    }
  }
  return to.concat(ar || Array.prototype.slice.call(from));
};
var __values = function (o) {
  var s = typeof Symbol === "function" && Symbol.iterator, m = s && o[s], i = 0;
  if (m) return m.call(o);
  if (o && typeof o.length === "number") return {
    next: function () {
      if (o && i >= o.length) o = void 0;
      return { value: o && o[i++], done: !o };
    }
  };
  throw new TypeError(s ? "Object is not iterable." : "Symbol.iterator is not defined.");
};
var __read = function (o, n) {
  var m = typeof Symbol === "function" && o[Symbol.iterator];
  if (!m) return o;
  var i = m.call(o), r, ar = [], e;
  try { while ((n === void 0 || n-- > 0) && !(r = i.next()).done) ar.push(r.value); }
  catch (error) { e = { error: error }; }
  finally {
    try { if (r && !r.done && (m = i["return"])) m.call(i); }
    finally { if (e) throw e.error; }
  }
  return ar;
};
var __awaiter = function (thisArg, _arguments, P, generator) {
  function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
  return new (P || (P = Promise))(function (resolve, reject) {
    function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
    function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
    function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
    step((generator = generator.apply(thisArg, _arguments || [])).next());
  });
};
var __generator = function (thisArg, body) {
  var _ = { label: 0, sent: function () { if (t[0] & 1) throw t[1]; return t[1]; }, trys: [], ops: [] }, f, y, t, g = Object.create((typeof Iterator === "function" ? Iterator : Object).prototype);
  return g.next = verb(0), g["throw"] = verb(1), g["return"] = verb(2), typeof Symbol === "function" && (g[Symbol.iterator] = function () { return this; }), g;
  function verb(n) { return function (v) { return step([n, v]); }; }
  function step(op) {
    if (f) throw new TypeError("Generator is already executing.");
    while (g && (g = 0, op[0] && (_ = 0)), _) try {
      if (f = 1, y && (t = op[0] & 2 ? y["return"] : op[0] ? y["throw"] || ((t = y["return"]) && t.call(y), 0) : y.next) && !(t = t.call(y, op[1])).done) return t;
      if (y = 0, t) op = [op[0] & 2, t.value];
      switch (op[0]) {
        case 0: case 1: t = op; break;
        case 4: _.label++; return { value: op[1], done: false };
        case 5: _.label++; y = op[1]; op = [0]; continue;
        case 7: op = _.ops.pop(); _.trys.pop(); continue;
        default:
          if (!(t = _.trys, t = t.length > 0 && t[t.length - 1]) && (op[0] === 6 || op[0] === 2)) { _ = 0; continue; }
          if (op[0] === 3 && (!t || (op[1] > t[0] && op[1] < t[3]))) { _.label = op[1]; break; }
          if (op[0] === 6 && _.label < t[1]) { _.label = t[1]; t = op; break; }
          if (t && _.label < t[2]) { _.label = t[2]; _.ops.push(op); break; }
          if (t[2]) _.ops.pop();
          _.trys.pop(); continue;
      }
      op = body.call(thisArg, _);
    } catch (e) { op = [6, e]; y = 0; } finally { f = t = 0; }
    if (op[0] & 5) throw op[1]; return { value: op[0] ? op[1] : void 0, done: true };
  }
};
`;

/** Names of the helpers tsc, esbuild and tsx emit inside function bodies; compiled source may use them. */
export const TRANSPILER_HELPERS: readonly string[] = Object.freeze(
  [...HELPERS_JS.matchAll(/^var (__\w+) =/gm)].map((m) => m[1]),
);

let helperValues: readonly unknown[] | undefined;

/** The helper implementations, in the order of TRANSPILER_HELPERS; evaluated once per thread. */
function helpers(): readonly unknown[] {
  helperValues ??= new Function(`${HELPERS_JS}\nreturn [${TRANSPILER_HELPERS.join(', ')}];`)() as unknown[];
  return helperValues;
}

// ---------------------------------------------------------------------------------------------
// Compiling on the receiving side
// ---------------------------------------------------------------------------------------------

const COMPILED_LIMIT = 2048;
const compiled = new Map<string, Function>();

/**
 * Compile shipped source on the receiving side; cached by source text (or by a hash the caller
 * passes as `key`), so each distinct function is compiled once per thread.
 */
export function compileSource(source: string, key: string = source): Function {
  const hit = compiled.get(key);
  if (hit !== undefined) return hit;
  const fn = compileUncached(source);
  if (compiled.size >= COMPILED_LIMIT) compiled.delete(compiled.keys().next().value as string);
  compiled.set(key, fn);
  return fn;
}

function compileUncached(source: string): Function {
  const body = `return (${source}\n);`;
  let factory: Function;
  try {
    factory = new Function(...TRANSPILER_HELPERS, `'use strict';\n${body}`);
  } catch (strictError) {
    if (!(strictError instanceof SyntaxError)) throw strictError;
    factory = new Function(...TRANSPILER_HELPERS, body);
  }
  const fn: unknown = factory(...helpers());
  if (typeof fn !== 'function') throw new TypeError(`shipped source did not evaluate to a function: ${source.slice(0, 80)}`);
  return fn;
}

// ---------------------------------------------------------------------------------------------
// Analysis on the sending side
// ---------------------------------------------------------------------------------------------

/** Globals every worker thread or process has, even when this thread lacks some of them. */
const WORKER_GLOBALS: ReadonlySet<string> = new Set([
  'globalThis', 'self', 'console', 'process', 'Buffer', 'structuredClone', 'queueMicrotask',
  'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate',
  'performance', 'crypto', 'fetch', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder',
  'AbortController', 'AbortSignal', 'Event', 'EventTarget', 'MessageChannel', 'MessagePort',
  'BroadcastChannel', 'Blob', 'atob', 'btoa', 'WebAssembly', 'SharedArrayBuffer', 'Atomics',
]);

const HELPER_SET: ReadonlySet<string> = new Set(TRANSPILER_HELPERS);

function isAllowedGlobal(name: string): boolean {
  return WORKER_GLOBALS.has(name) || HELPER_SET.has(name) || name in globalThis;
}

const analyses = new WeakMap<Function, SourceAnalysis>();

/** Whether `fn` can travel as source, and the source to ship. Cached per function. */
export function analyzeFunction(fn: Function): SourceAnalysis {
  let a = analyses.get(fn);
  if (a === undefined) {
    a = analyzeUncached(fn);
    analyses.set(fn, a);
  }
  return a;
}

function analyzeUncached(fn: Function): SourceAnalysis {
  const text = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(text)) return refused(text, nativeReason(fn));
  const located = locate(text);
  if ('reason' in located) {
    const fix = located.fix === undefined ? '' : `${located.fix}, or `;
    return refused(text, `${describe(fn)} ${located.reason}; ${fix}${registerHint(fn)}`);
  }
  const { free, problems } = resolveReferences(located.program, located.root);
  if (problems.length > 0) return refused(located.source, `${describe(fn)} ${problems[0]}; ${registerHint(fn)}`, free);
  if (free.length > 0) return refused(located.source, freeReason(fn, free), free);
  return { source: located.source, freeVariables: [] };
}

function refused(source: string, reason: string, freeVariables: readonly string[] = []): SourceAnalysis {
  return { source, freeVariables, reason };
}

// --- locating the function in its source --------------------------------------------------------

/** Minimal view of an ESTree node for walking. */
interface AnyNode {
  readonly type: string;
  readonly start: number;
  readonly [field: string]: unknown;
}

type Located =
  | { readonly program: Program; readonly root: AnyNode; readonly source: string }
  | { readonly reason: string; readonly fix?: string };

const FUNCTION_TYPES = new Set(['FunctionExpression', 'ArrowFunctionExpression']);

/**
 * Finds the function in its `toString` text: an expression (arrow, function, class) as is, or a
 * method shorthand (`inc(x) {...}`, `async *g() {...}`, `get size() {...}`) wrapped in an object
 * literal and taken back out by name.
 */
function locate(text: string): Located {
  const asExpression = tryParse(`(${text}\n)`);
  if (asExpression instanceof Error) {
    if (/^(?:(?:async|get|set)\s+)?(?:\*\s*)?#/.test(text)) return { reason: 'is a private method of a class, which cannot be recreated from its source' };
    return locateMethod(text, asExpression);
  }
  const expr = singleExpression(asExpression);
  if (expr?.type === 'ClassExpression') return { reason: 'is a class; classes cannot be shipped as source' };
  if (expr === undefined || !FUNCTION_TYPES.has(expr.type)) return { reason: 'has source that is not a function expression' };
  return { program: asExpression, root: expr, source: text };
}

function locateMethod(text: string, firstError: Error): Located {
  const asObject = tryParse(`({${text}\n})`);
  const obj = asObject instanceof Error ? undefined : singleExpression(asObject);
  const props = obj?.type === 'ObjectExpression' ? (obj.properties as AnyNode[]) : [];
  const prop = props.length === 1 ? props[0] : undefined;
  const value = prop?.value as AnyNode | undefined;
  if (prop === undefined || prop.type !== 'Property' || value?.type !== 'FunctionExpression' || !(prop.method || prop.kind !== 'init')) {
    return { reason: `has source that could not be parsed (${firstError.message})` };
  }
  if (prop.computed) {
    const key = prop.key as AnyNode;
    const name = `[${text.slice(key.start - 2, Number(key.end) - 2)}]`; // offsets in `({${text}`
    return { reason: `is a method with a computed name (${name}), which cannot be recreated from its source`, fix: 'write it as a function expression or an arrow function' };
  }
  const key = prop.key as AnyNode;
  const name = key.type === 'Identifier' ? String(key.name) : String(key.value);
  const object = `{ ${text}\n}`;
  const source = prop.kind === 'init'
    ? (key.type === 'Identifier' ? `(${object}).${name}` : `(${object})[${JSON.stringify(name)}]`)
    : `Object.getOwnPropertyDescriptor(${object}, ${JSON.stringify(name)}).${String(prop.kind)}`;
  return { program: asObject as Program, root: value, source };
}

const PARSE_OPTIONS: Options = { ecmaVersion: 'latest', allowSuperOutsideMethod: true, checkPrivateFields: false };

/** Parses as a script (sloppy functions), then as a module (`import.meta`); the first error otherwise. */
function tryParse(code: string): Program | Error {
  try {
    return parse(code, { ...PARSE_OPTIONS, sourceType: 'script' });
  } catch (scriptError) {
    try {
      return parse(code, { ...PARSE_OPTIONS, sourceType: 'module' });
    } catch {
      return scriptError instanceof Error ? scriptError : new Error(String(scriptError));
    }
  }
}

function singleExpression(program: Program): AnyNode | undefined {
  const [stmt, ...rest] = program.body;
  return rest.length === 0 && stmt?.type === 'ExpressionStatement' ? (stmt.expression as unknown as AnyNode) : undefined;
}

// --- resolving references -----------------------------------------------------------------------

/** What is in scope at a node while walking. */
interface Frame {
  readonly scope: Scope;
  /** Inside a non-arrow function or a class member: `this` is its own. */
  readonly thisBound: boolean;
  /** Inside a non-arrow function: `arguments` is its own. */
  readonly argumentsBound: boolean;
  /** Inside a method of an object or class written in the function: `super` is its own. */
  readonly superBound: boolean;
  /** Names of enclosing class expressions (`class Named {...}` binds Named inside itself only). */
  readonly classNames: readonly string[];
  /** Private names (`#x`) declared by enclosing classes written in the function. */
  readonly privateNames: readonly string[];
}

interface Walk {
  readonly scopes: WeakMap<object, Scope>;
  readonly root: AnyNode;
  /** Free names and where each first occurs. */
  readonly free: Map<string, number>;
  readonly problems: string[];
}

/** The free variables of the function at `root` (in source order), and other reasons to refuse it. */
function resolveReferences(program: Program, root: AnyNode): { free: string[]; problems: string[] } {
  const { map, scope } = analyze(program as unknown as Parameters<typeof analyze>[0]);
  const walk: Walk = { scopes: map, root, free: new Map(), problems: [] };
  const frame: Frame = { scope, thisBound: false, argumentsBound: false, superBound: false, classNames: [], privateNames: [] };
  visit(program as unknown as AnyNode, null, frame, walk);
  const free = [...walk.free].sort((a, b) => a[1] - b[1]).map(([name]) => name);
  return { free, problems: walk.problems };
}

function visit(node: AnyNode, parent: AnyNode | null, outer: Frame, walk: Walk): void {
  const scope = walk.scopes.get(node);
  const frame = enter(node, parent, scope ? { ...outer, scope } : outer, walk);
  if (frame === undefined) return;
  for (const key of Object.keys(node)) {
    if (key === 'type' || key === 'start' || key === 'end' || key === 'loc' || key === 'range') continue;
    const child = node[key];
    const childFrame = memberFrame(node, key, frame);
    if (Array.isArray(child)) {
      for (const c of child) if (isNode(c)) visit(c, node, childFrame, walk);
    } else if (isNode(child)) {
      visit(child, node, childFrame, walk);
    }
  }
}

function isNode(x: unknown): x is AnyNode {
  return typeof x === 'object' && x !== null && typeof (x as { type?: unknown }).type === 'string';
}

/** Checks a leaf node (returns undefined: no children to walk), or the frame for a node's children. */
function enter(node: AnyNode, parent: AnyNode | null, frame: Frame, walk: Walk): Frame | undefined {
  switch (node.type) {
    case 'Identifier':
      if (parent !== null && isReference(node, parent)) resolveName(String(node.name), node.start, frame, walk);
      return undefined;
    case 'ThisExpression':
      if (!frame.thisBound) noteFree(walk, 'this', node.start);
      return undefined;
    case 'Super':
      if (!frame.superBound) walk.problems.push("uses 'super', which refers to the class or object it was defined in");
      return undefined;
    case 'MetaProperty':
      if ((node.meta as AnyNode).name === 'import') walk.problems.push('reads import.meta of the module it was defined in');
      return undefined;
    case 'PrivateIdentifier':
      if (!frame.privateNames.includes(String(node.name))) walk.problems.push(`uses the private member '#${String(node.name)}' of its class`);
      return undefined;
    case 'FunctionExpression':
    case 'FunctionDeclaration': {
      const superBound = node !== walk.root && parent !== null && isMethodOwner(parent) ? true : frame.superBound;
      return { ...frame, thisBound: true, argumentsBound: true, superBound };
    }
    case 'ClassExpression':
      return node.id ? { ...frame, classNames: [...frame.classNames, String((node.id as AnyNode).name)] } : frame;
    case 'ClassBody':
      return { ...frame, privateNames: [...frame.privateNames, ...privateNamesOf(node)] };
    default:
      return frame;
  }
}

/** Field initialisers and static blocks of a class see the instance (or class) as `this`. */
function memberFrame(node: AnyNode, key: string, frame: Frame): Frame {
  const isMember = (node.type === 'PropertyDefinition' && key === 'value') || node.type === 'StaticBlock';
  return isMember ? { ...frame, thisBound: true, superBound: true } : frame;
}

/** A method of a class or object literal: its function has a home object for `super`. */
function isMethodOwner(parent: AnyNode): boolean {
  return parent.type === 'MethodDefinition' || (parent.type === 'Property' && (parent.method === true || parent.kind !== 'init'));
}

function privateNamesOf(classBody: AnyNode): string[] {
  const names: string[] = [];
  for (const member of classBody.body as AnyNode[]) {
    const key = member.key as AnyNode | undefined;
    if (key?.type === 'PrivateIdentifier') names.push(String(key.name));
  }
  return names;
}

function resolveName(name: string, start: number, frame: Frame, walk: Walk): void {
  if (frame.scope.find_owner(name) !== null || frame.classNames.includes(name)) return;
  if (name === 'arguments') {
    if (!frame.argumentsBound) noteFree(walk, name, start);
    return;
  }
  if (!isAllowedGlobal(name)) noteFree(walk, name, start);
}

function noteFree(walk: Walk, name: string, start: number): void {
  if (!walk.free.has(name)) walk.free.set(name, start);
}

/**
 * Whether an identifier is read as a variable (is-reference's rules): not a property name in
 * `a.b`, `{ b: 1 }` or `class { b() {} }`, not `meta` of `import.meta`, not a label. Binding
 * positions count as references; they resolve to their own declaration.
 */
function isReference(node: AnyNode, parent: AnyNode): boolean {
  switch (parent.type) {
    case 'MemberExpression':
      return parent.computed === true || node === parent.object;
    case 'MethodDefinition':
      return parent.computed === true;
    case 'MetaProperty':
      return false;
    case 'PropertyDefinition':
    case 'Property':
      return parent.computed === true || node === parent.value;
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
      return false;
    default:
      return true;
  }
}

// --- reasons -----------------------------------------------------------------------------------

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function describe(fn: Function): string {
  // A bound anonymous function is named 'bound '.
  return /^(?:bound )*$/.test(fn.name) ? 'an anonymous function' : `function '${fn.name}'`;
}

/** The fix that always works: a module export, registered by name. */
function registerHint(fn: Function): string {
  const name = fn.name.replace(/^(?:bound )+/, '');
  const binding = IDENTIFIER.test(name) ? name : 'fn';
  return `export the function from a module and register it with registerModule(import.meta.url, { ${binding} })`;
}

function nativeReason(fn: Function): string {
  if (/^bound /.test(fn.name)) {
    return `${describe(fn)} is a bound function, whose target and bound values are not part of its source; `
      + `call the target from a self-contained function that takes the bound values as arguments, or ${registerHint(fn)}`;
  }
  return `${describe(fn)} is native code, which has no source to ship; `
    + `call it from a self-contained function (such as (...args) => Math.max(...args) for a built-in), or ${registerHint(fn)}`;
}

/** `a`, `a and b`, `a, b and c`. */
function joinList(items: readonly string[]): string {
  return items.length === 1 ? items[0] : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function freeReason(fn: Function, free: readonly string[]): string {
  const variables = free.filter((n) => n !== 'this');
  const parts: string[] = [];
  if (free.includes('this')) parts.push("'this'");
  if (variables.length > 0) parts.push(`${variables.length === 1 ? 'the variable' : 'the variables'} ${joinList(variables.map((n) => `'${n}'`))}`);
  const arrow = free.includes('this') ? ' (an arrow function has no this of its own)' : '';
  const passed = free.map((n) => (n === 'this' ? 'the value of this' : `'${n}'`));
  const pass = passed.length === 1 ? `pass ${passed[0]} as an argument` : `pass ${joinList(passed)} as arguments`;
  return `${describe(fn)} reads ${parts.join(' and ')} from its enclosing scope${arrow}, which cannot travel to another thread; `
    + `${pass}, or ${registerHint(fn)}`;
}
