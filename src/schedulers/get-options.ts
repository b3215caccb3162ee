/** The options every get accepts, validated at the boundary with precise errors. */
import type { Graph, KeyNest } from '../graph/spec.js';

export interface GetOptions {
  /** Cancels the computation: the get rejects with the signal's reason; running threads stop. */
  readonly signal?: AbortSignal;
  /** Threads in the pool (threads scheduler); default: the number of cores. */
  readonly numWorkers?: number;
  /**
   * What the threads scheduler does with a task whose function cannot be shipped to another
   * thread (a closure): run it on the main thread with a one-time warning (default), or refuse.
   */
  readonly unshippable?: 'main-thread' | 'error';
  /** Called once per finished task, for progress bars and tests. */
  readonly onTaskFinished?: (key: string) => void;
}

/** One signature for every get: local sync, local threads, a distributed client's. */
export type GetFn = (graph: Graph, keys: KeyNest, options?: GetOptions) => Promise<unknown>;

const KNOWN = new Set(['signal', 'numWorkers', 'unshippable', 'onTaskFinished']);

export function validateGetOptions(opts: unknown, where: string, extra: readonly string[] = []): GetOptions {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`${where}: options must be an object, got ${opts === null ? 'null' : typeof opts}`);
  }
  for (const k of Object.keys(opts)) {
    if (!KNOWN.has(k) && !extra.includes(k)) {
      throw new TypeError(`${where}: unknown option '${k}'; known options are ${[...KNOWN, ...extra].join(', ')}`);
    }
  }
  const o = opts as GetOptions;
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new TypeError(`${where}: 'signal' must be an AbortSignal`);
  }
  if (o.numWorkers !== undefined && !(Number.isInteger(o.numWorkers) && o.numWorkers >= 1)) {
    throw new TypeError(`${where}: 'numWorkers' must be a positive integer, got ${String(o.numWorkers)}`);
  }
  if (o.unshippable !== undefined && o.unshippable !== 'main-thread' && o.unshippable !== 'error') {
    throw new TypeError(`${where}: 'unshippable' must be 'main-thread' or 'error', got ${String(o.unshippable)}`);
  }
  if (o.onTaskFinished !== undefined && typeof o.onTaskFinished !== 'function') {
    throw new TypeError(`${where}: 'onTaskFinished' must be a function`);
  }
  return o;
}
