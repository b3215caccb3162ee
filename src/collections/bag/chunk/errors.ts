/**
 * The error a user function raises inside a bag kernel, rebuilt so that it names where it
 * happened: the operation, the partition, and (when one element was being processed) the
 * element's index and a short preview of its value. The original error is the `cause` on the
 * thread that ran it; its name and message are also in this error's message, because only the
 * message and stack cross back from a pool thread.
 */

export class BagFunctionError extends Error {
  override name = 'BagFunctionError';
  constructor(
    /** The bag operation, such as 'map' or 'foldby'. */
    readonly op: string,
    /** The partition being processed; undefined in a step that combines partitions. */
    readonly partition: number | undefined,
    /** The element's index within its partition, when one element was being processed. */
    readonly element: number | undefined,
    message: string,
    cause: unknown,
  ) {
    super(message, { cause });
  }
}

/** Rethrows `e`, raised by a user function, as a BagFunctionError naming where it happened. */
export function fail(op: string, fn: unknown, partition: number | undefined, index: number | undefined, value: unknown, e: unknown): never {
  if (e instanceof BagFunctionError) throw e;
  const where =
    partition === undefined
      ? 'while combining partitions'
      : index === undefined
        ? `on partition ${partition}`
        : `on partition ${partition}, element ${index} (value: ${preview(value)})`;
  throw new BagFunctionError(op, partition, index, `${op}: ${describe(fn)} threw ${where}: ${errorText(e)}`, e);
}

/** Throws a BagFunctionError that has no user error behind it (bad data in a partition). */
export function badElement(op: string, partition: number, index: number, value: unknown, what: string): never {
  throw new BagFunctionError(op, partition, index, `${op}: partition ${partition}, element ${index} (value: ${preview(value)}) ${what}`, undefined);
}

function describe(fn: unknown): string {
  if (typeof fn !== 'function') return 'the key';
  return fn.name ? `the function '${fn.name}'` : 'the function';
}

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `a non-Error value was thrown: ${safeString(e)}`;
}

const PREVIEW_CHARS = 60;

/** A short, one-line JSON-like preview of a value for error messages. */
export function preview(x: unknown): string {
  let s: string;
  try {
    if (x === undefined) s = 'undefined';
    else if (typeof x === 'bigint') s = `${x}n`;
    else if (typeof x === 'function') s = `[function ${x.name || 'anonymous'}]`;
    else if (typeof x === 'number' && !Number.isFinite(x)) s = String(x);
    else if (x instanceof Map) s = `Map(${x.size}) ${JSON.stringify([...x])}`;
    else if (x instanceof Set) s = `Set(${x.size}) ${JSON.stringify([...x])}`;
    else s = JSON.stringify(x) ?? safeString(x);
  } catch {
    s = safeString(x);
  }
  return s.length > PREVIEW_CHARS ? s.slice(0, PREVIEW_CHARS - 1) + '…' : s;
}

function safeString(x: unknown): string {
  try {
    return String(x);
  } catch {
    return Object.prototype.toString.call(x);
  }
}
