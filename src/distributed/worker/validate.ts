/**
 * The invariants of the worker state, checked after every event in validate mode. Each broken
 * one is described in a sentence naming the key; the caller throws them together.
 */
import type { Address, Key } from '../messages.js';
import type { HeapSet } from './heap-set.js';
import { isNeeded, type WorkerTask } from './task.js';
import type { Transfers } from './transfers.js';

export interface StateView {
  readonly address: Address;
  readonly nthreads: number;
  readonly paused: boolean;
  readonly tasks: ReadonlyMap<Key, WorkerTask>;
  readonly data: ReadonlyMap<Key, unknown>;
  readonly ready: HeapSet<WorkerTask>;
  readonly running: ReadonlyMap<Key, number>;
  readonly runningCount: number;
  readonly hasWhat: ReadonlyMap<Address, ReadonlySet<WorkerTask>>;
  readonly transfers: Transfers;
}

export function checkInvariants(s: StateView): string[] {
  const problems: string[] = [];
  const fail = (msg: string) => problems.push(msg);
  for (const [key, ts] of s.tasks) {
    if (ts.key !== key) fail(`task stored under '${key}' is '${ts.key}'`);
    checkTask(s, ts, fail);
  }
  for (const key of s.data.keys()) if (!s.tasks.has(key)) fail(`data holds '${key}', which has no task`);
  checkHolders(s, fail);
  checkResources(s, fail);
  return problems;
}

function checkTask(s: StateView, ts: WorkerTask, fail: (msg: string) => void): void {
  const k = `'${ts.key}' (${ts.state})`;
  const fromExecuting = ts.state === 'executing' || (ts.state === 'cancelled' && ts.previous === 'executing');
  const fromFlight = ts.state === 'flight' || (ts.state === 'cancelled' && ts.previous === 'flight');
  if (ts.state === 'released') fail(`${k} is still tracked`);
  if (s.data.has(ts.key) !== (ts.state === 'memory')) fail(`${k}: data ${s.data.has(ts.key) ? 'present' : 'absent'}`);
  if (ts.state === 'cancelled' ? isNeeded(ts) : !isNeeded(ts)) {
    fail(`${k}: ${ts.state === 'cancelled' ? 'cancelled but needed' : 'kept though nothing needs it'}`);
  }
  if (ts.compute && !ts.wanted) fail(`${k}: to compute but not wanted`);
  if (ts.compute && ts.run === undefined) fail(`${k}: to compute without a run spec`);
  if (ts.state === 'cancelled' && ts.previous === undefined) fail(`${k}: cancelled without a previous state`);
  if (ts.state !== 'cancelled' && ts.previous !== undefined) fail(`${k}: has a previous state`);

  // Dependencies: only before and while running; symmetric; all tracked.
  const linked = ts.state === 'waiting' || ts.state === 'ready' || fromExecuting;
  if (!linked && ts.dependencies.size > 0) fail(`${k}: has dependencies`);
  for (const d of ts.dependencies) {
    if (!d.dependents.has(ts)) fail(`${k} depends on '${d.key}', which does not list it as a dependent`);
    if (s.tasks.get(d.key) !== d) fail(`${k} depends on untracked '${d.key}'`);
  }
  for (const d of ts.dependents) {
    if (!d.dependencies.has(ts)) fail(`${k} lists dependent '${d.key}', which does not depend on it`);
    if (s.tasks.get(d.key) !== d) fail(`${k} lists untracked dependent '${d.key}'`);
  }
  for (const d of ts.waitingFor) if (!ts.dependencies.has(d)) fail(`${k} waits for non-dependency '${d.key}'`);
  for (const d of ts.dependencies) {
    if ((d.state !== 'memory') !== ts.waitingFor.has(d)) fail(`${k}: waitingFor wrong about '${d.key}' (${d.state})`);
  }
  if (ts.state === 'waiting' && ts.waitingFor.size === 0) fail(`${k}: waiting for nothing`);
  if ((ts.state === 'ready' || fromExecuting) && ts.waitingFor.size > 0) fail(`${k}: dependencies not all in memory`);
  if ((ts.state === 'ready') !== s.ready.has(ts)) fail(`${k}: ready queue membership wrong`);

  // Holders and transfers.
  if (ts.whoHas.has(s.address)) fail(`${k}: lists this worker as a holder`);
  if ((ts.state === 'memory' || ts.state === 'missing') && ts.whoHas.size > 0) fail(`${k}: has holders`);
  if (ts.state === 'fetch') {
    if (ts.whoHas.size === 0) fail(`${k}: no holders`);
    for (const p of ts.whoHas) if (!s.transfers.isQueued(ts, p)) fail(`${k}: not queued with holder ${p}`);
  }
  if (fromFlight) {
    const peer = ts.comingFrom;
    if (peer === undefined) fail(`${k}: in flight from nowhere`);
    else if (!s.transfers.inFlightRequests().some((r) => r.peer === peer && r.keys.includes(ts.key))) {
      fail(`${k}: no request out to ${peer} for it`);
    }
  } else if (ts.comingFrom !== undefined) {
    fail(`${k}: comingFrom set`);
  }
  if (fromExecuting && !(s.running.get(ts.key)! >= 1)) fail(`${k}: no execution out for it`);
}

function checkHolders(s: StateView, fail: (msg: string) => void): void {
  for (const ts of s.tasks.values()) {
    for (const p of ts.whoHas) if (!s.hasWhat.get(p)?.has(ts)) fail(`hasWhat of ${p} lacks '${ts.key}'`);
  }
  for (const [p, set] of s.hasWhat) {
    if (set.size === 0) fail(`hasWhat of ${p} is empty`);
    for (const ts of set) {
      if (!ts.whoHas.has(p)) fail(`hasWhat of ${p} lists '${ts.key}', whose holders do not include it`);
      if (s.tasks.get(ts.key) !== ts) fail(`hasWhat of ${p} lists untracked '${ts.key}'`);
    }
  }
  for (const [p, ts] of s.transfers.queued()) {
    if (ts.state !== 'fetch' || !ts.whoHas.has(p)) fail(`'${ts.key}' (${ts.state}) queued with ${p}`);
    if (s.tasks.get(ts.key) !== ts) fail(`untracked '${ts.key}' queued with ${p}`);
  }
}

function checkResources(s: StateView, fail: (msg: string) => void): void {
  let sum = 0;
  for (const n of s.running.values()) sum += n;
  if (sum !== s.runningCount) fail(`running count ${s.runningCount} but ${sum} executions out`);
  if (s.runningCount > s.nthreads) fail(`${s.runningCount} executions out on ${s.nthreads} threads`);

  const { limits } = s.transfers;
  const requests = s.transfers.inFlightRequests();
  if (requests.length !== s.transfers.inFlightCount) fail(`request count ${s.transfers.inFlightCount}, ${requests.length} listed`);
  if (requests.length > limits.maxConcurrentIncoming) fail(`${requests.length} requests out, limit ${limits.maxConcurrentIncoming}`);
  const perPeer = new Map<Address, number>();
  for (const r of requests) perPeer.set(r.peer, (perPeer.get(r.peer) ?? 0) + 1);
  for (const [p, n] of perPeer) if (n > limits.maxIncomingPerPeer) fail(`${n} requests out to ${p}, limit ${limits.maxIncomingPerPeer}`);

  // Nothing stalls: a free thread takes a ready task; a free transfer slot takes a fetchable key.
  if (s.paused) return;
  if (s.ready.size > 0 && s.runningCount < s.nthreads) fail(`${s.ready.size} tasks ready with a thread free`);
  if (requests.length < limits.maxConcurrentIncoming) {
    for (const [p, ts] of s.transfers.queued()) {
      if (s.transfers.inFlight(p) < limits.maxIncomingPerPeer) fail(`'${ts.key}' could be fetched from ${p} but is not`);
    }
  }
}
