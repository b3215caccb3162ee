/** The `scheduler-info` RPC's answer: the scheduler's address and, per worker, what it is and holds. */
import type { Address, SchedulerInfo, WorkerInfo } from '../messages.js';
import type { SchedulerState } from './state.js';

/** What the server knows of a worker's connection (not kept in the state machine). */
export interface Liveness {
  readonly lastSeen: number;
  readonly metrics: Record<string, number>;
}

export function schedulerInfo(state: SchedulerState, address: string, liveness: (worker: Address) => Liveness | undefined): SchedulerInfo {
  const loads = state.workerLoads();
  const workers: Record<Address, WorkerInfo> = {};
  for (const [a, identity] of Object.entries(state.workers())) {
    const load = loads[a];
    const live = liveness(a);
    workers[a] = {
      ...identity,
      nbytes: load?.nbytes ?? 0,
      nkeys: load?.keys ?? 0,
      processing: load?.processing ?? 0,
      occupancy: load?.occupancy ?? 0,
      lastSeen: (live?.lastSeen ?? Date.now()) / 1000,
      metrics: { ...(live?.metrics ?? {}) },
    };
  }
  return { type: 'Scheduler', address, workers, clients: state.clients().length, tasks: state.counts() };
}
