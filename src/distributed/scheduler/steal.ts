/**
 * Work stealing: tasks assigned to a busy worker move to a worker that has nothing to do.
 *
 * Why it is needed: decide-worker puts a task where its inputs are, so a graph whose data sits on
 * one worker (a scatter to one worker, a big intermediate) lands there whole while other workers
 * idle. The manual's policy (1.10, "Work stealing policy") reclaims half of each busy worker's stack
 * once some workers are idle, and never restricted tasks. We keep its trigger and its care for
 * restrictions, and replace "half a stack" by a per-task finish-time rule, measured in the tests:
 *
 * - *When.* Only while some worker is idle (a free thread, nothing queued for it, no stolen task
 *   on its way) and another is not. It is checked at the end of each event for the workers the event
 *   changed, so the common path (every worker busy) costs a set lookup per changed worker.
 * - *What.* For an idle thief, the busiest workers first (expected seconds of work per thread), and
 *   in each the tasks that would run last. A task moves when it would finish sooner on the thief:
 *
 *       thief's load + bytes the thief lacks / bandwidth + the task's duration  <  victim's load
 *
 *   Loads are expected seconds of assigned work per thread (occupancy, from durations measured per
 *   key prefix, durations.ts). This is dask's "steal when compute time is large relative to moving
 *   the dependencies", and also a balance rule: stealing stops once both sides would finish
 *   together, so tasks do not bounce back. Inputs already on their way to the thief (needed by a
 *   task it was given) count as there, so many tasks on one scattered value pay for it once.
 * - *Where it may go.* Unrestricted tasks anywhere; restricted ones only to a worker their
 *   restrictions name; loose ones (allowOtherWorkers) too, unless no named worker is connected, in
 *   which case anywhere (they run where decide-worker would put them).
 * - *From the backlog first.* Tasks the scheduler holds back (the backlog, core.fill) move with no
 *   message. Only when none fits, a task already sent but not started is asked back with a
 *   steal-request (the victim's queued tasks beyond one per thread, lowest priority first), with
 *   a round trip added to its cost. The worker answers steal-response: `released` (it gave it up;
 *   we place it on the thief, or by decide-worker if the thief is gone) or anything else (it runs
 *   there; nothing to do). An answer for a task that moved on meanwhile (finished, released, its
 *   worker gone, sent again) is ignored.
 * - *Bounds.* Per thief and event at most MAX_EXAMINED tasks are looked at and the victims'
 *   backlogs are not sorted (their heap's last entries are the lowest-priority ones), so a backlog
 *   of restricted tasks that can never move costs a bounded scan, not a pass over all of it.
 */
import type { Key } from '../messages.js';
import type { SchedulerCore } from './core.js';
import { workerMatches } from './decide-worker.js';
import type { TaskState, WorkerState } from './model.js';

/** Tasks of victims looked at per thief and event. */
const MAX_EXAMINED = 256;
/** Seconds a steal-request round trip costs before the task can start on the thief. */
export const STEAL_LATENCY = 0.002;

/** One stolen task, for `SchedulerState.steals()`. */
export interface StealRecord {
  readonly key: Key;
  readonly victim: string;
  readonly thief: string;
  /** 'backlog': moved inside the scheduler; 'request': given back by the victim after a steal-request. */
  readonly how: 'backlog' | 'request';
  readonly stimulusId: string;
}

interface Request {
  readonly victim: WorkerState;
  readonly thief: WorkerState;
  readonly runId: number;
  readonly duration: number;
}

/** Keeps the last this many steals for `steals()`. */
const LOG_SIZE = 1000;

export class WorkStealing {
  /** Workers with a free thread and nothing queued, as of the end of the last event that changed them. */
  readonly #idle = new Set<WorkerState>();
  /** steal-requests sent and not answered. */
  readonly #requests = new Map<TaskState, Request>();
  /** Runs a worker refused to give back (they had started): not asked again. */
  readonly #refused = new WeakMap<TaskState, number>();
  /** Per thief: tasks asked back for it, and their expected seconds. */
  readonly #incoming = new Map<WorkerState, { n: number; seconds: number }>();
  readonly log: StealRecord[] = [];

  constructor(
    /** Bytes per second assumed between workers. */
    readonly bandwidth: number,
  ) {}

  /** After an event: notes which changed workers are idle, and feeds idle workers if others are busy. */
  afterEvent(core: SchedulerCore, changed: Iterable<WorkerState>): void {
    if (this.#requests.size > 0) this.#dropStaleRequests();
    for (const ws of changed) {
      if (this.#isIdle(ws)) this.#idle.add(ws);
      else this.#idle.delete(ws);
    }
    if (this.#idle.size === 0) return;
    for (const ws of this.#idle) if (!ws.alive) this.#idle.delete(ws);
    if (this.#idle.size === 0 || this.#idle.size >= core.workers.size) return;
    for (const thief of [...this.#idle]) {
      if (!this.#isIdle(thief)) continue;
      this.#feed(core, thief);
      if (!this.#isIdle(thief)) this.#idle.delete(thief);
    }
  }

  /** A worker's answer to a steal-request. */
  response(core: SchedulerCore, victim: WorkerState, key: Key, state: string): void {
    const ts = core.tasks.get(key);
    const req = ts === undefined ? undefined : this.#requests.get(ts);
    if (ts === undefined || req === undefined || req.victim !== victim) {
      core.note(`steal-response '${key}' (${state}) from ${victim.address} answers no steal-request; ignored`);
      return;
    }
    this.#forget(ts, req);
    // The thief counts as idle again (unless the task comes to it): look for other work for it.
    core.dirty.add(req.thief);
    const current = ts.state === 'processing' && ts.processingOn === victim && victim.sent.has(ts) && ts.runId === req.runId;
    if (!current) return;
    if (state !== 'released') {
      this.#refused.set(ts, ts.runId);
      return;
    }
    // The victim dropped it: it must run elsewhere (it has no copy to fall back on).
    core.unassign(ts, false);
    const thief = req.thief.alive && allowedOn(core, ts, req.thief) ? req.thief : core.decideWorker(ts);
    core.assign(ts, thief ?? victim);
    this.#record(ts, victim, thief ?? victim, 'request', core.stimulusId);
  }

  #isIdle(ws: WorkerState): boolean {
    return ws.alive && ws.backlog.size === 0 && ws.sent.size + (this.#incoming.get(ws)?.n ?? 0) < ws.nthreads;
  }

  /** Moves tasks to `thief` while they would finish sooner there. */
  #feed(core: SchedulerCore, thief: WorkerState): void {
    const victims = [...core.workers.values()].filter((ws) => ws !== thief && ws.processing.size > 0);
    if (victims.length === 0) return;
    victims.sort((a, b) => load(b) - load(a));
    const arriving = inputsOnTheirWay(thief);
    let budget = MAX_EXAMINED;
    let moved = false;
    for (const victim of victims) {
      if (budget <= 0) break;
      // The backlog's heap array: its last entries are leaves, the tasks that would run last.
      const candidates = victim.backlog.values().slice(-budget).reverse();
      budget -= candidates.length;
      for (const ts of candidates) {
        const verdict = this.#worthIt(core, ts, victim, thief, arriving, 0);
        if (verdict === 'balanced') break;
        if (verdict === 'no') continue;
        core.unassign(ts, false);
        core.assign(ts, thief);
        for (const dep of ts.dependencies) if (!dep.whoHas.has(thief)) arriving.add(dep);
        this.#record(ts, victim, thief, 'backlog', core.stimulusId);
        moved = true;
      }
    }
    if (moved) core.fill(thief);
    if (budget > 0 && this.#isIdle(thief)) this.#askBack(core, thief, victims, arriving, budget);
  }

  /** Sends steal-requests for tasks the victims were sent beyond one per thread, lowest priority first. */
  #askBack(core: SchedulerCore, thief: WorkerState, victims: WorkerState[], arriving: Set<TaskState>, budget: number): void {
    for (const victim of victims) {
      if (!this.#isIdle(thief) || budget <= 0) return;
      const queued = victim.sent.size - victim.nthreads;
      if (queued <= 0) continue;
      // The worker runs its tasks smallest priority first: the largest ones have not started.
      const candidates = [...victim.sent].sort((a, b) => b.priority - a.priority).slice(0, Math.min(queued, budget));
      budget -= candidates.length;
      for (const ts of candidates) {
        if (!this.#isIdle(thief)) return;
        // Sent by this very event: asking it back at once would only add a round trip.
        if (this.#requests.has(ts) || ts.runId >= core.firstRunOfEvent || this.#refused.get(ts) === ts.runId) continue;
        const verdict = this.#worthIt(core, ts, victim, thief, arriving, STEAL_LATENCY);
        if (verdict === 'balanced') break;
        if (verdict === 'no') continue;
        this.#requests.set(ts, { victim, thief, runId: ts.runId, duration: ts.duration });
        const inc = this.#incoming.get(thief) ?? { n: 0, seconds: 0 };
        inc.n++;
        inc.seconds += ts.duration;
        this.#incoming.set(thief, inc);
        core.toWorker(victim, { op: 'steal-request', key: ts.key, stimulusId: core.stimulusId });
      }
    }
  }

  /**
   * 'yes' when `ts` would finish sooner on the thief; 'no' when it may not or its inputs cost too
   * much to move; 'balanced' when even a free move would not help (no later task of this victim will).
   */
  #worthIt(core: SchedulerCore, ts: TaskState, victim: WorkerState, thief: WorkerState, arriving: Set<TaskState>, latency: number): 'yes' | 'no' | 'balanced' {
    const incoming = this.#incoming.get(thief)?.seconds ?? 0;
    const thiefFinish = (thief.occupancy + incoming) / thief.nthreads + ts.duration + latency;
    const victimFinish = load(victim);
    if (thiefFinish >= victimFinish) return 'balanced';
    if (!allowedOn(core, ts, thief)) return 'no';
    let bytes = 0;
    for (const dep of ts.dependencies) {
      if (!dep.whoHas.has(thief) && !arriving.has(dep)) bytes += dep.nbytes >= 0 ? dep.nbytes : core.options.defaultDataSize;
    }
    return thiefFinish + bytes / this.bandwidth < victimFinish ? 'yes' : 'no';
  }

  #forget(ts: TaskState, req: Request): void {
    this.#requests.delete(ts);
    const inc = this.#incoming.get(req.thief);
    if (inc === undefined) return;
    inc.n--;
    inc.seconds -= req.duration;
    if (inc.n <= 0) this.#incoming.delete(req.thief);
    if (this.#isIdle(req.thief)) this.#idle.add(req.thief);
  }

  /** Requests whose task moved on, or whose victim left, will get no useful answer. */
  #dropStaleRequests(): void {
    for (const [ts, req] of this.#requests) {
      if (!req.victim.alive || ts.processingOn !== req.victim || ts.runId !== req.runId) this.#forget(ts, req);
    }
  }

  #record(ts: TaskState, victim: WorkerState, thief: WorkerState, how: StealRecord['how'], stimulusId: string): void {
    if (this.log.length >= LOG_SIZE) this.log.splice(0, this.log.length - LOG_SIZE + 1);
    this.log.push({ key: ts.key, victim: victim.address, thief: thief.address, how, stimulusId });
  }
}

/** Expected seconds until `ws` has done everything assigned to it. */
function load(ws: WorkerState): number {
  return ws.occupancy / ws.nthreads;
}

/** Inputs of tasks already given to `ws` that it does not hold yet: they are being fetched. */
function inputsOnTheirWay(ws: WorkerState): Set<TaskState> {
  const out = new Set<TaskState>();
  for (const ts of ws.processing) for (const dep of ts.dependencies) if (!dep.whoHas.has(ws)) out.add(dep);
  return out;
}

/** Whether `ts` may run on `ws` by its restrictions (a loose one anywhere when no named worker is connected). */
export function allowedOn(core: SchedulerCore, ts: TaskState, ws: WorkerState): boolean {
  const r = ts.restrictions;
  if (r === undefined) return true;
  for (const entry of r) if (workerMatches(ws, entry)) return true;
  if (!ts.looseRestrictions) return false;
  for (const other of core.workers.values()) for (const entry of r) if (workerMatches(other, entry)) return false;
  return true;
}
