/**
 * A task's journey without sockets: the client's run specs go through the protocol as the
 * scheduler receives them (`deserialize: false`: opaque) and forwards them in compute-task messages
 * to a worker, which runs them on a TaskExecutor with its dependencies' values.
 */
import { fromFrames, toFrames } from '../../../src/distributed/protocol/index.js';
import { toRunSpecs } from '../../../src/distributed/client/run-spec.js';
import type { Key, Opaque, RunSpec, TaskInput } from '../../../src/distributed/messages.js';
import type { ExecuteOutcome, TaskExecutor } from '../../../src/distributed/worker/executor.js';
import type { Graph } from '../../../src/graph/spec.js';

export interface Journey {
  /** Each key's value (or the failure outcome of a key that erred). */
  readonly values: Map<Key, unknown>;
  readonly outcomes: Map<Key, ExecuteOutcome>;
}

/** Client → scheduler: the update-graph message as the scheduler decodes it. */
export function atScheduler(tasks: Record<Key, TaskInput>): Record<Key, TaskInput> {
  const msg = fromFrames(toFrames({ op: 'update-graph', tasks, keys: Object.keys(tasks) }), { deserialize: false }) as {
    tasks: Record<Key, TaskInput>;
  };
  return msg.tasks;
}

/**
 * Scheduler → worker: a compute-task message as the worker decodes it. `decode: true` is the
 * worker's default (the run spec arrives decoded); false leaves it a Serialized for the executor.
 */
export function atWorker(key: Key, run: Opaque, decode: boolean): Opaque | RunSpec {
  const msg = fromFrames(toFrames({ op: 'compute-task', key, run, priority: 0 }), { deserialize: decode }) as { run: Opaque | RunSpec };
  return msg.run;
}

/**
 * Runs every task of `tasks` on `ex` in waves (all tasks whose dependencies are in memory at once,
 * as run() calls in one tick), starting from the values in `known`.
 */
export async function runTasks(
  ex: TaskExecutor,
  tasks: Record<Key, TaskInput>,
  opts: { decode?: boolean; known?: Record<Key, unknown> } = {},
): Promise<Journey> {
  const scheduled = atScheduler(tasks);
  const values = new Map<Key, unknown>(Object.entries(opts.known ?? {}));
  const outcomes = new Map<Key, ExecuteOutcome>();
  let left = Object.keys(scheduled);
  while (left.length > 0) {
    const ready = left.filter((k) => scheduled[k].deps.every((d) => values.has(d)));
    if (ready.length === 0) throw new Error(`stuck: ${left.join(', ')} wait for missing dependencies`);
    const outs = await Promise.all(
      ready.map((k) => {
        const deps = Object.fromEntries(scheduled[k].deps.map((d) => [d, values.get(d)]));
        return ex.run(k, atWorker(k, scheduled[k].run, opts.decode ?? true), deps);
      }),
    );
    ready.forEach((k, j) => {
      const out = outs[j];
      outcomes.set(k, out);
      values.set(k, 'error' in out ? out : out.value);
    });
    left = left.filter((k) => !outcomes.has(k));
  }
  return { values, outcomes };
}

/** `graph` computed through run specs, protocol and executor: the values of `keys`. */
export async function computeOnExecutor(
  ex: TaskExecutor,
  graph: Graph,
  keys: readonly Key[],
  opts: { decode?: boolean; known?: Record<Key, unknown> } = {},
): Promise<unknown[]> {
  const tasks = toRunSpecs(graph, { known: new Set(Object.keys(opts.known ?? {})) });
  const { values, outcomes } = await runTasks(ex, tasks, opts);
  return keys.map((k) => {
    const o = outcomes.get(k);
    if (o !== undefined && 'error' in o) throw new Error(`task '${k}' erred: ${o.traceback}`);
    return values.get(k);
  });
}
