/**
 * The synchronous get: every task runs on the calling thread, in priority order. It is the
 * reference for the others and the one to debug with (stacks are plain, breakpoints work).
 * Every few milliseconds it yields to the event loop so that an AbortSignal can fire.
 */
import { flattenKeys, packResults } from '../graph/keynest.js';
import { settle } from '../graph/lazy.js';
import { evaluate } from '../graph/normalize.js';
import type { Graph, KeyNest } from '../graph/spec.js';
import { abortError, TaskError } from './errors.js';
import { ExecutorState } from './executor.js';
import { validateGetOptions, type GetOptions } from './get-options.js';

const SLICE_MS = 10;

export async function getSync(graph: Graph, keys: KeyNest, options?: GetOptions): Promise<unknown> {
  const opts = validateGetOptions(options, 'getSync');
  const flat = flattenKeys(keys);
  const ex = new ExecutorState(graph, flat);
  await runSync(ex, opts);
  return packResults(keys, (k) => ex.result(k));
}

/** Runs every remaining task of `ex` on this thread. */
export async function runSync(ex: ExecutorState, opts: GetOptions): Promise<void> {
  const { nodes, keys } = ex.graph;
  const { signal, onTaskFinished } = opts;
  let sliceStart = performance.now();
  let count = 0;
  for (let i = ex.next(); i >= 0; i = ex.next()) {
    let value: unknown;
    try {
      value = evaluate(nodes[i], ex.results);
      if (value instanceof Promise) value = await untilAborted(value, signal);
      value = settle(value);
    } catch (e) {
      throw new TaskError(keys[i], e instanceof Error ? e : new Error(String(e)));
    }
    ex.finish(i, value);
    onTaskFinished?.(keys[i]);
    if ((++count & 255) === 0 && performance.now() - sliceStart > SLICE_MS) {
      await new Promise((r) => setImmediate(r));
      if (signal?.aborted) throw abortError(signal);
      sliceStart = performance.now();
    }
  }
  if (signal?.aborted) throw abortError(signal);
}

/** Waits for an async task, or rejects as soon as the signal aborts. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
