/**
 * One handler per event: reads the event, makes explicit transitions and recommendations, and
 * leaves the draining to the caller (SchedulerState.handle). Messages that refer to what the
 * scheduler no longer knows (a removed worker, a forgotten key, a result of a cancelled run) are
 * expected in a distributed system: they are noted (`notes()`) and otherwise ignored, or answered
 * with free-keys when a worker holds data nobody wants.
 */
import type { Address, Key, TaskInput } from '../messages.js';
import type { SchedulerCore } from './core.js';
import { normalizeRestriction } from './decide-worker.js';
import { computeSeconds } from './durations.js';
import { cycleException, killedWorkerException, missingDependencyException, unknownKeyException } from './errors.js';
import type { SchedulerEvent } from './events.js';
import { ClientState, TaskState, WorkerState } from './model.js';
import { acquireReplicas, removeReplicas } from './replicas.js';
import { restart } from './restart.js';
import { drain, erredMessage, inMemoryMessage, transition } from './transitions.js';

/** The event(s) of a type; distributes over members whose `type` is itself a union. */
type EventOf<T extends SchedulerEvent['type'], E = SchedulerEvent> = E extends { type: infer U } ? (T extends U ? E : never) : never;
type Handlers = { readonly [T in SchedulerEvent['type']]: (core: SchedulerCore, e: EventOf<T>) => void };

// ---- clients

function clientOf(core: SchedulerCore, id: string): ClientState | undefined {
  const cs = core.clients.get(id);
  if (cs === undefined) core.note(`message from unknown client '${id}' ignored`);
  return cs;
}

/** `cs` wants `ts`: computed if released, reported at once if already done. */
function desire(core: SchedulerCore, cs: ClientState, ts: TaskState): void {
  cs.wantsWhat.add(ts);
  ts.addWanter(cs);
  switch (ts.state) {
    case 'released':
      core.recommend(ts, 'waiting');
      break;
    case 'memory':
      core.toClient(cs, inMemoryMessage(ts));
      break;
    case 'erred':
      core.toClient(cs, erredMessage(ts.key, ts.exception!, ts.traceback, ts.exceptionBlame));
      break;
  }
}

function undesire(core: SchedulerCore, cs: ClientState, ts: TaskState): void {
  cs.wantsWhat.delete(ts);
  ts.whoWants.delete(cs);
  core.releaseIfUnneeded(ts);
}

/**
 * New tasks, in submission order: sorted by the client's `priority` (its graph order), each gets
 * the next number of the scheduler-wide priority counter, so that a later graph runs after an
 * earlier one and, within a graph, the client's order holds. A key already known is reused as it
 * is (pure keys: the same key is the same result), unless it is a released placeholder without a
 * run spec (lost data), which the new spec brings back.
 */
function addTasks(core: SchedulerCore, tasks: Record<Key, TaskInput>): Added {
  const keys = Object.keys(tasks);
  const inputs = Object.values(tasks);
  const n = keys.length;
  const order = new Float64Array(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    order[i] = inputs[i].priority ?? i;
    if (i > 0 && order[i] < order[i - 1]) sorted = false;
  }
  const indices = Array.from({ length: n }, (_, i) => i);
  if (!sorted) indices.sort((a, b) => order[a] - order[b] || a - b);
  const added: Added = { tasks: [], inputs: [] };
  for (const i of indices) {
    const key = keys[i];
    const input = inputs[i];
    let ts = core.tasks.get(key);
    if (ts !== undefined) {
      if (ts.run !== undefined || ts.state !== 'released' || ts.dependencies.size > 0) continue;
      ts.run = input.run;
    } else {
      ts = new TaskState(key, input.run, core.nextPriority());
      core.tasks.set(key, ts);
    }
    if (input.workers !== undefined && input.workers.length > 0) {
      ts.restrictions = new Set(input.workers.map(normalizeRestriction));
      ts.looseRestrictions = input.allowOtherWorkers ?? false;
    }
    added.tasks.push(ts);
    added.inputs.push(input);
  }
  return added;
}

/** The tasks an update-graph added, in priority order, with their inputs (parallel arrays). */
interface Added {
  readonly tasks: TaskState[];
  readonly inputs: TaskInput[];
}

/**
 * Links new tasks to their dependencies. A task depending on a key the scheduler does not know,
 * or on a cycle, gets a `problem` (it errs when wanted) and no links: nothing could ever run it,
 * and waiting for the key would hang its future, while an error says what is wrong.
 */
function linkTasks(core: SchedulerCore, added: Added): void {
  for (let i = 0; i < added.tasks.length; i++) {
    const ts = added.tasks[i];
    const deps = added.inputs[i].deps;
    if (deps.length === 0) continue;
    if (!deps.every((k) => core.tasks.has(k))) {
      ts.problem = missingDependencyException(ts.key, [...new Set(deps)].filter((k) => !core.tasks.has(k)));
      continue;
    }
    for (const k of deps) ts.link(core.tasks.get(k)!); // a repeated key is one link (sets)
  }
  const cyclic = inCycles(added.tasks);
  const cycleKeys = cyclic.map((t) => t.key);
  for (const ts of cyclic) {
    ts.problem = cycleException(ts.key, cycleKeys);
    for (const dep of ts.dependencies) dep.dependents.delete(ts);
    ts.dependencies.clear();
  }
}

/** The tasks of `tasks` that a topological sort cannot reach: in a cycle or after one (Kahn). */
function inCycles(all: readonly TaskState[]): TaskState[] {
  // A task without dependencies is neither in a cycle nor after one (in a large graph, most are).
  const tasks = all.filter((ts) => ts.dependencies.size > 0);
  if (tasks.length === 0) return [];
  const set = new Set(tasks);
  const indegree = new Map<TaskState, number>();
  const ready: TaskState[] = [];
  for (const ts of tasks) {
    let n = 0;
    for (const dep of ts.dependencies) if (set.has(dep)) n++;
    indegree.set(ts, n);
    if (n === 0) ready.push(ts);
  }
  let done = 0;
  while (ready.length > 0) {
    const ts = ready.pop()!;
    done++;
    for (const dts of ts.dependents) {
      const n = indegree.get(dts);
      if (n === undefined) continue;
      indegree.set(dts, n - 1);
      if (n === 1) ready.push(dts);
    }
  }
  if (done === tasks.length) return [];
  return tasks.filter((ts) => indegree.get(ts)! > 0);
}

function updateGraph(core: SchedulerCore, e: EventOf<'update-graph'>): void {
  const cs = clientOf(core, e.client);
  if (cs === undefined) return;
  const added = addTasks(core, e.tasks);
  linkTasks(core, added);
  const wanted: TaskState[] = [];
  for (const key of new Set(e.keys)) {
    const ts = core.tasks.get(key);
    if (ts === undefined) core.toClient(cs, { op: 'task-erred', key, exception: unknownKeyException(key) });
    else wanted.push(ts);
  }
  wanted.sort((a, b) => a.priority - b.priority);
  for (const ts of wanted) desire(core, cs, ts);
  drain(core);
  // Tasks sent along that nothing wants (a graph's extra keys) are not kept.
  for (const ts of added.tasks) core.releaseIfUnneeded(ts);
}

function desiresKeys(core: SchedulerCore, e: EventOf<'client-desires-keys'>): void {
  const cs = clientOf(core, e.client);
  if (cs === undefined) return;
  for (const key of e.keys) {
    const ts = core.tasks.get(key);
    if (ts === undefined) core.toClient(cs, { op: 'task-erred', key, exception: unknownKeyException(key) });
    else desire(core, cs, ts);
  }
}

function releasesKeys(core: SchedulerCore, e: EventOf<'client-releases-keys'>): void {
  const cs = clientOf(core, e.client);
  if (cs === undefined) return;
  for (const key of e.keys) {
    const ts = core.tasks.get(key);
    if (ts !== undefined && cs.wantsWhat.has(ts)) undesire(core, cs, ts);
  }
}

/**
 * The client gives up keys: it is told `cancelled-key` and its interest is released. When no other
 * client wants a key, the client's keys that depend on it are cancelled too (they could only wait
 * for it); other clients keep what they want, which may keep the key computing for them.
 */
function cancelKeys(core: SchedulerCore, e: EventOf<'cancel-keys'>): void {
  const cs = clientOf(core, e.client);
  if (cs === undefined) return;
  for (const key of e.keys) {
    const first = core.tasks.get(key);
    const todo = first === undefined ? [] : [first];
    while (todo.length > 0) {
      const ts = todo.pop()!;
      if (!cs.wantsWhat.has(ts)) continue;
      undesire(core, cs, ts);
      core.toClient(cs, { op: 'cancelled-key', key: ts.key });
      if (ts.whoWants.size === 0) todo.push(...[...ts.dependents].reverse());
    }
  }
}

/** A client put data on workers itself (scatter): the keys are in memory there, and the client wants them. */
function updateData(core: SchedulerCore, e: EventOf<'update-data'>): void {
  const cs = clientOf(core, e.client);
  if (cs === undefined) return;
  for (const [key, addresses] of Object.entries(e.whoHas)) {
    const holders = liveWorkers(core, addresses);
    if (holders.length === 0) {
      core.note(`update-data for '${key}' names no connected worker`);
      core.toClient(cs, { op: 'lost-data', key });
      continue;
    }
    let ts = core.tasks.get(key);
    if (ts === undefined) {
      ts = new TaskState(key, undefined, core.nextPriority());
      core.tasks.set(key, ts);
    }
    cs.wantsWhat.add(ts);
    ts.addWanter(cs);
    const nbytes = e.nbytes[key];
    if (ts.state === 'memory') {
      for (const ws of holders) core.addHolder(ts, ws);
      if (nbytes !== undefined && nbytes >= 0) ts.nbytes = nbytes;
      core.toClient(cs, inMemoryMessage(ts));
    } else {
      transition(core, ts, 'memory', { holders, nbytes });
    }
    drain(core);
  }
}

function liveWorkers(core: SchedulerCore, addresses: readonly Address[]): WorkerState[] {
  const out = new Set<WorkerState>();
  for (const a of addresses) {
    const ws = core.workers.get(normalizeRestriction(a));
    if (ws !== undefined) out.add(ws);
  }
  return [...out];
}

function addClient(core: SchedulerCore, e: EventOf<'add-client'>): void {
  if (core.clients.has(e.client)) core.note(`client '${e.client}' added twice`);
  else core.clients.set(e.client, new ClientState(e.client));
}

function removeClient(core: SchedulerCore, e: EventOf<'remove-client'>): void {
  const cs = clientOf(core, e.client);
  if (cs === undefined) return;
  for (const ts of [...cs.wantsWhat]) undesire(core, cs, ts);
  core.clients.delete(e.client);
}

// ---- workers

/**
 * A worker joins, possibly with data (a worker that reconnects): keys in memory gain a holder, keys
 * still to be computed are done, keys nobody needs are freed on it. Tasks that had no worker are
 * tried again.
 */
function addWorker(core: SchedulerCore, e: EventOf<'add-worker'>): void {
  const address = e.worker.address;
  if (core.workers.has(address)) {
    core.note(`worker ${address} added twice; the second registration is ignored`);
    return;
  }
  const ws = new WorkerState(e.worker, core.nextWorkerSeq());
  core.workers.set(address, ws);
  core.dirty.add(ws);
  for (const key of e.keys ?? []) {
    const ts = core.tasks.get(key);
    const nbytes = e.nbytes?.[key];
    if (ts === undefined || ts.state === 'released') {
      core.freeKeys(ws, key);
    } else if (ts.state === 'memory') {
      core.addHolder(ts, ws);
      if (nbytes !== undefined && nbytes >= 0) ts.nbytes = nbytes;
    } else {
      transition(core, ts, 'memory', { holders: [ws], nbytes });
      drain(core);
    }
  }
  for (const ts of [...core.unrunnable].sort((a, b) => a.priority - b.priority)) core.recommend(ts, 'processing');
}

/**
 * A worker left. Its data is gone: keys it alone held are recomputed if still needed (or, if they
 * cannot be, reported lost); its tasks go back to waiting and are placed elsewhere — unless more
 * than `allowedFailures` workers died running one, which then errs (KilledWorker).
 */
function removeWorker(core: SchedulerCore, e: EventOf<'remove-worker'>): void {
  const ws = core.workers.get(normalizeRestriction(e.address));
  if (ws === undefined) {
    core.note(`remove-worker for unknown worker ${e.address}`);
    return;
  }
  ws.alive = false;
  core.workers.delete(ws.address);
  const lost: TaskState[] = [];
  for (const ts of [...ws.hasWhat]) {
    core.removeHolder(ts, ws);
    if (ts.whoHas.size === 0 && ts.state === 'memory') lost.push(ts);
  }
  for (const ts of lost) transition(core, ts, 'released');
  for (const ts of [...ws.processing]) {
    if (ts.processingOn !== ws) continue;
    if (ws.sent.has(ts) && ++ts.suspicious > core.options.allowedFailures) {
      transition(core, ts, 'erred', { exception: killedWorkerException(ts.key, ts.suspicious, ws.address), blame: ts.key });
    } else {
      transition(core, ts, 'waiting');
    }
  }
}

function workerOf(core: SchedulerCore, address: Address, what: string): WorkerState | undefined {
  const ws = core.workers.get(address);
  if (ws === undefined) core.note(`${what} from unknown worker ${address} ignored`);
  return ws;
}

/** The result answers the run the scheduler is waiting for (not a cancelled or superseded one). */
function isCurrentRun(ts: TaskState | undefined, ws: WorkerState, runId: number | undefined): boolean {
  return ts !== undefined && ts.state === 'processing' && ts.processingOn === ws && ws.sent.has(ts) && (runId === undefined || runId === ts.runId);
}

function taskFinished(core: SchedulerCore, e: EventOf<'task-finished'>): void {
  const ws = workerOf(core, e.worker, `task-finished '${e.key}'`);
  if (ws === undefined) return;
  const ts = core.tasks.get(e.key);
  if (ts !== undefined && isCurrentRun(ts, ws, e.runId)) {
    const seconds = computeSeconds(e.startstops);
    if (seconds !== undefined && core.durations.observe(ts.prefix, seconds)) core.reestimate(ts.prefix);
    transition(core, ts, 'memory', { holders: [ws], nbytes: e.nbytes, type: e.typename, startstops: e.startstops });
  } else if (ts !== undefined && ts.processingOn === ws) {
    core.note(`task-finished '${e.key}' from ${ws.address} is of a superseded run; ignored`);
  } else if (ts !== undefined && ts.whoHas.has(ws)) {
    core.note(`task-finished '${e.key}' from ${ws.address} repeated; ignored`);
  } else {
    // Not wanted from this worker (released, cancelled, or computed elsewhere): it drops its copy.
    core.note(`task-finished '${e.key}' from ${ws.address} not expected (${ts?.state ?? 'unknown key'}); freed`);
    core.freeKeys(ws, e.key);
  }
}

function taskErred(core: SchedulerCore, e: EventOf<'task-erred'>): void {
  const ws = workerOf(core, e.worker, `task-erred '${e.key}'`);
  if (ws === undefined) return;
  const ts = core.tasks.get(e.key);
  if (ts === undefined || !isCurrentRun(ts, ws, e.runId)) {
    core.note(`task-erred '${e.key}' from ${ws.address} not expected (${ts?.state ?? 'unknown key'}); ignored`);
    return;
  }
  transition(core, ts, 'erred', { exception: e.exception, traceback: e.traceback, blame: ts.key });
}

/** A copy is gone from `ws`; if it was the last, the key is lost (recomputed if needed). */
function dropReplica(core: SchedulerCore, ts: TaskState, ws: WorkerState): void {
  core.removeHolder(ts, ws);
  if (ts.state === 'memory' && ts.whoHas.size === 0) transition(core, ts, 'released');
}

function releaseWorkerData(core: SchedulerCore, e: EventOf<'release-worker-data'>): void {
  const ws = workerOf(core, e.worker, `release-worker-data '${e.key}'`);
  if (ws === undefined) return;
  const ts = core.tasks.get(e.key);
  if (ts !== undefined && ts.whoHas.has(ws)) dropReplica(core, ts, ws);
}

/**
 * A worker did not find `key` on `errantWorker`: that worker no longer counts as a holder (and is
 * told to drop whatever it has, so both sides agree). The worker that asked may fetch from another
 * holder (the who-has RPC); with no holder left the key is recomputed, and tasks waiting for it
 * are placed again with fresh locations.
 */
function missingData(core: SchedulerCore, e: EventOf<'missing-data'>): void {
  const errant = core.workers.get(normalizeRestriction(e.errantWorker));
  const ts = core.tasks.get(e.key);
  if (errant === undefined || ts === undefined || !ts.whoHas.has(errant)) {
    core.note(`missing-data '${e.key}' on ${e.errantWorker} (from ${e.worker}): not a known holder; ignored`);
    return;
  }
  core.freeKeys(errant, ts.key);
  dropReplica(core, ts, errant);
}

/** A worker holds more copies (fetched dependencies, replicas). Copies of keys not in memory are freed. */
function addKeys(core: SchedulerCore, e: EventOf<'add-keys'>): void {
  const ws = workerOf(core, e.worker, 'add-keys');
  if (ws === undefined) return;
  for (const key of e.keys) {
    const ts = core.tasks.get(key);
    if (ts !== undefined && ts.state === 'memory') {
      core.addHolder(ts, ws);
      const nbytes = e.nbytes[key];
      if (nbytes !== undefined && nbytes >= 0 && ts.nbytes < 0) ts.nbytes = nbytes;
    } else {
      core.freeKeys(ws, key);
    }
  }
}

/** The answer to a steal-request (steal.ts); with stealing off there was no request to answer. */
function stealResponse(core: SchedulerCore, e: EventOf<'steal-response'>): void {
  const ws = workerOf(core, e.worker, `steal-response '${e.key}'`);
  if (ws === undefined) return;
  if (core.stealing === undefined) core.note(`steal-response '${e.key}' from ${ws.address} while work stealing is off; ignored`);
  else core.stealing.response(core, ws, e.key, e.state);
}

export const HANDLERS: Handlers = {
  'add-client': addClient,
  'remove-client': removeClient,
  'update-graph': updateGraph,
  'client-desires-keys': desiresKeys,
  'client-releases-keys': releasesKeys,
  'cancel-keys': cancelKeys,
  'update-data': updateData,
  restart,
  'add-worker': addWorker,
  'remove-worker': removeWorker,
  'task-finished': taskFinished,
  'task-erred': taskErred,
  'release-worker-data': releaseWorkerData,
  'missing-data': missingData,
  'add-keys': addKeys,
  'steal-response': stealResponse,
  'acquire-replicas': acquireReplicas,
  'remove-replicas': removeReplicas,
};
