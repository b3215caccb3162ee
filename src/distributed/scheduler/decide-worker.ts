/**
 * Which worker should run a ready task: the manual's rules ("Journey of a Task", step 3, and the
 * `decide_worker` doctests), in order:
 *
 * 1. Only workers the task may run on: with `workers=` restrictions, those whose address, host or
 *    name is listed; if none is connected, all workers when `allowOtherWorkers`, else none (the
 *    task waits in `no-worker`).
 * 2. Among those, the workers already holding any dependency; all of them when none does.
 * 3. The fewest bytes to move: the sum of `nbytes` of the dependencies the worker lacks (a default
 *    size for dependencies whose size is unknown).
 * 4. Then the least busy: occupancy (expected seconds of assigned work) per thread.
 * 5. Then the one registered first, so that the choice is deterministic.
 */
import type { Address } from '../messages.js';
import type { TaskState, WorkerState } from './model.js';

/** A `workers=` entry as given (`tcp://host:port`, `host:port`, `host` or a name) in the form we match. */
export function normalizeRestriction(entry: string): string {
  const i = entry.indexOf('://');
  return i >= 0 ? entry.slice(i + 3) : entry;
}

export function workerMatches(ws: WorkerState, entry: string): boolean {
  return entry === ws.address || entry === ws.host || entry === ws.name;
}

/** The workers a task may run on by its restrictions; undefined when it has none. */
export function restrictedWorkers(ts: TaskState, workers: Iterable<WorkerState>): WorkerState[] | undefined {
  const r = ts.restrictions;
  if (r === undefined) return undefined;
  const out: WorkerState[] = [];
  for (const ws of workers) {
    for (const entry of r) {
      if (workerMatches(ws, entry)) {
        out.push(ws);
        break;
      }
    }
  }
  return out;
}

/** Why `ts` (in no-worker) has no worker, in words a user can act on. */
export function unrunnableReason(ts: TaskState, workers: ReadonlyMap<Address, WorkerState>): string {
  if (workers.size === 0) return 'no worker is connected';
  if (ts.restrictions !== undefined && restrictedWorkers(ts, workers.values())!.length === 0) {
    return `no connected worker matches workers=${JSON.stringify([...ts.restrictions])}` +
      (ts.looseRestrictions ? '' : ' (and allowOtherWorkers is false)');
  }
  return 'no worker can run it';
}

export function decideWorker(
  ts: TaskState,
  workers: ReadonlyMap<Address, WorkerState>,
  defaultNbytes: number,
): WorkerState | undefined {
  if (workers.size === 0) return undefined;
  let allowed: Iterable<WorkerState> = workers.values();
  let restricted: Set<WorkerState> | undefined;
  const valid = restrictedWorkers(ts, workers.values());
  if (valid !== undefined) {
    if (valid.length > 0) {
      allowed = valid;
      restricted = new Set(valid);
    } else if (!ts.looseRestrictions) {
      return undefined;
    }
  }
  const holders = new Set<WorkerState>();
  for (const dep of ts.dependencies) {
    for (const ws of dep.whoHas) if (restricted === undefined || restricted.has(ws)) holders.add(ws);
  }
  const candidates = holders.size > 0 ? holders : allowed;
  let best: WorkerState | undefined;
  let bestBytes = 0;
  let bestLoad = 0;
  for (const ws of candidates) {
    const bytes = bytesToMove(ts, ws, defaultNbytes);
    const load = ws.occupancy / ws.nthreads;
    if (
      best === undefined ||
      bytes < bestBytes ||
      (bytes === bestBytes && (load < bestLoad || (load === bestLoad && ws.seq < best.seq)))
    ) {
      best = ws;
      bestBytes = bytes;
      bestLoad = load;
    }
  }
  return best;
}

/** Bytes `ws` would have to fetch to run `ts`. */
export function bytesToMove(ts: TaskState, ws: WorkerState, defaultNbytes: number): number {
  let bytes = 0;
  for (const dep of ts.dependencies) {
    if (!dep.whoHas.has(ws)) bytes += dep.nbytes >= 0 ? dep.nbytes : defaultNbytes;
  }
  return bytes;
}
