/**
 * The transition table: for each allowed `(start, finish)` pair, the one function that moves a
 * task between those states and keeps every invariant of model.ts.
 *
 *                      ┌──────────── erred ◄──────────────┐
 *                      │              ▲                   │
 *   (new) ─► released ─┼─► waiting ─┬─► processing ─► memory
 *               ▲  │   │            └─► no-worker ──┘     │
 *               │  ▼   └────────────────────────────────────┘ (released: no longer needed, or lost)
 *           forgotten
 *
 * How a change propagates: a transition changes one task, and *recommends* changes of others
 * (`core.recommend`); `drain` applies recommendations, oldest first, until none is left. A
 * recommendation is an intent checked again when applied: a function *declines* (returns false,
 * nothing changes, nothing is logged) when its preconditions no longer hold — a release of a task
 * that became needed again, a placement of a task that gained a missing input. A pair that is not
 * in the table is a bug: in validate mode it throws a TransitionError naming the key, both states
 * and the stimulus; otherwise it is noted and skipped.
 *
 * Event handlers (handlers.ts) make *explicit* transitions (a task finished, a worker left), which
 * carry arguments, then drain.
 */
import type { Address, Key, Opaque, SchedulerToClient, StartStop } from '../messages.js';
import type { SchedulerCore } from './core.js';
import { lostDataException, TransitionError } from './errors.js';
import { needed, type TaskState, type TaskStateName, type WorkerState } from './model.js';

/** Arguments of a transition to memory: who holds the data now, and what the worker measured. */
export interface MemoryArgs {
  readonly holders: readonly WorkerState[];
  readonly nbytes?: number;
  readonly type?: string;
  readonly startstops?: readonly StartStop[];
}

/** Arguments of a transition to erred: the exception and the key that originally failed. */
export interface ErredArgs {
  readonly exception: Opaque;
  readonly traceback?: string;
  readonly blame: Key;
  /** The task is data that cannot be recomputed and is gone: clients get lost-data, not task-erred. */
  readonly lost?: boolean;
}

export type TransitionArgs = MemoryArgs | ErredArgs;

type TransitionFn = (core: SchedulerCore, ts: TaskState, args: TransitionArgs | undefined) => boolean;
type Table = { readonly [S in TaskStateName]?: { readonly [F in TaskStateName]?: TransitionFn } };

const ACTIVE: ReadonlySet<TaskStateName> = new Set(['waiting', 'no-worker', 'processing']);

// ---- shared steps

/** Why a task cannot run at all: an erred or lost input, a problem found at submission, no run spec. */
function blocker(ts: TaskState): ErredArgs | undefined {
  if (ts.problem !== undefined) return { exception: ts.problem, blame: ts.key };
  if (ts.run === undefined) return { exception: lostDataException(ts.key), blame: ts.key, lost: true };
  for (const dep of ts.dependencies) {
    if (dep.state === 'erred') {
      return { exception: dep.exception!, traceback: dep.traceback, blame: dep.exceptionBlame ?? dep.key };
    }
  }
  return undefined;
}

/** `ts` no longer needs its inputs: it leaves their waiters, and inputs nothing else needs are released. */
function leaveDependencies(core: SchedulerCore, ts: TaskState): void {
  for (const dep of ts.dependencies) {
    dep.waiters.delete(ts);
    core.releaseIfUnneeded(dep);
  }
  ts.waitingOn.clear();
}

function clearException(ts: TaskState): void {
  ts.exception = undefined;
  ts.traceback = undefined;
  ts.exceptionBlame = undefined;
}

/** The inputs of a task that is (again) waiting; released ones are asked to compute. */
function waitFor(core: SchedulerCore, ts: TaskState): void {
  ts.waitingOn.clear();
  for (const dep of ts.dependencies) {
    if (dep.state === 'memory') continue;
    ts.addWaitingOn(dep);
    if (dep.state === 'released') core.recommend(dep, 'waiting');
  }
  if (ts.waitingOn.size === 0) core.recommend(ts, 'processing');
}

function isMemoryArgs(a: TransitionArgs | undefined): a is MemoryArgs {
  return a !== undefined && 'holders' in a;
}

function isErredArgs(a: TransitionArgs | undefined): a is ErredArgs {
  return a !== undefined && 'exception' in a;
}

// ---- the transitions

function releasedWaiting(core: SchedulerCore, ts: TaskState): boolean {
  if (!needed(ts)) return false;
  const b = blocker(ts);
  if (b !== undefined) {
    core.recommend(ts, 'erred', b);
    return false;
  }
  ts.state = 'waiting';
  for (const dep of ts.dependencies) dep.addWaiter(ts);
  waitFor(core, ts);
  return true;
}

function waitingProcessing(core: SchedulerCore, ts: TaskState): boolean {
  if (ts.waitingOn.size > 0) return false;
  const ws = core.decideWorker(ts);
  if (ws === undefined) {
    core.recommend(ts, 'no-worker');
    return false;
  }
  ts.state = 'processing';
  core.assign(ts, ws);
  return true;
}

function waitingNoWorker(core: SchedulerCore, ts: TaskState): boolean {
  if (ts.waitingOn.size > 0) return false;
  ts.state = 'no-worker';
  core.markUnrunnable(ts);
  return true;
}

function noWorkerProcessing(core: SchedulerCore, ts: TaskState): boolean {
  const ws = core.decideWorker(ts);
  if (ws === undefined) return false;
  core.unrunnable.delete(ts);
  ts.state = 'processing';
  core.assign(ts, ws);
  return true;
}

/** A dependency was lost, or the worker running it left: back to waiting for inputs. */
function backToWaiting(core: SchedulerCore, ts: TaskState): boolean {
  if (!needed(ts)) {
    core.recommend(ts, 'released');
    return false;
  }
  if (ts.state === 'processing') core.unassign(ts, true);
  core.unrunnable.delete(ts);
  ts.state = 'waiting';
  waitFor(core, ts);
  return true;
}

/** The data exists: computed (processing), put there by a client (update-data) or found on a joining worker. */
function toMemory(core: SchedulerCore, ts: TaskState, args: TransitionArgs | undefined): boolean {
  if (!isMemoryArgs(args) || args.holders.length === 0) {
    throw new TransitionError(ts.key, ts.state, 'memory', core.stimulusId, 'a transition to memory needs the workers holding the data');
  }
  // Data from elsewhere (scatter, a joining worker) while it runs: the run is cancelled.
  if (ts.state === 'processing') core.unassign(ts, !args.holders.includes(ts.processingOn!));
  if (ACTIVE.has(ts.state)) leaveDependencies(core, ts);
  core.unrunnable.delete(ts);
  clearException(ts);
  ts.state = 'memory';
  for (const ws of args.holders) core.addHolder(ts, ws);
  if (args.nbytes !== undefined && args.nbytes >= 0) ts.nbytes = args.nbytes;
  if (args.type !== undefined) ts.type = args.type;
  for (const dts of ts.dependents) {
    if (dts.waitingOn.delete(ts) && dts.waitingOn.size === 0 && dts.state === 'waiting') core.recommend(dts, 'processing');
  }
  if (ts.whoWants.size > 0) core.report(ts, inMemoryMessage(ts));
  if (!needed(ts)) core.recommend(ts, 'released');
  return true;
}

/** The task failed, or cannot run: an input erred or is lost, or it was broken at submission. */
function toErred(core: SchedulerCore, ts: TaskState, args: TransitionArgs | undefined): boolean {
  const a = isErredArgs(args) ? args : blocker(ts);
  if (a === undefined) return false;
  if (ts.state === 'processing') core.unassign(ts, false);
  if (ACTIVE.has(ts.state)) leaveDependencies(core, ts);
  core.unrunnable.delete(ts);
  ts.state = 'erred';
  ts.exception = a.exception;
  ts.traceback = a.traceback;
  ts.exceptionBlame = a.blame;
  const inherited: ErredArgs = { exception: a.exception, traceback: a.traceback, blame: a.blame };
  for (const dts of ts.dependents) if (ACTIVE.has(dts.state)) core.recommend(dts, 'erred', inherited);
  if (a.lost) core.report(ts, { op: 'lost-data', key: ts.key });
  else {
    core.report(ts, erredMessage(ts.key, a.exception, a.traceback, a.blame));
  }
  if (ts.whoWants.size === 0) core.recommend(ts, 'released');
  return true;
}

/** The key-in-memory message for clients: with its holders, so that a client fetches without who-has. */
export function inMemoryMessage(ts: TaskState): SchedulerToClient {
  const workers: Address[] = [];
  for (const ws of ts.whoHas) workers.push(ws.address);
  return ts.type === undefined ? { op: 'key-in-memory', key: ts.key, workers } : { op: 'key-in-memory', key: ts.key, type: ts.type, workers };
}

/** The task-erred message for clients: `blame` only when another key's task raised the exception. */
export function erredMessage(key: Key, exception: Opaque, traceback: string | undefined, blame: Key | undefined): SchedulerToClient {
  return {
    op: 'task-erred',
    key,
    exception,
    ...(traceback === undefined ? {} : { traceback }),
    ...(blame === undefined || blame === key ? {} : { blame }),
  };
}

/** Nothing needs it any more: stop computing it (a running task is cancelled on its worker). */
function activeReleased(core: SchedulerCore, ts: TaskState): boolean {
  if (needed(ts)) return false;
  if (ts.state === 'processing') core.unassign(ts, true);
  core.unrunnable.delete(ts);
  leaveDependencies(core, ts);
  ts.state = 'released';
  core.releaseIfUnneeded(ts);
  return true;
}

/**
 * Out of memory: nothing needs the data any more (the holders are told to drop it), or it is
 * lost (no holder left: called after a worker left or dropped it), and then it is computed again
 * if something still needs it.
 */
function memoryReleased(core: SchedulerCore, ts: TaskState): boolean {
  const lost = ts.whoHas.size === 0;
  if (!lost && needed(ts)) return false;
  for (const ws of [...ts.whoHas]) {
    core.removeHolder(ts, ws);
    core.freeKeys(ws, ts.key);
  }
  ts.state = 'released';
  for (const dts of ts.dependents) {
    if (dts.state === 'waiting') dts.addWaitingOn(ts);
    else if (dts.state === 'processing' || dts.state === 'no-worker') core.recommend(dts, 'waiting');
  }
  if (needed(ts)) core.recommend(ts, 'waiting');
  else core.releaseIfUnneeded(ts);
  return true;
}

function erredReleased(core: SchedulerCore, ts: TaskState): boolean {
  if (ts.whoWants.size > 0) return false;
  clearException(ts);
  ts.state = 'released';
  core.releaseIfUnneeded(ts);
  return true;
}

function releasedForgotten(core: SchedulerCore, ts: TaskState): boolean {
  if (needed(ts) || ts.dependents.size > 0) return false;
  ts.state = 'forgotten';
  core.tasks.delete(ts.key);
  for (const dep of ts.dependencies) {
    dep.dependents.delete(ts);
    core.releaseIfUnneeded(dep);
  }
  ts.dependencies.clear();
  clearException(ts);
  ts.problem = undefined;
  return true;
}

export const TRANSITIONS: Table = {
  released: { waiting: releasedWaiting, memory: toMemory, erred: toErred, forgotten: releasedForgotten },
  waiting: { processing: waitingProcessing, 'no-worker': waitingNoWorker, memory: toMemory, erred: toErred, released: activeReleased },
  'no-worker': { processing: noWorkerProcessing, waiting: backToWaiting, memory: toMemory, erred: toErred, released: activeReleased },
  processing: { memory: toMemory, erred: toErred, waiting: backToWaiting, released: activeReleased },
  memory: { released: memoryReleased },
  erred: { released: erredReleased, memory: toMemory },
};

/** Whether the table has a `(start, finish)` transition. */
export function allowed(start: TaskStateName, finish: TaskStateName): boolean {
  return TRANSITIONS[start]?.[finish] !== undefined;
}

/** Upper bound on transitions per event: beyond it something loops, and we say so instead of hanging. */
const MAX_TRANSITIONS_PER_TASK = 64;

/**
 * Moves `ts` to `finish` now (an explicit transition: it supersedes any pending recommendation
 * for `ts`). Returns whether the state changed.
 */
export function transition(core: SchedulerCore, ts: TaskState, finish: TaskStateName, args?: TransitionArgs): boolean {
  core.cancelRecommendation(ts);
  return apply(core, ts, finish, args);
}

function apply(core: SchedulerCore, ts: TaskState, finish: TaskStateName, args: TransitionArgs | undefined): boolean {
  const start = ts.state;
  if (start === finish || start === 'forgotten') return false;
  const fn = TRANSITIONS[start]?.[finish];
  if (fn === undefined) {
    if (core.options.validate) throw new TransitionError(ts.key, start, finish, core.stimulusId);
    core.note(`skipped impossible transition of '${ts.key}' from ${start} to ${finish}`);
    return false;
  }
  if (!fn(core, ts, args)) return false;
  core.log.push(ts.key, start, ts.state, core.stimulusId, core.eventTime);
  if (core.tasks.size > core.peakTasks) core.peakTasks = core.tasks.size;
  if (++core.transitionCount > MAX_TRANSITIONS_PER_TASK * (core.peakTasks + 64)) {
    throw new Error(`scheduler: runaway transitions while handling ${core.stimulusId} (last: '${ts.key}' ${start} → ${ts.state})`);
  }
  return true;
}

/** Applies recommendations, oldest first, until none is left. */
export function drain(core: SchedulerCore): void {
  for (let ts = core.nextRecommended(); ts !== undefined; ts = core.nextRecommended()) {
    const finish = ts.recommended!;
    const args = ts.recommendedArgs;
    core.cancelRecommendation(ts);
    apply(core, ts, finish, args);
  }
}
