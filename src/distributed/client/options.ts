/**
 * The client's options, validated at the boundary with precise TypeErrors (as piscina does).
 *
 * Per-call options never share an argument list with the user's arguments (a plain object is a
 * perfectly good argument of a submitted function); they come through a view:
 * `client.with({ pure: false }).submit(fn, x)`.
 */
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../comm/connect.js';
import type { Logger } from '../rpc/logger.js';
import type { GetOptions } from '../../schedulers/get-options.js';

export interface CallOptions {
  /**
   * The key of the task (submit), or for map either a prefix (`${key}-${token}`) or one key per
   * call. Default: `${fn.name}-${tokenize(fn, args)}`.
   */
  readonly key?: string | readonly string[];
  /** Same function and arguments give the same key, so the cluster computes them once (default true). */
  readonly pure?: boolean;
  /**
   * Higher runs first among the tasks submitted together (in the same tick). Tasks submitted
   * earlier still run before tasks submitted later: the scheduler orders graphs by arrival.
   */
  readonly priority?: number;
  /** Worker addresses, hosts or names the tasks may run on. */
  readonly workers?: string | readonly string[];
  /** With `workers`: may run elsewhere when none of them is there. */
  readonly allowOtherWorkers?: boolean;
}

/** CallOptions after validation: `workers` is a list. */
export interface ResolvedCallOptions {
  readonly key?: string | readonly string[];
  readonly pure: boolean;
  readonly priority: number;
  readonly workers?: readonly string[];
  readonly allowOtherWorkers?: boolean;
}

const CALL_OPTIONS = ['key', 'pure', 'priority', 'workers', 'allowOtherWorkers'];

export const DEFAULT_CALL_OPTIONS: ResolvedCallOptions = { pure: true, priority: 0 };

/** Validates `opts` and lays it over `base` (a view of a view keeps the outer view's options). */
export function resolveCallOptions(opts: unknown, base: ResolvedCallOptions, where: string): ResolvedCallOptions {
  const o = checkObject(opts, where, CALL_OPTIONS) as CallOptions;
  const out: { -readonly [K in keyof ResolvedCallOptions]: ResolvedCallOptions[K] } = { ...base };
  if (o.key !== undefined) {
    const ok = typeof o.key === 'string' || (Array.isArray(o.key) && o.key.every((k) => typeof k === 'string'));
    if (!ok) throw new TypeError(`${where}: 'key' must be a string (or, for map, an array of strings)`);
    out.key = o.key;
  }
  if (o.pure !== undefined) out.pure = bool(o.pure, 'pure', where);
  if (o.priority !== undefined) {
    if (typeof o.priority !== 'number' || !Number.isFinite(o.priority)) {
      throw new TypeError(`${where}: 'priority' must be a finite number, got ${String(o.priority)}`);
    }
    out.priority = o.priority;
  }
  if (o.workers !== undefined) {
    const list = typeof o.workers === 'string' ? [o.workers] : o.workers;
    if (!Array.isArray(list) || !list.every((w) => typeof w === 'string' && w !== '')) {
      throw new TypeError(`${where}: 'workers' must be a worker address or name, or an array of them`);
    }
    out.workers = [...list];
  }
  if (o.allowOtherWorkers !== undefined) out.allowOtherWorkers = bool(o.allowOtherWorkers, 'allowOtherWorkers', where);
  return out;
}

/** Client.get's own options, beside those every get takes (the manual's `get(dsk, keys, restrictions=)`). */
export interface GetRestrictionOptions {
  /** Per key of the graph, the workers (addresses, hosts or names) its task may run on. */
  readonly restrictions?: Readonly<Record<string, string | readonly string[]>>;
  /** Keys of `restrictions` that may run elsewhere when none of their workers is there (allowOtherWorkers). */
  readonly looseRestrictions?: readonly string[];
}

export const GET_RESTRICTION_OPTIONS = ['restrictions', 'looseRestrictions'];

/** Options of Client.get: every get's, and the restrictions. */
export interface ClientGetOptions extends GetOptions, GetRestrictionOptions {}

/**
 * `restrictions` / `looseRestrictions` as per-key task options, checked against the keys of the
 * graph being sent (`isTask`); undefined when there are none.
 */
export function resolveGetRestrictions(
  o: GetRestrictionOptions,
  isTask: (key: string) => boolean,
  where: string,
): Map<string, { workers: readonly string[]; allowOtherWorkers: boolean }> | undefined {
  const { restrictions, looseRestrictions } = o;
  if (restrictions === undefined) {
    if (looseRestrictions !== undefined) throw new TypeError(`${where}: 'looseRestrictions' needs 'restrictions' (the workers each of those keys prefers)`);
    return undefined;
  }
  if (restrictions === null || typeof restrictions !== 'object' || Array.isArray(restrictions)) {
    throw new TypeError(`${where}: 'restrictions' must be an object of keys to workers, like { x: ['alice'] }, got ${Array.isArray(restrictions) ? 'an array' : String(restrictions)}`);
  }
  const out = new Map<string, { workers: readonly string[]; allowOtherWorkers: boolean }>();
  for (const [key, value] of Object.entries(restrictions)) {
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || list.length === 0 || !list.every((w) => typeof w === 'string' && w !== '')) {
      throw new TypeError(`${where}: restrictions['${key}'] must be a worker address, host or name, or a non-empty array of them; got ${JSON.stringify(value)}`);
    }
    if (!isTask(key)) throw new TypeError(`${where}: restrictions names '${key}', which is not a task of the graph`);
    out.set(key, { workers: [...list], allowOtherWorkers: false });
  }
  if (looseRestrictions !== undefined) {
    if (!Array.isArray(looseRestrictions) || !looseRestrictions.every((k) => typeof k === 'string')) {
      throw new TypeError(`${where}: 'looseRestrictions' must be an array of keys of 'restrictions'`);
    }
    for (const key of looseRestrictions) {
      const r = out.get(key);
      if (r === undefined) throw new TypeError(`${where}: looseRestrictions lists '${key}', which has no entry in restrictions`);
      r.allowOtherWorkers = true;
    }
  }
  return out;
}

export interface ConnectOptions {
  /** How long to wait for the scheduler to answer, connecting included (default 5000 ms). */
  readonly timeoutMs?: number;
  /** Without an address: workers of the LocalCluster the client starts (LocalCluster's default if absent). */
  readonly nWorkers?: number;
  /** Without an address: threads per worker of the LocalCluster the client starts. */
  readonly threadsPerWorker?: number;
  /** Where the client logs (default: a 'dask-ts.client' logger at DASK_TS_LOG_LEVEL or 'warn'). */
  readonly logger?: Logger;
}

export interface ResolvedConnectOptions {
  readonly timeoutMs: number;
  readonly nWorkers?: number;
  readonly threadsPerWorker?: number;
  readonly logger?: Logger;
}

const CONNECT_OPTIONS = ['timeoutMs', 'nWorkers', 'threadsPerWorker', 'logger'];

export function resolveConnectOptions(opts: unknown, hasAddress: boolean): ResolvedConnectOptions {
  const where = 'Client.connect';
  const o = checkObject(opts, where, CONNECT_OPTIONS) as ConnectOptions;
  const timeoutMs = o.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new TypeError(`${where}: 'timeoutMs' must be a positive number of milliseconds, got ${String(o.timeoutMs)}`);
  }
  for (const name of ['nWorkers', 'threadsPerWorker'] as const) {
    const v = o[name];
    if (v === undefined) continue;
    if (hasAddress) throw new TypeError(`${where}: '${name}' only applies when no address is given (the client then starts a LocalCluster)`);
    if (!Number.isSafeInteger(v) || v < 1) throw new TypeError(`${where}: '${name}' must be a positive integer, got ${String(v)}`);
  }
  if (o.logger !== undefined && (typeof o.logger !== 'object' || o.logger === null || typeof o.logger.error !== 'function')) {
    throw new TypeError(`${where}: 'logger' must be a Logger (see createLogger)`);
  }
  return { timeoutMs, nWorkers: o.nWorkers, threadsPerWorker: o.threadsPerWorker, logger: o.logger };
}

export interface WaitOptions {
  /** Milliseconds to wait before rejecting with a TimeoutError (default: no limit). */
  readonly timeout?: number;
  /** 'ALL_COMPLETED' (default) or 'FIRST_COMPLETED'. */
  readonly returnWhen?: 'ALL_COMPLETED' | 'FIRST_COMPLETED';
}

export function resolveWaitOptions(opts: unknown): Required<Pick<WaitOptions, 'returnWhen'>> & Pick<WaitOptions, 'timeout'> {
  const o = checkObject(opts, 'wait', ['timeout', 'returnWhen']) as WaitOptions;
  if (o.timeout !== undefined && (typeof o.timeout !== 'number' || !(o.timeout >= 0))) {
    throw new TypeError(`wait: 'timeout' must be a number of milliseconds >= 0, got ${String(o.timeout)}`);
  }
  const returnWhen = o.returnWhen ?? 'ALL_COMPLETED';
  if (returnWhen !== 'ALL_COMPLETED' && returnWhen !== 'FIRST_COMPLETED') {
    throw new TypeError(`wait: 'returnWhen' must be 'ALL_COMPLETED' or 'FIRST_COMPLETED', got ${String(o.returnWhen)}`);
  }
  return { timeout: o.timeout, returnWhen };
}

export interface StreamOptions {
  /**
   * Streams (gather of an async iterable, asCompleted of one): elements pulled from the input and
   * not yet handed to the consumer, a positive integer (default 64). It bounds how far the source
   * runs ahead of the consumer, and so the Futures (and results) a pipeline holds at once.
   */
  readonly maxInFlight?: number;
}

export function resolveStreamOptions(opts: unknown, where: string, defaultMax: number): { maxInFlight: number } {
  const o = checkObject(opts, where, ['maxInFlight']) as StreamOptions;
  const max = o.maxInFlight ?? defaultMax;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new TypeError(`${where}: 'maxInFlight' must be a positive integer (elements ahead of the consumer), got ${String(o.maxInFlight)}`);
  }
  return { maxInFlight: max };
}

export interface ScatterOptions {
  /** Worker addresses, hosts or names to place the data on (default: all, round robin by threads). */
  readonly workers?: string | readonly string[];
  /** Put every value on every (chosen) worker. */
  readonly broadcast?: boolean;
  /**
   * Name values of arrays and iterables by their content (default true: equal data, one key), or
   * by a random id (false: nothing to hash, which for large binary data costs more than sending it).
   */
  readonly hash?: boolean;
}

export function resolveScatterOptions(opts: unknown): { workers?: readonly string[]; broadcast: boolean; hash: boolean } {
  const where = 'Client.scatter';
  const o = checkObject(opts, where, ['workers', 'broadcast', 'hash']) as ScatterOptions;
  const workers = o.workers === undefined ? undefined : typeof o.workers === 'string' ? [o.workers] : o.workers;
  if (workers !== undefined && (!Array.isArray(workers) || workers.length === 0 || !workers.every((w) => typeof w === 'string' && w !== ''))) {
    throw new TypeError(`${where}: 'workers' must be a worker address, host or name, or a non-empty array of them`);
  }
  return {
    workers,
    broadcast: o.broadcast === undefined ? false : bool(o.broadcast, 'broadcast', where),
    hash: o.hash === undefined ? true : bool(o.hash, 'hash', where),
  };
}

function checkObject(opts: unknown, where: string, known: readonly string[]): object {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`${where}: options must be an object, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}`);
  }
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) throw new TypeError(`${where}: unknown option '${k}'; known options are ${known.join(', ')}`);
  }
  return opts;
}

function bool(v: unknown, name: string, where: string): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${where}: '${name}' must be a boolean, got ${String(v)}`);
  return v;
}
