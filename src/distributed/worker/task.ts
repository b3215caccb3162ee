/**
 * A task as one worker sees it, and the closed set of states it moves through.
 *
 *   released   not tracked (a task reaching it is forgotten at once)
 *   waiting    to compute here; some dependency is not in memory yet
 *   ready      to compute here; every dependency in memory; queued by priority
 *   executing  handed to the thread pool
 *   memory     its value is in `data`
 *   error      computing it failed here
 *   fetch      to copy from a peer (a dependency of a local task, or a replica); queued
 *   flight     a `gather-dep` for it is out to `comingFrom`
 *   missing    wanted, but no peer is known to hold it; waits for new holders
 *   cancelled  executing or in flight (`previous`), but no longer wanted: the running work
 *              cannot be stopped, so its result is dropped when it comes back, unless the key
 *              is wanted again before that, in which case the task returns to `previous`
 *              (dask's cancelled/resumed pair, folded into one state plus the task's flags)
 */
import type { Address, Key, Opaque, StartStop } from '../messages.js';

export const TASK_STATES = [
  'released',
  'waiting',
  'ready',
  'executing',
  'memory',
  'error',
  'fetch',
  'flight',
  'missing',
  'cancelled',
] as const;
export type TaskStateName = (typeof TASK_STATES)[number];

export interface WorkerTask {
  readonly key: Key;
  state: TaskStateName;
  /** Smaller runs (or is fetched) first; a dependency takes its most urgent dependent's. */
  priority: number;
  /** Arrival order, the tie break between equal priorities. */
  seq: number;
  /** How to compute it, once the scheduler has sent a compute-task for it. */
  run?: Opaque;
  /** The latest compute-task's run id, echoed in the result. */
  runId?: number;
  /** The compute-task's dependencies and their holders, kept to start computing later. */
  spec?: { readonly whoHas: Record<Key, readonly Address[]>; readonly nbytes: Record<Key, number> };
  /** The scheduler asked this worker to compute the key (and has not freed it since). */
  compute: boolean;
  /**
   * The scheduler expects this worker to hold the key: it asked to compute it, to fetch a
   * replica, scattered it here, or was told of the copy with add-keys. Cleared by free-keys.
   */
  wanted: boolean;
  /** Only while waiting, ready, executing or cancelled from executing. */
  readonly dependencies: Set<WorkerTask>;
  /** Local tasks in those states that depend on this one. */
  readonly dependents: Set<WorkerTask>;
  /** The dependencies not in memory yet. */
  readonly waitingFor: Set<WorkerTask>;
  /** Peers that hold the key (never this worker). */
  readonly whoHas: Set<Address>;
  nbytes?: number;
  typeName?: string;
  /** The peer a fetch is out to (flight, or cancelled from flight). */
  comingFrom?: Address;
  /** What a cancelled task was doing. */
  previous?: 'executing' | 'flight';
  exception?: Opaque;
  traceback?: string;
  startstops: StartStop[];
}

export function newTask(key: Key, seq: number): WorkerTask {
  return {
    key,
    state: 'released',
    priority: Infinity,
    seq,
    compute: false,
    wanted: false,
    dependencies: new Set(),
    dependents: new Set(),
    waitingFor: new Set(),
    whoHas: new Set(),
    startstops: [],
  };
}

/** A task needs to stay: the scheduler wants it here, or a local task needs it as input. */
export function isNeeded(ts: WorkerTask): boolean {
  return ts.wanted || ts.dependents.size > 0;
}

/** A plain copy of a task's state, for tests, the dashboard and debugging. */
export interface TaskSnapshot {
  readonly key: Key;
  readonly state: TaskStateName;
  readonly priority: number;
  readonly compute: boolean;
  readonly wanted: boolean;
  readonly dependencies: Key[];
  readonly dependents: Key[];
  readonly waitingFor: Key[];
  readonly whoHas: Address[];
  readonly nbytes?: number;
  readonly typeName?: string;
  readonly comingFrom?: Address;
  readonly previous?: 'executing' | 'flight';
  readonly exception?: Opaque;
  readonly traceback?: string;
  readonly startstops: StartStop[];
}

export function snapshot(ts: WorkerTask): TaskSnapshot {
  const keys = (s: Set<WorkerTask>) => [...s].map((t) => t.key).sort();
  return {
    key: ts.key,
    state: ts.state,
    priority: ts.priority,
    compute: ts.compute,
    wanted: ts.wanted,
    dependencies: keys(ts.dependencies),
    dependents: keys(ts.dependents),
    waitingFor: keys(ts.waitingFor),
    whoHas: [...ts.whoHas].sort(),
    ...(ts.nbytes !== undefined ? { nbytes: ts.nbytes } : {}),
    ...(ts.typeName !== undefined ? { typeName: ts.typeName } : {}),
    ...(ts.comingFrom !== undefined ? { comingFrom: ts.comingFrom } : {}),
    ...(ts.previous !== undefined ? { previous: ts.previous } : {}),
    ...(ts.exception !== undefined ? { exception: ts.exception } : {}),
    ...(ts.traceback !== undefined ? { traceback: ts.traceback } : {}),
    startstops: [...ts.startstops],
  };
}
