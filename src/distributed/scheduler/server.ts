/**
 * The scheduler's TCP server: a SchedulerState (events in, instructions out) behind an rpc Server.
 *
 * - Clients open a stream with `register-client`; workers register with the `register-worker`
 *   RPC and then open a stream with `worker-stream` (messages.ts, SchedulerStreamOps, describes
 *   both handshakes). Every message on a stream becomes one event (`clientEvent`, `workerEvent`);
 *   the instructions the state machine returns are put, in order, on the BatchedSend of the
 *   worker or client they name (one per stream).
 * - RPCs (a new request per call, through the caller's ConnectionPool): register-worker,
 *   heartbeat-worker, unregister-worker, who-has, has-what, ncores, identity, nbytes,
 *   scheduler-info, replicate and rebalance (data-moves.ts), upload-file (kept
 *   and installed on every worker, including those that join later: uploads.ts).
 * - A worker whose stream closes, or that sends no heartbeat for `workerTimeoutMs`, is removed
 *   (the state machine's remove-worker: its tasks go elsewhere, its data is recomputed).
 * - Bad input on a stream (a malformed frame, a message without the fields of its op, an unknown
 *   op) is logged and closes that connection only; a client's connection closing releases what
 *   it wanted, a worker's removes the worker.
 * - Comms are read with `deserialize: false`: run specs, exceptions and data stay opaque
 *   `Serialized` values that the scheduler forwards untouched; it never decodes them.
 * - A state machine error (a bug; in validate mode an invariant broken) is logged, kept in
 *   `errors`, and the event dropped; the server goes on.
 */
import { CommClosedError } from '../comm/errors.js';
import type { Comm } from '../comm/comm.js';
import type {
  Address,
  ClientToScheduler,
  Key,
  SchedulerOps,
  SchedulerStreamOps,
  SchedulerToClient,
  SchedulerToWorker,
  WorkerIdentity,
  WorkerToScheduler,
} from '../messages.js';
import { BatchedSend } from '../rpc/batched-send.js';
import { createLogger, type Logger } from '../rpc/logger.js';
import { ConnectionPool } from '../rpc/pool.js';
import { Server } from '../rpc/server.js';
import { handleStream, type StreamMessageHandlers } from '../rpc/stream.js';
import type { Handlers, ReplyOf, StreamHandlers } from '../rpc/types.js';
import { clientEvent, workerEvent, type Instruction, type SchedulerEvent } from './events.js';
import { bareAddress, checkClientMessage, checkRegistration, checkWorkerMessage, isStringList } from './message-checks.js';
import { DataMoves, StateWatch, type MoveHost } from './data-moves.js';
import { schedulerInfo } from './info.js';
import { SchedulerState, type SchedulerOptions } from './state.js';
import { resolveWorkers } from './worker-names.js';
import { broadcastFile, catchUp, UploadedFiles } from './uploads.js';

export interface SchedulerServerOptions {
  /** Where to listen (default '127.0.0.1'). */
  readonly host?: string;
  /** Default 8786 (dask's); 0 picks a free port. */
  readonly port?: number;
  /** Check the state machine's invariants after every event (tests). */
  readonly validate?: boolean;
  /** A worker silent (no heartbeat, no message) for this long is removed (default 10,000 ms). */
  readonly workerTimeoutMs?: number;
  /** How often silent workers are looked for (default min(1000, workerTimeoutMs / 4) ms). */
  readonly checkIntervalMs?: number;
  /**
   * The shortest time between two batches on a stream (BatchedSend's intervalMs; default
   * DEFAULT_BATCH_INTERVAL_MS). Messages of one tick always share a batch, and only one write is out
   * per stream, so batches grow under load whatever this is.
   */
  readonly batchIntervalMs?: number;
  /** The state machine's other options (queueing, durations, ...). */
  readonly state?: Omit<SchedulerOptions, 'validate'>;
  readonly logger?: Logger;
}

export const DEFAULT_SCHEDULER_PORT = 8786;
export const DEFAULT_WORKER_TIMEOUT_MS = 10_000;
/**
 * See `batchIntervalMs`. 0: a batch per tick, one write in flight per stream (the write's time is
 * what spaces batches under load). Measured with a raw client and 2 in-process workers: a
 * submit → key-in-memory round trip takes 0.74 ms median at 0 and 2.6 ms at dask's 2 ms, and
 * 4,000 independent trivial tasks ran at ~7,300 tasks/s at 0 against ~6,300 at 2 ms.
 */
export const DEFAULT_BATCH_INTERVAL_MS = 0;

/** Message maps for handleStream, from the `op` unions of messages.ts. */
type OpMap<U extends { op: string }> = { [K in U['op']]: Omit<Extract<U, { op: K }>, 'op'> };

interface ClientConn {
  readonly id: string;
  readonly comm: Comm;
  readonly bs: BatchedSend<SchedulerToClient>;
  removed: boolean;
}

interface WorkerConn {
  readonly address: Address;
  readonly comm: Comm;
  readonly bs: BatchedSend<SchedulerToWorker>;
  lastSeen: number;
  metrics: Record<string, number>;
  removed: boolean;
}

interface Pending {
  readonly identity: WorkerIdentity;
  readonly keys: Key[];
  readonly nbytes: Record<Key, number>;
  since: number;
  /** The number of the last upload the worker was given (uploads.ts). */
  uploads: number;
}

/** A message refused by a shape check; handleStream logs it and closes the stream. */
class MalformedMessageError extends Error {
  override name = 'MalformedMessageError';
}

export class SchedulerServer {
  readonly state: SchedulerState;
  readonly logger: Logger;
  /** State machine errors so far (a bug, or an invariant broken in validate mode). */
  readonly errors: Error[] = [];
  readonly workerTimeoutMs: number;
  readonly #server: Server<SchedulerOps, SchedulerStreamOps>;
  readonly #clients = new Map<string, ClientConn>();
  readonly #workers = new Map<Address, WorkerConn>();
  readonly #pending = new Map<Address, Pending>();
  /** replicate and rebalance (data-moves.ts), woken after every event. */
  readonly #watch = new StateWatch();
  readonly #moves: DataMoves;
  readonly #uploads = new UploadedFiles();
  /** Calls to workers (upload-file). */
  readonly #pool = new ConnectionPool({ connectTimeoutMs: 10_000 });
  readonly #checkIntervalMs: number;
  readonly #batchMs: number;
  #address = '';
  #timer: NodeJS.Timeout | undefined;
  #stimulus = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Starts a scheduler listening at `host:port`; resolves once it accepts connections. */
  static async start(options: SchedulerServerOptions = {}): Promise<SchedulerServer> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? DEFAULT_SCHEDULER_PORT;
    if (typeof host !== 'string' || host === '') throw new TypeError(`SchedulerServer: host must be a non-empty string, got ${String(host)}`);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`SchedulerServer: port must be an integer in 0..65535, got ${String(port)}`);
    const s = new SchedulerServer(options);
    await s.#listen(host.includes(':') ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`);
    return s;
  }

  private constructor(options: SchedulerServerOptions) {
    this.logger = options.logger ?? createLogger('dask-ts.scheduler');
    this.workerTimeoutMs = positive(options.workerTimeoutMs, DEFAULT_WORKER_TIMEOUT_MS, 'workerTimeoutMs');
    this.#batchMs = options.batchIntervalMs ?? DEFAULT_BATCH_INTERVAL_MS;
    this.#checkIntervalMs = positive(options.checkIntervalMs, Math.min(1000, this.workerTimeoutMs / 4), 'checkIntervalMs');
    this.state = new SchedulerState({ ...options.state, validate: options.validate ?? false });
    this.#moves = new DataMoves(this.#moveHost());
    this.#server = new Server<SchedulerOps, SchedulerStreamOps>({
      name: 'scheduler',
      logger: this.logger,
      comm: { deserialize: false },
      handlers: this.#handlers(),
      streams: this.#streams(),
    });
  }

  /** Where clients and workers connect: 'tcp://host:port'. */
  get address(): string {
    return this.#address;
  }

  /** Ids of the clients connected now. */
  get clientIds(): string[] {
    return [...this.#clients.keys()];
  }

  /** Addresses (`host:port`) of the workers with an open stream. */
  get workerAddresses(): Address[] {
    return [...this.#workers.keys()];
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops serving: flushes and closes every stream, stops listening. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#watch.notify();
      clearInterval(this.#timer);
      const streams = [...this.#clients.values(), ...this.#workers.values()];
      await Promise.all(streams.map((c) => bounded(c.bs.close(), 1000).catch(() => c.bs.abort())));
      await this.#server.close();
      await this.#pool.close();
      this.logger.info(`scheduler at ${this.#address} closed`);
    })();
    return this.#closing;
  }

  async #listen(address: string): Promise<void> {
    this.#address = await this.#server.listen(address);
    this.#timer = setInterval(() => this.#sweep(), this.#checkIntervalMs);
    this.#timer.unref();
    this.logger.info(`scheduler listening at ${this.#address}`);
  }

  // ---- the state machine

  #sid(what: string): string {
    return `${what}-${++this.#stimulus}`;
  }

  #handle(event: SchedulerEvent): void {
    if (this.#closed) return;
    let out: Instruction[];
    try {
      out = this.state.handle(event);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.errors.push(err);
      this.logger.error(`the state machine failed on '${event.type}' (${event.stimulusId ?? 'no stimulus'})`, err);
      return;
    }
    this.#execute(out);
    this.#watch.notify();
    const unrunnable = this.state.takeUnrunnable();
    if (unrunnable !== undefined) this.#reportUnrunnable(unrunnable);
  }

  /** Tasks that cannot run now: a warning when restrictions name no connected worker (a user's mistake, or a worker still to come). */
  #reportUnrunnable(reasons: Record<Key, string>): void {
    const keys = Object.keys(reasons);
    if (keys.length === 0) return;
    const shown = keys.slice(0, 5).map((k) => `'${k}': ${reasons[k]}`).join('; ');
    const more = keys.length > 5 ? `; and ${keys.length - 5} more` : '';
    const restricted = keys.some((k) => reasons[k].startsWith('no connected worker matches'));
    const message = `${keys.length} task${keys.length === 1 ? '' : 's'} cannot run yet and wait${keys.length === 1 ? 's' : ''} for a worker: ${shown}${more}`;
    if (restricted) this.logger.warn(message);
    else this.logger.info(message);
  }

  #execute(instructions: readonly Instruction[]): void {
    for (const ins of instructions) {
      if (ins.type === 'send-worker') {
        const wc = this.#workers.get(ins.worker);
        if (wc === undefined) {
          this.logger.debug(`'${ins.msg.op}' for worker ${ins.worker} dropped: no stream to it`);
          continue;
        }
        trySend(wc.bs, ins.msg, this.logger, `worker ${wc.address}`);
      } else {
        const cc = this.#clients.get(ins.client);
        if (cc === undefined) {
          this.logger.debug(`'${ins.msg.op}' for client ${ins.client} dropped: no stream to it`);
          continue;
        }
        trySend(cc.bs, ins.msg, this.logger, `client ${cc.id}`);
      }
    }
  }

  #moveHost(): MoveHost {
    const server = this;
    return {
      state: this.state,
      watch: this.#watch,
      handle: (event) => this.#handle(event),
      sid: (what) => this.#sid(what),
      get closed() {
        return server.#closed;
      },
    };
  }

  // ---- RPCs

  #handlers(): Handlers<SchedulerOps> {
    return {
      'register-worker': (msg) => this.#registerWorker(msg as unknown as Record<string, unknown>),
      'heartbeat-worker': (msg) => {
        const address = bareAddress(String(msg.address));
        const wc = address === undefined ? undefined : this.#workers.get(address);
        if (wc !== undefined) {
          wc.lastSeen = Date.now();
          if (typeof msg.metrics === 'object' && msg.metrics !== null) wc.metrics = msg.metrics;
          return { status: 'OK' };
        }
        const p = address === undefined ? undefined : this.#pending.get(address);
        if (p !== undefined) {
          p.since = Date.now();
          return { status: 'OK' };
        }
        return { status: 'missing' };
      },
      'unregister-worker': (msg) => {
        const address = bareAddress(String(msg.address));
        if (address !== undefined) {
          this.#pending.delete(address);
          const wc = this.#workers.get(address);
          if (wc !== undefined) this.#removeWorker(wc, 'it unregistered');
        }
        return { status: 'OK' };
      },
      'who-has': (msg) => this.state.whoHas(optionalList(msg.keys, 'keys')),
      'has-what': (msg) => this.state.hasWhat(this.#workerList(msg.workers, 'hasWhat')),
      ncores: (msg) => this.state.ncores(this.#workerList(msg.workers, 'ncores')),
      identity: () => ({ address: this.#address, workers: this.state.workers() }),
      nbytes: (msg) => this.state.nbytes(optionalList(msg.keys, 'keys'), { summary: msg.summary !== false }),
      'scheduler-info': () => schedulerInfo(this.state, this.#address, (a) => this.#workers.get(a)),
      replicate: (msg) => this.#moves.replicate(msg),
      rebalance: (msg) => this.#moves.rebalance(msg),
      unrunnable: () => this.state.unrunnable(),
      'upload-file': (msg) => {
        if (this.#closed) throw new Error('the scheduler is closing');
        const file = this.#uploads.add(msg);
        this.logger.info(`module '${file.name}' uploaded; installing it on ${this.#workers.size} workers`);
        return broadcastFile(this.#pool, [...this.#workers.keys()], file);
      },
    };
  }

  /** A `workers` argument (addresses, hosts or names) as the addresses of connected workers. */
  #workerList(v: unknown, where: string): Address[] | undefined {
    const list = optionalList(v, 'workers');
    return list === undefined ? undefined : resolveWorkers(list, this.state.workers(), where);
  }

  #registerWorker(msg: Record<string, unknown>): ReplyOf<SchedulerOps, 'register-worker'> {
    if (this.#closed) throw new Error('the scheduler is closing');
    const problem = checkRegistration(msg);
    if (problem !== undefined) throw new TypeError(`malformed register-worker: ${problem}`);
    const address = bareAddress(msg.address as string)!;
    if (this.#workers.has(address)) throw new Error(`a worker at ${address} is already registered`);
    const name = msg.name as string;
    const holders = [...Object.values(this.state.workers()), ...[...this.#pending.values()].map((p) => p.identity)];
    const taken = holders.find((w) => w.name === name && w.address !== address);
    if (taken !== undefined) throw new Error(`the worker name '${name}' is already taken by the worker at ${taken.address}`);
    const identity: WorkerIdentity = {
      address,
      name,
      nthreads: msg.nthreads as number,
      memoryLimit: (msg.memoryLimit as number | undefined) ?? 0,
      host: (msg.host as string | undefined) ?? address.slice(0, address.lastIndexOf(':')),
      pid: (msg.pid as number | undefined) ?? 0,
    };
    this.#pending.set(address, {
      identity,
      keys: (msg.keys as Key[] | undefined) ?? [],
      nbytes: (msg.nbytes as Record<Key, number> | undefined) ?? {},
      since: Date.now(),
      uploads: this.#uploads.seq,
    });
    const files = this.#uploads.all();
    return files.length === 0 ? { status: 'OK', time: Date.now() / 1000 } : { status: 'OK', time: Date.now() / 1000, files };
  }

  // ---- streams

  #streams(): StreamHandlers<SchedulerStreamOps> {
    return {
      'register-client': (msg, comm) => this.#clientStream(msg.client, comm),
      'worker-stream': (msg, comm) => this.#workerStream(msg.address, comm),
    };
  }

  async #clientStream(id: unknown, comm: Comm): Promise<void> {
    if (typeof id !== 'string' || id === '') {
      this.logger.error(`closed the connection from ${comm.peer}: register-client needs 'client' to be a non-empty string`);
      return;
    }
    if (this.#clients.has(id)) {
      this.logger.error(`closed the connection from ${comm.peer}: a client with id '${id}' is already connected`);
      return;
    }
    if (this.#closed) return;
    const cc: ClientConn = { id, comm, bs: new BatchedSend<SchedulerToClient>(comm, { logger: this.logger.child('batched'), intervalMs: this.#batchMs }), removed: false };
    this.#clients.set(id, cc);
    this.logger.info(`client '${id}' connected from ${comm.peer}`);
    this.#handle({ type: 'add-client', client: id, stimulusId: this.#sid('add-client') });
    try {
      await handleStream<OpMap<ClientToScheduler>>(comm, this.#clientHandlers(cc), { logger: this.logger.child(`client.${id}`) });
    } finally {
      this.#removeClient(cc);
    }
  }

  #clientHandlers(cc: ClientConn): StreamMessageHandlers<OpMap<ClientToScheduler>> {
    const forward = (msg: ClientToScheduler) => {
      const problem = checkClientMessage(msg as unknown as Record<string, unknown>);
      if (problem !== undefined) throw new MalformedMessageError(`malformed message from client '${cc.id}': ${problem}`);
      this.#handle(clientEvent(cc.id, msg, this.#sid(msg.op)));
    };
    return {
      'update-graph': forward,
      'client-desires-keys': forward,
      'client-releases-keys': forward,
      'cancel-keys': forward,
      'update-data': forward,
      restart: forward,
      'close-client': async () => {
        this.#removeClient(cc);
        await bounded(cc.bs.close(), 1000).catch(() => cc.bs.abort());
      },
    };
  }

  #removeClient(cc: ClientConn): void {
    if (this.#clients.get(cc.id) === cc) this.#clients.delete(cc.id);
    if (cc.removed) return;
    cc.removed = true;
    this.logger.info(`client '${cc.id}' disconnected`);
    this.#handle({ type: 'remove-client', client: cc.id, stimulusId: this.#sid('remove-client') });
    if (cc.comm.closed) cc.bs.abort();
  }

  async #workerStream(rawAddress: unknown, comm: Comm): Promise<void> {
    const address = typeof rawAddress === 'string' ? bareAddress(rawAddress) : undefined;
    const pending = address === undefined ? undefined : this.#pending.get(address);
    if (address === undefined || pending === undefined) {
      this.logger.error(`closed the connection from ${comm.peer}: worker-stream for ${String(rawAddress)}, which did not call register-worker first`);
      return;
    }
    if (this.#closed) return;
    if (pending.uploads < this.#uploads.seq) {
      for (const problem of await catchUp(this.#pool, address, pending, this.#uploads)) this.logger.error(problem);
      if (this.#closed || this.#pending.get(address) !== pending) return;
    }
    this.#pending.delete(address);
    const wc: WorkerConn = {
      address,
      comm,
      bs: new BatchedSend<SchedulerToWorker>(comm, { logger: this.logger.child('batched'), intervalMs: this.#batchMs }),
      lastSeen: Date.now(),
      metrics: {},
      removed: false,
    };
    this.#workers.set(address, wc);
    const { name, nthreads } = pending.identity;
    this.logger.info(`worker ${address} ('${name}', ${nthreads} threads) registered`);
    this.#handle({ type: 'add-worker', worker: pending.identity, keys: pending.keys, nbytes: pending.nbytes, stimulusId: this.#sid('add-worker') });
    try {
      await handleStream<OpMap<WorkerToScheduler>>(comm, this.#workerHandlers(wc), { logger: this.logger.child(`worker.${address}`) });
    } finally {
      this.#removeWorker(wc, 'its stream closed');
    }
  }

  #workerHandlers(wc: WorkerConn): StreamMessageHandlers<OpMap<WorkerToScheduler>> {
    const forward = (msg: WorkerToScheduler) => {
      const problem = checkWorkerMessage(msg as unknown as Record<string, unknown>);
      if (problem !== undefined) throw new MalformedMessageError(`malformed message from worker ${wc.address}: ${problem}`);
      wc.lastSeen = Date.now();
      if (wc.removed) return;
      const event = workerEvent(wc.address, msg);
      if (event === undefined) {
        this.logger.debug(`'${msg.op}' from worker ${wc.address} ignored: the state machine does not take it`);
        return;
      }
      this.#handle(event);
    };
    return {
      'task-finished': forward,
      'task-erred': forward,
      'release-worker-data': forward,
      'missing-data': forward,
      'add-keys': forward,
      'steal-response': forward,
    };
  }

  #removeWorker(wc: WorkerConn, why: string): void {
    if (wc.removed) return;
    wc.removed = true;
    if (this.#workers.get(wc.address) === wc) this.#workers.delete(wc.address);
    if (!this.#closed) this.logger.info(`removed worker ${wc.address}: ${why}`);
    this.#handle({ type: 'remove-worker', address: wc.address, stimulusId: this.#sid('remove-worker') });
    wc.bs.abort();
  }

  /** Removes workers (and forgets registrations) silent for longer than the timeout. */
  #sweep(): void {
    const now = Date.now();
    for (const wc of [...this.#workers.values()]) {
      if (now - wc.lastSeen > this.workerTimeoutMs) {
        this.logger.warn(`worker ${wc.address} sent nothing for ${((now - wc.lastSeen) / 1000).toFixed(1)} s; removing it`);
        this.#removeWorker(wc, 'heartbeat timeout');
      }
    }
    for (const [address, p] of [...this.#pending]) {
      if (now - p.since > this.workerTimeoutMs) {
        this.logger.warn(`worker ${address} registered but opened no stream within ${this.workerTimeoutMs} ms; registration dropped`);
        this.#pending.delete(address);
      }
    }
  }
}

function trySend<M>(bs: BatchedSend<M>, msg: M, logger: Logger, to: string): void {
  try {
    bs.send(msg);
  } catch (e) {
    if (!(e instanceof CommClosedError)) throw e;
    logger.debug(`a message for ${to} dropped: its stream is closed`);
  }
}

function optionalList(v: unknown, what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isStringList(v)) throw new TypeError(`'${what}' must be an array of strings`);
  return v;
}

function positive(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v > 0)) throw new TypeError(`SchedulerServer: ${name} must be a positive number, got ${String(v)}`);
  return v;
}

/** `p`, or a rejection after `ms`. */
export function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not done within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
