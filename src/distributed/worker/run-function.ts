/**
 * The worker's end of client.run: call one function here, outside the task system (no key, no
 * task state, no thread pool), and give back its value or what it threw.
 *
 * The call arrives as a run spec of one call (client/run-spec.ts, `runSpecOfCall`): the function
 * and any functions among the arguments travel as task functions do. It runs on the worker's own
 * event loop, as dask runs `Client.run` functions; an async function is awaited, and a long
 * synchronous one holds up the worker meanwhile. The function is called with `this` set to the
 * worker's `RunContext` (dask passes `dask_worker`); arrow functions do not see it.
 */
import { localRef, resolveFunction, type FnRef } from '../../graph/shipping/registry.js';
import { errorInfo, RemoteError } from '../../schedulers/errors.js';
import { runWire, type Wire } from '../../schedulers/wire.js';
import type { Address, RunOutcome } from '../messages.js';
import { Serialize, Serialized, deserialize, serialize } from '../protocol/index.js';

/** What a `run` function sees as `this`. */
export interface RunContext {
  /** 'host:port' */
  readonly address: Address;
  readonly name: string;
  readonly nthreads: number;
}

export async function runFunction(run: unknown, context: RunContext): Promise<RunOutcome> {
  let value: unknown;
  try {
    const { fns, task } = runSpec(run);
    const resolved = await Promise.all(fns.map((ref) => resolveFunction(localRef(ref))));
    const args = await Promise.all((task.slice(2) as Wire[]).map((w) => runWire(w, resolved)));
    value = await resolved[task[1] as number].apply(context, args);
  } catch (e) {
    return failed(e);
  }
  try {
    return { value: serialize(value) };
  } catch (e) {
    return failed(new TypeError(`the function's result could not be sent back from worker ${context.address}: ${e instanceof Error ? e.message : String(e)}`));
  }
}

function runSpec(run: unknown): { fns: readonly FnRef[]; task: Wire } {
  let spec = run;
  if (spec instanceof Serialized) spec = deserialize(spec);
  else if (spec instanceof Serialize) spec = spec.value;
  const s = spec as { fns?: unknown; task?: unknown } | null;
  const ok = s !== null && typeof s === 'object' && Array.isArray(s.fns) && Array.isArray(s.task) && s.task[0] === 1 && typeof s.task[1] === 'number';
  if (!ok || (s.task as unknown[])[1] as number >= (s.fns as unknown[]).length) {
    throw new TypeError("malformed 'run' request: expected the run spec of one call, { fns, task: [1, f, ...args] }");
  }
  return s as { fns: readonly FnRef[]; task: Wire };
}

/** The thrown value as it travels: itself when the protocol can carry it, else its name, message and stack. */
function failed(e: unknown): RunOutcome {
  let err: unknown = e instanceof Error ? e : new RemoteError(errorInfo(e));
  let error: Serialized;
  try {
    error = serialize(err);
  } catch {
    err = new RemoteError(errorInfo(e));
    error = serialize(err);
  }
  const stack = (err as Error).stack;
  return stack === undefined ? { error } : { error, traceback: stack };
}
