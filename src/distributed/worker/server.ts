/**
 * The worker's TCP server: a WorkerState (events in, instructions out) with the I/O around it.
 *
 * - It listens first (its address is then final), registers with the scheduler (the
 *   `register-worker` RPC), opens its stream (`worker-stream`; messages.ts, SchedulerStreamOps),
 *   and heartbeats every `heartbeatMs`.
 * - Scheduler messages on the stream (compute-task, free-keys, acquire-replicas, steal-request)
 *   become events of the state machine; `close` closes the worker.
 * - Instructions are performed: `execute` runs the task on a TaskExecutor (a thread pool, so this
 *   event loop keeps answering peers, the scheduler and heartbeats) with its dependencies' values
 *   from `state.data`, and its outcome comes back as execute-success / execute-failure; `gather-dep`
 *   asks the peer's `get-data` through a ConnectionPool and comes back as gather-dep-success /
 *   gather-dep-failure; `send` goes on the BatchedSend to the scheduler.
 * - Keys nobody is known to hold (`missingKeys()`) are looked up with the scheduler's `who-has`
 *   every `refreshMs` until found (dask's find_missing).
 * - RPCs served: `get-data` (values as they are, to peers and clients), `update-data` and
 *   `broadcast-data` (scatter; broadcast.ts passes a broadcast down its tree),
 *   `run` (client.run, run-function.ts), `upload-file` (uploads.ts; files uploaded before the worker
 *   joined come with its registration). The stream's `restart` resets the worker (#restart).
 * - When the stream to the scheduler closes, or a heartbeat is answered `missing`, the worker
 *   closes itself (dask's worker with reconnect=False). close() unregisters, flushes and closes
 *   the stream, stops the thread pool, the server and the pool.
 *
 * Times reported to the scheduler are seconds since the epoch.
 */
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { connect } from '../comm/connect.js';
import type { Comm } from '../comm/comm.js';
import { CommClosedError } from '../comm/errors.js';
import type { Address, Key, SchedulerOps, SchedulerToWorker, WorkerOps, WorkerToScheduler } from '../messages.js';
import { nbytesOf, Serialize } from '../protocol/index.js';
import { BatchedSend } from '../rpc/batched-send.js';
import { createLogger, type Logger } from '../rpc/logger.js';
import { ConnectionPool } from '../rpc/pool.js';
import { Server } from '../rpc/server.js';
import { handleStream, type StreamMessageHandlers } from '../rpc/stream.js';
import type { Handlers, ReplyOf, RequestOf } from '../rpc/types.js';
import { checkForwardTree, FORWARD_TIMEOUT_MS, forwardTo } from '../broadcast.js';
import { bareAddress } from '../scheduler/message-checks.js';
import { DEFAULT_BATCH_INTERVAL_MS } from '../scheduler/server.js';
import { collectReleased } from '../../schedulers/shared-memory.js';
import type { WorkerEvent, WorkerInstruction } from './events.js';
import { TaskExecutor } from './executor.js';
import { runFunction } from './run-function.js';
import { WorkerState } from './state.js';
import { Uploads } from './uploads.js';

/**
 * Freeing this much data prompts a collection on the next turn (shared-memory.ts
 * collectReleased): the memory is given back while the worker is idle, instead of by a collection
 * in the path of the next large receive.
 */
const COLLECT_AFTER_FREEING_BYTES = 16 * 2 ** 20;

export interface WorkerServerOptions {
  /** The scheduler's address ('tcp://host:port' or 'host:port'). */
  readonly scheduler: string;
  /** Tasks run at once, on as many pool threads (default: the number of cores). */
  readonly nthreads?: number;
  /** An alias tasks can be restricted to (`workers: ['alice']`); default: the worker's address. */
  readonly name?: string;
  /** Where to listen (default '127.0.0.1'); peers and clients connect here. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
  /** Check the state machine's invariants after every event (tests). */
  readonly validate?: boolean;
  /** Budget to reach the scheduler at start, retries included (default 10,000 ms). */
  readonly connectTimeoutMs?: number;
  /** Heartbeat period (default 1000 ms). */
  readonly heartbeatMs?: number;
  /** How often keys no peer is known to hold are looked up with who-has (default 500 ms). */
  readonly refreshMs?: number;
  /** The shortest time between two batches to the scheduler (default: as the scheduler's, DEFAULT_BATCH_INTERVAL_MS). */
  readonly batchIntervalMs?: number;
  /** Reported to the scheduler (default: the machine's memory). */
  readonly memoryLimit?: number;
  /** Where uploaded modules are saved (default: `dask-worker-space` in the current directory; see uploads.ts). */
  readonly localDirectory?: string;
  readonly logger?: Logger;
}

type OpMap<U extends { op: string }> = { [K in U['op']]: Omit<Extract<U, { op: K }>, 'op'> };

export class WorkerServer {
  readonly nthreads: number;
  /** The scheduler's address, 'tcp://host:port'. */
  readonly scheduler: string;
  readonly logger: Logger;
  /** State machine errors so far (a bug, or an invariant broken in validate mode). */
  readonly errors: Error[] = [];
  /** Resolves once the worker is closed (by close(), or because the scheduler went away). */
  readonly finished: Promise<void>;
  #state!: WorkerState;
  #address = '';
  #name = '';
  readonly #server: Server<WorkerOps>;
  readonly #pool: ConnectionPool;
  #executor: TaskExecutor;
  /** Counts restarts: work started before the latest one reports nothing (see #restart). */
  #generation = 0;
  #uploads: Uploads | undefined;
  readonly #options: WorkerServerOptions;
  readonly #batchMs: number;
  #stream: Comm | undefined;
  #bs: BatchedSend<WorkerToScheduler> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #heartbeating = false;
  #refresh: NodeJS.Timeout | undefined;
  #refreshing = false;
  #stimulus = 0;
  #closing: Promise<void> | undefined;
  #resolveFinished!: () => void;

  /**
   * Starts a worker: listens, registers with the scheduler, opens its stream. Rejects (with
   * everything it started closed again) when the scheduler cannot be reached within
   * `connectTimeoutMs` or refuses the registration.
   */
  static async start(options: WorkerServerOptions): Promise<WorkerServer> {
    if (options === null || typeof options !== 'object' || typeof options.scheduler !== 'string') {
      throw new TypeError("WorkerServer.start: expected options with the scheduler's address, { scheduler: 'tcp://host:port' }");
    }
    const w = new WorkerServer(options);
    try {
      await w.#start();
    } catch (e) {
      await w.#shutDown(false);
      throw e;
    }
    return w;
  }

  private constructor(options: WorkerServerOptions) {
    const nthreads = options.nthreads ?? availableParallelism();
    if (!Number.isSafeInteger(nthreads) || nthreads < 1) throw new TypeError(`WorkerServer: nthreads must be a positive integer, got ${String(nthreads)}`);
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`WorkerServer: port must be an integer in 0..65535, got ${String(port)}`);
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
      throw new TypeError(`WorkerServer: name must be a non-empty string, got ${String(options.name)}`);
    }
    const scheduler = bareAddress(options.scheduler);
    if (scheduler === undefined) throw new TypeError(`WorkerServer: bad scheduler address '${options.scheduler}': expected 'tcp://host:port' or 'host:port'`);
    this.#options = { ...options, port };
    this.#batchMs = options.batchIntervalMs ?? DEFAULT_BATCH_INTERVAL_MS;
    this.nthreads = nthreads;
    this.scheduler = `tcp://${scheduler}`;
    this.logger = options.logger ?? createLogger(`dask-ts.worker`);
    this.#pool = new ConnectionPool({ connectTimeoutMs: options.connectTimeoutMs ?? 10_000 });
    this.#executor = new TaskExecutor({ nthreads });
    this.#server = new Server<WorkerOps>({ name: 'worker', logger: this.logger, handlers: this.#handlers() });
    this.finished = new Promise((resolve) => (this.#resolveFinished = resolve));
  }

  /** Where peers and clients connect: 'tcp://host:port'. */
  get address(): string {
    return `tcp://${this.#address}`;
  }

  /** The alias given, or the address. */
  get name(): string {
    return this.#name;
  }

  /** The state machine (its `data` is the worker's data store). */
  get state(): WorkerState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Unregisters, closes the stream, stops the thread pool and the server. Idempotent. */
  close(): Promise<void> {
    return this.#shutDown(true);
  }

  async #start(): Promise<void> {
    const o = this.#options;
    const host = o.host ?? '127.0.0.1';
    const listened = await this.#server.listen(host.includes(':') ? `tcp://[${host}]:${o.port}` : `tcp://${host}:${o.port}`);
    this.#address = bareAddress(listened)!;
    this.#name = o.name ?? this.address;
    this.#state = new WorkerState({ address: this.#address, nthreads: this.nthreads, validate: o.validate ?? false });
    const timeoutMs = o.connectTimeoutMs ?? 10_000;
    this.#uploads = new Uploads(o.localDirectory ?? join(process.cwd(), 'dask-worker-space'), this.#address);
    try {
      const registered = await this.#pool.call<ReplyOf<SchedulerOps, 'register-worker'>>(
        this.scheduler,
        {
          op: 'register-worker',
          address: this.#address,
          name: this.name,
          nthreads: this.nthreads,
          memoryLimit: o.memoryLimit ?? totalmem(),
          host: this.#address.slice(0, this.#address.lastIndexOf(':')),
          pid: process.pid,
          keys: [],
          nbytes: {},
        } satisfies RequestOf<SchedulerOps, 'register-worker'>,
        { timeoutMs },
      );
      // Modules uploaded before this worker joined: installed before any task can arrive.
      for (const file of registered.files ?? []) await this.#uploads.install(file).catch((e: Error) => this.logger.error(e.message));
      const comm = await connect(this.scheduler, { timeoutMs });
      this.#stream = comm;
      await comm.write({ op: 'worker-stream', address: this.#address });
      this.#bs = new BatchedSend<WorkerToScheduler>(comm, { logger: this.logger.child('batched'), intervalMs: this.#batchMs });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new Error(`worker ${this.address} could not register with the scheduler at ${this.scheduler}: ${why}`, { cause: e });
    }
    void handleStream<OpMap<SchedulerToWorker>>(this.#stream, this.#streamHandlers(), { logger: this.logger.child('stream') }).then(() => {
      if (this.#closing === undefined) {
        this.logger.warn(`worker ${this.address}: the connection to the scheduler at ${this.scheduler} closed; closing`);
        void this.close();
      }
    });
    const every = o.heartbeatMs ?? 1000;
    this.#heartbeat = setInterval(() => void this.#beat(), every);
    this.#heartbeat.unref();
    this.#refresh = setInterval(() => void this.#refreshWhoHas(), o.refreshMs ?? 500);
    this.#refresh.unref();
    this.logger.info(`worker ${this.address} ('${this.name}', ${this.nthreads} threads) registered with ${this.scheduler}`);
  }

  #shutDown(unregister: boolean): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#heartbeat);
      clearInterval(this.#refresh);
      const stream = this.#stream;
      if (unregister && stream !== undefined && !stream.closed) {
        try {
          await this.#pool.call(this.scheduler, { op: 'unregister-worker', address: this.#address }, { timeoutMs: 2000 });
        } catch (e) {
          this.logger.debug(`worker ${this.address}: unregister failed`, e);
        }
      }
      if (this.#bs !== undefined) {
        try {
          await bounded(this.#bs.close(), 1000);
        } catch {
          this.#bs.abort();
        }
      } else {
        stream?.abort();
      }
      await this.#executor.close();
      await this.#server.close();
      await this.#pool.close();
      await this.#uploads?.close();
      this.#resolveFinished();
    })();
    return this.#closing;
  }

  // ---- RPCs served

  #handlers(): Handlers<WorkerOps> {
    return {
      'get-data': (msg) => {
        if (!Array.isArray(msg.keys)) throw new TypeError("get-data needs 'keys' to be an array of strings");
        const data: ReplyOf<WorkerOps, 'get-data'>['data'] = {};
        const store = this.#state?.data;
        for (const key of msg.keys) {
          if (typeof key === 'string' && store?.has(key)) data[key] = store.get(key);
        }
        return { data };
      },
      'update-data': (msg) => ({ nbytes: this.#keep('update-data', msg.data, msg.report === true) }),
      'broadcast-data': async (msg) => {
        const forward = checkForwardTree(msg.forward, this.#address);
        const nbytes = this.#keep('broadcast-data', msg.data, false);
        const data: Record<Key, Serialize> = {};
        for (const k of Object.keys(nbytes)) data[k] = new Serialize((msg.data as Record<Key, unknown>)[k]);
        const { holders, failed } = await forwardTo(forward, (address, below) =>
          this.#pool.call<ReplyOf<WorkerOps, 'broadcast-data'>>(address, { op: 'broadcast-data', data, forward: below }, { timeoutMs: FORWARD_TIMEOUT_MS }),
        );
        return { nbytes, holders: [this.#address, ...holders], failed };
      },
      run: (msg) => runFunction(msg.run, { address: this.#address, name: this.#name, nthreads: this.nthreads }),
      'upload-file': async (msg) => {
        if (this.#uploads === undefined) throw new Error(`worker ${this.address} is not started`);
        await this.#uploads.install(msg);
        return 'OK' as const;
      },
    };
  }

  /**
   * Values a client put here (scatter): into the store, reported to the scheduler only with
   * `report` (otherwise the client announces them). Returns their sizes.
   */
  #keep(op: string, values: unknown, report: boolean): Record<Key, number> {
    if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new TypeError(`${op} needs 'data' to be an object of key -> value`);
    if (this.#closing !== undefined || this.#state === undefined) throw new Error(`worker ${this.address} is closing`);
    const data = values as Record<Key, unknown>;
    const nbytes: Record<Key, number> = {};
    for (const [key, value] of Object.entries(data)) nbytes[key] = nbytesOf(value);
    const quiet = report ? undefined : new Set(Object.keys(data));
    this.#handle({ type: 'update-data', data, nbytes, stimulusId: this.#sid(op) }, quiet);
    return nbytes;
  }

  // ---- the scheduler stream

  #streamHandlers(): StreamMessageHandlers<OpMap<SchedulerToWorker>> {
    return {
      'compute-task': ({ op: _, ...rest }) => this.#handle({ type: 'compute-task', ...rest }),
      'free-keys': ({ op: _, ...rest }) => {
        const held = this.#heldBytes(rest.keys);
        this.#handle({ type: 'free-keys', ...rest });
        if (held >= COLLECT_AFTER_FREEING_BYTES) setImmediate(collectReleased);
      },
      'acquire-replicas': ({ op: _, ...rest }) => this.#handle({ type: 'acquire-replicas', ...rest }),
      'steal-request': ({ op: _, ...rest }) => this.#handle({ type: 'steal-request', ...rest }),
      restart: () => this.#restart(),
      close: () => {
        this.logger.info(`worker ${this.address}: the scheduler asked it to close`);
        void this.close();
      },
    };
  }

  /**
   * The scheduler restarted the cluster: a fresh state machine (every task and all data dropped)
   * and, when tasks are running, a fresh executor: closing the old one ends its pool threads, which
   * stops the tasks running there (a new pool costs thread start-ups, so an idle one is kept). An
   * async task running on this thread cannot be stopped; like every other piece of work started
   * before the restart (fetches, who-has lookups) its outcome is dropped (`#generation`). The
   * process, its address, its registration and its uploaded modules stay.
   */
  #restart(): void {
    if (this.#closing !== undefined) return;
    this.#generation++;
    if (this.#state.executingCount > 0) {
      const old = this.#executor;
      this.#executor = new TaskExecutor({ nthreads: this.nthreads });
      void old.close();
    }
    this.#state = new WorkerState({ address: this.#address, nthreads: this.nthreads, validate: this.#options.validate ?? false });
    this.logger.info(`worker ${this.address}: restarted (tasks and data dropped)`);
  }

  async #beat(): Promise<void> {
    if (this.#heartbeating || this.#closing !== undefined) return;
    this.#heartbeating = true;
    try {
      const s = this.#state;
      const reply = await this.#pool.call<ReplyOf<SchedulerOps, 'heartbeat-worker'>>(
        this.scheduler,
        {
          op: 'heartbeat-worker',
          address: this.#address,
          metrics: { executing: s.executingCount, ready: s.readyCount, inMemory: s.data.size, inFlight: s.inFlight().length },
        },
        { timeoutMs: 5000 },
      );
      if (reply.status === 'missing' && this.#closing === undefined) {
        this.logger.warn(`worker ${this.address}: the scheduler no longer knows this worker; closing`);
        void this.#shutDown(false);
      }
    } catch (e) {
      if (this.#closing === undefined) this.logger.warn(`worker ${this.address}: heartbeat to ${this.scheduler} failed`, e);
    } finally {
      this.#heartbeating = false;
    }
  }

  // ---- the state machine

  #sid(what: string): string {
    return `${what}-${++this.#stimulus}`;
  }

  /** `quiet`: keys not to report with add-keys (the scheduler hears of them from elsewhere). */
  /** Bytes of data this worker holds under `keys`, as it reports them (what freeing them gives back). */
  #heldBytes(keys: unknown): number {
    let n = 0;
    if (!Array.isArray(keys)) return n;
    const data = this.#state.data;
    for (const k of keys) if (data.has(k as Key)) n += nbytesOf(data.get(k as Key));
    return n;
  }

  #handle(event: WorkerEvent, quiet?: ReadonlySet<Key>): void {
    if (this.#closing !== undefined) return;
    let out: WorkerInstruction[];
    try {
      out = this.#state.handle(event);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.errors.push(err);
      this.logger.error(`worker ${this.address}: the state machine failed on '${event.type}'`, err);
      return;
    }
    for (const ins of out) this.#perform(ins, quiet);
  }

  #perform(ins: WorkerInstruction, quiet: ReadonlySet<Key> | undefined): void {
    switch (ins.type) {
      case 'send': {
        let msg = ins.msg;
        if (quiet !== undefined && msg.op === 'add-keys') {
          const keys = msg.keys.filter((k) => !quiet.has(k));
          if (keys.length === 0) return;
          msg = { ...msg, keys, nbytes: Object.fromEntries(keys.map((k) => [k, (msg as { nbytes: Record<Key, number> }).nbytes[k]])) };
        }
        return this.#send(msg);
      }
      case 'execute':
        return this.#execute(ins.key, ins.run, ins.deps);
      case 'gather-dep':
        return void this.#gather(ins.worker, ins.keys);
    }
  }

  #send(msg: WorkerToScheduler): void {
    try {
      this.#bs!.send(msg);
    } catch (e) {
      if (!(e instanceof CommClosedError)) throw e;
      this.logger.debug(`worker ${this.address}: '${msg.op}' dropped: the stream to the scheduler is closed`);
    }
  }

  #execute(key: Key, run: Extract<WorkerInstruction, { type: 'execute' }>['run'], depKeys: readonly Key[]): void {
    const data = this.#state.data;
    const deps: Record<Key, unknown> = {};
    for (const k of depKeys) deps[k] = data.get(k);
    const generation = this.#generation;
    this.#executor.run(key, run, deps).then(
      (o) => {
        if (generation !== this.#generation) return;
        if ('error' in o) {
          this.#handle({
            type: 'execute-failure',
            key,
            exception: o.error,
            ...(o.traceback !== undefined ? { traceback: o.traceback } : {}),
            start: o.start,
            stop: o.stop,
            stimulusId: this.#sid('execute-failure'),
          });
        } else {
          this.#handle({
            type: 'execute-success',
            key,
            value: o.value,
            nbytes: o.nbytes,
            typeName: o.typeName,
            start: o.start,
            stop: o.stop,
            stimulusId: this.#sid('execute-success'),
          });
        }
      },
      (e) => {
        if (this.#closing === undefined && generation === this.#generation) this.logger.error(`worker ${this.address}: the executor failed on '${key}'`, e);
      },
    );
  }

  async #gather(peer: Address, keys: Key[]): Promise<void> {
    const start = Date.now() / 1000;
    const generation = this.#generation;
    let reply: ReplyOf<WorkerOps, 'get-data'>;
    try {
      reply = await this.#pool.call<ReplyOf<WorkerOps, 'get-data'>>(peer, { op: 'get-data', keys }, { timeoutMs: 60_000 });
      if (generation !== this.#generation) return;
      if (typeof reply !== 'object' || reply === null || typeof reply.data !== 'object' || reply.data === null) {
        throw new Error(`malformed get-data reply from ${peer}`);
      }
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      if (generation !== this.#generation) return;
      if (this.#closing === undefined) this.logger.warn(`worker ${this.address}: fetching ${keys.length} keys from ${peer} failed: ${error}`);
      this.#handle({ type: 'gather-dep-failure', worker: peer, keys, error, stimulusId: this.#sid('gather-dep-failure') });
      return;
    }
    const stop = Date.now() / 1000;
    const data = reply.data as Record<Key, unknown>;
    const nbytes: Record<Key, number> = {};
    for (const [k, v] of Object.entries(data)) nbytes[k] = nbytesOf(v);
    this.#handle({ type: 'gather-dep-success', worker: peer, data, nbytes, start, stop, keys, stimulusId: this.#sid('gather-dep-success') });
  }

  /**
   * Every `refreshMs`, keys no peer is known to hold are looked up with the scheduler's who-has
   * (dask's find_missing). A timer rather than a check after each event: finding them walks every
   * task, too much to do per event.
   */
  async #refreshWhoHas(): Promise<void> {
    if (this.#refreshing || this.#closing !== undefined) return;
    const keys = this.#state.missingKeys();
    if (keys.length === 0) return;
    this.#refreshing = true;
    const generation = this.#generation;
    try {
      const whoHas = await this.#pool.call<ReplyOf<SchedulerOps, 'who-has'>>(this.scheduler, { op: 'who-has', keys }, { timeoutMs: 5000 });
      if (generation !== this.#generation) return;
      const known: Record<Key, Address[]> = {};
      for (const [k, holders] of Object.entries(whoHas)) known[k] = holders.map((a) => bareAddress(a) ?? a);
      this.#handle({ type: 'refresh-who-has', whoHas: known, stimulusId: this.#sid('refresh-who-has') });
    } catch (e) {
      if (this.#closing === undefined) this.logger.warn(`worker ${this.address}: who-has for ${keys.length} missing keys failed`, e);
    } finally {
      this.#refreshing = false;
    }
  }
}

function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not done within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
