/**
 * Client: the user's handle on a cluster (the manual's Executor; `Executor` is an alias).
 *
 * ```ts
 * const client = await Client.connect('127.0.0.1:8786');  // or Client.connect(): a LocalCluster here
 * const A = client.map(square, range(10));                // Futures, at once
 * const B = client.map(neg, A);                           // Futures as arguments: keys, no round trip
 * await client.submit(sum, B);                            // -285 (a Future is awaitable)
 * await x.sum().compute({ get: client.get });             // any collection's graph on the cluster
 * await client.close();
 * ```
 *
 * One async client (STYLE.md): every method that talks to the cluster returns a Promise, except
 * submit, map, compute and persist, which only queue messages and return Futures (or a collection
 * backed by Futures) at once.
 *
 * Channels (messages.ts). The client opens one comm to the scheduler and sends
 * `{ op: 'register-client', client }` on it; from then on it is a long-lived stream: the client's
 * messages go out through a BatchedSend, the scheduler's (key-in-memory, task-erred, ...) come back
 * on it and update the KeyState of their key. Request/response calls (who-has, identity, ...) and
 * the data itself go over a ConnectionPool: results are fetched from the workers that hold them
 * (`get-data`, after `who-has`), scattered data is pushed to workers (`update-data`) and then
 * announced on the stream.
 *
 * Decisions:
 * - Messages queued in one tick leave together, and the update-graphs of consecutive submit/map
 *   calls merge into one, so a loop of 10,000 submits is one scheduler event. Order is kept: a
 *   release or cancel queued between two submits stays between them. A graph too large for one
 *   message (a comm carries at most 10,000 frames, and each task is at least one) is split in
 *   dependency order (outbox.ts).
 * - Every Future counts as one reference to its key; the scheduler is told the client no longer
 *   wants a key when the count drops to zero (release() or the garbage collector, through a
 *   FinalizationRegistry). Submitting a key the client already holds sends nothing and returns a
 *   Future sharing the key's state (dask does the same), unless that state is cancelled or lost,
 *   in which case the task is sent again.
 * - A task's run spec is serialised when it is submitted, so a value that cannot travel is refused
 *   by submit itself, and a bad argument can never break the stream for the other tasks.
 * - A cancel is applied here at once. Messages about a key that arrive between the cancel and the
 *   scheduler's `cancelled-key` answer are stale and ignored (counted per key), so a key cancelled
 *   and submitted again is not cancelled or finished by old news.
 * - Results are fetched on demand and not cached: `await f` twice fetches twice, as dask does.
 */
import { randomUUID } from 'node:crypto';
import { isDaskCollection, type Computed } from '../../graph/collection.js';
import { GraphError } from '../../graph/errors.js';
import { flattenKeys, packResults } from '../../graph/keynest.js';
import { describe as describeValue } from '../../graph/normalize.js';
import { isGraphLike, type Graph, type KeyNest, type TaskFn } from '../../graph/spec.js';
import { abortError } from '../../schedulers/errors.js';
import { validateGetOptions, type GetFn, type GetOptions } from '../../schedulers/get-options.js';
import { normalizeAddress } from '../comm/address.js';
import type { Comm } from '../comm/comm.js';
import { connect } from '../comm/connect.js';
import { ConnectError } from '../comm/errors.js';
import type { Address, ClientToScheduler, Key, SchedulerRpc, SchedulerToClient, TaskInput, WorkerIdentity } from '../messages.js';
import { serialize, Serialize } from '../protocol/index.js';
import { createLogger, type Logger } from '../rpc/logger.js';
import { ConnectionPool } from '../rpc/pool.js';
import { CancelledError, ClientClosedError, LostDataError, remoteTaskError } from './errors.js';
import { Future, futureInternals, type FutureArgs, type FutureLink, type FutureOr, type Gathered, type PostProcess } from './future.js';
import { assertCollections, computeGraph, futuresGraph, persistGraph, takeOutFutures, type PreparedGraph } from './graphs.js';
import { KeyState, waitAll } from './key-state.js';
import { Outbox } from './outbox.js';
import { callKey, dataKey, mapKeys, zip } from './keys.js';
import {
  DEFAULT_CALL_OPTIONS,
  resolveCallOptions,
  resolveConnectOptions,
  resolveScatterOptions,
  type CallOptions,
  type ConnectOptions,
  type ResolvedCallOptions,
  type ResolvedConnectOptions,
  type ScatterOptions,
} from './options.js';
import { runSpecOfCall, toRunSpecs } from './run-spec.js';
import { collectFutures, replaceFutures } from './structure.js';

type AnyFn = (...args: any[]) => any;

/** One iterable per parameter of `fn`: map calls `fn` on their zip. */
export type MapIterables<P extends readonly unknown[]> = { [K in keyof P]: Iterable<FutureOr<P[K]>> };

/** One Future per collection, of what computing it gives. */
export type ComputedFutures<T extends readonly unknown[]> = { -readonly [K in keyof T]: Future<Computed<T[K]>> };

/** The calls that take per-call options: on the client (defaults) and on its views. */
export interface ClientCalls {
  /** `fn(...args)` on the cluster; arguments may be Futures (also inside arrays and plain objects). */
  submit<F extends AnyFn>(fn: F, ...args: FutureArgs<Parameters<F>>): Future<Awaited<ReturnType<F>>>;
  /** `fn` on the zip of the iterables (as Python's map: the shortest one ends it); one Future per call. */
  map<F extends AnyFn>(fn: F, ...iterables: MapIterables<Parameters<F>>): Future<Awaited<ReturnType<F>>>[];
  /** One Future per collection, for its computed result (post-compute applied when gathered). */
  compute<T extends readonly unknown[]>(collections: readonly [...T]): ComputedFutures<T>;
  compute<T extends readonly unknown[]>(...collections: T): ComputedFutures<T>;
  /** The same collection(s), backed by data computed on the cluster (its graph holds the Futures). */
  persist<T extends readonly unknown[]>(collections: readonly [...T]): T;
  persist<T>(collection: T): T;
  /** A view of the client whose calls use these options. */
  with(options: CallOptions): ClientView;
}

/** @internal What a view calls on its client. */
interface Calls {
  submit(o: ResolvedCallOptions, fn: AnyFn, args: unknown[]): Future;
  map(o: ResolvedCallOptions, fn: AnyFn, iterables: unknown[]): Future[];
  compute(o: ResolvedCallOptions, args: unknown[]): Future[];
  persist(o: ResolvedCallOptions, args: unknown[]): unknown;
}

/**
 * The client with per-call options: `client.with({ pure: false }).submit(Math.random)`. A view can
 * be kept (`const gpu = client.with({ workers: ['gpu-1'] })`), and `view.with(...)` adds options.
 */
export class ClientView implements ClientCalls {
  readonly options: ResolvedCallOptions;
  readonly #calls: Calls;

  /** @internal Views come from `client.with(options)`. */
  constructor(calls: Calls, options: ResolvedCallOptions) {
    this.#calls = calls;
    this.options = options;
  }

  submit<F extends AnyFn>(fn: F, ...args: FutureArgs<Parameters<F>>): Future<Awaited<ReturnType<F>>> {
    return this.#calls.submit(this.options, fn, args) as Future<Awaited<ReturnType<F>>>;
  }

  map<F extends AnyFn>(fn: F, ...iterables: MapIterables<Parameters<F>>): Future<Awaited<ReturnType<F>>>[] {
    return this.#calls.map(this.options, fn, iterables) as Future<Awaited<ReturnType<F>>>[];
  }

  compute<T extends readonly unknown[]>(collections: readonly [...T]): ComputedFutures<T>;
  compute<T extends readonly unknown[]>(...collections: T): ComputedFutures<T>;
  compute(...args: unknown[]): Future[] {
    return this.#calls.compute(this.options, args);
  }

  persist<T extends readonly unknown[]>(collections: readonly [...T]): T;
  persist<T>(collection: T): T;
  persist(...args: unknown[]): unknown {
    return this.#calls.persist(this.options, args);
  }

  with(options: CallOptions): ClientView {
    return new ClientView(this.#calls, resolveCallOptions(options, this.options, 'with'));
  }
}

/** What Client.connect() needs of a cluster it starts (src/distributed/local-cluster.ts). */
interface OwnedCluster {
  readonly schedulerAddress: string;
  close(): Promise<void>;
}

/** A cluster object to connect to: `Client.connect(cluster)`. */
export interface HasSchedulerAddress {
  readonly schedulerAddress: string;
}

/** Attempts to fetch a key's data before giving up (each after waiting for it to be recomputed). */
const MAX_FETCH_ATTEMPTS = 5;

/**
 * Keys per get-data request. Each value is at least one frame of the reply, and a comm carries at
 * most 10,000 frames per message, so many keys from one worker take several requests (in parallel,
 * over the pool's comms).
 */
const GET_DATA_KEYS = 1000;

export class Client implements ClientCalls {
  /** This client's id on the scheduler. */
  readonly id: string;
  /** 'tcp://host:port' */
  readonly schedulerAddress: string;
  /**
   * `get` for compute(): bound, so `x.compute({ get: client.get })` works. Runs the graph on the
   * cluster and brings back the values of `keys` (nested as `keys` is). Keys are global names on
   * the cluster: a key the cluster already holds is taken as the same computation (dask's rule).
   * Options: `signal` cancels the keys on abort; `onTaskFinished` is called for the requested keys
   * (the only ones the scheduler reports to a client); `numWorkers` and `unshippable` do not apply
   * (a function that cannot be shipped is always an error on a cluster).
   */
  readonly get: GetFn = (graph, keys, options) => this.#get(graph, keys, options);

  readonly #comm: Comm;
  readonly #outbox: Outbox;
  readonly #pool: ConnectionPool;
  readonly #logger: Logger;
  readonly #states = new Map<Key, KeyState>();
  readonly #refcount = new Map<Key, number>();
  /** Per key: cancel-keys sent whose `cancelled-key` answer has not come back yet. */
  readonly #cancelsInFlight = new Map<Key, number>();
  readonly #finalizer = new FinalizationRegistry<Key>((key) => this.#decref(key));
  readonly #link: FutureLink;
  readonly #view: ClientView;
  readonly #cluster: OwnedCluster | undefined;
  readonly #reading: Promise<void>;
  #seq = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  #broken: Error | undefined;

  private constructor(id: string, address: string, comm: Comm, pool: ConnectionPool, cluster: OwnedCluster | undefined, logger: Logger | undefined) {
    this.id = id;
    this.schedulerAddress = address;
    this.#comm = comm;
    this.#pool = pool;
    this.#cluster = cluster;
    this.#logger = logger ?? createLogger('dask-ts.client');
    this.#outbox = new Outbox(comm, { logger: this.#logger, isHeld: (k) => this.#refcount.has(k) });
    this.#link = {
      clientId: id,
      gather: (fs) => this.#gatherFutures(fs),
      cancel: (fs) => this.cancel(fs),
      release: (f) => this.#release(f),
    };
    this.#view = new ClientView(
      {
        submit: (o, fn, args) => this.#submit(o, fn, args),
        map: (o, fn, iterables) => this.#map(o, fn, iterables),
        compute: (o, args) => this.#compute(o, args),
        persist: (o, args) => this.#persist(o, args),
      },
      DEFAULT_CALL_OPTIONS,
    );
    this.#reading = this.#readLoop();
  }

  /**
   * Connects to the scheduler at `address` ('host:port' or 'tcp://host:port', or a cluster object
   * with a `schedulerAddress`). Without an address, starts a LocalCluster in this process (options
   * `nWorkers`, `threadsPerWorker`) that the client owns: client.close() closes it. Rejects with a
   * ConnectError within `timeoutMs` (default 5000) if no scheduler answers.
   */
  static async connect(address?: string | HasSchedulerAddress, options?: ConnectOptions): Promise<Client> {
    const target = typeof address === 'object' && address !== null ? address.schedulerAddress : address;
    if (target !== undefined && typeof target !== 'string') {
      throw new TypeError(`Client.connect: the address must be a string like '127.0.0.1:8786', got ${describeValue(target)}`);
    }
    const opts = resolveConnectOptions(options, target !== undefined);
    if (target !== undefined) return Client.#open(normalizeAddress(target), opts, undefined);
    const { LocalCluster } = await loadLocalCluster();
    const clusterOptions: { nWorkers?: number; threadsPerWorker?: number; logger?: Logger } = {};
    if (opts.nWorkers !== undefined) clusterOptions.nWorkers = opts.nWorkers;
    if (opts.threadsPerWorker !== undefined) clusterOptions.threadsPerWorker = opts.threadsPerWorker;
    if (opts.logger !== undefined) clusterOptions.logger = opts.logger;
    const cluster = await LocalCluster.start(clusterOptions);
    try {
      return await Client.#open(normalizeAddress(cluster.schedulerAddress), opts, cluster);
    } catch (e) {
      await cluster.close();
      throw e;
    }
  }

  static async #open(address: string, opts: ResolvedConnectOptions, cluster: OwnedCluster | undefined): Promise<Client> {
    const { timeoutMs } = opts;
    const deadline = Date.now() + timeoutMs;
    const pool = new ConnectionPool({ connectTimeoutMs: timeoutMs });
    let comm: Comm | undefined;
    try {
      await identify(pool, address, timeoutMs);
      comm = await connect(address, { timeoutMs: Math.max(1, deadline - Date.now()) });
      const id = `Client-${randomUUID()}`;
      await comm.write({ op: 'register-client', client: id });
      return new Client(id, address, comm, pool, cluster, opts.logger);
    } catch (e) {
      comm?.abort();
      await pool.close();
      throw e;
    }
  }

  // ---- calls with options (the client's defaults; see with())

  submit<F extends AnyFn>(fn: F, ...args: FutureArgs<Parameters<F>>): Future<Awaited<ReturnType<F>>> {
    return this.#view.submit(fn, ...args);
  }

  map<F extends AnyFn>(fn: F, ...iterables: MapIterables<Parameters<F>>): Future<Awaited<ReturnType<F>>>[] {
    return this.#view.map(fn, ...iterables);
  }

  compute<T extends readonly unknown[]>(collections: readonly [...T]): ComputedFutures<T>;
  compute<T extends readonly unknown[]>(...collections: T): ComputedFutures<T>;
  compute(...args: unknown[]): Future[] {
    return this.#compute(DEFAULT_CALL_OPTIONS, args);
  }

  persist<T extends readonly unknown[]>(collections: readonly [...T]): T;
  persist<T>(collection: T): T;
  persist(...args: unknown[]): unknown {
    return this.#persist(DEFAULT_CALL_OPTIONS, args);
  }

  /** A view whose submit/map/compute/persist use `options` (key, pure, priority, workers, allowOtherWorkers). */
  with(options: CallOptions): ClientView {
    return this.#view.with(options);
  }

  // ---- results

  /**
   * The results of Futures, wherever they sit in arrays and plain objects: the same structure
   * with each Future replaced by its value. Rejects with the first error among them (a TaskError,
   * CancelledError or LostDataError).
   */
  async gather<T>(futures: T): Promise<Gathered<T>> {
    const list = collectFutures(futures);
    const values = await this.#gatherFutures(list);
    const byFuture = new Map<Future, unknown>();
    list.forEach((f, i) => byFuture.set(f, values[i]));
    return replaceFutures(futures, (f) => byFuture.get(f)) as Gathered<T>;
  }

  /**
   * Cancels the Futures found in `futures` (a Future, or arrays and plain objects of them): they
   * become 'cancelled' at once, and the scheduler stops computing what only they needed.
   */
  async cancel(futures: unknown): Promise<void> {
    const keys = collectFutures(futures).map((f) => f.key);
    this.#cancelKeys(keys);
  }

  /**
   * Puts data on the workers and returns Futures of it, in the same structure: an array of values
   * (keys from their tokens, so equal data shares a key) or a plain object (its keys become the
   * keys on the cluster). A single value goes in an array: `const [f] = await client.scatter([v])`
   * (a bare Future would be unwrapped by `await`). Resolves once the scheduler knows the data.
   */
  async scatter<T extends readonly unknown[] | Record<string, unknown>>(
    data: T,
    options?: ScatterOptions,
  ): Promise<{ -readonly [K in keyof T]: Future<T[K]> }> {
    const o = resolveScatterOptions(options);
    this.#assertOpen('scatter');
    if (!Array.isArray(data) && !isGraphLike(data)) {
      throw new TypeError(`Client.scatter: expected an array or a plain object of values, got ${describeValue(data)}; scatter one value as [value]`);
    }
    const entries: [Key, unknown][] = Array.isArray(data) ? data.map((v) => [dataKey(v), v]) : Object.entries(data);
    const workers = await this.#workersMatching(o.workers);
    if (workers.length === 0) {
      throw new Error(`Client.scatter: no ${o.workers === undefined ? '' : 'matching '}worker is connected to the scheduler at ${this.schedulerAddress}`);
    }
    const perWorker = new Map<Address, Record<Key, Serialize>>();
    entries.forEach(([k, v], i) => {
      for (const w of o.broadcast ? workers : [workers[i % workers.length]]) {
        let d = perWorker.get(w);
        if (d === undefined) perWorker.set(w, (d = {}));
        d[k] = new Serialize(v);
      }
    });
    const whoHas: Record<Key, Address[]> = {};
    const nbytes: Record<Key, number> = {};
    await Promise.all(
      [...perWorker].map(async ([w, d]) => {
        const reply = await this.#pool.call<{ nbytes?: Record<Key, number> }>(w, { op: 'update-data', data: d });
        for (const k of Object.keys(d)) {
          (whoHas[k] ??= []).push(w);
          nbytes[k] = reply?.nbytes?.[k] ?? -1;
        }
      }),
    );
    this.#assertOpen('scatter');
    const futures = entries.map(([k]) => this.#newFuture(k, this.#states.get(k) ?? this.#freshState(k)));
    this.#enqueue({ op: 'update-data', whoHas, nbytes });
    try {
      await waitAll(futures.map((f) => futureInternals.state(f)));
    } catch (e) {
      for (const f of futures) f.release();
      throw e;
    }
    if (Array.isArray(data)) return futures as unknown as { -readonly [K in keyof T]: Future<T[K]> };
    const out: Record<string, Future> = {};
    entries.forEach(([k], i) => (out[k] = futures[i]));
    return out as { -readonly [K in keyof T]: Future<T[K]> };
  }

  // ---- what the cluster holds

  /** The workers holding each key (of `futures`, or every key the scheduler knows). */
  async whoHas(futures?: unknown): Promise<Record<Key, Address[]>> {
    this.#assertOpen('whoHas');
    const keys = futures === undefined ? undefined : [...new Set(collectFutures(futures).map((f) => f.key))];
    return this.#schedulerCall('who-has', keys === undefined ? {} : { keys });
  }

  /** The keys each worker holds (of `workers`, or of all). */
  async hasWhat(workers?: readonly Address[]): Promise<Record<Address, Key[]>> {
    this.#assertOpen('hasWhat');
    return this.#schedulerCall('has-what', workers === undefined ? {} : { workers: [...workers] });
  }

  /** The threads of each worker (of `workers`, or of all). */
  async ncores(workers?: readonly Address[]): Promise<Record<Address, number>> {
    this.#assertOpen('ncores');
    return this.#schedulerCall('ncores', workers === undefined ? {} : { workers: [...workers] });
  }

  /** The scheduler's address and its workers. */
  async identity(): Promise<SchedulerRpc['identity']['res']> {
    this.#assertOpen('identity');
    return this.#schedulerCall('identity', {});
  }

  /** How many Futures this client holds per key (dask's `client.refcount`), a snapshot. */
  get refcount(): ReadonlyMap<Key, number> {
    return new Map(this.#refcount);
  }

  /** Whether close() was called (or the connection to the scheduler broke). */
  get closed(): boolean {
    return this.#closed || this.#broken !== undefined;
  }

  /**
   * Tells the scheduler this client is gone (it releases everything the client wanted), closes
   * the connections, and closes the LocalCluster the client started, if any. Pending Futures
   * become 'cancelled'. Idempotent.
   */
  close(): Promise<void> {
    return (this.#closing ??= this.#close());
  }

  toString(): string {
    return `<Client: ${this.id}, scheduler ${this.schedulerAddress}, ${this.#states.size} keys${this.closed ? ', closed' : ''}>`;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    for (const s of this.#states.values()) if (!s.done) s.cancel(new CancelledError(s.key, 'the client closed'));
    if (this.#broken === undefined) {
      await this.#outbox.close({ op: 'close-client' }).catch(() => undefined);
    } else {
      this.#comm.abort();
    }
    await this.#reading;
    await this.#pool.close();
    if (this.#cluster !== undefined) await this.#cluster.close();
  }

  #assertOpen(where: string): void {
    if (this.#closed) throw new ClientClosedError(`${where}: the client is closed`);
    if (this.#broken !== undefined) {
      throw new ClientClosedError(`${where}: the connection to the scheduler at ${this.schedulerAddress} is broken: ${this.#broken.message}`, { cause: this.#broken });
    }
  }

  // ---- submit, map, compute, persist

  #submit(o: ResolvedCallOptions, fn: AnyFn, args: unknown[]): Future {
    this.#assertOpen('submit');
    if (typeof fn !== 'function') throw new TypeError(`submit: expected a function first, got ${describeValue(fn)}`);
    if (o.key !== undefined && typeof o.key !== 'string') throw new TypeError(`submit: 'key' must be a string (a list of keys is for map)`);
    const key = o.key ?? callKey(fn, args, o.pure);
    const tasks: Record<Key, TaskInput> = {};
    const future = this.#call(o, fn, args, key, tasks);
    if (key in tasks) this.#enqueue({ op: 'update-graph', tasks, keys: [key] }, true);
    return future;
  }

  #map(o: ResolvedCallOptions, fn: AnyFn, iterables: unknown[]): Future[] {
    this.#assertOpen('map');
    if (typeof fn !== 'function') throw new TypeError(`map: expected a function first, got ${describeValue(fn)}`);
    if (iterables.length === 0) throw new TypeError('map: expected at least one iterable after the function');
    const calls = zip(iterables);
    const keyOf = mapKeys(o, fn, calls);
    const tasks: Record<Key, TaskInput> = {};
    const futures: Future[] = [];
    try {
      for (let i = 0; i < calls.length; i++) futures.push(this.#call(o, fn, calls[i], keyOf(i), tasks));
    } catch (e) {
      for (const f of futures) f.release();
      throw e;
    }
    const keys = Object.keys(tasks);
    if (keys.length > 0) this.#enqueue({ op: 'update-graph', tasks, keys }, true);
    return futures;
  }

  /** The Future of `fn(...args)` as `key`; its task goes into `tasks` unless the client holds the key. */
  #call(o: ResolvedCallOptions, fn: AnyFn, args: readonly unknown[], key: Key, tasks: Record<Key, TaskInput>): Future {
    const held = this.#states.get(key);
    if (held !== undefined && !isDead(held)) return this.#newFuture(key, held);
    const input = runSpecOfCall(fn as TaskFn, args, { key });
    this.#assertHeld(input.deps, key);
    tasks[key] = this.#taskInput(input, o, this.#seq++);
    return this.#newFuture(key, this.#freshState(key));
  }

  #compute(o: ResolvedCallOptions, args: unknown[]): Future[] {
    this.#assertOpen('compute');
    const list: readonly unknown[] = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
    assertCollections(list, 'Client.compute');
    const cg = computeGraph(list);
    const states = this.#submitGraph(cg, [...new Set(cg.keys)], o);
    return list.map((c, i) => this.#newFuture(cg.keys[i], states.get(cg.keys[i])!, (v) => c.daskPostCompute(v)));
  }

  #persist(o: ResolvedCallOptions, args: unknown[]): unknown {
    this.#assertOpen('persist');
    const asList = args.length !== 1 || Array.isArray(args[0]);
    const list = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
    const collections = list.filter(isDaskCollection);
    if (collections.length === 0) return asList ? [...list] : list[0];
    const pg = persistGraph(collections);
    const states = this.#submitGraph(pg, pg.wanted, o);
    const futureOf = (k: Key) => this.#newFuture(k, states.get(k)!);
    const out = list.map((v) => (isDaskCollection(v) ? v.daskPostPersist(futuresGraph(v.daskKeys(), futureOf)) : v));
    return asList ? out : out[0];
  }

  /**
   * Sends a graph whose keys `wanted` the client will hold (the caller makes their Futures at
   * once, in the same tick). Keys of Futures taken out of the graph are known to the cluster.
   * Returns the state of each wanted key.
   */
  #submitGraph(prepared: PreparedGraph, wanted: readonly Key[], o: ResolvedCallOptions): Map<Key, KeyState> {
    for (const [k, f] of prepared.futures) {
      if (futureInternals.link(f).clientId !== this.id) throw new TypeError(`the graph holds the future '${k}' of another client`);
      this.#assertHeld([k], k);
    }
    const specs = toRunSpecs(prepared.graph, { known: new Set(prepared.futures.keys()) });
    const tasks: Record<Key, TaskInput> = {};
    for (const k of Object.keys(specs)) tasks[k] = this.#taskInput(specs[k], o, specs[k].priority ?? 0);
    const states = new Map<Key, KeyState>();
    for (const k of wanted) {
      const held = this.#states.get(k);
      if (held !== undefined && !isDead(held)) states.set(k, held);
      else if (k in tasks) states.set(k, this.#freshState(k));
      else if (held !== undefined) throw held.error ?? new Error(`the future '${k}' is ${held.status}`);
      else throw new GraphError(`key '${k}' is neither in the graph nor held by this client`);
    }
    this.#enqueue({ op: 'update-graph', tasks, keys: [...wanted] });
    return states;
  }

  /** The message form of a task: its run spec serialised now, its restrictions and priority. */
  #taskInput(input: TaskInput, o: ResolvedCallOptions, order: number): TaskInput {
    const run = input.run instanceof Serialize ? serialize(input.run.value) : input.run;
    const priority = order - o.priority * 2 ** 32;
    if (o.workers === undefined) return { run, deps: input.deps, priority };
    return { run, deps: input.deps, priority, workers: o.workers, allowOtherWorkers: o.allowOtherWorkers ?? false };
  }

  #assertHeld(deps: readonly Key[], key: Key): void {
    for (const d of deps) {
      if (!this.#refcount.has(d)) {
        throw new TypeError(`task '${key}': an argument is the future '${d}', which this client does not hold (released, or made by another client)`);
      }
    }
  }

  // ---- get

  async #get(graph: Graph, keys: KeyNest, options?: GetOptions): Promise<unknown> {
    const { signal, onTaskFinished } = validateGetOptions(options, 'Client.get');
    if (signal?.aborted) throw abortError(signal);
    this.#assertOpen('get');
    if (!isGraphLike(graph)) {
      throw new TypeError(`a graph must be a plain object of keys to tasks or values, like { x: 1, y: [inc, 'x'] }; got ${describeValue(graph)}`);
    }
    const flat = flattenKeys(keys);
    const prepared = takeOutFutures(graph);
    for (const k of flat) {
      if (!Object.hasOwn(prepared.graph, k) && !prepared.futures.has(k)) throw GraphError.missingKey(k, Object.keys(graph));
    }
    const wanted = [...new Set(flat)];
    const states = this.#submitGraph(prepared, wanted, DEFAULT_CALL_OPTIONS);
    const futures = wanted.map((k) => this.#newFuture(k, states.get(k)!));
    try {
      const list = [...states.values()];
      if (onTaskFinished) for (const s of list) void s.wait().then(() => s.status === 'finished' && onTaskFinished(s.key));
      try {
        await waitAll(list, signal);
      } catch (e) {
        if (signal?.aborted) this.#cancelKeys(list.filter((s) => !s.done).map((s) => s.key));
        throw e;
      }
      const values = await this.#fetch(wanted, signal);
      return packResults(keys, (k) => values.get(k));
    } finally {
      for (const f of futures) f.release();
    }
  }

  // ---- gathering data

  async #gatherFutures(futures: readonly Future[]): Promise<unknown[]> {
    for (const f of futures) {
      if (futureInternals.link(f).clientId !== this.id) throw new TypeError(`gather: the future '${f.key}' belongs to another client`);
      if (futureInternals.released(f)) throw new Error(`future '${f.key}' was released; its result is no longer available`);
    }
    await waitAll([...new Set(futures.map((f) => futureInternals.state(f)))]);
    this.#assertOpen('gather');
    const values = await this.#fetch([...new Set(futures.map((f) => f.key))]);
    return futures.map((f) => {
      const v = values.get(f.key);
      const post: PostProcess | undefined = futureInternals.post(f);
      return post === undefined ? v : post(v);
    });
  }

  /**
   * The values of finished keys, from the workers that hold them (who-has, then get-data requests
   * of at most GET_DATA_KEYS keys to each worker). A key that no worker gives (its worker left; data moved) is asked for again: the
   * scheduler recomputes it if it must, and the fetch is tried again once it is back in memory.
   */
  async #fetch(keys: readonly Key[], signal?: AbortSignal): Promise<Map<Key, unknown>> {
    const out = new Map<Key, unknown>();
    let missing = [...keys];
    for (let attempt = 1; ; attempt++) {
      const whoHas = await this.#schedulerCall('who-has', { keys: missing });
      const requests: [Address, Key[]][] = [];
      const open = new Map<Address, Key[]>();
      for (const k of missing) {
        const holders = whoHas[k];
        if (holders === undefined || holders.length === 0) continue;
        const w = holders[Math.floor(Math.random() * holders.length)];
        let list = open.get(w);
        if (list === undefined || list.length >= GET_DATA_KEYS) {
          open.set(w, (list = []));
          requests.push([w, list]);
        }
        list.push(k);
      }
      let failure: Error | undefined;
      await Promise.all(
        requests.map(async ([w, ks]) => {
          try {
            const reply = await this.#pool.call<{ data: Record<Key, unknown> }>(w, { op: 'get-data', keys: ks });
            for (const k of ks) if (Object.hasOwn(reply.data, k)) out.set(k, reply.data[k]);
          } catch (e) {
            failure = e as Error;
            this.#logger.debug(`get-data of ${ks.length} keys from ${w} failed`, e);
          }
        }),
      );
      missing = missing.filter((k) => !out.has(k));
      if (missing.length === 0) return out;
      if (attempt >= MAX_FETCH_ATTEMPTS) {
        throw new LostDataError(missing[0], `no worker gave its data after ${attempt} attempts${failure ? ` (last error: ${failure.message})` : ''}`);
      }
      const states = missing.map((k) => this.#states.get(k)).filter((s): s is KeyState => s !== undefined);
      for (const s of states) if (s.status === 'finished') s.reset();
      this.#assertOpen('gather');
      this.#enqueue({ op: 'client-desires-keys', keys: missing });
      await waitAll(states, signal);
      await sleep(5 * 2 ** attempt);
    }
  }

  async #workersMatching(names: readonly string[] | undefined): Promise<Address[]> {
    const { workers } = await this.#schedulerCall('identity', {});
    let list: WorkerIdentity[] = Object.values(workers);
    if (names !== undefined) {
      const wanted = new Set(names.flatMap((n) => [n, safeNormalize(n)]));
      list = list.filter((w) => wanted.has(w.address) || wanted.has(safeNormalize(w.address)) || wanted.has(w.name) || wanted.has(w.host));
    }
    return list.map((w) => w.address);
  }

  #schedulerCall<K extends keyof SchedulerRpc>(op: K, req: SchedulerRpc[K]['req']): Promise<SchedulerRpc[K]['res']> {
    return this.#pool.call<SchedulerRpc[K]['res']>(this.schedulerAddress, { op, ...req });
  }

  // ---- Futures and reference counts

  #newFuture(key: Key, state: KeyState, post?: PostProcess): Future {
    const f = new Future(key, state, this.#link, post);
    this.#refcount.set(key, (this.#refcount.get(key) ?? 0) + 1);
    this.#finalizer.register(f, key, f);
    return f;
  }

  /** The key's state, pending: a new one, or the held one reset (it was cancelled or lost). */
  #freshState(key: Key): KeyState {
    let s = this.#states.get(key);
    if (s === undefined) this.#states.set(key, (s = new KeyState(key)));
    else s.reset();
    return s;
  }

  #release(f: Future): void {
    this.#finalizer.unregister(f);
    this.#decref(f.key);
  }

  #decref(key: Key): void {
    const n = (this.#refcount.get(key) ?? 0) - 1;
    if (n > 0) {
      this.#refcount.set(key, n);
      return;
    }
    if (!this.#refcount.delete(key)) return;
    this.#states.delete(key);
    if (!this.#closed && this.#broken === undefined) this.#enqueue({ op: 'client-releases-keys', keys: [key] });
  }

  #cancelKeys(keys: readonly Key[]): void {
    const sent: Key[] = [];
    for (const k of new Set(keys)) {
      const s = this.#states.get(k);
      if (s === undefined || s.status === 'cancelled') continue;
      s.cancel(new CancelledError(k));
      sent.push(k);
      this.#cancelsInFlight.set(k, (this.#cancelsInFlight.get(k) ?? 0) + 1);
    }
    if (sent.length > 0 && !this.#closed && this.#broken === undefined) this.#enqueue({ op: 'cancel-keys', keys: sent });
  }

  // ---- the stream

  /** Queues a message for the scheduler (see Outbox: merged, in order, at the end of the tick). */
  #enqueue(msg: ClientToScheduler, mergeable = false): void {
    this.#outbox.send(msg, mergeable);
  }

  async #readLoop(): Promise<void> {
    for (;;) {
      let batch: unknown;
      try {
        batch = await this.#comm.read();
      } catch (e) {
        this.#disconnected(e as Error);
        return;
      }
      for (const msg of Array.isArray(batch) ? batch : [batch]) {
        try {
          this.#handle(msg as SchedulerToClient);
        } catch (e) {
          this.#logger.error('a message from the scheduler could not be handled', e);
        }
      }
    }
  }

  #handle(msg: SchedulerToClient): void {
    if (typeof msg !== 'object' || msg === null || typeof msg.op !== 'string') {
      this.#logger.warn(`ignored a malformed message from the scheduler: ${describeValue(msg)}`);
      return;
    }
    if (msg.op === 'restart') {
      for (const s of this.#states.values()) s.cancel(new CancelledError(s.key, 'the cluster restarted'));
      return;
    }
    if (!('key' in msg)) {
      this.#logger.debug(`ignored message '${(msg as { op: string }).op}' from the scheduler`);
      return;
    }
    const inFlight = this.#cancelsInFlight.get(msg.key);
    if (inFlight !== undefined) {
      // Until the scheduler answers our cancel, what it says about the key is older than the cancel.
      if (msg.op === 'cancelled-key') {
        if (inFlight > 1) this.#cancelsInFlight.set(msg.key, inFlight - 1);
        else this.#cancelsInFlight.delete(msg.key);
      }
      return;
    }
    const s = this.#states.get(msg.key);
    if (s === undefined) return;
    switch (msg.op) {
      case 'key-in-memory':
        s.finish(msg.type);
        return;
      case 'task-erred':
        s.fail(remoteTaskError(msg.key, msg.exception, msg.traceback, msg.blame), msg.traceback);
        return;
      case 'cancelled-key':
        s.cancel(new CancelledError(msg.key, 'the scheduler cancelled it (an input was cancelled)'));
        return;
      case 'lost-data':
        s.lose(new LostDataError(msg.key, 'its data was put on the cluster directly (scatter), and no worker that held it remains'));
        return;
      default:
        this.#logger.debug(`ignored message '${(msg as { op: string }).op}' from the scheduler`);
    }
  }

  #disconnected(e: Error): void {
    if (this.#closed) return;
    const reason = (e.cause as Error | undefined)?.message ?? e.message;
    this.#broken = new ClientClosedError(`the connection to the scheduler at ${this.schedulerAddress} closed: ${reason}`, { cause: e });
    this.#logger.error(this.#broken.message);
    for (const s of this.#states.values()) {
      if (!s.done) s.lose(new LostDataError(s.key, `the connection to the scheduler at ${this.schedulerAddress} closed`));
    }
    this.#outbox.abort();
  }
}

/** The manual's name for the client. */
export { Client as Executor };

// ---- helpers

function isDead(s: KeyState): boolean {
  return s.status === 'cancelled' || s.status === 'lost';
}

/** Asks the server at `address` who it is: a ConnectError within the timeout if it is not a scheduler. */
async function identify(pool: ConnectionPool, address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  try {
    pool.reuse(address, await pool.connect(address)); // within the pool's connect timeout (timeoutMs)
    await pool.call(address, { op: 'identity' }, { timeoutMs: Math.max(1, deadline - Date.now()) });
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err instanceof ConnectError) {
      throw new ConnectError(address, err.code ?? 'ECONNREFUSED', `could not connect to the scheduler at ${address} within ${timeoutMs} ms (${err.code}); is a scheduler running there? (npx dscheduler)`, { cause: e });
    }
    if (err.name === 'TimeoutError') {
      throw new ConnectError(address, 'ETIMEDOUT', `connected to ${address}, but it did not answer as a scheduler within ${timeoutMs} ms`, { cause: e });
    }
    throw new ConnectError(address, err.code ?? 'EPROTO', `the server at ${address} did not answer as a dask-ts scheduler: ${err.message}`, { cause: e });
  }
}

function safeNormalize(address: string): string {
  try {
    return normalizeAddress(address);
  } catch {
    return address;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Loaded on first use, so that a client of a remote cluster never loads scheduler and worker code. */
async function loadLocalCluster(): Promise<{ LocalCluster: { start(options: { nWorkers?: number; threadsPerWorker?: number; logger?: Logger }): Promise<OwnedCluster> } }> {
  return import('../local-cluster.js');
}
