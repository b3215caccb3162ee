/**
 * Client.scatter: putting the client's own values on workers, as Futures.
 *
 * Design note.
 * - Input shapes. An array gives an array of Futures in the same order; a plain object or a Map
 *   keeps its keys as the keys on the cluster (`{ x: 1 }` gives the key 'x'); any other sync
 *   iterable (Set, generator) is read to its end and scattered as an array (dask does the same with
 *   iterators and sets), so an endless generator never returns: use an async iterable for
 *   streams. An async iterable gives an async iterable of Futures, each element scattered as it
 *   arrives (the source is read only as fast as the consumer pulls). A lone value (number, string,
 *   function, null, typed array, ...) is a TypeError: wrap it, `scatter([value])`, because a bare
 *   Future would be unwrapped by `await` (it is thenable).
 * - Keys. Elements of arrays and iterables are named `${type}-${tokenize(value)}` (equal data share
 *   a key, and are sent once), or `${type}-${uuid}` with `hash: false` (tokenizing 100 MB of bytes
 *   costs more than sending them).
 * - Placement: round robin over the workers' threads, as dask's scatter_to_workers. Each worker
 *   appears once per thread in a row, in the order the workers joined the scheduler (the order of
 *   its `identity` reply), and the position carries on from one scatter call to the next, so
 *   that one-element scatters spread too. Alice and Bob of 2 threads each: slots A A B B, so
 *   range(10) puts [0, 1, 4, 5, 8, 9] on Alice and [2, 3, 6, 7] on Bob.
 * - `workers`: addresses ('tcp://host:port' or 'host:port'), hosts (every worker on that host) or
 *   `--name` aliases, matched as task restrictions are. Naming no connected worker is an error at
 *   once (dask would wait for one to join).
 * - `broadcast`: every value goes to every (chosen) worker down a tree rooted at the client
 *   (broadcast.ts, `broadcast-data` in messages.ts): the client sends BRANCHING copies, each worker
 *   keeps the data and passes it on to at most BRANCHING others at once, so every worker is
 *   log2(n) hops from the client. The workers' order rotates from one value to the next, so that
 *   a broadcast of many values starts at several workers at once. A worker that cannot be reached
 *   is skipped (its parent serves its children): a broadcast goes to the workers that are there.
 * - Announcing. Workers keep scattered data quietly; once every send has answered, the client tells
 *   the scheduler on its stream where each key lives (`update-data`) and resolves when the
 *   scheduler has taken it in. A worker that fails mid-scatter (gone) gets its share placed again
 *   on the others (at most ATTEMPTS rounds); if that fails too, what was placed is released and
 *   the scatter rejects, naming the worker and its error.
 */
import { randomUUID } from 'node:crypto';
import { isGraphLike } from '../../graph/spec.js';
import { normalizeAddress } from '../comm/address.js';
import { broadcastForest, FORWARD_TIMEOUT_MS, forwardTo } from '../broadcast.js';
import type { Address, Key, WorkerIdentity, WorkerRpc } from '../messages.js';
import { nbytesOf, Serialize } from '../protocol/index.js';
import type { Future } from './future.js';
import { dataKey } from './keys.js';
import { resolveScatterOptions, type ScatterOptions } from './options.js';

/** What scatter needs of its client. */
export interface ScatterHost {
  readonly schedulerAddress: string;
  /** Throws a ClientClosedError when the client is closed or broken. */
  assertOpen(where: string): void;
  /** The connected workers, in the scheduler's order (the order they joined). */
  workers(): Promise<WorkerIdentity[]>;
  /** A request to a worker over the client's connection pool. */
  call<R>(address: Address, msg: { op: string; [k: string]: unknown }, timeoutMs?: number): Promise<R>;
  /**
   * One Future per key (in order) once the scheduler knows that the data lives at `whoHas`;
   * rejects (with every Future released) if it does not take it.
   */
  announce(keys: readonly Key[], whoHas: Record<Key, Address[]>, nbytes: Record<Key, number>): Promise<Future[]>;
}

/** Children per node of a broadcast tree: each sender's bandwidth goes to at most 2 peers; depth log2(n). */
export const BRANCHING = 2;
/** Rounds of placing what failed on the remaining workers. */
const ATTEMPTS = 3;
/** Keys per update-data request (each value is at least one frame of the message). */
const BATCH_KEYS = 1000;
/** Bytes per request, well below the comm's 2 GiB message limit. */
const BATCH_BYTES = 512 * 2 ** 20;
/** Time for one worker to take a batch (or a whole broadcast subtree) and answer. */
const SEND_TIMEOUT_MS = 120_000;

type ScatterResult<T> = T extends readonly unknown[]
  ? { -readonly [K in keyof T]: Future<T[K]> }
  : T extends ReadonlyMap<string, infer V>
    ? Map<string, Future<V>>
    : T extends Iterable<infer E>
      ? Future<E>[]
      : { -readonly [K in keyof T]: Future<T[K]> };

export type { ScatterResult };

type Resolved = ReturnType<typeof resolveScatterOptions>;

/** The shapes scatter accepts, read into named entries. */
type Input =
  | { kind: 'list'; values: unknown[] }
  | { kind: 'object'; entries: [Key, unknown][] }
  | { kind: 'map'; entries: [Key, unknown][] }
  | { kind: 'stream'; source: AsyncIterable<unknown> };

export class Scatterer {
  readonly #host: ScatterHost;
  /** Where the next round robin starts (dask's _round_robin_counter, per client). */
  #next = 0;

  constructor(host: ScatterHost) {
    this.#host = host;
  }

  /** scatter() for everything but async iterables: the Futures, in the input's shape. */
  async scatter(data: unknown, options: ScatterOptions | undefined): Promise<unknown> {
    const o = resolveScatterOptions(options);
    const input = readInput(data);
    if (input.kind === 'stream') throw new Error('internal error: a stream reached Scatterer.scatter');
    this.#host.assertOpen('scatter');
    const entries = input.kind === 'list' ? input.values.map((v): [Key, unknown] => [keyOf(v, o.hash), v]) : input.entries;
    const futures = await this.#scatterEntries(entries, o);
    if (input.kind === 'list') return futures;
    const pairs = entries.map(([k], i): [Key, Future] => [k, futures[i]]);
    return input.kind === 'map' ? new Map(pairs) : Object.fromEntries(pairs);
  }

  /** Whether `data` is a stream (scatter then returns an async iterable, synchronously). */
  static isStream(data: unknown): data is AsyncIterable<unknown> {
    return isAsyncIterable(data) && !isSyncIterable(data);
  }

  /**
   * scatter() of an async iterable: each element scattered as it arrives, its Future yielded. A
   * plain iterator, not an async generator: a generator would await the (thenable) Futures it yields.
   */
  stream(source: AsyncIterable<unknown>, options: ScatterOptions | undefined): AsyncIterable<Future> {
    const o = resolveScatterOptions(options);
    this.#host.assertOpen('scatter');
    // Arrays only: an async function that returned a Future would resolve to its value.
    const scatterOne = (v: unknown) => this.#scatterEntries([[keyOf(v, o.hash), v]], o);
    return {
      [Symbol.asyncIterator](): AsyncIterator<Future> {
        const it = source[Symbol.asyncIterator]();
        return {
          async next(): Promise<IteratorResult<Future>> {
            const r = await it.next();
            if (r.done) return { done: true, value: undefined };
            const [f] = await scatterOne(r.value);
            return { done: false, value: f };
          },
          async return(): Promise<IteratorResult<Future>> {
            await it.return?.();
            return { done: true, value: undefined };
          },
        };
      },
    };
  }

  async #scatterEntries(entries: readonly [Key, unknown][], o: Resolved): Promise<Future[]> {
    if (entries.length === 0) return [];
    const unique = new Map<Key, unknown>(entries);
    const whoHas: Record<Key, Address[]> = {};
    const nbytes: Record<Key, number> = {};
    let pending = [...unique.keys()];
    let failure: { worker: Address; error: string } | undefined;
    const gone = new Set<Address>();
    for (let attempt = 0; attempt < ATTEMPTS && pending.length > 0; attempt++) {
      const workers = (await this.#targets(o.workers)).filter((w) => !gone.has(w.address));
      if (workers.length === 0) break;
      const failed = o.broadcast
        ? await this.#broadcast(pending, unique, workers, whoHas, nbytes)
        : await this.#place(pending, unique, workers, whoHas, nbytes);
      for (const f of failed) gone.add(f.worker);
      failure = failed[0] ?? failure;
      pending = pending.filter((k) => whoHas[k] === undefined);
    }
    this.#host.assertOpen('scatter');
    const placed = Object.keys(whoHas);
    if (pending.length > 0) {
      // Announce what was placed, then let it go, so that workers do not keep data nobody knows of.
      if (placed.length > 0) for (const f of await this.#host.announce(placed, whoHas, nbytes)) f.release();
      const why = failure ? `worker ${failure.worker} failed: ${failure.error}` : 'no worker is left';
      throw new Error(`Client.scatter: could not place ${pending.length} of ${unique.size} values (${why})`);
    }
    // One Future per entry (a key given twice gets two Futures of the one key).
    return this.#host.announce(entries.map(([k]) => k), whoHas, nbytes);
  }

  /** The workers to use: all, or those `names` match; an error when there are none. */
  async #targets(names: readonly string[] | undefined): Promise<WorkerIdentity[]> {
    const all = await this.#host.workers();
    const chosen = names === undefined ? all : all.filter((w) => names.some((n) => matches(w, n)));
    if (chosen.length > 0) return chosen;
    const where = `the scheduler at ${this.#host.schedulerAddress}`;
    if (names === undefined) throw new Error(`Client.scatter: no worker is connected to ${where}`);
    const known = all.map((w) => (w.name === w.address ? w.address : `${w.name} (${w.address})`)).join(', ') || 'none';
    throw new Error(`Client.scatter: no worker connected to ${where} matches ${names.map((n) => `'${n}'`).join(', ')}; connected workers: ${known}`);
  }

  /** Round robin over threads; one update-data per worker and batch, all at once. */
  async #place(keys: Key[], values: Map<Key, unknown>, workers: WorkerIdentity[], whoHas: Record<Key, Address[]>, nbytes: Record<Key, number>) {
    const perWorker = roundRobin(keys, workers, this.#next);
    this.#next += keys.length;
    const failed: { worker: Address; error: string }[] = [];
    await Promise.all(
      [...perWorker].flatMap(([w, ks]) =>
        batches(ks, values).map(async (batch) => {
          const data: Record<Key, Serialize> = {};
          for (const k of batch) data[k] = new Serialize(values.get(k));
          try {
            const reply = await this.#host.call<WorkerRpc['update-data']['res']>(w, { op: 'update-data', data }, SEND_TIMEOUT_MS);
            for (const k of batch) {
              whoHas[k] = [w];
              nbytes[k] = reply?.nbytes?.[k] ?? -1;
            }
          } catch (e) {
            failed.push({ worker: w, error: (e as Error).message });
          }
        }),
      ),
    );
    return failed;
  }

  /**
   * Each value down a tree rooted at the client (broadcast.ts); the workers' order rotates from one
   * value to the next, so that many values start at different workers.
   */
  async #broadcast(keys: Key[], values: Map<Key, unknown>, workers: WorkerIdentity[], whoHas: Record<Key, Address[]>, nbytes: Record<Key, number>) {
    const addresses = workers.map((w) => w.address);
    const byRotation = new Map<number, Key[]>();
    keys.forEach((k, i) => {
      const r = (this.#next + i) % addresses.length;
      byRotation.set(r, [...(byRotation.get(r) ?? []), k]);
    });
    this.#next += keys.length;
    const failed: { worker: Address; error: string }[] = [];
    await Promise.all(
      [...byRotation].flatMap(([r, ks]) => {
        const forest = broadcastForest([...addresses.slice(r), ...addresses.slice(0, r)], BRANCHING);
        return batches(ks, values).map(async (batch) => {
          const data: Record<Key, Serialize> = {};
          for (const k of batch) data[k] = new Serialize(values.get(k));
          const out = await forwardTo(forest, (address, forward) =>
            this.#host.call<WorkerRpc['broadcast-data']['res']>(address, { op: 'broadcast-data', data, forward }, FORWARD_TIMEOUT_MS),
          );
          for (const [worker, error] of Object.entries(out.failed)) failed.push({ worker, error });
          if (out.holders.length === 0) return;
          for (const k of batch) {
            whoHas[k] = out.holders;
            nbytes[k] = out.nbytes[k] ?? -1;
          }
        });
      }),
    );
    return failed;
  }
}

// ---- pure parts (exported for tests)

/**
 * Keys to workers, round robin over threads starting at slot `start`: each worker once per thread
 * in a row, in the given order.
 */
export function roundRobin(keys: readonly Key[], workers: readonly Pick<WorkerIdentity, 'address' | 'nthreads'>[], start: number): Map<Address, Key[]> {
  const slots: Address[] = workers.flatMap((w) => Array<Address>(Math.max(1, w.nthreads)).fill(w.address));
  const out = new Map<Address, Key[]>();
  keys.forEach((k, i) => {
    const w = slots[(start + i) % slots.length];
    let list = out.get(w);
    if (list === undefined) out.set(w, (list = []));
    list.push(k);
  });
  return out;
}

/** Whether a `workers` entry names this worker: its address (either spelling), host or name. */
function matches(w: WorkerIdentity, entry: string): boolean {
  if (entry === w.address || entry === w.name || entry === w.host) return true;
  const bare = entry.includes('://') ? entry.slice(entry.indexOf('://') + 3) : entry;
  if (bare === w.address || bare === w.host) return true;
  try {
    return normalizeAddress(entry) === normalizeAddress(w.address);
  } catch {
    return false;
  }
}

/** Splits keys into requests of at most BATCH_KEYS keys and about BATCH_BYTES bytes. */
function batches(keys: readonly Key[], values: Map<Key, unknown>): Key[][] {
  const out: Key[][] = [];
  let cur: Key[] = [];
  let bytes = 0;
  for (const k of keys) {
    const n = nbytesOf(values.get(k));
    if (cur.length > 0 && (cur.length >= BATCH_KEYS || bytes + n > BATCH_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(k);
    bytes += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

function keyOf(value: unknown, hash: boolean): Key {
  return hash ? dataKey(value) : dataKey(value, randomUUID());
}

const ACCEPTED =
  'scatter accepts an array, a plain object or a Map of string keys to values, an iterable (Set, generator) or an async iterable; ' +
  'scatter one value as [value]';

/** The shape of `data`, or a TypeError naming its type and what is accepted. */
export function readInput(data: unknown): Input {
  if (Array.isArray(data)) return { kind: 'list', values: data };
  if (isGraphLike(data)) return { kind: 'object', entries: Object.entries(data) };
  if (data instanceof Map) {
    for (const k of data.keys()) {
      if (typeof k !== 'string') throw new TypeError(`Client.scatter: a Map's keys become keys on the cluster and must be strings; got ${typeLabel(k)}`);
    }
    return { kind: 'map', entries: [...(data as Map<string, unknown>)] };
  }
  const lone = typeof data !== 'object' || data === null || ArrayBuffer.isView(data) || data instanceof ArrayBuffer || data instanceof SharedArrayBuffer;
  if (!lone && isSyncIterable(data)) return { kind: 'list', values: [...data] };
  if (!lone && isAsyncIterable(data)) return { kind: 'stream', source: data };
  throw new TypeError(`Client.scatter: cannot scatter ${typeLabel(data)}; ${ACCEPTED}`);
}

function isSyncIterable(x: unknown): x is Iterable<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as Iterable<unknown>)[Symbol.iterator] === 'function';
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** 'a number (42)', 'a string', 'a function', 'null', 'a Float64Array', 'an instance of Date'. */
function typeLabel(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  switch (typeof x) {
    case 'number':
    case 'bigint':
    case 'boolean':
      return `a ${typeof x} (${String(x)})`;
    case 'string':
      return `a string ('${x.length > 40 ? `${x.slice(0, 40)}...` : x}')`;
    case 'function':
      return `a function${x.name ? ` (${x.name})` : ''}`;
    case 'symbol':
      return 'a symbol';
  }
  const name = (x as object).constructor?.name;
  if (ArrayBuffer.isView(x) || x instanceof ArrayBuffer || x instanceof SharedArrayBuffer) return `a ${name ?? 'binary buffer'} (one value)`;
  return name ? `an instance of ${name}` : 'an object';
}
