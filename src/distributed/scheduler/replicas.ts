/**
 * Copies made or dropped on purpose (replicate, rebalance): the state machine's side.
 *
 * - `acquire-replicas` asks workers to fetch copies (the worker message of the same name). The
 *   scheduler's bookkeeping does not change until a worker reports the copy with add-keys, so a
 *   copy that never arrives is never counted.
 * - `remove-replicas` drops copies at once in the bookkeeping and tells each worker with
 *   free-keys (which, for data in memory that no local task needs, releases it). A copy is kept,
 *   whatever the request says, when it is the key's last, or when a task assigned to that worker
 *   depends on it (the worker would have to fetch it back). The scheduler stops naming the worker
 *   as a holder in the same event, so no later compute-task sends a peer there for it.
 *
 * The read-only views below give the planners (replicate.ts, rebalance.ts) plain data.
 */
import type { Address, Key } from '../messages.js';
import type { SchedulerCore } from './core.js';
import type { SchedulerEvent } from './events.js';
import type { TaskState, WorkerState } from './model.js';
import type { KeyReplicas } from './replicate.js';

type EventOf<T extends SchedulerEvent['type']> = Extract<SchedulerEvent, { type: T }>;

export function acquireReplicas(core: SchedulerCore, e: EventOf<'acquire-replicas'>): void {
  for (const [address, wanted] of Object.entries(e.gathers)) {
    const ws = core.workers.get(address);
    if (ws === undefined) {
      core.note(`acquire-replicas for unknown worker ${address} ignored`);
      continue;
    }
    const whoHas: Record<Key, Address[]> = {};
    const nbytes: Record<Key, number> = {};
    for (const [key, sources] of Object.entries(wanted)) {
      const ts = core.tasks.get(key);
      if (ts === undefined || ts.state !== 'memory' || ts.whoHas.has(ws)) continue;
      // Sources that still hold it; any holder when none of those given does.
      let from = sources.filter((a) => holds(core, ts, a));
      if (from.length === 0) from = [...ts.whoHas].map((h) => h.address);
      whoHas[key] = from;
      if (ts.nbytes >= 0) nbytes[key] = ts.nbytes;
    }
    if (Object.keys(whoHas).length > 0) core.toWorker(ws, { op: 'acquire-replicas', whoHas, nbytes, stimulusId: core.stimulusId });
  }
}

export function removeReplicas(core: SchedulerCore, e: EventOf<'remove-replicas'>): void {
  for (const [address, keys] of Object.entries(e.removals)) {
    const ws = core.workers.get(address);
    if (ws === undefined) continue;
    for (const key of keys) {
      const ts = core.tasks.get(key);
      if (ts === undefined || !ts.whoHas.has(ws)) continue;
      if (ts.whoHas.size <= 1) {
        core.note(`remove-replicas: kept '${key}' on ${address}, its last copy`);
        continue;
      }
      if (pinnedOn(ts).includes(address)) {
        core.note(`remove-replicas: kept '${key}' on ${address}, a task assigned there needs it`);
        continue;
      }
      core.removeHolder(ts, ws);
      core.freeKeys(ws, key);
    }
  }
}

/** Workers that were assigned a task needing `ts`: their copy must stay. */
export function pinnedOn(ts: TaskState): Address[] {
  const out = new Set<Address>();
  for (const d of ts.dependents) if (d.state === 'processing' && d.processingOn !== undefined) out.add(d.processingOn.address);
  return [...out];
}

/** Keys in memory as the planners see them; `absent` lists those unknown or not in memory. */
export function replicaView(core: SchedulerCore, keys?: readonly Key[]): { keys: KeyReplicas[]; absent: Key[] } {
  const out: KeyReplicas[] = [];
  const absent: Key[] = [];
  const list = keys ?? [...core.tasks.keys()];
  for (const key of new Set(list)) {
    const ts = core.tasks.get(key);
    if (ts === undefined || ts.state !== 'memory') {
      if (keys !== undefined) absent.push(key);
      continue;
    }
    out.push({
      key,
      nbytes: ts.nbytes >= 0 ? ts.nbytes : core.options.defaultDataSize,
      holders: [...ts.whoHas].map((ws) => ws.address),
      pinned: pinnedOn(ts),
    });
  }
  return { keys: out, absent };
}

/** Per worker: bytes held (every key in memory there), keys held, tasks assigned, expected seconds of them. */
export interface WorkerLoad {
  readonly nbytes: number;
  readonly keys: number;
  readonly processing: number;
  readonly occupancy: number;
}

export function workerLoads(core: SchedulerCore): Record<Address, WorkerLoad> {
  const out: Record<Address, WorkerLoad> = {};
  for (const [address, ws] of core.workers) out[address] = loadOf(core, ws);
  return out;
}

function loadOf(core: SchedulerCore, ws: WorkerState): WorkerLoad {
  let nbytes = 0;
  for (const ts of ws.hasWhat) nbytes += ts.nbytes >= 0 ? ts.nbytes : core.options.defaultDataSize;
  return { nbytes, keys: ws.hasWhat.size, processing: ws.processing.size, occupancy: ws.occupancy };
}

function holds(core: SchedulerCore, ts: TaskState, address: Address): boolean {
  const ws = core.workers.get(address);
  return ws !== undefined && ts.whoHas.has(ws);
}
