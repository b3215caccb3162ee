/** Event builders and expected instructions for the worker state machine tests. */
import { expect } from 'vitest';
import { Serialize } from '../../../src/distributed/protocol/index.js';
import type { Address, Key, WorkerToScheduler } from '../../../src/distributed/messages.js';
import type { WorkerEvent, WorkerInstruction } from '../../../src/distributed/worker/events.js';
import { WorkerState, type WorkerStateOptions } from '../../../src/distributed/worker/state.js';

/** This worker, a peer on the same host, and peers elsewhere. */
export const W = '10.0.0.1:9000';
export const LOCAL = '10.0.0.1:9001';
export const A = '10.0.0.2:9000';
export const B = '10.0.0.3:9000';
export const C = '10.0.0.4:9000';

export function worker(opts: Partial<WorkerStateOptions> = {}): WorkerState {
  return new WorkerState({ address: W, nthreads: 1, validate: true, ...opts });
}

/** What a task runs: opaque to the state machine, compared structurally by the tests. */
export const run = (key: Key) => new Serialize(`run:${key}`);

let n = 0;
const sid = (what: string) => `${what}-${n++}`;

export function compute(
  key: Key,
  whoHas: Record<Key, Address[]> = {},
  opts: { priority?: number; nbytes?: Record<Key, number>; stimulusId?: string; runId?: number } = {},
): WorkerEvent {
  return {
    type: 'compute-task',
    key,
    run: run(key),
    priority: opts.priority ?? 0,
    whoHas,
    nbytes: opts.nbytes ?? {},
    stimulusId: opts.stimulusId ?? sid('compute'),
    ...(opts.runId !== undefined ? { runId: opts.runId } : {}),
  };
}

export const done = (key: Key, value: unknown = `v:${key}`, stimulusId = sid('done')): WorkerEvent => ({
  type: 'execute-success',
  key,
  value,
  nbytes: 8,
  typeName: 'string',
  start: 1,
  stop: 2,
  stimulusId,
});

export const failed = (key: Key, stimulusId = sid('failed')): WorkerEvent => ({
  type: 'execute-failure',
  key,
  exception: new Serialize(`boom:${key}`),
  traceback: 'tb',
  start: 1,
  stop: 2,
  stimulusId,
});

export const arrived = (
  worker: Address,
  data: Record<Key, unknown>,
  opts: { nbytes?: Record<Key, number>; keys?: Key[]; stimulusId?: string } = {},
): WorkerEvent => ({
  type: 'gather-dep-success',
  worker,
  data,
  nbytes: opts.nbytes ?? Object.fromEntries(Object.keys(data).map((k) => [k, 8])),
  start: 3,
  stop: 4,
  stimulusId: opts.stimulusId ?? sid('arrived'),
  ...(opts.keys ? { keys: opts.keys } : {}),
});

export const unreachable = (worker: Address, keys: Key[], stimulusId = sid('unreachable')): WorkerEvent => ({
  type: 'gather-dep-failure',
  worker,
  keys,
  error: 'connection refused',
  stimulusId,
});

export const free = (keys: Key[], stimulusId = sid('free')): WorkerEvent => ({ type: 'free-keys', keys, stimulusId });

export const steal = (key: Key, stimulusId = sid('steal')): WorkerEvent => ({ type: 'steal-request', key, stimulusId });

// ---- expected instructions

export const execute = (key: Key, deps: Key[] = []): WorkerInstruction => ({ type: 'execute', key, run: run(key), deps });

export const gather = (worker: Address, keys: Key[], totalNbytes = 1024 * keys.length): WorkerInstruction => ({
  type: 'gather-dep',
  worker,
  keys,
  totalNbytes,
});

/** A send instruction; `stimulusId` is matched loosely unless given. */
export function send(msg: Record<string, unknown>): WorkerInstruction {
  return { type: 'send', msg: { stimulusId: expectAnyString(), ...msg } as unknown as WorkerToScheduler };
}

export function finished(key: Key, startstops: unknown[] = [{ action: 'compute', start: 1, stop: 2 }]): WorkerInstruction {
  return send({ op: 'task-finished', key, nbytes: 8, type: 'string', startstops });
}

export const addKeys = (nbytes: Record<Key, number>): WorkerInstruction =>
  send({ op: 'add-keys', keys: Object.keys(nbytes), nbytes });

export const missingData = (key: Key, errantWorker: Address): WorkerInstruction =>
  send({ op: 'missing-data', key, errantWorker });

export const stealResponse = (key: Key, state: string): WorkerInstruction => send({ op: 'steal-response', key, state });

function expectAnyString(): string {
  return expect.any(String) as unknown as string;
}
