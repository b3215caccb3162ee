/**
 * The message a pool thread receives: a batch of tasks with their inputs filled in.
 *
 * A task travels as a tree of small arrays:
 *
 * - `[0, value]`: a value, passed as is;
 * - `[1, f, ...args]`: a call of the batch's function number f on the evaluated args;
 * - `[2, ...items]`: a list of the evaluated items;
 * - `[3, f]`: function number f passed as a value (to a higher-order kernel such as a bag's map);
 * - `[4, key]`: the value of dependency `key`, looked up in the batch's `data`. The distributed
 *   run spec (src/distributed/client/run-spec.ts) names dependencies this way, since the client
 *   that builds it does not have their values; the local threads scheduler fills values in as
 *   `[0, value]` and never uses this kind.
 *
 * Functions travel once per batch as FnRefs.
 */
import type { FnRef } from '../graph/shipping/registry.js';
import type { Key } from '../graph/spec.js';
import type { ErrorInfo } from './errors.js';

export type Wire =
  | readonly [0, unknown]
  | readonly [1, number, ...Wire[]]
  | readonly [2, ...Wire[]]
  | readonly [3, number]
  | readonly [4, Key];

export const VALUE = 0;
export const CALL = 1;
export const LIST = 2;
export const FUNCTION = 3;
export const DEPENDENCY = 4;

export interface Batch {
  readonly fns: readonly FnRef[];
  readonly tasks: readonly Wire[];
  /** Whether any value in `tasks` or `data` was tagged by transfer.encode. */
  readonly tagged: boolean;
  /** Values of the keys that `[4, key]` nodes name (the distributed worker; local gets leave it out). */
  readonly data?: Readonly<Record<Key, unknown>>;
}

export interface BatchResult {
  /** Results of the tasks that ran, in order (all of them unless `error` is set). */
  readonly values: unknown[];
  readonly tagged: boolean;
  /** Run time of each task in milliseconds, measured on the thread. */
  readonly durations: number[];
  /** When each task started, in milliseconds since the epoch (`performance.timeOrigin + now()`). */
  readonly starts?: number[];
  /** The first task that threw: its position in the batch and the error. */
  readonly error?: { readonly index: number; readonly info: ErrorInfo };
}

/**
 * Evaluates a wire tree: `fns` are the batch's resolved functions, `data` the values of the
 * dependencies `[4, key]` names. When an argument is a Promise (an async nested task) the call
 * waits for its arguments and the result is a Promise.
 */
export function runWire(w: Wire, fns: readonly Function[], data?: Readonly<Record<Key, unknown>>): unknown {
  switch (w[0]) {
    case VALUE:
      return w[1];
    case CALL: {
      const fn = fns[w[1]];
      const args = runAll(w, 2, fns, data);
      return args instanceof Promise ? args.then((a) => fn(...a)) : fn(...args);
    }
    case LIST:
      return runAll(w, 1, fns, data);
    case FUNCTION:
      return fns[w[1]];
    case DEPENDENCY: {
      const key = w[1];
      if (data === undefined || !Object.hasOwn(data, key)) {
        throw new Error(`the value of dependency '${String(key)}' was not given to this task`);
      }
      return data[key];
    }
    default:
      throw new Error(`malformed task: unknown node kind ${JSON.stringify((w as readonly unknown[])[0])}`);
  }
}

function runAll(w: readonly unknown[], from: number, fns: readonly Function[], data: Readonly<Record<Key, unknown>> | undefined): unknown[] | Promise<unknown[]> {
  const out = new Array<unknown>(w.length - from);
  let pending = false;
  for (let j = from; j < w.length; j++) {
    const v = runWire(w[j] as Wire, fns, data);
    if (v instanceof Promise) pending = true;
    out[j - from] = v;
  }
  return pending ? Promise.all(out) : out;
}
