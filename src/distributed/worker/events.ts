/**
 * What goes into the worker's state machine and what comes out of it.
 *
 * Events are the scheduler's stream messages (turned into events by the server, which adds
 * nothing) and the outcomes of the work the state machine asked for: executions on the thread
 * pool and fetches from peers. Instructions are that work, and the messages for the scheduler.
 */
import type { Address, Key, Opaque, WorkerToScheduler } from '../messages.js';

export type WorkerEvent =
  // ---- from the scheduler (SchedulerToWorker, minus `op`, plus `type`)
  | {
      type: 'compute-task';
      key: Key;
      run: Opaque;
      priority: number;
      /** Every dependency of the task is a key here (its holders; this worker may be one of them). */
      whoHas: Record<Key, readonly Address[]>;
      nbytes: Record<Key, number>;
      stimulusId: string;
      /** Echoed in the task-finished/task-erred that answers this compute-task. */
      runId?: number;
    }
  | { type: 'free-keys'; keys: readonly Key[]; stimulusId: string }
  | { type: 'acquire-replicas'; whoHas: Record<Key, readonly Address[]>; nbytes: Record<Key, number>; stimulusId: string }
  | { type: 'steal-request'; key: Key; stimulusId: string }
  // ---- outcomes of `execute`
  | {
      type: 'execute-success';
      key: Key;
      value: unknown;
      nbytes: number;
      typeName: string;
      start: number;
      stop: number;
      stimulusId: string;
    }
  | { type: 'execute-failure'; key: Key; exception: Opaque; traceback?: string; start: number; stop: number; stimulusId: string }
  // ---- outcomes of `gather-dep`
  | {
      type: 'gather-dep-success';
      worker: Address;
      /** The values the peer sent; a requested key left out is one the peer did not have. */
      data: Record<Key, unknown>;
      nbytes: Record<Key, number>;
      start: number;
      stop: number;
      stimulusId: string;
      /**
       * The keys of the `gather-dep` this answers. Needed only when more than one request to the
       * same peer can be in flight (`maxIncomingPerPeer > 1`); with the default of one it is implied.
       */
      keys?: readonly Key[];
    }
  /** The peer could not be reached: it is dropped as a holder of every key. */
  | { type: 'gather-dep-failure'; worker: Address; keys: readonly Key[]; error: string; stimulusId: string }
  // ---- other sources
  /** Values pushed to this worker (scatter, the `update-data` RPC). */
  | { type: 'update-data'; data: Record<Key, unknown>; nbytes: Record<Key, number>; stimulusId: string }
  /**
   * Fresh holders from the scheduler's `who-has` RPC, which the server calls for `missingKeys()`
   * (dask's `find_missing`): keys in `missing` go back to `fetch`.
   */
  | { type: 'refresh-who-has'; whoHas: Record<Key, readonly Address[]>; stimulusId: string }
  /** Stop (and resume) starting executions and fetches, e.g. under memory pressure. */
  | { type: 'pause' | 'unpause'; stimulusId?: string };

export type WorkerEventType = WorkerEvent['type'];

export type WorkerInstruction =
  /**
   * Run the task on the thread pool. The dependencies' values are in `WorkerState.data`: read them
   * when performing the instruction. They normally stay until this task's `execute-success` or
   * `execute-failure` is handled, but an `update-data` over the key itself can release them sooner.
   */
  | { type: 'execute'; key: Key; run: Opaque; deps: Key[] }
  /** Fetch these keys from one peer (`get-data`), then report `gather-dep-success`/`-failure`. */
  | { type: 'gather-dep'; worker: Address; keys: Key[]; totalNbytes: number }
  /** Put this message on the scheduler stream. */
  | { type: 'send'; msg: WorkerToScheduler };
