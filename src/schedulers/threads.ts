/**
 * The threads get: the executor core on the main thread, tasks run on a piscina pool.
 *
 * A thread round trip costs tens of microseconds, far more than a trivial task, so tasks are not
 * sent one per message. Every function's run time is measured (durations.ts) and drives two rules:
 *
 * - a task whose functions are cheaper than `inlineBelowMs` runs on the main thread, where it
 *   needs no copy of its inputs and no message at all;
 * - other ready tasks travel in batches sized so that one batch runs about `targetBatchMs`, but no
 *   batch takes more than its fair share of the ready queue, so every thread gets work. A function
 *   never measured travels alone, so the first measurement comes back quickly.
 *
 * At most two batches per thread are in flight: one running, one queued behind it, which hides the
 * message latency without queueing so much that priorities stop mattering.
 *
 * Functions that cannot be shipped (closures) run on the main thread with a one-time warning, or
 * fail the computation when the caller asked for `unshippable: 'error'`.
 */
import { flattenKeys, packResults } from '../graph/keynest.js';
import { settle } from '../graph/lazy.js';
import { evaluate, LIST, LIT, REF, TASK, type Node } from '../graph/normalize.js';
import { ShippingError } from '../graph/shipping/errors.js';
import { describeFunction, type FnRef } from '../graph/shipping/registry.js';
import type { Graph, KeyNest, TaskFn } from '../graph/spec.js';
import { expectedDuration, recordDuration } from './durations.js';
import { abortError, RemoteError, TaskError } from './errors.js';
import { ExecutorState } from './executor.js';
import { validateGetOptions, type GetOptions } from './get-options.js';
import { defaultThreadCount, threadPool } from './pool.js';
import { collectDeadShared } from './shared-memory.js';
import { decode, encode } from './transfer.js';
import type { Batch, BatchResult, Wire } from './wire.js';

/**
 * The two thresholds above. Mutable so the benchmarks can measure the alternatives (batches only:
 * `inlineBelowMs = 0`; one task per message as well: `targetBatchMs = 0`); not part of the API.
 */
export const threadsTuning = { inlineBelowMs: 0.01, targetBatchMs: 2 };
const SLICE_MS = 5;

export async function getThreads(graph: Graph, keys: KeyNest, options?: GetOptions): Promise<unknown> {
  const opts = validateGetOptions(options, 'getThreads');
  const ex = new ExecutorState(graph, flattenKeys(keys));
  try {
    await new ThreadRun(ex, opts).run();
  } finally {
    setImmediate(collectDeadShared);
  }
  return packResults(keys, (k) => ex.result(k));
}

/** How a task runs: here, or shipped with a signature that keys its measured duration. */
type Plan = { readonly inline: true; readonly id?: string } | { readonly inline: false; readonly id: string };

const INLINE: Plan = { inline: true };
const warned = new WeakSet<Function>();

class ThreadRun {
  private readonly threads: number;
  private readonly maxInflight: number;
  private inflight = 0;
  private pumping = false;
  private settled = false;
  private resolve!: () => void;
  private reject!: (e: unknown) => void;

  constructor(
    private readonly ex: ExecutorState,
    private readonly opts: GetOptions,
  ) {
    this.threads = opts.numWorkers ?? defaultThreadCount();
    this.maxInflight = 2 * this.threads;
  }

  run(): Promise<void> {
    if (this.ex.done) return Promise.resolve();
    const { signal } = this.opts;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      signal?.addEventListener('abort', () => this.fail(abortError(signal)), { once: true });
      this.pump();
    });
  }

  /** Hands out ready tasks until the threads are busy or nothing is ready. */
  private pump(): void {
    if (this.pumping || this.settled) return;
    this.pumping = true;
    try {
      this.fill();
    } catch (e) {
      this.fail(e);
    } finally {
      this.pumping = false;
    }
    if (!this.settled && this.ex.done && this.inflight === 0) this.succeed();
  }

  private fill(): void {
    const ex = this.ex;
    const sliceEnd = performance.now() + SLICE_MS;
    let batch: BatchBuilder | undefined;
    for (let i = ex.next(); i >= 0; i = ex.next()) {
      const plan = this.plan(i);
      if (plan.inline) {
        this.runInline(i, plan.id);
        if (this.settled) return;
        if (performance.now() > sliceEnd) {
          // Let results from the threads in before running more here.
          setImmediate(() => this.pump());
          break;
        }
        continue;
      }
      if (this.inflight + (batch ? 1 : 0) >= this.maxInflight) {
        ex.requeue(i);
        break;
      }
      batch ??= new BatchBuilder();
      batch.add(i, this.ex.graph.nodes[i], this.ex.results, plan.id);
      const cap = Math.max(1, Math.ceil((batch.size + ex.readyCount) / this.threads));
      if (batch.estimatedMs >= threadsTuning.targetBatchMs || batch.size >= cap) {
        this.send(batch);
        batch = undefined;
      }
    }
    if (batch) this.send(batch);
  }

  private plan(i: number): Plan {
    const node = this.ex.graph.nodes[i];
    if (node.k !== TASK) return INLINE;
    const fns = collectFunctions(node);
    const ids: string[] = [];
    for (const fn of fns) {
      const d = describeFunction(fn);
      if (!d.ok) return this.unshippable(i, fn, d.reason);
      ids.push(d.id);
    }
    const id = ids.join('|');
    const expected = expectedDuration(id);
    return expected !== undefined && expected < threadsTuning.inlineBelowMs ? { inline: true, id } : { inline: false, id };
  }

  private unshippable(i: number, fn: Function, reason: string): Plan {
    if (this.opts.unshippable === 'error') throw new ShippingError(this.ex.graph.keys[i], reason);
    if (!warned.has(fn)) {
      warned.add(fn);
      process.emitWarning(`${reason}. It runs on the main thread instead.`, 'DaskShippingWarning');
    }
    return INLINE;
  }

  private runInline(i: number, id: string | undefined): void {
    const t0 = performance.now();
    let value: unknown;
    try {
      value = evaluate(this.ex.graph.nodes[i], this.ex.results);
      // A lazy result materialises here, and may throw (a user function of a bag stream).
      if (!(value instanceof Promise)) value = settle(value);
    } catch (e) {
      this.fail(new TaskError(this.ex.graph.keys[i], asError(e)));
      return;
    }
    if (value instanceof Promise) {
      this.inflight++;
      value.then(settle).then(
        (v) => this.complete(i, v),
        (e) => this.fail(new TaskError(this.ex.graph.keys[i], asError(e))),
      );
      return;
    }
    if (id !== undefined) recordDuration(id, performance.now() - t0);
    this.finish(i, value);
  }

  private complete(i: number, value: unknown): void {
    this.inflight--;
    if (this.settled) return;
    this.finish(i, value);
    this.pump();
  }

  private finish(i: number, value: unknown): void {
    this.ex.finish(i, value);
    this.opts.onTaskFinished?.(this.ex.graph.keys[i]);
  }

  private send(b: BatchBuilder): void {
    this.inflight++;
    const batch = b.build();
    threadPool(this.threads)
      .run(batch, { signal: this.opts.signal })
      .then(
        (res) => this.received(b, res),
        (e) => this.fail(sendError(this.ex.graph.keys[b.indices[0]], e)),
      );
  }

  private received(b: BatchBuilder, res: BatchResult): void {
    this.inflight--;
    if (this.settled) return;
    for (let j = 0; j < res.values.length; j++) {
      recordDuration(b.ids[j], res.durations[j]);
      this.finish(b.indices[j], decode(res.values[j], res.tagged));
    }
    if (res.error) {
      const key = this.ex.graph.keys[b.indices[res.error.index]];
      this.fail(new TaskError(key, new RemoteError(res.error.info)));
      return;
    }
    this.pump();
  }

  private succeed(): void {
    this.settled = true;
    this.resolve();
  }

  private fail(e: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(e);
  }
}

/** Collects tasks for one message: their wire trees and the functions they call. */
class BatchBuilder {
  readonly indices: number[] = [];
  readonly ids: string[] = [];
  estimatedMs = 0;
  private readonly tasks: Wire[] = [];
  private readonly fns: FnRef[] = [];
  private readonly fnIndex = new Map<Function, number>();

  get size(): number {
    return this.indices.length;
  }

  add(i: number, node: Node, results: readonly unknown[], id: string): void {
    this.indices.push(i);
    this.ids.push(id);
    this.tasks.push(this.wire(node, results));
    this.estimatedMs += expectedDuration(id) ?? Infinity;
  }

  build(): Batch {
    const e = encode(this.tasks);
    return { fns: this.fns, tasks: e.value as Wire[], tagged: e.tagged };
  }

  private wire(node: Node, results: readonly unknown[]): Wire {
    switch (node.k) {
      case TASK:
        return [1, this.fn(node.fn), ...node.args.map((a) => this.wire(a, results))];
      case LIST:
        return [2, ...node.items.map((a) => this.wire(a, results))];
      case REF:
        return [0, results[node.i]];
      default:
        return typeof node.v === 'function' ? [3, this.fn(node.v as TaskFn)] : [0, node.v];
    }
  }

  private fn(f: TaskFn): number {
    let j = this.fnIndex.get(f);
    if (j === undefined) {
      const d = describeFunction(f);
      if (!d.ok) throw new Error('unreachable: planned tasks are shippable');
      j = this.fns.push(d.ref) - 1;
      this.fnIndex.set(f, j);
    }
    return j;
  }
}

/** The functions a task calls or passes on, its nested tasks included. */
function collectFunctions(node: Node, out: Function[] = []): Function[] {
  if (node.k === LIT) {
    if (typeof node.v === 'function') out.push(node.v);
  } else if (node.k === TASK) {
    out.push(node.fn);
    for (const a of node.args) collectFunctions(a, out);
  } else if (node.k === LIST) {
    for (const a of node.items) collectFunctions(a, out);
  }
  return out;
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(`a non-Error value was thrown: ${String(e)}`);
}

function sendError(key: string, e: unknown): Error {
  const err = asError(e);
  if (err.name === 'AbortError') return err;
  if (err.name === 'DataCloneError') {
    return new TypeError(
      `task '${key}' could not be sent to a pool thread: ${err.message}. Values passed between threads must be ` +
        'cloneable: numbers, strings, plain objects and arrays, typed arrays, Maps, Sets (no functions or class instances).',
    );
  }
  return err;
}
