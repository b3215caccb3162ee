/**
 * What the scheduler knows: one TaskState per key, one WorkerState per worker, one ClientState per
 * client, linked to each other by object references (never by key lookups on the hot path).
 *
 * The sets below are kept consistent by the transitions alone (transitions.ts); validate.ts states
 * every invariant they keep. In short, at rest (after each handled event):
 *
 * - `dependencies` / `dependents`: the graph, symmetric, among known tasks only.
 * - `waiters`: the dependents that still need this task's data, i.e. exactly the dependents in
 *   `waiting`, `no-worker` or `processing`.
 * - `waitingOn`: for a `waiting` task, its dependencies not yet in memory (never empty: a waiting
 *   task with nothing to wait on is placed at once).
 * - `whoHas` / `hasWhat`: transposes; non-empty exactly for tasks in `memory`.
 * - `whoWants` / `wantsWhat`: transposes; the clients holding a future of the key.
 * - A task is *needed* when a client wants it or a waiter needs it. `waiting`, `no-worker`,
 *   `processing` and `memory` tasks are always needed; `released` tasks never are (they are kept
 *   only while a dependent refers to them, otherwise they are forgotten); `erred` tasks are kept
 *   while a client wants them.
 */
import { keyPrefix } from '../../graph/keys.js';
import type { Address, Key, Opaque, WorkerIdentity } from '../messages.js';
import { TaskQueue } from './task-queue.js';
import type { TransitionArgs } from './transitions.js';

/** The closed set of task states. */
export const TASK_STATES = ['released', 'waiting', 'no-worker', 'processing', 'memory', 'erred', 'forgotten'] as const;
export type TaskStateName = (typeof TASK_STATES)[number];

/** The empty set TaskState's sets share until their first element; adding to it is a bug. */
class EmptySet extends Set<never> {
  override add(): this {
    throw new Error('scheduler: added to the shared empty set of a TaskState (use its add* method)');
  }
}
const EMPTY: Set<never> = new EmptySet();

export class TaskState {
  state: TaskStateName = 'released';
  /** The key prefix task durations are measured by (`inc` for `inc-7f3a…`). */
  readonly prefix: string;
  // Each set starts as the shared EMPTY and is made on its first element (the add* methods below):
  // most tasks never use half of them (a task without inputs has no dependencies, waitingOn; only
  // wanted keys have whoWants), and a set is ~100 bytes of garbage. Reading, delete and clear work
  // on EMPTY as on any empty set; add throws.
  dependencies: Set<TaskState> = EMPTY;
  dependents: Set<TaskState> = EMPTY;
  waitingOn: Set<TaskState> = EMPTY;
  waiters: Set<TaskState> = EMPTY;
  whoHas: Set<WorkerState> = EMPTY;
  whoWants: Set<ClientState> = EMPTY;
  /** Size of the result as the worker measured it; -1 while unknown. */
  nbytes = -1;
  type: string | undefined;

  /** While `processing`: the worker it is assigned to, and the expected duration counted in its occupancy. */
  processingOn: WorkerState | undefined;
  duration = 0;
  /** Counts compute-task messages; a result must name the run it comes from. */
  runId = 0;
  /** Position in the assigned worker's backlog heap; -1 when not there. */
  heapIndex = -1;

  /** Worker addresses, hosts or names this task may run on; undefined: anywhere. */
  restrictions: ReadonlySet<string> | undefined;
  looseRestrictions = false;

  /** While `erred`: the exception (opaque), and the key whose failure caused it. */
  exception: Opaque | undefined;
  traceback: string | undefined;
  exceptionBlame: Key | undefined;
  /** Why this task can never run (an unknown dependency, a cycle), set when it was submitted. */
  problem: Opaque | undefined;
  /** How many workers died while running it. */
  suspicious = 0;
  /** The pending recommendation of the event being handled (SchedulerCore.recommend), if any. */
  recommended: TaskStateName | undefined;
  recommendedArgs: TransitionArgs | undefined;

  constructor(
    readonly key: Key,
    /** The opaque run spec; undefined for data put on the cluster directly (scatter), which cannot be recomputed. */
    public run: Opaque | undefined,
    /** Smaller runs first; unique, assigned in submission order (see SchedulerCore.nextPriority). */
    readonly priority: number,
  ) {
    this.prefix = keyPrefix(key);
  }

  /** `dep` becomes a dependency of this task (both directions). */
  link(dep: TaskState): void {
    (this.dependencies === EMPTY ? (this.dependencies = new Set()) : this.dependencies).add(dep);
    (dep.dependents === EMPTY ? (dep.dependents = new Set()) : dep.dependents).add(this);
  }

  addWaitingOn(dep: TaskState): void {
    (this.waitingOn === EMPTY ? (this.waitingOn = new Set()) : this.waitingOn).add(dep);
  }

  addWaiter(dts: TaskState): void {
    (this.waiters === EMPTY ? (this.waiters = new Set()) : this.waiters).add(dts);
  }

  addHolder(ws: WorkerState): void {
    (this.whoHas === EMPTY ? (this.whoHas = new Set()) : this.whoHas).add(ws);
  }

  addWanter(cs: ClientState): void {
    (this.whoWants === EMPTY ? (this.whoWants = new Set()) : this.whoWants).add(cs);
  }

  toString(): string {
    return `<Task '${this.key}' ${this.state}>`;
  }
}

export class WorkerState {
  readonly address: Address;
  readonly name: string;
  readonly host: string;
  readonly nthreads: number;
  readonly hasWhat = new Set<TaskState>();
  /** Every task assigned here: sent to the worker, or held in `backlog` until it has a free slot. */
  readonly processing = new Set<TaskState>();
  readonly sent = new Set<TaskState>();
  readonly backlog = new TaskQueue<TaskState>();
  /** Sum of the expected durations of `processing` (seconds), and of `sent` alone. */
  occupancy = 0;
  sentOccupancy = 0;
  /** False once removed: instructions to it are dropped. */
  alive = true;

  constructor(
    readonly identity: WorkerIdentity,
    /** Registration order, the last tie-breaker of decide-worker. */
    readonly seq: number,
  ) {
    this.address = identity.address;
    this.name = identity.name;
    this.host = identity.host;
    this.nthreads = Math.max(1, identity.nthreads);
  }

  toString(): string {
    return `<Worker ${this.address}>`;
  }
}

export class ClientState {
  readonly wantsWhat = new Set<TaskState>();
  constructor(readonly id: string) {}
}

/** A client wants it or a waiting dependent needs it. */
export function needed(ts: TaskState): boolean {
  return ts.whoWants.size > 0 || ts.waiters.size > 0;
}
