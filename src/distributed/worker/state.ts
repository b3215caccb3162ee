/**
 * The worker's state machine: events in, instructions out, no I/O and no timers (dask.distributed's
 * `WorkerState.handle_stimulus`). The TCP server feeds it the scheduler's messages and the
 * outcomes of the work it asked for, and performs the instructions it returns.
 *
 * How a task gets computed here (the manual's "Journey of a Task", step 5):
 *
 * - `compute-task` names the task's dependencies with their holders. Those in memory here are
 *   ready; those not here go to `fetch`, queued with every peer that holds them; those being
 *   computed here are waited on. With everything in memory the task is `ready`.
 * - Fetches are grouped per peer: one `gather-dep` takes a peer's queued keys up to a byte limit,
 *   and a limited number of requests is out at once (transfers.ts says which and why). A key
 *   several local tasks need is fetched once; its arrival wakes them all.
 * - At most `nthreads` tasks are `executing`; the ready queue runs smallest priority first.
 * - A finished task is reported with task-finished (nbytes, type, start/stop times) or task-erred;
 *   fetched copies with add-keys, so the scheduler knows where data lives.
 * - A peer that lacks a key is reported (missing-data) and another holder is tried; with none left
 *   the key is `missing` until new holders are known (`refresh-who-has`, or a later compute-task).
 *
 * Keeping and dropping: a task stays while the scheduler wants it here (`wanted`: it asked to
 * compute it, fetch a replica, scattered it, or was told of the copy) or a local task still needs
 * it as input (`dependents`). Once neither holds it is released at once, its data dropped, and
 * the dependencies only it needed are released in turn. free-keys and steal-request clear
 * `wanted`. Work that cannot be stopped (an execution, a fetch in flight) leaves the task
 * `cancelled`: its result is dropped when it arrives, and nothing is reported about the key,
 * unless it is wanted again before then, in which case the task goes back to what it was doing
 * and the result is used (dask's cancelled/resumed, simplified).
 *
 * Threads and requests are accounted apart from task states (`running`, transfers.ts), so a reply
 * for work whose task has moved on (scattered over, released and recreated) only frees its slot.
 */
import type { Address, Key, Opaque, StartStop, WorkerToScheduler } from '../messages.js';
import type { WorkerEvent, WorkerInstruction } from './events.js';
import { HeapSet } from './heap-set.js';
import { isNeeded, newTask, snapshot, TASK_STATES, type TaskSnapshot, type TaskStateName, type WorkerTask } from './task.js';
import { DEFAULT_TRANSFER_LIMITS, hostOf, seededRandom, Transfers, type GatherRequest, type TransferLimits } from './transfers.js';
import { InvalidTransitionError, InvalidWorkerStateError, isAllowed, TransitionLog, type TransitionRecord } from './transitions.js';
import { checkInvariants } from './validate.js';

export interface WorkerStateOptions {
  /** This worker's address (`host:port`): dropped from holder lists, and its host preferred. */
  readonly address: Address;
  /** Tasks executing at once. */
  readonly nthreads: number;
  /** Check every invariant after each event (tests switch this on). */
  readonly validate?: boolean;
  readonly transferLimits?: Partial<TransferLimits>;
  /** Seed of the holder choice; by default derived from `address`. */
  readonly seed?: number;
  /** Transitions kept for `story` (default 100,000). */
  readonly logLength?: number;
  /** Size assumed for a key whose nbytes nobody told us (default 1 kB, as dask). */
  readonly defaultNbytes?: number;
}

/** A compute-task's priority is a number; replicas come after every task's dependencies. */
const REPLICA_PRIORITY = Infinity;

/** isAllowed as a table of booleans: consulted on every transition. */
const ALLOWED = Object.fromEntries(
  TASK_STATES.map((start) => [start, Object.fromEntries(TASK_STATES.map((finish) => [finish, isAllowed(start, finish)]))]),
) as Record<TaskStateName, Record<TaskStateName, boolean>>;

/** States in which a task keeps links to its dependencies (it has not run yet, or is running). */
const KEEPS_DEPENDENCIES: ReadonlySet<TaskStateName> = new Set(['waiting', 'ready', 'executing', 'cancelled']);

export class WorkerState {
  readonly address: Address;
  readonly nthreads: number;
  readonly validate: boolean;
  /** The data store: values of the tasks in memory, and nothing else. */
  readonly data = new Map<Key, unknown>();

  private readonly tasks = new Map<Key, WorkerTask>();
  private readonly ready = new HeapSet<WorkerTask>();
  /** Executions out on the thread pool, per key (normally 0 or 1). */
  private readonly running = new Map<Key, number>();
  private runningCount = 0;
  /** Every task a peer holds, whatever the task's state (whoHas, inverted). */
  private readonly hasWhat = new Map<Address, Set<WorkerTask>>();
  private readonly transfers: Transfers;
  private readonly log: TransitionLog;
  private readonly defaultNbytes: number;
  private seq = 0;
  private paused = false;
  private handling = false;

  // Per event: the stimulus, messages for the scheduler, keys for one add-keys.
  private stimulusId = '';
  private sends: WorkerToScheduler[] = [];
  private readonly addKeys = new Map<Key, number>();

  constructor(opts: WorkerStateOptions) {
    if (typeof opts?.address !== 'string' || opts.address === '') {
      throw new TypeError('WorkerState: address must be a non-empty string');
    }
    positiveInteger('nthreads', opts.nthreads);
    const limits = { ...DEFAULT_TRANSFER_LIMITS, ...opts.transferLimits };
    positiveInteger('transferLimits.maxIncomingPerPeer', limits.maxIncomingPerPeer);
    positiveInteger('transferLimits.maxConcurrentIncoming', limits.maxConcurrentIncoming);
    if (!(limits.maxBytesPerFetch > 0)) {
      throw new TypeError(`WorkerState: transferLimits.maxBytesPerFetch must be positive, got ${limits.maxBytesPerFetch}`);
    }
    this.address = opts.address;
    this.nthreads = opts.nthreads;
    this.validate = opts.validate ?? false;
    this.defaultNbytes = opts.defaultNbytes ?? 1024;
    this.log = new TransitionLog(opts.logLength ?? 100_000);
    const random = seededRandom(opts.seed ?? hashString(opts.address));
    this.transfers = new Transfers(limits, hostOf(opts.address), random, (ts) => ts.nbytes ?? this.defaultNbytes);
  }

  /** Applies one event; returns messages for the scheduler, then executions, then fetches. */
  handle(event: WorkerEvent): WorkerInstruction[] {
    if (this.handling) throw new Error('WorkerState.handle is not reentrant: feed events after the previous call returns');
    this.handling = true;
    try {
      this.stimulusId = event.stimulusId ?? `${event.type}-${this.log.total}`;
      this.sends = [];
      this.addKeys.clear();
      this.dispatch(event);
      if (this.addKeys.size > 0) {
        const keys = [...this.addKeys.keys()];
        this.send({ op: 'add-keys', keys, nbytes: Object.fromEntries(this.addKeys), stimulusId: this.stimulusId });
      }
      const out: WorkerInstruction[] = [];
      for (const msg of this.sends) out.push({ type: 'send', msg });
      this.ensureComputing(out);
      this.ensureCommunicating(out);
      if (this.validate) this.validateState();
      return out;
    } finally {
      this.handling = false;
    }
  }

  /** The transitions of these keys (of all keys when none are given), oldest first. */
  story(...keys: Key[]): TransitionRecord[] {
    return this.log.records(keys.length > 0 ? new Set(keys) : undefined);
  }

  taskState(key: Key): TaskSnapshot | undefined {
    const ts = this.tasks.get(key);
    return ts && snapshot(ts);
  }

  /** Keys of every tracked task. */
  keys(): Key[] {
    return [...this.tasks.keys()];
  }

  /** Keys nobody is known to hold: the server asks the scheduler's who-has for these. */
  missingKeys(): Key[] {
    return [...this.tasks.values()].filter((ts) => ts.state === 'missing').map((ts) => ts.key);
  }

  /** Executions out on the thread pool. */
  get executingCount(): number {
    return this.runningCount;
  }

  get readyCount(): number {
    return this.ready.size;
  }

  /** Gather requests out to peers. */
  inFlight(): GatherRequest[] {
    return this.transfers.inFlightRequests();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Throws InvalidWorkerStateError naming every broken invariant (validate mode runs this). */
  validateState(): void {
    const problems = checkInvariants({
      address: this.address,
      nthreads: this.nthreads,
      paused: this.paused,
      tasks: this.tasks,
      data: this.data,
      ready: this.ready,
      running: this.running,
      runningCount: this.runningCount,
      hasWhat: this.hasWhat,
      transfers: this.transfers,
    });
    if (problems.length > 0) throw new InvalidWorkerStateError(problems.join('; '), this.stimulusId);
  }

  // ---- events

  private dispatch(ev: WorkerEvent): void {
    switch (ev.type) {
      case 'compute-task':
        return this.onComputeTask(ev);
      case 'free-keys':
        return this.onFreeKeys(ev.keys);
      case 'acquire-replicas':
        return this.onAcquireReplicas(ev.whoHas, ev.nbytes);
      case 'steal-request':
        return this.onStealRequest(ev.key);
      case 'execute-success':
        return this.onExecuteSuccess(ev);
      case 'execute-failure':
        return this.onExecuteFailure(ev);
      case 'gather-dep-success':
        return this.onGatherSuccess(ev);
      case 'gather-dep-failure':
        return this.onGatherFailure(ev.worker, ev.keys);
      case 'update-data':
        return this.onUpdateData(ev.data, ev.nbytes);
      case 'refresh-who-has':
        return this.onRefreshWhoHas(ev.whoHas);
      case 'pause':
        this.paused = true;
        return;
      case 'unpause':
        this.paused = false;
        return;
      default:
        throw new TypeError(`WorkerState: unknown event type '${(ev as { type: unknown }).type}'`);
    }
  }

  private onComputeTask(ev: Extract<WorkerEvent, { type: 'compute-task' }>): void {
    const ts = this.getOrCreate(ev.key);
    ts.run = ev.run;
    ts.runId = ev.runId;
    ts.spec = { whoHas: ev.whoHas, nbytes: ev.nbytes };
    ts.compute = true;
    ts.wanted = true;
    switch (ts.state) {
      case 'memory':
        this.sendFinished(ts);
        return;
      case 'error':
        this.sendErred(ts);
        return;
      case 'waiting':
      case 'executing':
        ts.priority = ev.priority;
        return;
      case 'ready':
        ts.priority = ev.priority;
        this.ready.push(ts, ts.priority, ts.seq);
        return;
      case 'flight':
        // Let the fetch finish: its value serves as the result; if it fails, compute here.
        ts.priority = ev.priority;
        return;
      case 'cancelled':
        ts.priority = ev.priority;
        this.resume(ts);
        return;
      case 'released':
      case 'fetch':
      case 'missing':
        ts.priority = ev.priority;
        this.startCompute(ts);
        return;
    }
  }

  private onFreeKeys(keys: readonly Key[]): void {
    for (const key of keys) {
      const ts = this.tasks.get(key);
      if (!ts) continue;
      ts.compute = false;
      ts.wanted = false;
      this.releaseIfUnneeded(ts);
    }
  }

  private onAcquireReplicas(whoHas: Record<Key, readonly Address[]>, nbytes: Record<Key, number>): void {
    for (const [key, holders] of Object.entries(whoHas)) {
      const ts = this.getOrCreate(key);
      ts.wanted = true;
      if (ts.state === 'memory') {
        // The scheduler thinks the copy is not here: correct it.
        this.addKeys.set(key, ts.nbytes ?? this.defaultNbytes);
        continue;
      }
      this.needAsData(ts, holders, nbytes[key], REPLICA_PRIORITY);
    }
  }

  private onStealRequest(key: Key): void {
    const ts = this.tasks.get(key);
    const reply = (state: 'released' | 'running' | 'memory' | 'unknown') =>
      this.send({ op: 'steal-response', key, state, stimulusId: this.stimulusId });
    if (!ts) return reply('unknown');
    switch (ts.state) {
      case 'memory':
        return reply('memory');
      case 'executing':
      case 'error':
        // Started here (an erred task's task-erred is ahead of this reply on the stream).
        return reply('running');
      case 'waiting':
      case 'ready':
        // A local task needs it as input and only this worker is computing it: keep it.
        if (ts.dependents.size > 0) return reply('running');
        break;
    }
    // Not started here (or not being computed here at all): give it up.
    ts.compute = false;
    ts.wanted = false;
    this.releaseIfUnneeded(ts);
    reply('released');
  }

  private onExecuteSuccess(ev: Extract<WorkerEvent, { type: 'execute-success' }>): void {
    if (!this.threadDone(ev.key, ev.type)) return;
    const ts = this.tasks.get(ev.key);
    if (ts?.state === 'cancelled' && ts.previous === 'executing') return this.transition(ts, 'released');
    if (ts?.state !== 'executing') return; // overtaken (scattered over): only the thread is freed
    ts.nbytes = ev.nbytes;
    ts.typeName = ev.typeName;
    ts.startstops.push({ action: 'compute', start: ev.start, stop: ev.stop });
    this.putInMemory(ts, ev.value, false);
  }

  private onExecuteFailure(ev: Extract<WorkerEvent, { type: 'execute-failure' }>): void {
    if (!this.threadDone(ev.key, ev.type)) return;
    const ts = this.tasks.get(ev.key);
    if (ts?.state === 'cancelled' && ts.previous === 'executing') return this.transition(ts, 'released');
    if (ts?.state !== 'executing') return;
    if (!ts.compute) {
      // Freed, then needed again as a dependency: a peer's copy will do.
      this.fetchOrMissing(ts);
      return;
    }
    ts.exception = ev.exception;
    ts.traceback = ev.traceback;
    ts.startstops.push({ action: 'compute', start: ev.start, stop: ev.stop });
    this.transition(ts, 'error');
    this.sendErred(ts);
  }

  private onGatherSuccess(ev: Extract<WorkerEvent, { type: 'gather-dep-success' }>): void {
    const request = this.transfers.finished(ev.worker, ev.keys);
    if (!request) return this.staleReply(ev.worker, ev.type);
    const transfer: StartStop = { action: 'transfer', start: ev.start, stop: ev.stop, source: ev.worker };
    const woken = new Set<WorkerTask>();
    for (const key of request.keys) {
      const ts = this.tasks.get(key);
      if (!ts || ts.comingFrom !== ev.worker) continue; // overtaken while in flight
      if (ts.state === 'cancelled') {
        this.transition(ts, 'released');
        continue;
      }
      if (!Object.hasOwn(ev.data, key)) {
        this.removeHolder(ts, ev.worker);
        this.send({ op: 'missing-data', key, errantWorker: ev.worker, stimulusId: this.stimulusId });
        this.afterFailedFetch(ts);
        continue;
      }
      for (const d of ts.dependents) woken.add(d);
      ts.nbytes = ev.nbytes[key] ?? ts.nbytes;
      this.putInMemory(ts, ev.data[key], false, transfer);
    }
    // The dependents that were waiting for this transfer: their task-finished reports it.
    for (const d of woken) d.startstops.push(transfer);
  }

  private onGatherFailure(peer: Address, keys: readonly Key[]): void {
    const request = this.transfers.finished(peer, keys);
    // The peer is unreachable: it is no holder of anything any more (dask does the same).
    const held = [...(this.hasWhat.get(peer) ?? [])];
    for (const ts of held) this.removeHolder(ts, peer);
    for (const key of request?.keys ?? []) {
      const ts = this.tasks.get(key);
      if (!ts || ts.comingFrom !== peer) continue;
      if (ts.state === 'cancelled') {
        this.transition(ts, 'released');
        continue;
      }
      this.afterFailedFetch(ts);
      if (ts.state === 'missing') this.sendMissing(ts, peer);
    }
    for (const ts of held) {
      if (ts.state === 'fetch' && ts.whoHas.size === 0) {
        this.transition(ts, 'missing');
        this.sendMissing(ts, peer);
      }
    }
  }

  private onUpdateData(data: Record<Key, unknown>, nbytes: Record<Key, number>): void {
    for (const [key, value] of Object.entries(data)) {
      const ts = this.getOrCreate(key);
      ts.nbytes = nbytes[key] ?? ts.nbytes;
      ts.wanted = true;
      ts.compute = false;
      if (ts.state === 'memory') this.data.set(key, value);
      else this.putInMemory(ts, value, true);
      this.addKeys.set(key, ts.nbytes ?? this.defaultNbytes);
    }
  }

  private onRefreshWhoHas(whoHas: Record<Key, readonly Address[]>): void {
    for (const [key, holders] of Object.entries(whoHas)) {
      const ts = this.tasks.get(key);
      if (!ts || ts.state === 'memory') continue;
      this.setWhoHas(ts, holders);
      this.refetch(ts);
    }
  }

  // ---- building blocks

  /** Links a compute task to its dependencies and makes it waiting or ready. */
  private startCompute(ts: WorkerTask): void {
    const spec = ts.spec!;
    for (const key in spec.whoHas) {
      if (key === ts.key || !Object.hasOwn(spec.whoHas, key)) continue;
      const holders = spec.whoHas[key];
      const dep = this.getOrCreate(key);
      ts.dependencies.add(dep);
      dep.dependents.add(ts);
      this.needAsData(dep, holders, spec.nbytes[key], ts.priority);
    }
    for (const dep of ts.dependencies) if (dep.state !== 'memory') ts.waitingFor.add(dep);
    this.setWhoHas(ts, []);
    this.transition(ts, ts.waitingFor.size > 0 ? 'waiting' : 'ready');
  }

  /**
   * `ts` is needed here as data (a dependency of a local task, or a replica): update what is known
   * of it and start getting it if nothing is doing so yet.
   */
  private needAsData(ts: WorkerTask, holders: readonly Address[], nbytes: number | undefined, priority: number): void {
    if (ts.state === 'memory') return;
    const isNew = ts.state === 'released';
    if (nbytes !== undefined) ts.nbytes = nbytes;
    this.setWhoHas(ts, holders);
    if (priority < ts.priority) {
      ts.priority = priority;
      if (ts.state === 'fetch') for (const p of ts.whoHas) this.transfers.enqueue(ts, p);
    }
    switch (ts.state) {
      case 'released':
        this.fetchOrMissing(ts);
        break;
      case 'fetch':
      case 'missing':
        this.refetch(ts);
        break;
      case 'cancelled':
        this.resume(ts);
        break;
      case 'error':
        // Erred here, but the scheduler says a peer has it: that copy is the one to use.
        if (ts.whoHas.size > 0) {
          ts.compute = false;
          ts.exception = ts.traceback = undefined;
          this.transition(ts, 'fetch');
        }
        break;
      default:
      // waiting, ready, executing (computed here), flight: on its way already.
    }
    // The scheduler counts this worker as a holder of a key it does not have: say so.
    if (isNew && ts.state === 'missing' && holders.includes(this.address)) this.sendMissing(ts, this.address);
  }

  /** After a fetch came back without the key: compute it here, try another holder, or give up. */
  private afterFailedFetch(ts: WorkerTask): void {
    if (ts.compute) this.startCompute(ts);
    else this.fetchOrMissing(ts);
  }

  private fetchOrMissing(ts: WorkerTask): void {
    this.transition(ts, ts.whoHas.size > 0 ? 'fetch' : 'missing');
  }

  /** A fetch or missing task whose holders changed. */
  private refetch(ts: WorkerTask): void {
    if (ts.state === 'fetch' && ts.whoHas.size === 0) this.transition(ts, 'missing');
    else if (ts.state === 'missing' && ts.whoHas.size > 0) this.transition(ts, 'fetch');
  }

  /** A cancelled task is wanted again: back to the work still in progress. */
  private resume(ts: WorkerTask): void {
    this.transition(ts, ts.previous!);
  }

  private releaseIfUnneeded(ts: WorkerTask): void {
    if (isNeeded(ts) || ts.state === 'cancelled' || ts.state === 'released') return;
    if (ts.state === 'executing' || ts.state === 'flight') {
      ts.previous = ts.state;
      this.transition(ts, 'cancelled');
    } else {
      this.transition(ts, 'released');
    }
  }

  /**
   * Stores a value and tells the scheduler: task-finished for a task it asked this worker to
   * compute, add-keys for any other copy it should know about (`quiet`: the caller reports).
   */
  private putInMemory(ts: WorkerTask, value: unknown, quiet: boolean, transfer?: StartStop): void {
    const compute = ts.compute;
    this.transition(ts, 'memory');
    this.data.set(ts.key, value);
    if (transfer && compute) ts.startstops.push(transfer);
    if (!quiet) {
      if (compute) this.sendFinished(ts);
      else this.addKeys.set(ts.key, ts.nbytes ?? this.defaultNbytes);
      ts.wanted = true;
    }
    for (const d of ts.dependents) {
      d.waitingFor.delete(ts);
      if (d.state === 'waiting' && d.waitingFor.size === 0) this.transition(d, 'ready');
    }
  }

  /** Appends executions to `out` while threads are free. */
  private ensureComputing(out: WorkerInstruction[]): void {
    while (!this.paused && this.runningCount < this.nthreads && this.ready.size > 0) {
      const ts = this.ready.pop()!;
      this.transition(ts, 'executing');
      this.running.set(ts.key, (this.running.get(ts.key) ?? 0) + 1);
      this.runningCount++;
      const deps: Key[] = [];
      for (const d of ts.dependencies) deps.push(d.key);
      out.push({ type: 'execute', key: ts.key, run: ts.run!, deps });
    }
  }

  /** Appends the gather-deps the transfer limits allow to `out`. */
  private ensureCommunicating(out: WorkerInstruction[]): void {
    if (this.paused) return;
    for (let plan = this.transfers.plan(); plan; plan = this.transfers.plan()) {
      for (const ts of plan.tasks) {
        this.transition(ts, 'flight');
        ts.comingFrom = plan.peer;
      }
      const keys = plan.tasks.map((ts) => ts.key);
      this.transfers.started({ peer: plan.peer, keys, totalNbytes: plan.totalNbytes });
      out.push({ type: 'gather-dep', worker: plan.peer, keys, totalNbytes: plan.totalNbytes });
    }
  }

  /** Frees the thread of an execution; false when none was out for the key. */
  private threadDone(key: Key, type: string): boolean {
    const n = this.running.get(key);
    if (n === undefined) {
      this.staleReply(key, type);
      return false;
    }
    if (n > 1) this.running.set(key, n - 1);
    else this.running.delete(key);
    this.runningCount--;
    return true;
  }

  private staleReply(what: string, type: string): void {
    if (this.validate) {
      throw new InvalidWorkerStateError(`${type} for ${what}, but no such work is out`, this.stimulusId);
    }
  }

  // ---- the transition, and the bookkeeping tied to states

  private transition(ts: WorkerTask, finish: TaskStateName): void {
    const start = ts.state;
    if (!ALLOWED[start][finish]) throw new InvalidTransitionError(ts.key, start, finish, this.stimulusId);
    // Leave `start`.
    if (start === 'fetch') for (const p of ts.whoHas) this.transfers.dequeue(ts, p);
    else if (start === 'ready') this.ready.discard(ts);
    else if (start === 'memory') this.data.delete(ts.key);
    if ((start === 'flight' || start === 'cancelled') && finish !== 'flight' && finish !== 'cancelled') ts.comingFrom = undefined;
    if (start === 'cancelled') ts.previous = undefined;
    ts.state = finish;
    this.log.add(ts.key, start, finish, this.stimulusId);
    // Enter `finish`.
    if (finish === 'fetch') for (const p of ts.whoHas) this.transfers.enqueue(ts, p);
    else if (finish === 'ready') this.ready.push(ts, ts.priority, ts.seq);
    else if (finish === 'memory' || finish === 'released') this.setWhoHas(ts, []);
    if (finish === 'released') {
      if (this.validate && ts.dependents.size > 0) {
        throw new InvalidWorkerStateError(`released '${ts.key}' while local tasks depend on it`, this.stimulusId);
      }
      this.tasks.delete(ts.key);
      ts.run = ts.spec = ts.runId = ts.exception = ts.traceback = undefined;
    }
    if (!KEEPS_DEPENDENCIES.has(finish)) this.unlinkDependencies(ts);
  }

  /** The task no longer needs its inputs: release those nothing else needs. */
  private unlinkDependencies(ts: WorkerTask): void {
    if (ts.dependencies.size === 0) return;
    const deps = [...ts.dependencies];
    ts.dependencies.clear();
    ts.waitingFor.clear();
    for (const dep of deps) dep.dependents.delete(ts);
    for (const dep of deps) this.releaseIfUnneeded(dep);
  }

  /** Replaces the holders of `ts` (never this worker), keeping hasWhat and fetch queues in step. */
  private setWhoHas(ts: WorkerTask, holders: readonly Address[]): void {
    if (holders.length === 0 && ts.whoHas.size === 0) return; // the common case: nothing to do
    // Holder lists are short (one or two addresses): lookups in them beat building a set per call.
    for (const p of ts.whoHas) if (!holders.includes(p)) this.removeHolder(ts, p); // deleting while iterating a Set is safe
    for (const p of holders) {
      if (p === this.address || ts.whoHas.has(p)) continue;
      ts.whoHas.add(p);
      let s = this.hasWhat.get(p);
      if (!s) this.hasWhat.set(p, (s = new Set()));
      s.add(ts);
      if (ts.state === 'fetch') this.transfers.enqueue(ts, p);
    }
  }

  private removeHolder(ts: WorkerTask, peer: Address): void {
    if (!ts.whoHas.delete(peer)) return;
    const s = this.hasWhat.get(peer)!;
    s.delete(ts);
    if (s.size === 0) this.hasWhat.delete(peer);
    if (ts.state === 'fetch') this.transfers.dequeue(ts, peer);
  }

  private getOrCreate(key: Key): WorkerTask {
    let ts = this.tasks.get(key);
    if (!ts) {
      ts = newTask(key, this.seq++);
      this.tasks.set(key, ts);
    }
    return ts;
  }

  // ---- messages

  private send(msg: WorkerToScheduler): void {
    this.sends.push(msg);
  }

  private sendFinished(ts: WorkerTask): void {
    const msg: Extract<WorkerToScheduler, { op: 'task-finished' }> = {
      op: 'task-finished',
      key: ts.key,
      nbytes: ts.nbytes ?? this.defaultNbytes,
      type: ts.typeName ?? 'unknown',
      startstops: ts.startstops.slice(), // sent later (batched): not the array this task goes on filling
      stimulusId: this.stimulusId,
    };
    if (ts.runId !== undefined) msg.runId = ts.runId;
    this.send(msg);
  }

  private sendErred(ts: WorkerTask): void {
    this.send({
      op: 'task-erred',
      key: ts.key,
      exception: ts.exception as Opaque,
      ...(ts.traceback !== undefined ? { traceback: ts.traceback } : {}),
      startstops: [...ts.startstops],
      stimulusId: this.stimulusId,
      ...(ts.runId !== undefined ? { runId: ts.runId } : {}),
    });
  }

  private sendMissing(ts: WorkerTask, errantWorker: Address): void {
    this.send({ op: 'missing-data', key: ts.key, errantWorker, stimulusId: this.stimulusId });
  }
}

function positiveInteger(name: string, v: unknown): void {
  if (!Number.isInteger(v) || (v as number) < 1) {
    throw new TypeError(`WorkerState: ${name} must be a positive integer, got ${String(v)}`);
  }
}

/** FNV-1a: the default seed, so each worker draws differently but reproducibly. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
