/**
 * client.run(fn, ...args): call `fn` once on each worker (or each worker of
 * `client.with({ workers })`), outside the task system: no key, no task state on the scheduler or
 * the worker. Resolves to `{ [address]: value }`.
 *
 * Decisions:
 * - The client calls each worker's `run` RPC itself; dask asks the scheduler to broadcast. This
 *   client already talks to workers directly (results, scatter), and the scheduler then never waits
 *   on user code nor handles user values. The scheduler only says which workers there are.
 * - The function and its arguments travel as a task's do (run-spec.ts): a closure is refused here,
 *   before anything is sent, with the ShippingError naming the variable. Arguments are values;
 *   a Future among them is refused (gather it first), as dask does not resolve them either.
 * - On the worker the function runs on the worker's own event loop and sees the worker as `this`
 *   (`{ address, name, nthreads }`; worker/run-function.ts). An async function is awaited.
 * - A function that throws on some workers rejects with a RunError: `errors` holds what each of
 *   those workers threw (the worker's error, its stack included), `results` what the others
 *   returned (dask's `on_error='return'` is `{ ...err.results, ...err.errors }`). A worker that
 *   cannot be reached counts the same way. The workers go on serving.
 */
import { ShippingError } from '../../graph/shipping/errors.js';
import type { TaskFn } from '../../graph/spec.js';
import type { Address, RunOutcome } from '../messages.js';
import { serialize, Serialize, type Serialized } from '../protocol/index.js';
import { runSpecOfCall } from './run-spec.js';

/** The function failed (or could not be called) on some workers. */
export class RunError extends Error {
  override name = 'RunError';
  constructor(
    /** What the function returned on the workers where it did not fail. */
    readonly results: Record<Address, unknown>,
    /** What it threw, per worker. */
    readonly errors: Record<Address, Error>,
  ) {
    const failed = Object.entries(errors);
    const total = failed.length + Object.keys(results).length;
    const shown = failed.slice(0, 3).map(([w, e]) => `${w}: ${e.name}: ${e.message}`).join('; ');
    super(`Client.run: the function failed on ${failed.length} of ${total} workers: ${shown}${failed.length > 3 ? '; …' : ''}`);
  }
}

/** What client.run needs of its client. */
export interface RunIO {
  /** Addresses of the workers matching `names` (addresses, hosts or aliases), or of all. */
  workers(names: readonly string[] | undefined): Promise<Address[]>;
  call(address: Address, msg: { op: 'run'; run: Serialized }): Promise<RunOutcome>;
}

/** The request for `fn(...args)`, serialised now: whatever cannot travel is refused before anything is sent. */
export function runRequest(fn: unknown, args: readonly unknown[]): Serialized {
  if (typeof fn !== 'function') throw new TypeError(`Client.run: expected a function first, got ${fn === null ? 'null' : typeof fn}`);
  let input;
  try {
    input = runSpecOfCall(fn as TaskFn, args);
  } catch (e) {
    if (e instanceof ShippingError) throw new ShippingError(undefined, `Client.run: ${e.reason}`);
    throw e;
  }
  if (input.deps.length > 0) {
    throw new TypeError(`Client.run: arguments are passed as values, and the future '${input.deps[0]}' is among them; pass its value (await client.gather(...)) instead`);
  }
  try {
    return serialize((input.run as Serialize).value);
  } catch (e) {
    throw new TypeError(`Client.run: the arguments cannot be sent to the workers: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** Runs the request on the matching workers: `{ address: value }`, or a RunError. */
export async function runOnWorkers(run: Serialized, names: readonly string[] | undefined, io: RunIO): Promise<Record<Address, unknown>> {
  let workers: Address[];
  try {
    workers = await io.workers(names);
  } catch (e) {
    if (names === undefined || !(e instanceof Error)) throw e;
    // The scheduler's message, without the name of the query it answered.
    throw new Error(`Client.run: ${e.message.replace(/^[\w-]+: /, '')}`, { cause: e });
  }
  if (names !== undefined && workers.length === 0) {
    throw new Error(`Client.run: no connected worker matches workers=${JSON.stringify(names)} (addresses, host names or worker names)`);
  }
  const results: Record<Address, unknown> = {};
  const errors: Record<Address, Error> = {};
  await Promise.all(
    workers.map(async (w) => {
      try {
        const outcome = await io.call(w, { op: 'run', run });
        if ('error' in outcome) errors[w] = asError(outcome.error, outcome.traceback);
        else results[w] = outcome.value;
      } catch (e) {
        errors[w] = asError(e, undefined);
      }
    }),
  );
  if (Object.keys(errors).length > 0) throw new RunError(sorted(results), sorted(errors));
  return sorted(results);
}

function asError(e: unknown, traceback: string | undefined): Error {
  if (e instanceof Error) return e;
  const err = new Error(typeof e === 'string' ? e : JSON.stringify(e));
  if (traceback !== undefined) err.stack = traceback;
  return err;
}

/** Keyed in address order, so that printing the result is stable. */
function sorted<T>(r: Record<Address, T>): Record<Address, T> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
