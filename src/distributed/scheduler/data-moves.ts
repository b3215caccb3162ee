/**
 * Carrying out replicate and rebalance on the scheduler: the RPCs' asynchronous side. The plans
 * are pure (replicate.ts, rebalance.ts); the state machine sends and drops copies (replicas.ts);
 * this file feeds it the plans and waits, bounded, for the workers' add-keys to show the copies
 * arrived.
 *
 * - One operation at a time (a queue): two replicates at once could undo each other's copies.
 * - Waiting: the server calls `watch.notify()` after every event it handles; a round of copies is
 *   over when every planned copy is counted, or its new holder left, or its key left memory. A
 *   round that is not over within `timeoutMs` fails the operation, naming what is missing.
 * - Replicate plans each round from the state as it then is, so a copy that failed (its source
 *   left) is planned again from another holder, and workers that left drop out of the count.
 * - Rebalance copies each moved key to its recipient and only then drops the sender's copy, so a
 *   value is never without a holder on the way.
 */
import type { Address, Key, RebalanceRequest, RebalanceResult, ReplicateRequest, ReplicateResult } from '../messages.js';
import type { SchedulerEvent } from './events.js';
import { bytesPerWorker, planRebalance, type Move } from './rebalance.js';
import { clampReplicas, planCopyRound, planReductions, shortOf, type CopyRound } from './replicate.js';
import type { SchedulerState } from './state.js';
import { resolveWorkers } from './worker-names.js';

/** The most rounds a replicate may take (each copies at least one key when it goes well). */
const MAX_ROUNDS = 64;
export const DEFAULT_MOVE_TIMEOUT_MS = 30_000;

/** What data-moves needs of the server. */
export interface MoveHost {
  readonly state: SchedulerState;
  readonly watch: StateWatch;
  /** Hands the event to the state machine and sends its instructions. */
  handle(event: SchedulerEvent): void;
  /** A fresh stimulus id. */
  sid(what: string): string;
  readonly closed: boolean;
}

/** Wakes waiters after the state changed (the server calls notify after each event). */
export class StateWatch {
  #waiters: (() => void)[] = [];

  notify(): void {
    if (this.#waiters.length === 0) return;
    const wake = this.#waiters;
    this.#waiters = [];
    // After the current burst of messages: one check for a batch of add-keys, not one per message.
    setImmediate(() => wake.forEach((w) => w()));
  }

  /** Resolves after the next change, or after `ms`. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#waiters.push(done);
    });
  }
}

type CheckedReplicate = Required<Omit<ReplicateRequest, 'workers' | 'n'>> & Pick<ReplicateRequest, 'workers' | 'n'>;

export class DataMoves {
  #queue: Promise<unknown> = Promise.resolve();

  constructor(readonly host: MoveHost) {}

  replicate(req: ReplicateRequest): Promise<ReplicateResult> {
    return this.#serial(() => this.#replicate(checkReplicate(req)));
  }

  rebalance(req: RebalanceRequest): Promise<RebalanceResult> {
    return this.#serial(() => this.#rebalance(checkRebalance(req)));
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #replicate(req: CheckedReplicate): Promise<ReplicateResult> {
    const { state } = this.host;
    const where = 'replicate';
    const allowed = resolveWorkers(req.workers, state.workers(), where);
    if (allowed.length === 0) throw new Error(`${where}: no worker is connected`);
    const n = clampReplicas(req.n ?? allowed.length, allowed);
    const keys = this.#inMemory(req.keys, where);
    const reductions = planReductions(keys, { allowed, n, load: this.#loads() });
    const removed = this.#remove(reductions.remove, 'replicate-remove');
    let rounds = 0;
    let copied = 0;
    for (;;) {
      const live = allowed.filter((a) => a in state.workers());
      if (live.length === 0) throw new Error(`${where}: every worker of ${JSON.stringify(allowed)} left`);
      const target = { allowed: live, n: Math.min(n, live.length), branchingFactor: req.branchingFactor, load: this.#loads() };
      const round = planCopyRound(this.#inMemory(req.keys, where), target);
      if (Object.keys(round).length === 0) break;
      if (++rounds > MAX_ROUNDS) {
        const short = shortOf(this.#inMemory(req.keys, where), target);
        throw new Error(`${where}: gave up after ${MAX_ROUNDS} rounds; keys still short of n=${target.n}: ${describeShort(short)}`);
      }
      this.host.handle({ type: 'acquire-replicas', gathers: round, stimulusId: this.host.sid('replicate') });
      copied += await this.#awaitCopies(round, req.timeoutMs, where);
    }
    return { n, workers: allowed, rounds, copied, removed, pinned: reductions.pinned };
  }

  async #rebalance(req: { keys?: Key[]; workers?: string[]; timeoutMs: number }): Promise<RebalanceResult> {
    const { state } = this.host;
    const where = 'rebalance';
    const workers = resolveWorkers(req.workers, state.workers(), where);
    if (workers.length === 0) throw new Error(`${where}: no worker is connected`);
    const keyList = req.keys ?? state.replicas().keys.map((k) => k.key);
    const plan = planRebalance(this.#inMemory(keyList, where), workers);
    const gathers: CopyRound = {};
    for (const m of plan.moves) (gathers[m.to] ??= {})[m.key] = [m.from];
    let done: Move[] = [];
    let failure: Error | undefined;
    if (plan.moves.length > 0) {
      this.host.handle({ type: 'acquire-replicas', gathers, stimulusId: this.host.sid('rebalance') });
      try {
        await this.#awaitCopies(gathers, req.timeoutMs, where);
      } catch (e) {
        failure = e as Error;
      }
      const whoHas = state.whoHas(plan.moves.map((m) => m.key));
      const copied = plan.moves.filter((m) => whoHas[m.key].includes(m.to) && whoHas[m.key].includes(m.from));
      const removals: Record<Address, Key[]> = {};
      for (const m of copied) (removals[m.from] ??= []).push(m.key);
      this.#remove(removals, 'rebalance-remove');
      const now = state.whoHas(copied.map((m) => m.key));
      done = copied.filter((m) => !now[m.key].includes(m.from));
    }
    if (failure !== undefined) throw failure;
    const after = bytesPerWorker(state.replicas(keyList).keys, workers);
    return { moved: done.length, nbytes: done.reduce((s, m) => s + m.nbytes, 0), before: plan.before, after };
  }

  /** Drops these copies (the state machine keeps last and pinned ones); returns how many went. */
  #remove(removals: Record<Address, Key[]>, what: string): number {
    const pairs = Object.entries(removals).flatMap(([w, ks]) => ks.map((k) => [w, k] as const));
    if (pairs.length === 0) return 0;
    this.host.handle({ type: 'remove-replicas', removals, stimulusId: this.host.sid(what) });
    const whoHas = this.host.state.whoHas([...new Set(pairs.map(([, k]) => k))]);
    return pairs.filter(([w, k]) => !whoHas[k].includes(w)).length;
  }

  /** The keys as the planners see them; an error naming those not in memory. */
  #inMemory(keys: readonly Key[], where: string) {
    const view = this.host.state.replicas(keys);
    if (view.absent.length > 0) {
      const shown = view.absent.slice(0, 5).map((k) => `'${k}'`).join(', ');
      const one = view.absent.length === 1;
      throw new Error(
        `${where}: 'futures' holds ${one ? 'key' : 'keys'} ${shown}${one ? '' : ` (${view.absent.length} in all)`}, which ${one ? 'is' : 'are'} not in memory on the cluster (unknown, released, not computed yet, or lost)`,
      );
    }
    return view.keys;
  }

  #loads(): Record<Address, number> {
    return Object.fromEntries(Object.entries(this.host.state.workerLoads()).map(([a, l]) => [a, l.nbytes]));
  }

  /**
   * Waits until every copy of `round` is counted (or cannot be: its new holder left, or its key
   * left memory); returns how many were counted. Rejects after `timeoutMs` naming what is missing.
   */
  async #awaitCopies(round: CopyRound, timeoutMs: number, where: string): Promise<number> {
    const { state } = this.host;
    const deadline = Date.now() + timeoutMs;
    const pairs = Object.entries(round).flatMap(([to, ks]) => Object.keys(ks).map((key) => [to, key] as const));
    for (;;) {
      if (this.host.closed) throw new Error(`${where}: the scheduler closed`);
      const workers = state.workers();
      const whoHas = state.whoHas([...new Set(pairs.map(([, k]) => k))]);
      const pending = pairs.filter(([to, key]) => to in workers && whoHas[key].length > 0 && !whoHas[key].includes(to));
      if (pending.length === 0) return pairs.filter(([to, key]) => whoHas[key].includes(to)).length;
      const left = deadline - Date.now();
      if (left <= 0) {
        const shown = pending.slice(0, 5).map(([to, key]) => `'${key}' to ${to}`).join(', ');
        throw new Error(`${where}: ${pending.length} of ${pairs.length} copies did not arrive within ${timeoutMs} ms (${shown}${pending.length > 5 ? ', ...' : ''})`);
      }
      await this.host.watch.next(left);
    }
  }
}

function describeShort(short: Record<Key, number>): string {
  const entries = Object.entries(short);
  return entries.slice(0, 5).map(([k, have]) => `'${k}' (${have})`).join(', ') + (entries.length > 5 ? ', ...' : '');
}

// ---- request checks (the client checks too; these protect the server from any caller)

function checkReplicate(req: ReplicateRequest): CheckedReplicate {
  const where = 'replicate';
  const keys = stringList(req.keys, 'keys', where);
  if (keys === undefined) throw new TypeError(`${where}: 'keys' must be an array of keys`);
  if (req.n !== undefined && req.n !== null && (!Number.isSafeInteger(req.n) || req.n < 1)) {
    throw new TypeError(`${where}: 'n' must be an integer >= 1 (the copies wanted per key), got ${String(req.n)}`);
  }
  const b = req.branchingFactor ?? 2;
  if (!Number.isSafeInteger(b) || b < 1) throw new TypeError(`${where}: 'branchingFactor' must be an integer >= 1, got ${String(req.branchingFactor)}`);
  return {
    keys,
    n: req.n ?? undefined,
    workers: stringList(req.workers, 'workers', where),
    branchingFactor: b,
    timeoutMs: timeout(req.timeoutMs, where),
  };
}

function checkRebalance(req: RebalanceRequest): { keys?: Key[]; workers?: string[]; timeoutMs: number } {
  const where = 'rebalance';
  return { keys: stringList(req.keys, 'keys', where), workers: stringList(req.workers, 'workers', where), timeoutMs: timeout(req.timeoutMs, where) };
}

function stringList(v: unknown, name: string, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x !== '')) throw new TypeError(`${where}: '${name}' must be an array of non-empty strings`);
  return v;
}

function timeout(v: unknown, where: string): number {
  if (v === undefined || v === null) return DEFAULT_MOVE_TIMEOUT_MS;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new TypeError(`${where}: 'timeoutMs' must be a positive number of milliseconds, got ${String(v)}`);
  return v;
}
