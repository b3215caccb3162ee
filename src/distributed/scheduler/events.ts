/**
 * What goes into the scheduler's state machine (events) and what comes out (instructions).
 *
 * The server turns each message it receives into one event (`clientEvent`, `workerEvent`), hands
 * it to `SchedulerState.handle`, and sends the returned instructions, in order, on the streams of
 * the workers and clients they name.
 */
import type {
  Address,
  ClientToScheduler,
  Key,
  SchedulerToClient,
  SchedulerToWorker,
  TaskInput,
  WorkerIdentity,
  WorkerToScheduler,
} from '../messages.js';

export type ClientEvent =
  | { type: 'add-client'; client: string; stimulusId?: string }
  | { type: 'remove-client'; client: string; stimulusId?: string }
  | { type: 'update-graph'; client: string; tasks: Record<Key, TaskInput>; keys: Key[]; stimulusId: string }
  | {
      type: 'client-desires-keys' | 'client-releases-keys' | 'cancel-keys';
      client: string;
      keys: Key[];
      stimulusId: string;
    }
  | {
      type: 'update-data';
      client: string;
      whoHas: Record<Key, Address[]>;
      nbytes: Record<Key, number>;
      stimulusId: string;
    }
  /** client.restart (restart.ts); `id` names the request in the answer to the client. */
  | { type: 'restart'; client: string; id: string; stimulusId: string };

export type ClusterEvent =
  | { type: 'add-worker'; worker: WorkerIdentity; keys?: Key[]; nbytes?: Record<Key, number>; stimulusId: string }
  | { type: 'remove-worker'; address: Address; stimulusId: string }
  /** Copies wanted (replicate, rebalance; replicas.ts): new holder → key → sources to fetch from. */
  | { type: 'acquire-replicas'; gathers: Record<Address, Record<Key, Address[]>>; stimulusId: string }
  /** Copies to drop (replicate, rebalance; replicas.ts): worker → keys. */
  | { type: 'remove-replicas'; removals: Record<Address, Key[]>; stimulusId: string };

/**
 * The worker → scheduler stream messages the state machine handles, with the sender's address.
 * task-finished's `type` (the result's type name) is `typename` here, as `type` names the event.
 */
export type WorkerOp = 'task-finished' | 'task-erred' | 'release-worker-data' | 'missing-data' | 'add-keys' | 'steal-response';
type WorkerMessage<Op extends WorkerOp> = Extract<WorkerToScheduler, { op: Op }>;
export type WorkerEvent =
  | ({ type: 'task-finished'; worker: Address; typename: string } & Omit<WorkerMessage<'task-finished'>, 'op' | 'type'>)
  | {
      [Op in Exclude<WorkerOp, 'task-finished'>]: { type: Op; worker: Address } & Omit<WorkerMessage<Op>, 'op'>;
    }[Exclude<WorkerOp, 'task-finished'>];

export type SchedulerEvent = ClientEvent | ClusterEvent | WorkerEvent;
export type SchedulerEventType = SchedulerEvent['type'];

export type Instruction =
  | { type: 'send-worker'; worker: Address; msg: SchedulerToWorker }
  | { type: 'send-client'; client: string; msg: SchedulerToClient };

const WORKER_OPS: ReadonlySet<string> = new Set<WorkerOp>([
  'task-finished',
  'task-erred',
  'release-worker-data',
  'missing-data',
  'add-keys',
  'steal-response',
]);

/**
 * The event for a message on a client's stream. `stimulusId` names it where the message carries
 * none (the server makes one up, e.g. `${op}-${counter}`).
 */
export function clientEvent(client: string, msg: ClientToScheduler, stimulusId: string): SchedulerEvent {
  switch (msg.op) {
    case 'update-graph':
      return { type: 'update-graph', client, tasks: msg.tasks, keys: msg.keys, stimulusId: msg.stimulusId ?? stimulusId };
    case 'client-desires-keys':
    case 'client-releases-keys':
    case 'cancel-keys':
      return { type: msg.op, client, keys: msg.keys, stimulusId };
    case 'update-data':
      return { type: 'update-data', client, whoHas: msg.whoHas, nbytes: msg.nbytes, stimulusId };
    case 'restart':
      return { type: 'restart', client, id: msg.id, stimulusId };
    case 'close-client':
      return { type: 'remove-client', client, stimulusId };
  }
}

/** The event for a message on a worker's stream, or undefined for the messages the state machine does not take. */
export function workerEvent(worker: Address, msg: WorkerToScheduler): SchedulerEvent | undefined {
  if (!WORKER_OPS.has(msg.op)) return undefined;
  if (msg.op === 'task-finished') {
    // One per task: built field by field (rest and spread made two objects of it).
    return {
      type: 'task-finished',
      worker,
      key: msg.key,
      nbytes: msg.nbytes,
      typename: msg.type,
      startstops: msg.startstops,
      stimulusId: msg.stimulusId,
      runId: msg.runId,
    };
  }
  const { op, ...rest } = msg;
  return { type: op, worker, ...rest } as WorkerEvent;
}
