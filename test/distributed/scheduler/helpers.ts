/** A small harness for driving the scheduler's state machine with terse events. */
import type { Address, Key, Opaque, TaskInput, WorkerIdentity } from '../../../src/distributed/messages.js';
import { Serialize } from '../../../src/distributed/protocol/index.js';
import { SchedulerState, type Instruction, type SchedulerOptions } from '../../../src/distributed/scheduler/index.js';

/** The opaque run spec of a key (the scheduler never looks inside). */
const runs = new Map<Key, Opaque>();
export function runOf(key: Key): Opaque {
  let r = runs.get(key);
  if (r === undefined) runs.set(key, (r = new Serialize({ task: key })));
  return r;
}

export function identity(address: Address, o: Partial<WorkerIdentity> = {}): WorkerIdentity {
  return { address, name: o.name ?? address, nthreads: o.nthreads ?? 1, memoryLimit: 1e9, host: o.host ?? address.split(':')[0], pid: 1 };
}

/** `graph({ b: ['a'], c: ['b'] })`: tasks with their dependencies (and per-task options). */
export function graph(deps: Record<Key, readonly Key[]>, opts: Record<Key, Partial<TaskInput>> = {}): Record<Key, TaskInput> {
  const out: Record<Key, TaskInput> = {};
  for (const [key, d] of Object.entries(deps)) out[key] = { run: runOf(key), deps: d, ...opts[key] };
  return out;
}

export const exception = (what: string): Opaque => new Serialize(new Error(what));

export class Harness {
  readonly s: SchedulerState;
  #n = 0;

  constructor(options: SchedulerOptions = {}) {
    this.s = new SchedulerState({ validate: true, clock: () => this.#n, ...options });
  }

  sid(prefix = 's'): string {
    return `${prefix}${++this.#n}`;
  }

  addWorker(address: Address, o: Partial<WorkerIdentity> & { keys?: Key[]; nbytes?: Record<Key, number> } = {}): Instruction[] {
    const { keys, nbytes, ...id } = o;
    return this.s.handle({ type: 'add-worker', worker: identity(address, id), keys, nbytes, stimulusId: this.sid('add-worker-') });
  }

  removeWorker(address: Address): Instruction[] {
    return this.s.handle({ type: 'remove-worker', address, stimulusId: this.sid('remove-worker-') });
  }

  addClient(client: string): Instruction[] {
    return this.s.handle({ type: 'add-client', client });
  }

  submit(client: string, tasks: Record<Key, TaskInput>, keys: Key[], stimulusId = this.sid('update-')): Instruction[] {
    return this.s.handle({ type: 'update-graph', client, tasks, keys, stimulusId });
  }

  scatter(client: string, whoHas: Record<Key, Address[]>, nbytes: Record<Key, number> = {}): Instruction[] {
    return this.s.handle({ type: 'update-data', client, whoHas, nbytes, stimulusId: this.sid('scatter-') });
  }

  release(client: string, ...keys: Key[]): Instruction[] {
    return this.s.handle({ type: 'client-releases-keys', client, keys, stimulusId: this.sid('release-') });
  }

  cancel(client: string, ...keys: Key[]): Instruction[] {
    return this.s.handle({ type: 'cancel-keys', client, keys, stimulusId: this.sid('cancel-') });
  }

  finish(worker: Address, key: Key, o: { nbytes?: number; seconds?: number; runId?: number } = {}): Instruction[] {
    const start = 0;
    return this.s.handle({
      type: 'task-finished',
      worker,
      key,
      nbytes: o.nbytes ?? 8,
      typename: 'number',
      startstops: o.seconds === undefined ? [] : [{ action: 'compute', start, stop: start + o.seconds }],
      stimulusId: this.sid(`finished-${key}-`),
      ...(o.runId === undefined ? {} : { runId: o.runId }),
    });
  }

  err(worker: Address, key: Key, exc: Opaque): Instruction[] {
    return this.s.handle({ type: 'task-erred', worker, key, exception: exc, startstops: [], stimulusId: this.sid(`erred-${key}-`) });
  }
}

/** The compute-task instructions of a list, as `[worker, key]` pairs. */
export function computes(out: readonly Instruction[]): [Address, Key][] {
  return out.flatMap((i) => (i.type === 'send-worker' && i.msg.op === 'compute-task' ? [[i.worker, i.msg.key] as [Address, Key]] : []));
}

/** The messages to clients of a list, as `[client, op, key]`. */
export function reports(out: readonly Instruction[]): [string, string, Key][] {
  return out.flatMap((i) => (i.type === 'send-client' && 'key' in i.msg ? [[i.client, i.msg.op, i.msg.key] as [string, string, Key]] : []));
}

/** The free-keys instructions of a list, as `[worker, keys]`. */
export function frees(out: readonly Instruction[]): [Address, Key[]][] {
  return out.flatMap((i) => (i.type === 'send-worker' && i.msg.op === 'free-keys' ? [[i.worker, i.msg.keys] as [Address, Key[]]] : []));
}

/** The exact compute-task instruction the scheduler sends. */
export function computeTask(
  worker: Address,
  key: Key,
  o: { priority: number; runId: number; stimulusId: string; whoHas?: Record<Key, Address[]>; nbytes?: Record<Key, number> },
): Instruction {
  return {
    type: 'send-worker',
    worker,
    msg: { op: 'compute-task', key, run: runOf(key), priority: o.priority, whoHas: o.whoHas ?? {}, nbytes: o.nbytes ?? {}, stimulusId: o.stimulusId, runId: o.runId },
  };
}
