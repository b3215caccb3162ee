/**
 * The worker's end of a task's journey: runs a task's run spec (src/distributed/client/run-spec.ts)
 * with its dependencies' values and reports the result or the error, as the worker state machine's
 * `execute-success` / `execute-failure` need them.
 *
 * Where a task runs. The worker's event loop must keep answering the scheduler, peers and
 * heartbeats, so tasks run on a thread pool (piscina, src/schedulers/pool.ts; one pool per
 * executor). But a thread round trip costs tens of microseconds, far more than a trivial task, so
 * the executor follows the threads scheduler's measured rules (src/schedulers/threads.ts):
 *
 * - every task's run time is recorded per function signature (durations.ts); a task whose
 *   functions are measured cheaper than `inlineBelowMs` (the threads scheduler's threshold, 10 µs)
 *   runs on the calling thread, in slices of at most 5 ms before the event loop gets a turn (one
 *   slow run in a row is taken as a spike of the machine, not of the function: recordInline);
 * - other tasks go to the pool in batches: `run()` calls made in the same tick are queued, and one
 *   message carries as many as add up to ~`targetBatchMs` of measured work, but no more than a
 *   fair share of the queue per thread. A signature never measured travels alone, so its first
 *   measurement comes back quickly. At most two batches per thread are out at once.
 * - a task without functions (a value, an alias of a dependency) always runs here.
 *
 * Data. Dependencies travel in the batch's `data` (the wire tree names them `[4, key]`); typed
 * arrays and ndarray data travel in shared memory (transfer.ts): a value computed on the pool is
 * already shared and is not copied again; any other typed array is copied into shared memory once
 * (remembered per array). Results come back the same way.
 *
 * Errors. A task that throws, a function that cannot be resolved, a malformed run spec, a value that
 * cannot cross to a thread: each becomes a failure outcome with the error (name, message, stack of
 * the thread it ran on) as an opaque `Serialize`, never an exception out of `run()`. A batch that
 * the pool rejects as a whole (a value that cannot be cloned, a thread that died) is retried one
 * task per message, so the failure lands on the task that caused it.
 */
import '../../kernels.js';
import type { Piscina } from 'piscina';
import { settle } from '../../graph/lazy.js';
import { localRefs, refId, resolveFunction, type FnRef } from '../../graph/shipping/registry.js';
import { expectedDuration, recordDuration } from '../../schedulers/durations.js';
import { errorInfo, RemoteError } from '../../schedulers/errors.js';
import { createThreadPool } from '../../schedulers/pool.js';
import { threadsTuning } from '../../schedulers/threads.js';
import { decode, encode } from '../../schedulers/transfer.js';
import { runWire, type Batch, type BatchResult, type Wire } from '../../schedulers/wire.js';
import type { Key, Opaque, RunSpec } from '../messages.js';
import { deserialize, nbytesOf, serialize, Serialize, Serialized } from '../protocol/index.js';
import { isNdarray } from '../protocol/tree.js';

export interface TaskExecutorOptions {
  /** Pool threads. */
  readonly nthreads: number;
  /** Tasks measured faster than this (ms) run on the calling thread; default: the threads scheduler's. */
  readonly inlineBelowMs?: number;
  /** Measured work (ms) one pool message carries; default: the threads scheduler's. */
  readonly targetBatchMs?: number;
}

/** Times are seconds since the epoch, as the worker reports them (`StartStop`). */
export interface ExecuteSuccess {
  readonly value: unknown;
  readonly nbytes: number;
  readonly typeName: string;
  readonly start: number;
  readonly stop: number;
}

export interface ExecuteFailure {
  /** The user's error, `new Serialize(error)`. */
  readonly error: Opaque;
  readonly traceback: string | undefined;
  readonly start: number;
  readonly stop: number;
}

export type ExecuteOutcome = ExecuteSuccess | ExecuteFailure;

/** How many tasks ran where, and in how many pool messages. */
export interface ExecutorCounts {
  inline: number;
  pooled: number;
  batches: number;
}

interface Job {
  readonly key: Key;
  readonly spec: RunSpec;
  /** The durations signature: the functions' ids. */
  readonly id: string;
  readonly deps: Readonly<Record<Key, unknown>>;
  fns?: Function[];
  /** Travels in a message of its own (a retry after its batch was rejected as a whole). */
  alone: boolean;
  readonly resolve: (o: ExecuteOutcome) => void;
  readonly reject: (e: Error) => void;
}

const SLICE_MS = 5;

export class TaskExecutor {
  readonly nthreads: number;
  private readonly inlineBelowMs: number | undefined;
  private readonly targetBatchMs: number | undefined;
  private readonly maxInflight: number;
  private pool: Piscina<Batch, BatchResult> | undefined;
  private closed = false;
  private scheduled = false;
  private sliced = false;
  private inflight = 0;
  /** Jobs not yet classified, jobs for this thread, jobs for the pool (heads index the next one). */
  private pending: Job[] = [];
  private inlineQ: Job[] = [];
  private inlineHead = 0;
  private poolQ: Job[] = [];
  private poolHead = 0;
  private readonly live = new Set<Job>();
  private readonly resolved = new Map<string, Function>();
  private readonly resolving = new Map<string, Promise<Function>>();
  /** Signatures whose last run here was over the inline threshold, not yet recorded (recordInline). */
  private readonly slowOnce = new Set<string>();
  private readonly tally: ExecutorCounts = { inline: 0, pooled: 0, batches: 0 };

  constructor(opts: TaskExecutorOptions) {
    if (opts === null || typeof opts !== 'object') throw new TypeError('TaskExecutor: expected options { nthreads }');
    const { nthreads, inlineBelowMs, targetBatchMs } = opts;
    if (!Number.isSafeInteger(nthreads) || nthreads < 1) throw new TypeError(`TaskExecutor: nthreads must be a positive integer, got ${String(nthreads)}`);
    for (const [name, v] of [['inlineBelowMs', inlineBelowMs], ['targetBatchMs', targetBatchMs]] as const) {
      if (v !== undefined && !(typeof v === 'number' && v >= 0)) throw new TypeError(`TaskExecutor: ${name} must be a number >= 0, got ${String(v)}`);
    }
    this.nthreads = nthreads;
    this.inlineBelowMs = inlineBelowMs;
    this.targetBatchMs = targetBatchMs;
    this.maxInflight = 2 * nthreads;
  }

  /** Tasks run so far: on this thread, on the pool, and the pool messages they took. */
  get counts(): Readonly<ExecutorCounts> {
    return { ...this.tally };
  }

  /**
   * Runs one task. `run` is the task's run spec: opaque (`Serialized` as received with
   * `deserialize: false`, or `Serialize`) or already decoded. `deps` holds the value of every key
   * the spec names. Resolves with the outcome; rejects only when the executor is closed first.
   */
  run(key: Key, run: Opaque | RunSpec, deps: Readonly<Record<Key, unknown>>): Promise<ExecuteOutcome> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise<ExecuteOutcome>((resolve, reject) => {
      let spec: RunSpec;
      try {
        spec = runSpecOf(run);
      } catch (e) {
        const t = performance.now();
        resolve(failure(e, t, t));
        return;
      }
      const job: Job = { key, spec, id: signature(spec.fns), deps: deps ?? {}, alone: false, resolve, reject };
      this.live.add(job);
      job.fns = this.cached(spec.fns);
      if (job.fns !== undefined) this.enqueue(job);
      else this.resolveFunctions(job);
    });
  }

  /** Stops: tasks not finished reject, the pool's threads end. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = closedError();
    for (const job of this.live) job.reject(err);
    this.live.clear();
    this.pending = [];
    this.inlineQ = [];
    this.poolQ = [];
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close({ force: true });
  }

  // ---- functions

  private cached(refs: readonly FnRef[]): Function[] | undefined {
    const out = new Array<Function>(refs.length);
    for (let j = 0; j < refs.length; j++) {
      const fn = this.resolved.get(refId(refs[j]));
      if (fn === undefined) return undefined;
      out[j] = fn;
    }
    return out;
  }

  private resolveFunctions(job: Job): void {
    const t0 = performance.now();
    Promise.all(job.spec.fns.map((ref) => this.resolveOne(ref))).then(
      (fns) => {
        job.fns = fns;
        this.enqueue(job);
      },
      (e) => this.fail(job, e, t0, performance.now()),
    );
  }

  private resolveOne(ref: FnRef): Promise<Function> {
    const id = refId(ref);
    let p = this.resolving.get(id);
    if (p === undefined) {
      p = resolveFunction(ref).then((fn) => {
        if (typeof fn !== 'function') throw new TypeError(`the function reference ${JSON.stringify(ref)} did not resolve to a function`);
        this.resolved.set(id, fn);
        return fn;
      });
      // A failure is not remembered: a module may be uploaded, a kernel registered, later.
      p.catch(() => this.resolving.delete(id));
      this.resolving.set(id, p);
    }
    return p;
  }

  // ---- scheduling

  private enqueue(job: Job): void {
    if (this.closed || !this.live.has(job)) return;
    this.pending.push(job);
    this.schedule();
  }

  /** Pumps once the current tick's run() calls are all queued, so they can share a message. */
  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed) return;
    const pending = this.pending;
    this.pending = [];
    for (const job of pending) (this.runsHere(job) ? this.inlineQ : this.poolQ).push(job);
    this.sendBatches();
    if (!this.sliced) this.runInline();
  }

  private runsHere(job: Job): boolean {
    if (job.alone) return false;
    if (job.spec.fns.length === 0) return true;
    const expected = expectedDuration(job.id);
    return expected !== undefined && expected < (this.inlineBelowMs ?? threadsTuning.inlineBelowMs);
  }

  /** Runs queued inline tasks for one slice, then lets the event loop in before the next. */
  private runInline(): void {
    const end = performance.now() + SLICE_MS;
    while (this.inlineHead < this.inlineQ.length) {
      const job = this.inlineQ[this.inlineHead++];
      this.runHere(job);
      if (this.closed) return;
      if (performance.now() > end && this.inlineHead < this.inlineQ.length) {
        this.sliced = true;
        setImmediate(() => {
          this.sliced = false;
          this.pump();
        });
        break;
      }
    }
    if (this.inlineHead === this.inlineQ.length) {
      this.inlineQ = [];
      this.inlineHead = 0;
    } else if (this.inlineHead > 1024 && this.inlineHead * 2 > this.inlineQ.length) {
      this.inlineQ = this.inlineQ.slice(this.inlineHead);
      this.inlineHead = 0;
    }
  }

  private runHere(job: Job): void {
    this.tally.inline++;
    const t0 = performance.now();
    let value: unknown;
    try {
      value = runWire(job.spec.task, job.fns!, job.deps);
      if (!(value instanceof Promise)) value = settle(value);
    } catch (e) {
      this.fail(job, e, t0, performance.now());
      return;
    }
    if (value instanceof Promise) {
      value.then(settle).then(
        (v) => this.succeed(job, v, t0, performance.now()),
        (e) => this.fail(job, e, t0, performance.now()),
      );
      return;
    }
    const t1 = performance.now();
    if (job.spec.fns.length > 0) this.recordInline(job.id, t1 - t0);
    this.succeed(job, value, t0, t1);
  }

  /**
   * Records the time of a task run here. The first run over the inline threshold is not recorded:
   * on a busy machine a trivial task is now and then measured at a millisecond (the OS took the
   * CPU, a GC ran), and recorded, that one spike would send the next dozen tasks through the pool
   * (the running mean takes that long to come down), a thread round trip each. A second slow run in
   * a row is recorded: the function really is slow, and the pool takes it from then on.
   */
  private recordInline(id: string, ms: number): void {
    if (ms >= (this.inlineBelowMs ?? threadsTuning.inlineBelowMs) && !this.slowOnce.has(id)) {
      this.slowOnce.add(id);
      return;
    }
    this.slowOnce.delete(id);
    recordDuration(id, ms);
  }

  private sendBatches(): void {
    const target = this.targetBatchMs ?? threadsTuning.targetBatchMs;
    while (this.inflight < this.maxInflight && this.poolHead < this.poolQ.length) {
      const b = new PoolBatch();
      while (this.poolHead < this.poolQ.length) {
        const job = this.poolQ[this.poolHead];
        if (this.runsHere(job)) {
          // Measured cheap since it was queued.
          this.poolHead++;
          this.inlineQ.push(job);
          continue;
        }
        if (job.alone && b.size > 0) break;
        this.poolHead++;
        b.add(job);
        if (job.alone) break;
        const cap = Math.max(1, Math.ceil((b.size + this.poolQ.length - this.poolHead) / this.nthreads));
        if (b.estimatedMs >= target || b.size >= cap) break;
      }
      if (b.size > 0) this.send(b);
    }
    if (this.poolHead === this.poolQ.length) {
      this.poolQ = [];
      this.poolHead = 0;
    } else if (this.poolHead > 1024 && this.poolHead * 2 > this.poolQ.length) {
      this.poolQ = this.poolQ.slice(this.poolHead);
      this.poolHead = 0;
    }
  }

  private send(b: PoolBatch): void {
    let batch: Batch;
    try {
      batch = b.build();
    } catch (e) {
      const t = performance.now();
      for (const job of b.jobs) this.fail(job, e, t, t);
      return;
    }
    this.inflight++;
    this.tally.batches++;
    this.tally.pooled += b.size;
    this.pool ??= createThreadPool(this.nthreads);
    this.pool.run(batch).then(
      (res) => this.received(b, res),
      (e) => this.rejected(b, e),
    );
  }

  private received(b: PoolBatch, res: BatchResult): void {
    this.inflight--;
    if (this.closed) return;
    const now = epochMs();
    for (let j = 0; j < res.values.length; j++) {
      const job = b.jobs[j];
      const ms = res.durations[j];
      recordDuration(job.id, ms);
      const start = res.starts?.[j] ?? now - ms;
      this.settled(job, success(decode(res.values[j], res.tagged), start, start + ms));
    }
    if (res.error) {
      const { index, info } = res.error;
      this.settled(b.jobs[index], failure(new RemoteError(info), now, now, true));
      // The tasks after the failing one did not run.
      this.requeue(b.jobs.slice(index + 1), false);
    }
    this.schedule();
  }

  private rejected(b: PoolBatch, e: unknown): void {
    this.inflight--;
    if (this.closed) return;
    if (b.size > 1) {
      this.requeue(b.jobs, true);
    } else {
      const t = epochMs();
      this.settled(b.jobs[0], failure(sendError(b.jobs[0].key, e), t, t, true));
    }
    this.schedule();
  }

  private requeue(jobs: Job[], alone: boolean): void {
    if (jobs.length === 0) return;
    for (const job of jobs) job.alone ||= alone;
    this.poolQ = [...jobs, ...this.poolQ.slice(this.poolHead)];
    this.poolHead = 0;
  }

  // ---- outcomes

  private succeed(job: Job, value: unknown, t0: number, t1: number): void {
    this.settled(job, success(value, performance.timeOrigin + t0, performance.timeOrigin + t1));
  }

  private fail(job: Job, e: unknown, t0: number, t1: number): void {
    this.settled(job, failure(e, t0, t1));
  }

  private settled(job: Job, outcome: ExecuteOutcome): void {
    if (!this.live.delete(job)) return;
    job.resolve(outcome);
  }
}

/** Collects queued tasks for one pool message, merging their function tables. */
class PoolBatch {
  readonly jobs: Job[] = [];
  estimatedMs = 0;
  private readonly fns: FnRef[] = [];
  private readonly fnIndex = new Map<string, number>();
  private readonly tasks: Wire[] = [];
  private data: Record<Key, unknown> | undefined;

  get size(): number {
    return this.jobs.length;
  }

  add(job: Job): void {
    this.jobs.push(job);
    this.estimatedMs += expectedDuration(job.id) ?? Infinity;
    let identity = true;
    const map = job.spec.fns.map((ref, i) => {
      const id = refId(ref);
      let j = this.fnIndex.get(id);
      if (j === undefined) {
        j = this.fns.push(ref) - 1;
        this.fnIndex.set(id, j);
      }
      identity &&= j === i;
      return j;
    });
    this.tasks.push(identity ? job.spec.task : renumber(job.spec.task, map));
    for (const k in job.deps) {
      this.data ??= {};
      this.data[k] = job.deps[k];
    }
  }

  build(): Batch {
    const tasks = encode(this.tasks);
    if (this.data === undefined) return { fns: this.fns, tasks: tasks.value as Wire[], tagged: tasks.tagged };
    const data = encode(this.data);
    return { fns: this.fns, tasks: tasks.value as Wire[], data: data.value as Record<Key, unknown>, tagged: tasks.tagged || data.tagged };
  }
}

/** A wire tree with its function numbers mapped through `map`. */
function renumber(w: Wire, map: readonly number[]): Wire {
  switch (w[0]) {
    case 1:
      return [1, map[w[1]], ...(w.slice(2) as Wire[]).map((x) => renumber(x, map))];
    case 2:
      return [2, ...(w.slice(1) as Wire[]).map((x) => renumber(x, map))];
    case 3:
      return [3, map[w[1]]];
    default:
      return w;
  }
}

function runSpecOf(run: Opaque | RunSpec): RunSpec {
  let spec: unknown = run;
  if (spec instanceof Serialized) spec = deserialize(spec);
  else if (spec instanceof Serialize) spec = spec.value;
  const s = spec as Partial<RunSpec> | null;
  if (s === null || typeof s !== 'object' || !Array.isArray(s.fns) || !Array.isArray(s.task)) {
    throw new TypeError('malformed run spec: expected { fns: FnRef[], task: Wire } (see src/distributed/client/run-spec.ts)');
  }
  for (const ref of s.fns) {
    if (ref === null || typeof ref !== 'object' || typeof (ref as { kind?: unknown }).kind !== 'string') {
      throw new TypeError(`malformed run spec: ${JSON.stringify(ref)} is not a function reference`);
    }
  }
  // Functions of uploaded modules: this process's copy (worker/uploads.ts).
  const fns = localRefs(s.fns as FnRef[]);
  return fns === s.fns ? (s as RunSpec) : { fns, task: s.task as Wire };
}

function signature(refs: readonly FnRef[]): string {
  return refs.length === 1 ? refId(refs[0]) : refs.map(refId).join('|');
}

function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

function success(value: unknown, startMs: number, stopMs: number): ExecuteSuccess {
  return { value, nbytes: nbytesOf(value), typeName: typeName(value), start: startMs / 1000, stop: stopMs / 1000 };
}

/**
 * The failure outcome of `e`. Times are `performance.now()` values, or epoch milliseconds when
 * `epoch` is set. The error travels as it is when the protocol can serialize it (own properties
 * such as `code` included); otherwise as a plain copy of its name, message and stack.
 */
function failure(e: unknown, t0: number, t1: number, epoch = false): ExecuteFailure {
  let err = asError(e);
  try {
    serialize(err);
  } catch {
    err = new RemoteError(errorInfo(err));
  }
  const base = epoch ? 0 : performance.timeOrigin;
  return { error: new Serialize(err), traceback: err.stack, start: (base + t0) / 1000, stop: (base + t1) / 1000 };
}

/** The type name the worker reports for a result: 'number', 'ndarray', 'Float64Array', 'Array', … */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  if (Array.isArray(v)) return 'Array';
  if (isNdarray(v)) return 'ndarray';
  const name: unknown = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'Object';
}

function closedError(): Error {
  return new Error('the TaskExecutor was closed');
}

/**
 * `e` as an Error. Error-likes from another realm (a DOMException from a thread, an error of a
 * vm context) keep their name, message and stack.
 */
function asError(e: unknown): Error {
  if (e instanceof Error) return e;
  if (typeof e === 'object' && e !== null) {
    const { name, message, stack } = e as Partial<Record<'name' | 'message' | 'stack', unknown>>;
    if (typeof name === 'string' && typeof message === 'string') {
      return new RemoteError({ name, message, stack: typeof stack === 'string' ? stack : undefined });
    }
  }
  return new RemoteError(errorInfo(e));
}

/** The error of a task whose message the pool rejected (it ran alone, so the cause is its own). */
function sendError(key: Key, e: unknown): Error {
  const cloneable = 'must be cloneable: numbers, strings, plain objects and arrays, typed arrays, Maps, Sets (no functions)';
  const known = e instanceof Error || (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string');
  if (!known) {
    // piscina rejects with an empty object when a value could not be posted (a DataCloneError).
    return new TypeError(`task '${key}': its inputs or its result could not cross to or from a pool thread. Values passed between threads ${cloneable}`);
  }
  const err = asError(e);
  if (err.name === 'DataCloneError') {
    const clear = new TypeError(`task '${key}': a value could not cross to or from a pool thread: ${err.message}. Values passed between threads ${cloneable}`);
    clear.stack = `${clear.name}: ${clear.message}\n${err.stack?.split('\n').slice(1).join('\n') ?? ''}`;
    return clear;
  }
  return err;
}
