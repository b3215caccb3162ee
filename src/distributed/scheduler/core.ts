/**
 * The scheduler's mutable state and the small operations every transition and handler shares:
 * recommending, assigning tasks to workers, tracking replicas, and collecting the instructions of
 * the event being handled. Nothing here decides a state change on its own: transitions.ts does.
 */
import type { Address, Key, SchedulerToClient, SchedulerToWorker } from '../messages.js';
import { decideWorker } from './decide-worker.js';
import { TaskDurations } from './durations.js';
import type { Instruction } from './events.js';
import { ClientState, needed, type TaskState, type TaskStateName, type WorkerState } from './model.js';
import { WorkStealing } from './steal.js';
import { Ring, TransitionLog, type Note } from './story.js';
import type { TransitionArgs } from './transitions.js';

export interface SchedulerOptions {
  /** Check every invariant after each event and throw on an impossible transition (tests). Default false. */
  readonly validate?: boolean;
  /** Transitions kept for `story()`. Default 100,000. */
  readonly transitionLogSize?: number;
  /** Seconds; stamps the transition log. Default `Date.now() / 1000`. */
  readonly clock?: () => number;
  /** Expected seconds of a task whose key prefix was never measured. Default 0.5 (dask's). */
  readonly unknownTaskDuration?: number;
  /** Bytes assumed for a dependency whose size is unknown. Default 1024 (dask's). */
  readonly defaultDataSize?: number;
  /**
   * How many tasks a worker is sent beyond one per thread: at least `minTasks`; more, up to
   * `maxTasks`, while the expected work already sent is under `seconds` per thread. The rest stay
   * in the scheduler. Default `{ minTasks: 1, maxTasks: 128, seconds: 0.02 }`.
   */
  readonly workerQueue?: { readonly minTasks?: number; readonly maxTasks?: number; readonly seconds?: number };
  /** A task is erred (KilledWorker) once more than this many workers died while running it. Default 3. */
  readonly allowedFailures?: number;
  /** Move queued tasks to idle workers (steal.ts). Default true. */
  readonly workStealing?: boolean;
  /** Bytes per second assumed between workers when weighing a steal. Default 100e6 (dask's). */
  readonly bandwidth?: number;
}

export interface ResolvedOptions {
  readonly validate: boolean;
  readonly transitionLogSize: number;
  readonly clock: () => number;
  readonly unknownTaskDuration: number;
  readonly defaultDataSize: number;
  readonly workerQueue: { readonly minTasks: number; readonly maxTasks: number; readonly seconds: number };
  readonly allowedFailures: number;
  readonly workStealing: boolean;
  readonly bandwidth: number;
}

export function resolveOptions(o: SchedulerOptions = {}): ResolvedOptions {
  const nonNegative = (name: string, v: number | undefined, d: number, integer = false): number => {
    if (v === undefined) return d;
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
      throw new TypeError(`SchedulerState: ${name} must be a non-negative ${integer ? 'integer' : 'number'}, got ${String(v)}`);
    }
    return v;
  };
  const q = o.workerQueue ?? {};
  const minTasks = nonNegative('workerQueue.minTasks', q.minTasks, 1, true);
  const maxTasks = nonNegative('workerQueue.maxTasks', q.maxTasks, 128, true);
  if (maxTasks < minTasks) throw new TypeError(`SchedulerState: workerQueue.maxTasks (${maxTasks}) is below minTasks (${minTasks})`);
  if (o.clock !== undefined && typeof o.clock !== 'function') throw new TypeError('SchedulerState: clock must be a function');
  if (o.workStealing !== undefined && typeof o.workStealing !== 'boolean') {
    throw new TypeError(`SchedulerState: workStealing must be a boolean, got ${String(o.workStealing)}`);
  }
  const bandwidth = nonNegative('bandwidth', o.bandwidth, 100e6);
  if (bandwidth === 0) throw new TypeError('SchedulerState: bandwidth must be a positive number of bytes per second, got 0');
  return {
    validate: o.validate ?? false,
    transitionLogSize: nonNegative('transitionLogSize', o.transitionLogSize, 100_000, true),
    clock: o.clock ?? (() => Date.now() / 1000),
    unknownTaskDuration: nonNegative('unknownTaskDuration', o.unknownTaskDuration, 0.5),
    defaultDataSize: nonNegative('defaultDataSize', o.defaultDataSize, 1024),
    workerQueue: { minTasks, maxTasks, seconds: nonNegative('workerQueue.seconds', q.seconds, 0.02) },
    allowedFailures: nonNegative('allowedFailures', o.allowedFailures, 3, true),
    workStealing: o.workStealing ?? true,
    bandwidth,
  };
}

const NO_INPUTS: Readonly<Record<Key, never>> = Object.freeze({});

export class SchedulerCore {
  readonly tasks = new Map<Key, TaskState>();
  readonly workers = new Map<Address, WorkerState>();
  readonly clients = new Map<string, ClientState>();
  /** Tasks in `no-worker`. */
  readonly unrunnable = new Set<TaskState>();
  /** Tasks that went to `no-worker` since the server last asked (SchedulerState.takeUnrunnable). */
  readonly newlyUnrunnable = new Set<TaskState>();
  /** Undefined when the workStealing option is off. */
  readonly stealing: WorkStealing | undefined;
  readonly durations: TaskDurations;
  readonly log: TransitionLog;
  readonly notes = new Ring<Note>(1000);

  /**
   * Pending recommendations of the event being handled: one per task (`ts.recommended`, the latest
   * wins), applied in the order tasks were first recommended. Kept on the tasks rather than in a
   * Map: several recommendations per task and event, and no object or hash lookup for each.
   */
  #order: TaskState[] = [];
  #head = 0;
  /** Workers whose backlog or free slots changed: filled at the end of the event. */
  readonly dirty = new Set<WorkerState>();
  stimulusId = '';
  /** The clock when the event began: the time of every transition it makes. */
  eventTime = 0;
  transitionCount = 0;
  /** The most tasks known at once during this event (bounds the transitions it may take). */
  peakTasks = 0;
  /** The first run id this event may give: runs from it on were sent by this event. */
  firstRunOfEvent = 1;
  #outbox: Instruction[] = [];
  /** This event's free-keys message per worker (its key list), and the keys in it. */
  readonly #freeKeys = new Map<WorkerState, { keys: Key[]; seen: Set<Key> }>();
  #priority = 0;
  #runId = 0;
  #workerSeq = 0;

  constructor(readonly options: ResolvedOptions) {
    this.durations = new TaskDurations(options.unknownTaskDuration);
    this.log = new TransitionLog(options.transitionLogSize);
    this.stealing = options.workStealing ? new WorkStealing(options.bandwidth) : undefined;
  }

  nextPriority(): number {
    return this.#priority++;
  }

  nextWorkerSeq(): number {
    return this.#workerSeq++;
  }

  now(): number {
    return this.options.clock();
  }

  note(message: string): void {
    this.notes.push({ stimulusId: this.stimulusId, message, time: this.now() });
  }

  // ---- the event being handled

  begin(stimulusId: string): void {
    this.stimulusId = stimulusId;
    this.eventTime = this.now();
    this.transitionCount = 0;
    this.peakTasks = this.tasks.size;
    this.firstRunOfEvent = this.#runId + 1;
    this.#outbox = [];
    this.#freeKeys.clear();
    // Left over only when the previous event threw half-way.
    for (let i = this.#head; i < this.#order.length; i++) this.cancelRecommendation(this.#order[i]);
    this.#order.length = 0;
    this.#head = 0;
    this.dirty.clear();
  }

  /** Sends what fits to the workers that changed, and returns the event's instructions. */
  end(): Instruction[] {
    for (const ws of this.dirty) this.fill(ws);
    if (this.stealing !== undefined && this.dirty.size > 0) this.stealing.afterEvent(this, this.dirty);
    this.dirty.clear();
    const out = this.#outbox;
    this.#outbox = [];
    this.#freeKeys.clear();
    return out;
  }

  toClient(cs: ClientState, msg: SchedulerToClient): void {
    this.#outbox.push({ type: 'send-client', client: cs.id, msg });
  }

  toWorker(ws: WorkerState, msg: SchedulerToWorker): void {
    if (ws.alive) this.#outbox.push({ type: 'send-worker', worker: ws.address, msg });
  }

  /** Tells every client that wants `ts`. */
  report(ts: TaskState, msg: SchedulerToClient): void {
    for (const cs of ts.whoWants) this.toClient(cs, msg);
  }

  /** Asks `ws` to drop `key` (data or a queued/running task); one free-keys message per worker and event. */
  freeKeys(ws: WorkerState, key: Key): void {
    if (!ws.alive) return;
    const batch = this.#freeKeys.get(ws);
    if (batch !== undefined) {
      if (!batch.seen.has(key)) {
        batch.seen.add(key);
        batch.keys.push(key);
      }
      return;
    }
    const keys = [key];
    this.#freeKeys.set(ws, { keys, seen: new Set(keys) });
    this.toWorker(ws, { op: 'free-keys', keys, stimulusId: this.stimulusId });
  }

  // ---- recommendations

  recommend(ts: TaskState, finish: TaskStateName, args?: TransitionArgs): void {
    if (ts.recommended === undefined) this.#order.push(ts);
    ts.recommended = finish;
    ts.recommendedArgs = args;
  }

  /** Drops the pending recommendation of `ts` (an explicit transition supersedes it). */
  cancelRecommendation(ts: TaskState): void {
    ts.recommended = undefined;
    ts.recommendedArgs = undefined;
  }

  /**
   * The task of the oldest pending recommendation, its `recommended` and `recommendedArgs` still
   * set for the caller to read and clear; undefined when none is left.
   */
  nextRecommended(): TaskState | undefined {
    while (this.#head < this.#order.length) {
      const ts = this.#order[this.#head++];
      if (ts.recommended === undefined) continue; // superseded by an explicit transition
      if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
        this.#order = this.#order.slice(this.#head);
        this.#head = 0;
      }
      return ts;
    }
    this.#order.length = 0;
    this.#head = 0;
    return undefined;
  }

  /** Recommends releasing a task nothing needs any more, and forgetting a released one nothing refers to. */
  releaseIfUnneeded(ts: TaskState): void {
    if (needed(ts)) return;
    switch (ts.state) {
      case 'released':
        if (ts.dependents.size === 0) this.recommend(ts, 'forgotten');
        return;
      case 'forgotten':
        return;
      default:
        this.recommend(ts, 'released');
    }
  }

  /** `ts` entered no-worker. */
  markUnrunnable(ts: TaskState): void {
    this.unrunnable.add(ts);
    this.newlyUnrunnable.add(ts);
  }

  // ---- replicas

  addHolder(ts: TaskState, ws: WorkerState): void {
    ts.addHolder(ws);
    ws.hasWhat.add(ts);
  }

  removeHolder(ts: TaskState, ws: WorkerState): void {
    ts.whoHas.delete(ws);
    ws.hasWhat.delete(ts);
  }

  // ---- assignment

  decideWorker(ts: TaskState): WorkerState | undefined {
    return decideWorker(ts, this.workers, this.options.defaultDataSize);
  }

  /** Puts `ts` on `ws`: counted in its occupancy, queued in its backlog until it has a free slot. */
  assign(ts: TaskState, ws: WorkerState): void {
    ts.processingOn = ws;
    ts.duration = this.durations.get(ts.prefix);
    ws.processing.add(ts);
    ws.occupancy += ts.duration;
    ws.backlog.push(ts);
    this.dirty.add(ws);
  }

  /** Takes `ts` off its worker; with `cancel`, a worker that was sent it is told to drop it. */
  unassign(ts: TaskState, cancel: boolean): void {
    const ws = ts.processingOn;
    if (ws === undefined) return;
    ws.processing.delete(ts);
    ws.occupancy = ws.processing.size === 0 ? 0 : Math.max(0, ws.occupancy - ts.duration);
    if (ws.sent.delete(ts)) {
      ws.sentOccupancy = ws.sent.size === 0 ? 0 : Math.max(0, ws.sentOccupancy - ts.duration);
      if (cancel) this.freeKeys(ws, ts.key);
    } else {
      ws.backlog.remove(ts);
    }
    ts.processingOn = undefined;
    ts.duration = 0;
    this.dirty.add(ws);
  }

  /** A prefix got its first measurement: tasks of that prefix already assigned now count with it. */
  reestimate(prefix: string): void {
    const d = this.durations.get(prefix);
    for (const ws of this.workers.values()) {
      for (const ts of ws.processing) {
        if (ts.prefix !== prefix) continue;
        const delta = d - ts.duration;
        ts.duration = d;
        ws.occupancy = Math.max(0, ws.occupancy + delta);
        if (ws.sent.has(ts)) ws.sentOccupancy = Math.max(0, ws.sentOccupancy + delta);
        this.dirty.add(ws);
      }
    }
  }

  saturated(ws: WorkerState): boolean {
    const n = ws.sent.size;
    const q = this.options.workerQueue;
    if (n < ws.nthreads + q.minTasks) return false;
    if (n >= ws.nthreads + q.maxTasks) return true;
    return ws.sentOccupancy / ws.nthreads >= q.seconds;
  }

  /** Sends `ws` its highest-priority backlog tasks until it is saturated. */
  fill(ws: WorkerState): void {
    if (!ws.alive) return;
    while (ws.backlog.size > 0 && !this.saturated(ws)) {
      const ts = ws.backlog.pop()!;
      ws.sent.add(ts);
      ws.sentOccupancy += ts.duration;
      ts.runId = ++this.#runId;
      // Most tasks of a large graph have no inputs: they share one empty, frozen record.
      let whoHas = NO_INPUTS as Record<Key, Address[]>;
      let nbytes = NO_INPUTS as Record<Key, number>;
      if (ts.dependencies.size > 0) {
        whoHas = {};
        nbytes = {};
        for (const dep of ts.dependencies) {
          const holders: Address[] = [];
          for (const w of dep.whoHas) holders.push(w.address);
          whoHas[dep.key] = holders;
          if (dep.nbytes >= 0) nbytes[dep.key] = dep.nbytes;
        }
      }
      this.toWorker(ws, {
        op: 'compute-task',
        key: ts.key,
        run: ts.run!,
        priority: ts.priority,
        whoHas,
        nbytes,
        stimulusId: this.stimulusId,
        runId: ts.runId,
      });
    }
  }
}
