/**
 * The scheduler's state machine: events in, instructions out, no I/O, no timers. The TCP server
 * (written separately) turns messages into events (events.ts), calls `handle`, and sends the
 * instructions it returns; it answers queries (who-has, has-what, ncores, identity) from the
 * read-only methods below.
 *
 * @example
 * const s = new SchedulerState({ validate: true });
 * s.handle({ type: 'add-worker', worker: identity, stimulusId: 'w1' });
 * s.handle({ type: 'add-client', client: 'c1' });
 * s.handle({ type: 'update-graph', client: 'c1', tasks: { x: { run, deps: [] } }, keys: ['x'], stimulusId: 'u1' });
 * // → [{ type: 'send-worker', worker: identity.address, msg: { op: 'compute-task', key: 'x', … } }]
 */
import type { Address, Key, Opaque, WorkerIdentity } from '../messages.js';
import { unrunnableReason } from './decide-worker.js';
import { resolveOptions, SchedulerCore, type SchedulerOptions } from './core.js';
import { InvariantError } from './errors.js';
import type { Instruction, SchedulerEvent } from './events.js';
import { HANDLERS } from './handlers.js';
import { TASK_STATES, type TaskState, type TaskStateName } from './model.js';
import type { StealRecord } from './steal.js';
import { story, type Note, type TransitionRecord } from './story.js';
import { replicaView, workerLoads, type WorkerLoad } from './replicas.js';
import type { KeyReplicas } from './replicate.js';
import { drain } from './transitions.js';
import { checkState } from './validate.js';

export type { SchedulerOptions } from './core.js';

/** A read-only snapshot of one task. */
export interface TaskInfo {
  readonly key: Key;
  readonly state: TaskStateName;
  readonly priority: number;
  readonly dependencies: Key[];
  readonly dependents: Key[];
  readonly waitingOn: Key[];
  readonly whoHas: Address[];
  readonly whoWants: string[];
  readonly processingOn?: Address;
  readonly nbytes?: number;
  readonly type?: string;
  readonly exception?: Opaque;
  readonly traceback?: string;
  readonly exceptionBlame?: Key;
  readonly restrictions?: string[];
  readonly allowOtherWorkers?: boolean;
}

const internals = new WeakMap<SchedulerState, SchedulerCore>();

/** @internal The mutable core behind a SchedulerState, for tests that must break the rules on purpose. */
export function coreOf(s: SchedulerState): SchedulerCore {
  return internals.get(s)!;
}

export class SchedulerState {
  readonly #core: SchedulerCore;
  #anonymous = 0;

  constructor(options: SchedulerOptions = {}) {
    this.#core = new SchedulerCore(resolveOptions(options));
    internals.set(this, this.#core);
  }

  get validating(): boolean {
    return this.#core.options.validate;
  }

  /** Applies one event; returns what to send, in order. The only way the state changes. */
  handle(event: SchedulerEvent): Instruction[] {
    const core = this.#core;
    const handler = HANDLERS[event.type] as ((c: SchedulerCore, e: SchedulerEvent) => void) | undefined;
    if (handler === undefined) throw new TypeError(`SchedulerState.handle: unknown event type ${JSON.stringify((event as { type?: unknown }).type)}`);
    core.begin(event.stimulusId ?? `${event.type}-${++this.#anonymous}`);
    handler(core, event);
    drain(core);
    const out = core.end();
    if (core.options.validate) this.validate();
    return out;
  }

  /** Throws an InvariantError listing every inconsistency of the state (validate mode does this after each event). */
  validate(): void {
    const problems = checkState(this.#core);
    if (problems.length > 0) throw new InvariantError(this.#core.stimulusId, problems);
  }

  /** Every logged transition of these keys, oldest first (the whole log when no key is given). */
  story(...keys: Key[]): TransitionRecord[] {
    return story(this.#core.log, keys);
  }

  /** Messages the scheduler did not act on (stale results, unknown senders), oldest first. */
  notes(): Note[] {
    return [...this.#core.notes];
  }

  // ---- queries

  whoHas(keys?: readonly Key[]): Record<Key, Address[]> {
    const out: Record<Key, Address[]> = {};
    for (const key of keys ?? this.#core.tasks.keys()) {
      out[key] = [...(this.#core.tasks.get(key)?.whoHas ?? [])].map((ws) => ws.address);
    }
    return out;
  }

  hasWhat(workers?: readonly Address[]): Record<Address, Key[]> {
    const out: Record<Address, Key[]> = {};
    for (const a of workers ?? this.#core.workers.keys()) {
      out[a] = [...(this.#core.workers.get(a)?.hasWhat ?? [])].map((ts) => ts.key);
    }
    return out;
  }

  ncores(workers?: readonly Address[]): Record<Address, number> {
    const out: Record<Address, number> = {};
    for (const a of workers ?? this.#core.workers.keys()) {
      const ws = this.#core.workers.get(a);
      if (ws !== undefined) out[a] = ws.identity.nthreads;
    }
    return out;
  }

  /**
   * Sizes of keys in memory (all, or those asked for that are). With `summary`, totals per key
   * prefix instead (`{ inc: 84 }`).
   */
  nbytes(keys?: readonly Key[], options: { summary?: boolean } = {}): Record<string, number> {
    const out: Record<string, number> = {};
    for (const key of keys ?? this.#core.tasks.keys()) {
      const ts = this.#core.tasks.get(key);
      if (ts === undefined || ts.state !== 'memory' || ts.nbytes < 0) continue;
      if (options.summary) out[ts.prefix] = (out[ts.prefix] ?? 0) + ts.nbytes;
      else out[key] = ts.nbytes;
    }
    return out;
  }

  /** Keys in memory with their holders, sizes and pinned copies (for replicate/rebalance planning). */
  replicas(keys?: readonly Key[]): { keys: KeyReplicas[]; absent: Key[] } {
    return replicaView(this.#core, keys);
  }

  /** Bytes and keys held, tasks assigned and their expected seconds, per worker. */
  workerLoads(): Record<Address, WorkerLoad> {
    return workerLoads(this.#core);
  }

  taskState(key: Key): TaskStateName | undefined {
    return this.#core.tasks.get(key)?.state;
  }

  task(key: Key): TaskInfo | undefined {
    const ts = this.#core.tasks.get(key);
    return ts === undefined ? undefined : info(ts);
  }

  /** Number of tasks per state (forgotten ones are gone, so always 0). */
  counts(): Record<TaskStateName, number> {
    const out = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskStateName, number>;
    for (const ts of this.#core.tasks.values()) out[ts.state]++;
    return out;
  }

  /** The identity of each connected worker. */
  workers(): Record<Address, WorkerIdentity> {
    const out: Record<Address, WorkerIdentity> = {};
    for (const [a, ws] of this.#core.workers) out[a] = ws.identity;
    return out;
  }

  /** Tasks assigned to each worker (sent or held back), highest priority first. */
  processing(workers?: readonly Address[]): Record<Address, Key[]> {
    const out: Record<Address, Key[]> = {};
    for (const a of workers ?? this.#core.workers.keys()) {
      const ws = this.#core.workers.get(a);
      out[a] = ws === undefined ? [] : [...ws.processing].sort((x, y) => x.priority - y.priority).map((ts) => ts.key);
    }
    return out;
  }

  /** Expected seconds of assigned work per worker. */
  occupancy(): Record<Address, number> {
    const out: Record<Address, number> = {};
    for (const [a, ws] of this.#core.workers) out[a] = ws.occupancy;
    return out;
  }

  /** Tasks that no connected worker may run (state `no-worker`), each with the reason. */
  unrunnable(): Record<Key, string> {
    const core = this.#core;
    const out: Record<Key, string> = {};
    for (const ts of [...core.unrunnable].sort((a, b) => a.priority - b.priority)) out[ts.key] = unrunnableReason(ts, core.workers);
    return out;
  }

  /**
   * The tasks that went to `no-worker` since the last call and are still there, with the reason
   * (as `unrunnable()`); undefined when there are none. The server logs them.
   */
  takeUnrunnable(): Record<Key, string> | undefined {
    const core = this.#core;
    if (core.newlyUnrunnable.size === 0) return undefined;
    const out: Record<Key, string> = {};
    for (const ts of core.newlyUnrunnable) if (ts.state === 'no-worker') out[ts.key] = unrunnableReason(ts, core.workers);
    core.newlyUnrunnable.clear();
    return out;
  }

  /** The last tasks work stealing moved (at most 1,000), oldest first; empty when stealing is off. */
  steals(): StealRecord[] {
    return [...(this.#core.stealing?.log ?? [])];
  }

  clients(): string[] {
    return [...this.#core.clients.keys()];
  }

  /** Keys each client wants. */
  wantsWhat(client: string): Key[] {
    return [...(this.#core.clients.get(client)?.wantsWhat ?? [])].map((ts) => ts.key);
  }

  /** Expected seconds per key prefix, as measured so far. */
  taskDurations(): Record<string, number> {
    return this.#core.durations.entries();
  }
}

function info(ts: TaskState): TaskInfo {
  const keys = (s: Iterable<TaskState>) => [...s].map((t) => t.key);
  return {
    key: ts.key,
    state: ts.state,
    priority: ts.priority,
    dependencies: keys(ts.dependencies),
    dependents: keys(ts.dependents),
    waitingOn: keys(ts.waitingOn),
    whoHas: [...ts.whoHas].map((ws) => ws.address),
    whoWants: [...ts.whoWants].map((cs) => cs.id),
    ...(ts.processingOn ? { processingOn: ts.processingOn.address } : {}),
    ...(ts.nbytes >= 0 ? { nbytes: ts.nbytes } : {}),
    ...(ts.type !== undefined ? { type: ts.type } : {}),
    ...(ts.exception !== undefined ? { exception: ts.exception } : {}),
    ...(ts.traceback !== undefined ? { traceback: ts.traceback } : {}),
    ...(ts.exceptionBlame !== undefined ? { exceptionBlame: ts.exceptionBlame } : {}),
    ...(ts.restrictions !== undefined ? { restrictions: [...ts.restrictions], allowOtherWorkers: ts.looseRestrictions } : {}),
  };
}
