/**
 * The messages of dask-ts.distributed: one typed union per channel, keyed on `op`.
 *
 * Channels (after the manual's "Journey of a Task" and "Protocol"):
 * - client → scheduler, and scheduler → client: a long-lived stream per client (BatchedSend);
 * - scheduler → worker, and worker → scheduler: a long-lived stream per worker (BatchedSend);
 * - request/response RPCs (a ConnectionPool call each): register-worker, heartbeat-worker,
 *   unregister-worker, who-has, has-what, ncores, identity, nbytes, scheduler-info, replicate,
 *   rebalance, upload-file on the scheduler; get-data
 *   (worker ↔ worker, client → worker), update-data and broadcast-data (scatter), run (client → worker) and
 *   upload-file (scheduler → worker) on workers. There is no gather RPC on the
 *   scheduler: clients fetch values from the workers themselves.
 * - how a comm becomes a client's or a worker's stream: SchedulerStreamOps below.
 *
 * The scheduler never decodes user functions or data: a task's run spec and a task's exception
 * travel as `Opaque` values (protocol `Serialize` on the sending side, `Serialized` at the
 * scheduler), forwarded untouched to workers and clients.
 */
import type { FnRef } from '../graph/shipping/registry.js';
import type { Wire } from '../schedulers/wire.js';
import type { Serialize, Serialized } from './protocol/index.js';

export type Key = string;
/** A worker's address, `tcp://host:port` without the scheme: `host:port`. */
export type Address = string;

/** User functions and data as the scheduler sees them: bytes it forwards without decoding. */
export type Opaque = Serialize | Serialized;

/**
 * What a worker runs for a task, built by the client (see client/run-spec.ts) and serialised:
 * the functions as FnRefs and the call as a wire tree (src/schedulers/wire.ts) in which
 * `[4, key]` stands for the value of a dependency.
 */
export interface RunSpec {
  readonly fns: readonly FnRef[];
  readonly task: Wire;
}

/** One task of an update-graph: its opaque run spec and its dependencies. */
export interface TaskInput {
  readonly run: Opaque;
  readonly deps: readonly Key[];
  /** Smaller runs first (from `order` on the client's graph), after the client's own ordering. */
  readonly priority?: number;
  /** Worker addresses, host names or aliases the task may run on. */
  readonly workers?: readonly string[];
  /** May run elsewhere when none of `workers` is present. */
  readonly allowOtherWorkers?: boolean;
}

// ---- client → scheduler (stream)

export type ClientToScheduler =
  | { op: 'update-graph'; tasks: Record<Key, TaskInput>; keys: Key[]; stimulusId?: string }
  | { op: 'client-desires-keys'; keys: Key[] }
  | { op: 'client-releases-keys'; keys: Key[] }
  | { op: 'cancel-keys'; keys: Key[] }
  /** Data the client put on workers directly (scatter): now known to live there. */
  | { op: 'update-data'; whoHas: Record<Key, Address[]>; nbytes: Record<Key, number> }
  /** Forget every task and all data, on every worker, for every client (client.restart); `id` comes back in the scheduler's restart. */
  | { op: 'restart'; id: string }
  | { op: 'close-client' };

// ---- scheduler → client (stream)

export type SchedulerToClient =
  /**
   * `workers`: who held the data when it was reported, so that the client fetches it without asking
   * who-has first (a copy may have moved since: the client falls back to who-has).
   */
  | { op: 'key-in-memory'; key: Key; type?: string; workers?: Address[] }
  /**
   * `blame`: the key whose task raised `exception`, when it is not `key` itself (`key` depends on
   * it), so that the client can report which task failed.
   */
  | { op: 'task-erred'; key: Key; exception: Opaque; traceback?: string; blame?: Key }
  | { op: 'cancelled-key'; key: Key }
  | { op: 'lost-data'; key: Key }
  /** The cluster restarted: every key is gone. `id`: the restart message of the client that asked. */
  | { op: 'restart'; id?: string };

// ---- scheduler → worker (stream)

export type SchedulerToWorker =
  | {
      op: 'compute-task';
      key: Key;
      run: Opaque;
      priority: number;
      /** Where each dependency lives now (the worker fetches those it lacks, peer to peer). */
      whoHas: Record<Key, Address[]>;
      nbytes: Record<Key, number>;
      stimulusId: string;
      /**
       * Names this run of the task (a task may be sent, cancelled and sent again); the worker echoes
       * it in task-finished / task-erred so that the scheduler can tell a stale result from the
       * current one.
       */
      runId?: number;
    }
  | { op: 'free-keys'; keys: Key[]; stimulusId: string }
  /**
   * Fetch copies of keys from these holders (replicate, rebalance). Dropping a copy on purpose is
   * a free-keys: the scheduler stops counting it first (scheduler/replicas.ts).
   */
  | { op: 'acquire-replicas'; whoHas: Record<Key, Address[]>; nbytes: Record<Key, number>; stimulusId: string }
  /** Hand a queued task back if it has not started (work stealing). */
  | { op: 'steal-request'; key: Key; stimulusId: string }
  /** Drop every task and all data; work still running is stopped or its result dropped (client.restart). */
  | { op: 'restart'; stimulusId: string }
  | { op: 'close' };

// ---- worker → scheduler (stream)

/** Start and stop times in seconds since the epoch (`Date.now() / 1000`), as dask reports them. */
export interface StartStop {
  readonly action: 'compute' | 'transfer';
  readonly start: number;
  readonly stop: number;
  readonly source?: Address;
}

export type WorkerToScheduler =
  /** `runId`: the one of the compute-task this result answers. */
  | { op: 'task-finished'; key: Key; nbytes: number; type: string; startstops: StartStop[]; stimulusId: string; runId?: number }
  | { op: 'task-erred'; key: Key; exception: Opaque; traceback?: string; startstops: StartStop[]; stimulusId: string; runId?: number }
  /** The worker dropped its copy (after free-keys, or on its own). */
  | { op: 'release-worker-data'; key: Key; stimulusId: string }
  /** A peer listed in who-has did not have the data. */
  | { op: 'missing-data'; key: Key; errantWorker: Address; stimulusId: string }
  /** The worker now also holds these (fetched as dependencies or replicas). */
  | { op: 'add-keys'; keys: Key[]; nbytes: Record<Key, number>; stimulusId: string }
  | { op: 'steal-response'; key: Key; state: 'released' | 'running' | 'memory' | 'unknown'; stimulusId: string };

// ---- opening a stream (the first message on a new comm to the scheduler)

/**
 * The handshakes that turn a fresh comm to the scheduler into a long-lived stream. The first
 * message is written as a plain message (`comm.write(msg)`, not a batch); nothing is replied to it;
 * every later message in either direction is a BatchedSend batch (an array of messages; a single
 * message is accepted too).
 *
 * A client: opens a comm and writes `{ op: 'register-client', client: id }`. The comm is then the
 * client's stream: ClientToScheduler messages up, SchedulerToClient messages down. An id already
 * connected, or a malformed or unknown message, closes the comm (logged at the scheduler). When
 * the comm closes (or after `close-client`) the scheduler releases everything the client wanted.
 *
 * A worker, once its own server listens (so that its address is final):
 * 1. calls the `register-worker` RPC with its identity (and the keys it already holds). The
 *    scheduler checks it (an address or a name already registered is refused with an error reply)
 *    and keeps it as *pending*; nothing is sent to the worker yet.
 * 2. opens a comm and writes `{ op: 'worker-stream', address }`. The scheduler adds the worker
 *    (the state machine's add-worker) and from then on sends SchedulerToWorker batches on it and
 *    reads WorkerToScheduler batches. A worker-stream with no pending registration is refused
 *    (the comm is closed). A pending registration expires after the heartbeat timeout.
 * 3. calls `heartbeat-worker` every ~1 s. A worker silent for longer than the timeout (10 s by
 *    default) is removed and its stream closed; so is a worker whose stream closes. A heartbeat
 *    answered `missing` means the scheduler no longer knows the worker, which then shuts down
 *    (as a dask worker with reconnect=False does), as it does when its stream to the scheduler closes.
 * 4. on a clean close, calls `unregister-worker` (the scheduler removes it at once), then closes
 *    its stream.
 */
export type SchedulerStreamOps = {
  'register-client': { client: string };
  'worker-stream': { address: Address };
};

// ---- RPC requests (request/response)

export interface WorkerIdentity {
  readonly address: Address;
  readonly name: string;
  readonly nthreads: number;
  readonly memoryLimit: number;
  readonly host: string;
  readonly pid: number;
}

/** A module sent to the workers (client.uploadFile): its file name, the sender's URL for it, its bytes. */
export interface UploadedFile {
  readonly name: string;
  readonly url: string;
  readonly data: Uint8Array;
}

/** How installing an uploaded file went on one worker. */
export type UploadOutcome = { readonly status: 'OK' } | { readonly status: 'error'; readonly message: string };

/** What `run` gives back from one worker: the function's value, or what it threw. */
export type RunOutcome = { readonly value: Opaque } | { readonly error: Opaque; readonly traceback?: string };

/** A worker as `scheduler-info` shows it: its identity and what it holds and runs now. */
export interface WorkerInfo extends WorkerIdentity {
  /** Bytes of the keys it holds, as the workers measured them. */
  readonly nbytes: number;
  /** Keys it holds. */
  readonly nkeys: number;
  /** Tasks assigned to it (running, queued there, or held back by the scheduler). */
  readonly processing: number;
  /** Expected seconds of those tasks. */
  readonly occupancy: number;
  /** When it was last heard from (seconds since the epoch). */
  readonly lastSeen: number;
  /** What its last heartbeat said (executing, ready, inMemory, inFlight). */
  readonly metrics: Record<string, number>;
}

export interface SchedulerInfo {
  readonly type: 'Scheduler';
  /** 'tcp://host:port' */
  readonly address: string;
  readonly workers: Record<Address, WorkerInfo>;
  /** Clients connected. */
  readonly clients: number;
  /** Tasks per state. */
  readonly tasks: Record<string, number>;
}

/** replicate: `workers` as addresses, hosts or names; see scheduler/data-moves.ts. */
export interface ReplicateRequest {
  readonly keys: Key[];
  /** Copies wanted per key on `workers` (default: all of them). */
  readonly n?: number;
  readonly workers?: string[];
  /** New holders each holder feeds per round (default 2). */
  readonly branchingFactor?: number;
  /** The longest wait for one round of copies (default 30,000 ms). */
  readonly timeoutMs?: number;
}

export interface ReplicateResult {
  /** The copies wanted per key on `workers` (n clamped to their number). */
  readonly n: number;
  readonly workers: Address[];
  /** Rounds of copies it took (a tree: about log_(1+b) of the workers). */
  readonly rounds: number;
  readonly copied: number;
  readonly removed: number;
  /** Keys left with more than n copies because a task assigned to a holder needs its copy. */
  readonly pinned: Key[];
}

export interface RebalanceRequest {
  /** Default: every key in memory. */
  readonly keys?: Key[];
  readonly workers?: string[];
  /** The longest wait for the copies (default 30,000 ms). */
  readonly timeoutMs?: number;
}

export interface RebalanceResult {
  readonly moved: number;
  /** Bytes moved. */
  readonly nbytes: number;
  /** Bytes of the keys concerned held per worker, before and after. */
  readonly before: Record<Address, number>;
  readonly after: Record<Address, number>;
}

export type SchedulerRpc = {
  /** `files`: the modules uploaded so far, which the worker installs before it opens its stream. */
  'register-worker': { req: WorkerIdentity & { keys: Key[]; nbytes: Record<Key, number> }; res: { status: 'OK'; time: number; files?: UploadedFile[] } };
  'heartbeat-worker': { req: { address: Address; metrics: Record<string, number> }; res: { status: 'OK' | 'missing' } };
  'unregister-worker': { req: { address: Address }; res: { status: 'OK' } };
  'who-has': { req: { keys?: Key[] }; res: Record<Key, Address[]> };
  'has-what': { req: { workers?: Address[] }; res: Record<Address, Key[]> };
  ncores: { req: { workers?: Address[] }; res: Record<Address, number> };
  identity: { req: Record<never, never>; res: { address: Address; workers: Record<Address, WorkerIdentity> } };
  /** Sizes of keys in memory (all, or those given); `summary` (default true): totals per key prefix. */
  nbytes: { req: { keys?: Key[]; summary?: boolean }; res: Record<string, number> };
  'scheduler-info': { req: Record<never, never>; res: SchedulerInfo };
  /** Resolves once every key has its copies (or errs: see scheduler/data-moves.ts). */
  replicate: { req: ReplicateRequest; res: ReplicateResult };
  rebalance: { req: RebalanceRequest; res: RebalanceResult };
  /** Tasks that no connected worker may run (state no-worker), each with the reason. */
  unrunnable: { req: Record<never, never>; res: Record<Key, string> };
  /** Keep the file for workers that join later, and install it on every worker now. */
  'upload-file': { req: UploadedFile; res: Record<Address, UploadOutcome> };
};

/** A worker of a broadcast tree and the subtrees it passes the data on to. */
export interface ForwardNode {
  readonly address: Address;
  readonly forward: readonly ForwardNode[];
}

export type WorkerRpc = {
  /**
   * Values of keys this worker holds; missing keys are left out. The values go as they are, not each
   * in a Serialize: a part per value costs a header and a frame (about 20x the encoding time of a
   * small value), and no reader keeps them opaque.
   */
  'get-data': { req: { keys: Key[] }; res: { data: Record<Key, unknown> } };
  /**
   * Values pushed to this worker (scatter). `report` (default false): the worker tells the
   * scheduler itself (add-keys). A client leaves it false and sends `update-data` on its own stream
   * once every worker has answered, so that the scheduler learns of the data from one side only
   * (otherwise an add-keys arriving before the client's update-data would be freed as unknown).
   */
  'update-data': { req: { data: Record<Key, Opaque>; report?: boolean }; res: { nbytes: Record<Key, number> } };
  /**
   * Values to keep (as update-data without report) and pass on down a tree (scatter with
   * broadcast): the worker sends them to every node of `forward` at once, each with its own
   * subtree, and answers when its whole subtree has. A node it cannot reach is listed in `failed`
   * (address -> error) and its children are served by this worker instead. `holders`: the workers
   * of the subtree that now hold the values, this one included. A malformed tree (see
   * broadcast.ts for its limits) is refused before anything is kept.
   */
  'broadcast-data': {
    req: { data: Record<Key, Opaque>; forward: ForwardNode[] };
    res: { nbytes: Record<Key, number>; holders: Address[]; failed: Record<Address, string> };
  };
  /** Call a function here, outside the task system (client.run); `run` is a run spec of one call. */
  run: { req: { run: Opaque }; res: RunOutcome };
  /** Save and import an uploaded module (from the scheduler). */
  'upload-file': { req: UploadedFile; res: 'OK' };
};

/**
 * An RPC map above (`{ req, res }` per op) as the rpc layer's op map (`{ request, reply }`), for
 * `new Server<SchedulerOps>(...)` and `rpc<SchedulerOps>(address).call(...)`.
 */
export type RpcOps<T extends Record<string, { req: object; res: unknown }>> = {
  [K in keyof T]: { request: T[K]['req']; reply: T[K]['res'] };
};
export type SchedulerOps = RpcOps<SchedulerRpc>;
export type WorkerOps = RpcOps<WorkerRpc>;
