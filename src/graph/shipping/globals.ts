/**
 * Built-in functions reachable from `globalThis` by a path (`Math.max`, `JSON.stringify`,
 * `parseInt`, `Array.prototype.map`). They have no source to ship or hash, but every JavaScript
 * thread and process has them, so they travel, and tokenize, as their path.
 */
// Scanned for statics and, where they are constructors, prototype methods too.
const NAMESPACES = [
  'Math', 'JSON', 'Number', 'String', 'Object', 'Array', 'Reflect', 'Atomics', 'Date', 'Promise',
  'Boolean', 'BigInt', 'Symbol', 'Function', 'RegExp', 'Map', 'Set', 'Error',
];

let builtins: Map<Function, string> | undefined;

/** The path of a built-in function, such as 'Math.max', or undefined. */
export function builtinPath(fn: Function): string | undefined {
  builtins ??= scanBuiltins();
  return builtins.get(fn);
}

function scanBuiltins(): Map<Function, string> {
  const table = new Map<Function, string>();
  const g = globalThis as unknown as Record<string, unknown>;
  addFunctions(table, globalThis, '');
  for (const ns of NAMESPACES) {
    const obj = g[ns];
    if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function')) continue;
    addFunctions(table, obj, ns + '.');
    const proto: unknown = typeof obj === 'function' ? obj.prototype : undefined;
    if (proto !== null && typeof proto === 'object') addFunctions(table, proto, ns + '.prototype.');
  }
  return table;
}

/** Adds the function-valued data properties of `obj`; an alias keeps its shortest, then smallest, path. */
function addFunctions(table: Map<Function, string>, obj: object, prefix: string): void {
  for (const name of Object.getOwnPropertyNames(obj)) {
    const value: unknown = Object.getOwnPropertyDescriptor(obj, name)?.value; // never run getters
    if (typeof value !== 'function') continue;
    const path = prefix + name;
    const old = table.get(value);
    if (old === undefined || path.length < old.length || (path.length === old.length && path < old)) {
      table.set(value, path);
    }
  }
}

/** The built-in function at a path produced by `builtinPath`. */
export function builtinAt(path: string): Function {
  let v: unknown = globalThis;
  for (const part of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
  if (typeof v !== 'function') throw new Error(`no built-in function at '${path}' on this thread`);
  return v;
}
