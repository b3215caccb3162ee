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
 * (`get-data`, from those key-in-memory named, else after `who-has`), scattered data is pushed to
 * workers (`update-data`) and then announced on the stream.
 *
 * Messages queued in one tick leave together, and the update-graphs of consecutive submit/map
 * calls merge into one, so a loop of 10,000 submits is one scheduler event. Order is kept: a
 * release or cancel queued between two submits stays between them. A graph too large for one
 * message (a comm carries at most 10,000 frames, and each task is at least one) is split in
 * dependency order (outbox.ts).
 *
 * This class holds the client's state and its public methods; the work is done beside it:
 * submit.ts (tasks and graphs out), fetch.ts (values back), refs.ts (Futures per key, reference
 * counts, cancels), stream-handler.ts (the scheduler's messages), connection.ts, view.ts, and one
 * module per feature (scatter, streams, data-ops, run, upload, restart).
 */
import { describe as describeValue } from '../../graph/normalize.js';
import type { Graph, KeyNest } from '../../graph/spec.js';
import { normalizeAddress } from '../comm/address.js';
import type { Comm } from '../comm/comm.js';
import type { Address, ClientToScheduler, Key, RebalanceResult, ReplicateResult, SchedulerInfo, SchedulerRpc } from '../messages.js';
import { createLogger, type Logger } from '../rpc/logger.js';
import type { ConnectionPool } from '../rpc/pool.js';
import { openScheduler, startLocalCluster, type OwnedCluster } from './connection.js';
import * as dataOps from './data-ops.js';
import { CancelledError, ClientClosedError, LostDataError } from './errors.js';
import { Fetcher } from './fetch.js';
import type { Future, FutureArgs, Gathered } from './future.js';
import {
  DEFAULT_CALL_OPTIONS,
  resolveConnectOptions,
  resolveStreamOptions,
  type CallOptions,
  type ClientGetOptions,
  type ConnectOptions,
  type ResolvedCallOptions,
  type ResolvedConnectOptions,
  type ScatterOptions,
  type StreamOptions,
} from './options.js';
import { Outbox } from './outbox.js';
import { Refs } from './refs.js';
import { Restarts, type RestartOptions } from './restart.js';
import { runOnWorkers, runRequest } from './run.js';
import { Scatterer, type ScatterResult } from './scatter.js';
import { readSchedulerStream } from './stream-handler.js';
import { DEFAULT_MAX_IN_FLIGHT, FutureStream, isAsyncIterable, ResultStream, type StreamElement } from './streams.js';
import { collectFutures } from './structure.js';
import { Submitter } from './submit.js';
import { uploadFile, type UploadOptions } from './upload.js';
import { ClientView, type AnyFn, type ClientCalls, type ComputedFutures, type MapIterables, type MapStreamIterables } from './view.js';

export { ClientView, type ClientCalls, type ComputedFutures, type MapIterables, type MapStreamIterables } from './view.js';

/** A cluster object to connect to: `Client.connect(cluster)`. */
export interface HasSchedulerAddress {
  readonly schedulerAddress: string;
}

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
  readonly get: (graph: Graph, keys: KeyNest, options?: ClientGetOptions) => Promise<unknown> = (graph, keys, options) => this.#submitter.get(graph, keys, options);

  readonly #comm: Comm;
  readonly #outbox: Outbox;
  readonly #pool: ConnectionPool;
  readonly #logger: Logger;
  readonly #refs: Refs;
  readonly #submitter: Submitter;
  readonly #fetcher: Fetcher;
  readonly #view: ClientView;
  readonly #cluster: OwnedCluster | undefined;
  readonly #reading: Promise<void>;
  readonly #scatterer: Scatterer;
  readonly #restarts = new Restarts();
  readonly #rpc: dataOps.SchedulerCall = (op, req) => this.#pool.call(this.schedulerAddress, { op, ...req });
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
    this.#outbox = new Outbox(comm, { logger: this.#logger, isHeld: (k) => this.#refs.holds(k) });
    const send = (msg: ClientToScheduler, mergeable = false) => this.#outbox.send(msg, mergeable);
    const assertOpen = (where: string) => this.#assertOpen(where);
    this.#refs = new Refs({
      link: { clientId: id, gather: (fs) => this.#fetcher.gather(fs), cancel: (fs) => this.cancel(fs), release: (f) => this.#refs.release(f) },
      notify: (msg) => {
        if (!this.closed) send(msg); // once closed or broken, there is no one to tell
      },
      sent: (s) => this.#restarts.sent(s),
    });
    this.#fetcher = new Fetcher({ clientId: id, refs: this.#refs, pool, rpc: this.#rpc, logger: this.#logger, assertOpen, send });
    this.#submitter = new Submitter({ clientId: id, refs: this.#refs, assertOpen, send, fetch: (keys, signal) => this.#fetcher.fetch(keys, signal) });
    const submitter = this.#submitter;
    this.#view = new ClientView(
      {
        submit: (o, fn, args) => submitter.submit(o, fn, args),
        map: (o, fn, iterables) => submitter.map(o, fn, iterables),
        compute: (o, args) => submitter.compute(o, args),
        persist: (o, args) => submitter.persist(o, args),
        run: (o, fn, args) => this.#run(o, fn, args),
      },
      DEFAULT_CALL_OPTIONS,
    );
    this.#scatterer = new Scatterer({
      schedulerAddress: address,
      assertOpen,
      workers: async () => Object.values((await this.#rpc('identity', {})).workers),
      call: (w, msg, timeoutMs) => this.#pool.call(w, msg, timeoutMs === undefined ? {} : { timeoutMs }),
      announce: (keys, whoHas, nbytes) => submitter.announce(keys, whoHas, nbytes),
    });
    this.#reading = readSchedulerStream(comm, { refs: this.#refs, restarts: this.#restarts, logger: this.#logger, disconnected: (e) => this.#disconnected(e) });
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
    const cluster = await startLocalCluster(opts);
    try {
      return await Client.#open(normalizeAddress(cluster.schedulerAddress), opts, cluster);
    } catch (e) {
      await cluster.close();
      throw e;
    }
  }

  static async #open(address: string, opts: ResolvedConnectOptions, cluster: OwnedCluster | undefined): Promise<Client> {
    const { id, comm, pool } = await openScheduler(address, opts.timeoutMs);
    return new Client(id, address, comm, pool, cluster, opts.logger);
  }

  // ---- calls with options (the client's defaults; see with())

  submit<F extends AnyFn>(fn: F, ...args: FutureArgs<Parameters<F>>): Future<Awaited<ReturnType<F>>> {
    return this.#view.submit(fn, ...args);
  }

  map<F extends AnyFn>(fn: F, ...iterables: MapIterables<Parameters<F>>): Future<Awaited<ReturnType<F>>>[];
  map<F extends AnyFn>(fn: F, ...iterables: MapStreamIterables<Parameters<F>>): FutureStream<Awaited<ReturnType<F>>>;
  map(fn: AnyFn, ...iterables: unknown[]): Future[] | FutureStream {
    return this.#submitter.map(DEFAULT_CALL_OPTIONS, fn, iterables);
  }

  compute<T extends readonly unknown[]>(collections: readonly [...T]): ComputedFutures<T>;
  compute<T extends readonly unknown[]>(...collections: T): ComputedFutures<T>;
  compute(...args: unknown[]): Future[] {
    return this.#submitter.compute(DEFAULT_CALL_OPTIONS, args);
  }

  persist<T extends readonly unknown[]>(collections: readonly [...T]): T;
  persist<T>(collection: T): T;
  persist(...args: unknown[]): unknown {
    return this.#submitter.persist(DEFAULT_CALL_OPTIONS, args);
  }

  run<F extends AnyFn>(fn: F, ...args: Parameters<F>): Promise<Record<Address, Awaited<ReturnType<F>>>> {
    return this.#view.run(fn, ...args);
  }

  /** A view whose submit/map/compute/persist/run use `options` (key, pure, priority, workers, allowOtherWorkers). */
  with(options: CallOptions): ClientView {
    return this.#view.with(options);
  }

  // ---- results

  /**
   * The results of an async iterable (a stream, streams.ts), as a stream: in input order, each
   * element as gather(element) gives it, computed up to `maxInFlight` elements (default 64) ahead
   * of the consumer; the element's Futures are released once its value is here.
   */
  // S, not AsyncIterable<T>: overloads are first tried by subtyping, where a stream class is no
  // strict subtype of AsyncIterable<T> and the catch-all overload below would win.
  gather<S extends AsyncIterable<unknown>>(stream: S, options?: StreamOptions): ResultStream<Gathered<StreamElement<S>>>;
  /**
   * The results of Futures, wherever they sit in arrays and plain objects: the same structure
   * with each Future replaced by its value. Rejects with the first error among them (a TaskError,
   * CancelledError or LostDataError).
   */
  gather<T>(futures: T): Promise<Gathered<T>>;
  gather(futures: unknown, options?: StreamOptions): Promise<unknown> | ResultStream {
    if (isAsyncIterable(futures)) {
      const { maxInFlight } = resolveStreamOptions(options, 'Client.gather', DEFAULT_MAX_IN_FLIGHT);
      this.#assertOpen('gather');
      return new ResultStream(futures, (element) => this.#fetcher.gatherStructure(element), maxInFlight);
    }
    if (options !== undefined) throw new TypeError(`Client.gather: options apply to an async iterable (a stream); got ${describeValue(futures)}`);
    return this.#fetcher.gatherStructure(futures);
  }

  /**
   * Cancels the Futures found in `futures` (a Future, or arrays and plain objects of them): they
   * become 'cancelled' at once, and the scheduler stops computing what only they needed.
   */
  async cancel(futures: unknown): Promise<void> {
    const keys = collectFutures(futures).map((f) => f.key);
    this.#refs.cancel(keys);
  }

  /**
   * Puts the client's values on the workers and gives Futures of them (scatter.ts), in the shape
   * given: an array (or a Set, a generator: read to the end) gives an array of Futures in order,
   * keyed by content (`hash: false`: random keys); a plain object or a Map keeps its keys as the keys
   * on the cluster; an async iterable gives an async iterable of Futures at once, each element
   * scattered as it arrives. Placement is round robin over the workers' threads in the order they
   * joined; `workers` restricts it (addresses, hosts or names), and `broadcast` puts every value on
   * every worker through a tree copy among them. Resolves once the scheduler knows the data. A single
   * value goes in an array, `const [f] = await client.scatter([v])`: a bare Future would be
   * unwrapped by `await`.
   */
  scatter<T>(data: AsyncIterable<T>, options?: ScatterOptions): AsyncIterable<Future<T>>;
  scatter<T extends readonly unknown[] | ReadonlyMap<string, unknown> | Iterable<unknown> | Record<string, unknown>>(
    data: T,
    options?: ScatterOptions,
  ): Promise<ScatterResult<T>>;
  scatter(data: unknown, options?: ScatterOptions): Promise<unknown> | AsyncIterable<Future> {
    if (Scatterer.isStream(data)) return this.#scatterer.stream(data, options);
    return this.#scatterer.scatter(data, options);
  }

  // ---- what the cluster holds

  /** The workers holding each key (of `futures`: Futures or keys, or every key the scheduler knows). */
  async whoHas(futures?: unknown): Promise<Record<Key, Address[]>> {
    this.#assertOpen('whoHas');
    return dataOps.whoHas(this.#rpc, futures);
  }

  /** The keys each worker holds (of `workers`: addresses, hosts or names; or of all), by address. */
  async hasWhat(workers?: dataOps.WorkersArg): Promise<Record<Address, Key[]>> {
    this.#assertOpen('hasWhat');
    return dataOps.hasWhat(this.#rpc, workers);
  }

  /** The threads of each worker (of `workers`, or of all), by address. */
  async ncores(workers?: dataOps.WorkersArg): Promise<Record<Address, number>> {
    this.#assertOpen('ncores');
    return dataOps.ncores(this.#rpc, workers);
  }

  /** Bytes of each key in memory (of `keys`, or all); with `summary` (the default) totals per key prefix: `{ inc: 84 }`. */
  async nbytes(keys?: dataOps.KeysArg, options?: dataOps.NbytesOptions): Promise<Record<string, number>> {
    this.#assertOpen('nbytes');
    return dataOps.nbytes(this.#rpc, keys, options);
  }

  /** The scheduler's address and, per worker address, its name, threads, memory limit, host, bytes held, tasks... */
  async schedulerInfo(): Promise<SchedulerInfo> {
    this.#assertOpen('schedulerInfo');
    return dataOps.schedulerInfo(this.#rpc);
  }

  /**
   * Copies the data of `futures` so that each key has `n` copies on `workers` (default: one on every
   * worker), as a tree copy (each holder feeds `branchingFactor` new ones per round); with n lower
   * than now, removes copies down to n. Resolves once the copies are in place.
   */
  async replicate(futures: dataOps.KeysArg, options?: dataOps.ReplicateOptions): Promise<ReplicateResult> {
    this.#assertOpen('replicate');
    return dataOps.replicate(this.#rpc, futures, options);
  }

  /** Moves data (of `futures`, or all in memory) so that `workers` (default: all) hold about as many bytes each. */
  async rebalance(futures?: dataOps.KeysArg, workers?: dataOps.WorkersArg): Promise<RebalanceResult> {
    this.#assertOpen('rebalance');
    return dataOps.rebalance(this.#rpc, futures, workers);
  }

  /** The scheduler's address and its workers. */
  async identity(): Promise<SchedulerRpc['identity']['res']> {
    this.#assertOpen('identity');
    return this.#rpc('identity', {});
  }

  // ---- the cluster itself

  /**
   * Sends the module at `path` (.js, .mjs, .ts, .mts) to every worker, and to workers that join
   * later, so that its exported functions can run in tasks; imports it here first and registers
   * its functions (`{ register: false }` does not). Rejects with an UploadError naming the workers
   * that could not import it (upload.ts).
   */
  async uploadFile(path: string, options?: UploadOptions): Promise<void> {
    this.#assertOpen('uploadFile');
    return uploadFile(path, options, (file) => this.#rpc('upload-file', file));
  }

  /**
   * Forgets every task and all data on the cluster: every Future of every client becomes
   * 'cancelled', workers drop their data and their queued and running work (restart.ts). Resolves
   * once the scheduler has done so; new work can be submitted at once.
   */
  async restart(options?: RestartOptions): Promise<void> {
    this.#assertOpen('restart');
    const { id, done } = this.#restarts.begin(options);
    this.#outbox.send({ op: 'restart', id }, false);
    await done;
  }

  /**
   * Tasks that wait because no connected worker may run them, each with the reason (e.g. `workers=`
   * naming no connected worker). They run as soon as such a worker joins; the scheduler also logs
   * a warning when they start waiting.
   */
  async unrunnable(): Promise<Record<Key, string>> {
    this.#assertOpen('unrunnable');
    return this.#rpc('unrunnable', {});
  }

  /** How many Futures this client holds per key (dask's `client.refcount`), a snapshot. */
  get refcount(): ReadonlyMap<Key, number> {
    return this.#refs.counts();
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
    return `<Client: ${this.id}, scheduler ${this.schedulerAddress}, ${this.#refs.size} keys${this.closed ? ', closed' : ''}>`;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.#restarts.failAll(new ClientClosedError('Client.restart: the client closed'));
    for (const s of this.#refs.states()) if (!s.done) s.cancel(new CancelledError(s.key, 'the client closed'));
    if (this.#broken === undefined) {
      await this.#outbox.close({ op: 'close-client' }).catch(() => undefined);
    } else {
      this.#comm.abort();
    }
    await this.#reading;
    await this.#pool.close();
    await this.#fetcher.close();
    if (this.#cluster !== undefined) await this.#cluster.close();
  }

  #assertOpen(where: string): void {
    if (this.#closed) throw new ClientClosedError(`${where}: the client is closed`);
    if (this.#broken !== undefined) {
      throw new ClientClosedError(`${where}: the connection to the scheduler at ${this.schedulerAddress} is broken: ${this.#broken.message}`, { cause: this.#broken });
    }
  }

  async #run(o: ResolvedCallOptions, fn: AnyFn, args: unknown[]): Promise<Record<Address, unknown>> {
    this.#assertOpen('run');
    const request = runRequest(fn, args);
    return runOnWorkers(request, o.workers, {
      // The scheduler resolves names and hosts, and refuses an entry that names no worker.
      workers: async (names) => Object.keys(await this.#rpc('ncores', names === undefined ? {} : { workers: [...names] })),
      call: (w, msg) => this.#pool.call(w, msg),
    });
  }

  #disconnected(e: Error): void {
    if (this.#closed) return;
    const reason = (e.cause as Error | undefined)?.message ?? e.message;
    this.#broken = new ClientClosedError(`the connection to the scheduler at ${this.schedulerAddress} closed: ${reason}`, { cause: e });
    this.#logger.error(this.#broken.message);
    for (const s of this.#refs.states()) {
      if (!s.done) s.lose(new LostDataError(s.key, `the connection to the scheduler at ${this.schedulerAddress} closed`));
    }
    this.#restarts.failAll(this.#broken);
    this.#outbox.abort();
  }
}

/** The manual's name for the client. */
export { Client as Executor };
