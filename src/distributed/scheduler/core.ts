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
import { Ring, type Note, type TransitionRecord } from './story.js';
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
}

export interface ResolvedOptions {
  readonly validate: boolean;
  readonly transitionLogSize: number;
  readonly clock: () => number;
  readonly unknownTaskDuration: number;
  readonly defaultDataSize: number;
  readonly workerQueue: { readonly minTasks: number; readonly maxTasks: number; readonly seconds: number };
  readonly allowedFailures: number;
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
  return {
    validate: o.validate ?? false,
    transitionLogSize: nonNegative('transitionLogSize', o.transitionLogSize, 100_000, true),
    clock: o.clock ?? (() => Date.now() / 1000),
    unknownTaskDuration: nonNegative('unknownTaskDuration', o.unknownTaskDuration, 0.5),
    defaultDataSize: nonNegative('defaultDataSize', o.defaultDataSize, 1024),
    workerQueue: { minTasks, maxTasks, seconds: nonNegative('workerQueue.seconds', q.seconds, 0.02) },
    allowedFailures: nonNegative('allowedFailures', o.allowedFailures, 3, true),
  };
}

export interface Recommendation {
  readonly finish: TaskStateName;
  readonly args?: TransitionArgs;
}

export class SchedulerCore {
  readonly tasks = new Map<Key, TaskState>();
  readonly workers = new Map<Address, WorkerState>();
  readonly clients = new Map<string, ClientState>();
  /** Tasks in `no-worker`. */
  readonly unrunnable = new Set<TaskState>();
  readonly durations: TaskDurations;
  readonly log: Ring<TransitionRecord>;
  readonly notes = new Ring<Note>(1000);

  /**
   * Pending recommendations of the event being handled: one per task, the latest wins, applied in
   * the order tasks were first recommended (`#order`; a Map's own order would do, but popping the
   * first entry of a Map with many deleted entries is not O(1) in V8).
   */
  readonly recommendations = new Map<TaskState, Recommendation>();
  #order: TaskState[] = [];
  #head = 0;
  /** Workers whose backlog or free slots changed: filled at the end of the event. */
  readonly dirty = new Set<WorkerState>();
  stimulusId = '';
  transitionCount = 0;
  /** The most tasks known at once during this event (bounds the transitions it may take). */
  peakTasks = 0;
  #outbox: Instruction[] = [];
  /** This event's free-keys message per worker (its key list), and the keys in it. */
  readonly #freeKeys = new Map<WorkerState, { keys: Key[]; seen: Set<Key> }>();
  #priority = 0;
  #runId = 0;
  #workerSeq = 0;

  constructor(readonly options: ResolvedOptions) {
    this.durations = new TaskDurations(options.unknownTaskDuration);
    this.log = new Ring(options.transitionLogSize);
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
    this.transitionCount = 0;
    this.peakTasks = this.tasks.size;
    this.#outbox = [];
    this.#freeKeys.clear();
    this.recommendations.clear();
    this.#order = [];
    this.#head = 0;
    this.dirty.clear();
  }

  /** Sends what fits to the workers that changed, and returns the event's instructions. */
  end(): Instruction[] {
    for (const ws of this.dirty) this.fill(ws);
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
    if (!this.recommendations.has(ts)) this.#order.push(ts);
    this.recommendations.set(ts, args === undefined ? { finish } : { finish, args });
  }

  /** The oldest pending recommendation, removed; undefined when none is left. */
  nextRecommendation(): [TaskState, Recommendation] | undefined {
    while (this.#head < this.#order.length) {
      const ts = this.#order[this.#head++];
      const rec = this.recommendations.get(ts);
      if (rec === undefined) continue; // superseded by an explicit transition
      this.recommendations.delete(ts);
      if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
        this.#order = this.#order.slice(this.#head);
        this.#head = 0;
      }
      return [ts, rec];
    }
    this.#order = [];
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

  // ---- replicas

  addHolder(ts: TaskState, ws: WorkerState): void {
    ts.whoHas.add(ws);
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
    const { minTasks, maxTasks, seconds } = this.options.workerQueue;
    if (n < ws.nthreads + minTasks) return false;
    if (n >= ws.nthreads + maxTasks) return true;
    return ws.sentOccupancy / ws.nthreads >= seconds;
  }

  /** Sends `ws` its highest-priority backlog tasks until it is saturated. */
  fill(ws: WorkerState): void {
    if (!ws.alive) return;
    while (ws.backlog.size > 0 && !this.saturated(ws)) {
      const ts = ws.backlog.pop()!;
      ws.sent.add(ts);
      ws.sentOccupancy += ts.duration;
      ts.runId = ++this.#runId;
      const whoHas: Record<Key, Address[]> = {};
      const nbytes: Record<Key, number> = {};
      for (const dep of ts.dependencies) {
        whoHas[dep.key] = [...dep.whoHas].map((w) => w.address);
        if (dep.nbytes >= 0) nbytes[dep.key] = dep.nbytes;
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
