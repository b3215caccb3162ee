/**
 * The executor core: the state of one local computation, shared by every local get.
 *
 * As in dask's `local.py`, each task of the culled graph moves through
 *
 *     waiting -> ready -> running -> finished -> released
 *
 * - waiting: some dependency has not finished; `missing[i]` counts how many.
 * - ready: every dependency finished; queued by static priority (`order`), smallest first, so
 *   execution goes depth first, finishes branches and frees their inputs early.
 * - running: handed to whoever executes it (the caller's loop or a pool thread).
 * - finished: its result is stored in `results[i]`.
 * - released: every dependent has finished and the key was not requested, so the result is dropped
 *   at once; peak memory then follows the width of the graph, not its size.
 *
 * The class is a synchronous state machine with no I/O: a get pops ready tasks, runs them however
 * it likes, and reports `finish(i, value)`. Literal values of the graph are finished at start.
 */
import { neededIndices } from '../graph/cull.js';
import { LIT, normalize, resolveKeys, type NormalGraph } from '../graph/normalize.js';
import { orderIndices } from '../graph/order.js';
import type { Graph, Key } from '../graph/spec.js';
import { assertAcyclic } from '../graph/toposort.js';
import { PriorityQueue } from './heap.js';

export const WAITING = 0;
export const READY = 1;
export const RUNNING = 2;
export const FINISHED = 3;
export const RELEASED = 4;
export type TaskState = typeof WAITING | typeof READY | typeof RUNNING | typeof FINISHED | typeof RELEASED;

export class ExecutorState {
  readonly graph: NormalGraph;
  readonly results: unknown[];
  readonly state: Uint8Array;
  /** Number of tasks of the culled graph not yet finished. */
  remaining = 0;
  /** Results currently held, and the most ever held at once (tests watch memory with these). */
  live = 0;
  peakLive = 0;

  private readonly missing: Int32Array;
  private readonly waitingDependents: Int32Array;
  private readonly isTarget: Uint8Array;
  private readonly ready: PriorityQueue;

  constructor(graph: Graph, targetKeys: readonly Key[]) {
    const g = normalize(graph);
    const targets = resolveKeys(g, targetKeys);
    assertAcyclic(g, targets);
    const n = g.keys.length;
    this.graph = g;
    this.results = new Array(n);
    this.state = new Uint8Array(n).fill(RELEASED);
    this.missing = new Int32Array(n);
    this.waitingDependents = new Int32Array(n);
    this.isTarget = new Uint8Array(n);
    for (const t of targets) this.isTarget[t] = 1;
    this.ready = new PriorityQueue(orderIndices(g.dependencies, g.dependents));
    this.start(neededIndices(g, targets));
  }

  private start(needed: Uint8Array): void {
    const g = this.graph;
    const literals: number[] = [];
    for (let i = 0; i < needed.length; i++) {
      if (!needed[i]) continue;
      this.remaining++;
      this.state[i] = WAITING;
      this.missing[i] = g.dependencies[i].length;
      for (const d of g.dependents[i]) if (needed[d]) this.waitingDependents[i]++;
      if (this.missing[i] === 0) {
        if (g.nodes[i].k === LIT) literals.push(i);
        else this.markReady(i);
      }
    }
    for (const i of literals) this.finish(i, (g.nodes[i] as { v: unknown }).v);
  }

  private markReady(i: number): void {
    this.state[i] = READY;
    this.ready.push(i);
  }

  get readyCount(): number {
    return this.ready.size;
  }

  /** The ready task of smallest priority, now running; -1 if none is ready. */
  next(): number {
    const i = this.ready.pop();
    if (i >= 0) this.state[i] = RUNNING;
    return i;
  }

  /** Puts a task handed out by `next` back in the ready queue, untouched. */
  requeue(i: number): void {
    this.markReady(i);
  }

  /** Records a result, wakes dependents whose inputs are all there, and releases spent inputs. */
  finish(i: number, value: unknown): void {
    const g = this.graph;
    this.results[i] = value;
    this.state[i] = FINISHED;
    this.remaining--;
    if (++this.live > this.peakLive) this.peakLive = this.live;
    for (const d of g.dependents[i]) {
      if (this.state[d] === WAITING && --this.missing[d] === 0) this.markReady(d);
    }
    for (const dep of g.dependencies[i]) {
      if (--this.waitingDependents[dep] === 0 && !this.isTarget[dep]) this.release(dep);
    }
    if (this.waitingDependents[i] === 0 && !this.isTarget[i]) this.release(i);
  }

  private release(i: number): void {
    this.results[i] = undefined;
    this.state[i] = RELEASED;
    this.live--;
  }

  get done(): boolean {
    return this.remaining === 0;
  }

  /** The result of a requested key (only requested keys are kept to the end). */
  result(key: Key): unknown {
    return this.results[this.graph.index.get(key)!];
  }
}
