/**
 * The client's side of the cluster queries (whoHas, hasWhat, ncores, nbytes, schedulerInfo) and of
 * moving data on purpose (replicate, rebalance). Client's methods delegate here; arguments are
 * checked here, with errors naming the argument, before anything is sent. The scheduler answers
 * (scheduler/server.ts; replicate and rebalance in scheduler/data-moves.ts).
 *
 * Decisions:
 * - Keys may be given as Futures or key strings, alone or in (nested) arrays and plain objects.
 * - Workers may be given as addresses (`host:port`, `tcp://host:port`), hosts (every worker on that
 *   host) or `--name` aliases, one string or an array; answers are keyed by address. An entry that
 *   names no connected worker is an error naming it (scheduler/worker-names.ts).
 * - nbytes' `summary` defaults to true, as the manual's `nbytes(keys=None, summary=True)`.
 * - replicate and rebalance resolve to what they did (rounds, copies, bytes moved), where dask
 *   returns None.
 */
import { describe as describeValue } from '../../graph/normalize.js';
import { isGraphLike } from '../../graph/spec.js';
import type {
  Address,
  Key,
  RebalanceResult,
  ReplicateResult,
  SchedulerInfo,
  SchedulerRpc,
} from '../messages.js';
import { Future, futureInternals } from './future.js';

/** The client's RPC to its scheduler. */
export type SchedulerCall = <K extends keyof SchedulerRpc>(op: K, req: SchedulerRpc[K]['req']) => Promise<SchedulerRpc[K]['res']>;

/** Workers as users name them: an address, a host or a name, or an array of them. */
export type WorkersArg = string | readonly string[];

/** Futures or keys: one, or (nested) arrays and plain objects of them. */
export type KeysArg = Future | string | readonly unknown[] | Readonly<Record<string, unknown>>;

export interface ReplicateOptions {
  /** Copies wanted per key on `workers` (default: one on each of them). Lower than now: copies are removed. */
  readonly n?: number;
  /** The workers to count and make copies on (default: all). */
  readonly workers?: WorkersArg;
  /** New holders each holder feeds per round of the tree copy (default 2). */
  readonly branchingFactor?: number;
  /** The longest wait for one round of copies before replicate rejects (default 30,000 ms). */
  readonly timeoutMs?: number;
}

export interface NbytesOptions {
  /** Totals per key prefix (`{ inc: 84 }`) rather than per key (default true). */
  readonly summary?: boolean;
}

export function whoHas(call: SchedulerCall, futures?: unknown): Promise<Record<Key, Address[]>> {
  const keys = keysOf(futures, 'whoHas', 'futures');
  return call('who-has', keys === undefined ? {} : { keys });
}

export function hasWhat(call: SchedulerCall, workers?: WorkersArg): Promise<Record<Address, Key[]>> {
  const list = workersOf(workers, 'hasWhat');
  return call('has-what', list === undefined ? {} : { workers: list });
}

export function ncores(call: SchedulerCall, workers?: WorkersArg): Promise<Record<Address, number>> {
  const list = workersOf(workers, 'ncores');
  return call('ncores', list === undefined ? {} : { workers: list });
}

export function nbytes(call: SchedulerCall, keys?: KeysArg, options?: NbytesOptions): Promise<Record<string, number>> {
  const o = optionsOf(options, 'nbytes', ['summary']) as NbytesOptions;
  if (o.summary !== undefined && typeof o.summary !== 'boolean') throw new TypeError(`nbytes: 'summary' must be a boolean, got ${describeValue(o.summary)}`);
  const list = keysOf(keys, 'nbytes', 'keys');
  return call('nbytes', { ...(list === undefined ? {} : { keys: list }), summary: o.summary ?? true });
}

export function schedulerInfo(call: SchedulerCall): Promise<SchedulerInfo> {
  return call('scheduler-info', {});
}

export function replicate(call: SchedulerCall, futures: KeysArg, options?: ReplicateOptions): Promise<ReplicateResult> {
  const where = 'replicate';
  if (futures === undefined || futures === null) throw new TypeError(`${where}: 'futures' is required (the Futures or keys to copy)`);
  const keys = keysOf(futures, where, 'futures')!;
  const o = optionsOf(options, where, ['n', 'workers', 'branchingFactor', 'timeoutMs']) as ReplicateOptions;
  if (o.n !== undefined && (!Number.isSafeInteger(o.n) || o.n < 1)) {
    throw new TypeError(`${where}: 'n' must be an integer >= 1 (copies per key; a key keeps at least one), got ${describeValue(o.n)}`);
  }
  if (o.branchingFactor !== undefined && (!Number.isSafeInteger(o.branchingFactor) || o.branchingFactor < 1)) {
    throw new TypeError(`${where}: 'branchingFactor' must be an integer >= 1, got ${describeValue(o.branchingFactor)}`);
  }
  if (o.timeoutMs !== undefined && (typeof o.timeoutMs !== 'number' || !(o.timeoutMs > 0) || !Number.isFinite(o.timeoutMs))) {
    throw new TypeError(`${where}: 'timeoutMs' must be a positive number of milliseconds, got ${describeValue(o.timeoutMs)}`);
  }
  const workers = workersOf(o.workers, where);
  return call('replicate', {
    keys,
    ...(o.n !== undefined ? { n: o.n } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(o.branchingFactor !== undefined ? { branchingFactor: o.branchingFactor } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
  });
}

export function rebalance(call: SchedulerCall, futures?: KeysArg, workers?: WorkersArg): Promise<RebalanceResult> {
  const keys = keysOf(futures, 'rebalance', 'futures');
  const list = workersOf(workers, 'rebalance');
  return call('rebalance', { ...(keys !== undefined ? { keys } : {}), ...(list !== undefined ? { workers: list } : {}) });
}

// ---- arguments

/** The keys of Futures and key strings in `x` (arrays and plain objects walked), deduplicated. */
export function keysOf(x: unknown, where: string, name: string): Key[] | undefined {
  if (x === undefined || x === null) return undefined;
  const out = new Set<Key>();
  const walk = (v: unknown, depth: number): void => {
    if (v instanceof Future) {
      if (futureInternals.released(v)) throw new TypeError(`${where}: the future '${v.key}' in '${name}' was released`);
      out.add(v.key);
    } else if (typeof v === 'string') {
      if (v === '') throw new TypeError(`${where}: '${name}' holds an empty key`);
      out.add(v);
    } else if ((Array.isArray(v) || isGraphLike(v)) && depth < 64) {
      for (const item of Array.isArray(v) ? v : Object.values(v)) walk(item, depth + 1);
    } else {
      throw new TypeError(`${where}: '${name}' must hold Futures or keys (strings), in arrays or plain objects; found ${describeValue(v)}`);
    }
  };
  walk(x, 0);
  return [...out];
}

function workersOf(v: unknown, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((w) => typeof w === 'string' && w !== '')) {
    throw new TypeError(`${where}: 'workers' must be a worker address, host or name, or an array of them; got ${describeValue(v)}`);
  }
  if (list.length === 0) throw new TypeError(`${where}: 'workers' is an empty list; leave it out to mean every worker`);
  return [...list];
}

function optionsOf(opts: unknown, where: string, known: readonly string[]): object {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new TypeError(`${where}: options must be an object, got ${describeValue(opts)}`);
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) throw new TypeError(`${where}: unknown option '${k}'; known options are ${known.join(', ')}`);
  }
  return opts;
}
