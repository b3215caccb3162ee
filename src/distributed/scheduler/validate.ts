/**
 * Every invariant the transitions keep, checked over the whole state (validate mode runs this
 * after each event). Returns the problems found; an empty list means consistent.
 */
import type { SchedulerCore } from './core.js';
import { needed, TASK_STATES, type TaskState, type WorkerState } from './model.js';

const EPS = 1e-6;

export function checkState(core: SchedulerCore): string[] {
  const problems: string[] = [];
  const fail = (msg: string) => problems.push(msg);
  const known = (ts: TaskState, where: string) => {
    if (core.tasks.get(ts.key) !== ts) fail(`${where} refers to '${ts.key}' (${ts.state}), which is not a known task`);
  };
  const live = (ws: WorkerState, where: string) => {
    if (core.workers.get(ws.address) !== ws || !ws.alive) fail(`${where} refers to removed worker ${ws.address}`);
  };

  for (const [key, ts] of core.tasks) {
    const t = `'${key}' (${ts.state})`;
    if (ts.key !== key) fail(`tasks['${key}'] is keyed wrongly: its key is '${ts.key}'`);
    if (!TASK_STATES.includes(ts.state) || ts.state === 'forgotten') fail(`${t} has an invalid state`);

    for (const dep of ts.dependencies) {
      known(dep, `dependencies of ${t}`);
      if (!dep.dependents.has(ts)) fail(`${t} depends on '${dep.key}', which does not list it as a dependent`);
    }
    for (const dts of ts.dependents) {
      known(dts, `dependents of ${t}`);
      if (!dts.dependencies.has(ts)) fail(`${t} lists dependent '${dts.key}', which does not depend on it`);
    }

    // waiters: exactly the dependents that still need this task.
    for (const w of ts.waiters) {
      known(w, `waiters of ${t}`);
      if (!ts.dependents.has(w)) fail(`${t} has waiter '${w.key}', which is not a dependent`);
    }
    for (const dts of ts.dependents) {
      const active = dts.state === 'waiting' || dts.state === 'no-worker' || dts.state === 'processing';
      if (active !== ts.waiters.has(dts)) fail(`${t}: dependent '${dts.key}' (${dts.state}) ${active ? 'missing from' : 'wrongly in'} waiters`);
    }

    // waitingOn: for a waiting task, its inputs not in memory.
    if (ts.state === 'waiting') {
      if (ts.waitingOn.size === 0) fail(`${t} waits on nothing`);
      for (const dep of ts.dependencies) {
        if ((dep.state !== 'memory') !== ts.waitingOn.has(dep)) fail(`${t}: waitingOn disagrees about '${dep.key}' (${dep.state})`);
        if (dep.state === 'erred') fail(`${t} waits on erred '${dep.key}'`);
      }
    } else if (ts.waitingOn.size > 0) {
      fail(`${t} has waitingOn entries`);
    }
    if (ts.state === 'processing' || ts.state === 'no-worker') {
      for (const dep of ts.dependencies) if (dep.state !== 'memory') fail(`${t} has input '${dep.key}' in ${dep.state}`);
    }

    // who has it
    if ((ts.state === 'memory') !== ts.whoHas.size > 0) fail(`${t} has ${ts.whoHas.size} holders`);
    for (const ws of ts.whoHas) {
      live(ws, `whoHas of ${t}`);
      if (!ws.hasWhat.has(ts)) fail(`${t} is held by ${ws.address}, whose hasWhat lacks it`);
    }

    // where it runs
    if (ts.state === 'processing') {
      const ws = ts.processingOn;
      if (ws === undefined) fail(`${t} is on no worker`);
      else {
        live(ws, `processingOn of ${t}`);
        if (!ws.processing.has(ts)) fail(`${t} is on ${ws.address}, whose processing lacks it`);
        if (ws.sent.has(ts) === ws.backlog.has(ts)) fail(`${t} on ${ws.address} must be either sent or in the backlog`);
      }
      if (ts.run === undefined) fail(`${t} has no run spec`);
    } else if (ts.processingOn !== undefined || ts.heapIndex !== -1) {
      fail(`${t} is still assigned to ${ts.processingOn?.address ?? 'a backlog'}`);
    }
    if ((ts.state === 'no-worker') !== core.unrunnable.has(ts)) fail(`${t}: unrunnable disagrees`);

    // who wants it
    for (const cs of ts.whoWants) {
      if (core.clients.get(cs.id) !== cs) fail(`${t} is wanted by unknown client '${cs.id}'`);
      if (!cs.wantsWhat.has(ts)) fail(`${t} is wanted by '${cs.id}', whose wantsWhat lacks it`);
    }

    // kept alive for a reason
    switch (ts.state) {
      case 'waiting':
      case 'no-worker':
      case 'processing':
      case 'memory':
        if (!needed(ts)) fail(`${t} is needed by nothing`);
        break;
      case 'released':
        if (needed(ts)) fail(`${t} is needed but released`);
        if (ts.dependents.size === 0) fail(`${t} should have been forgotten`);
        break;
      case 'erred':
        if (ts.whoWants.size === 0) fail(`${t} is wanted by no client`);
        if (ts.exception === undefined || ts.exceptionBlame === undefined) fail(`${t} has no exception or blame`);
        break;
    }
    if (ts.state !== 'erred' && (ts.exception !== undefined || ts.exceptionBlame !== undefined)) fail(`${t} keeps an exception`);
  }

  for (const ts of core.unrunnable) known(ts, 'unrunnable');

  for (const [address, ws] of core.workers) {
    const w = `worker ${address}`;
    if (ws.address !== address || !ws.alive) fail(`${w} is registered wrongly`);
    for (const ts of ws.hasWhat) {
      known(ts, `hasWhat of ${w}`);
      if (!ts.whoHas.has(ws)) fail(`${w} has '${ts.key}', whose whoHas lacks it`);
    }
    let occupancy = 0;
    let sentOccupancy = 0;
    for (const ts of ws.processing) {
      known(ts, `processing of ${w}`);
      if (ts.state !== 'processing' || ts.processingOn !== ws) fail(`${w} processes '${ts.key}' (${ts.state}, on ${ts.processingOn?.address})`);
      occupancy += ts.duration;
      if (ws.sent.has(ts)) sentOccupancy += ts.duration;
    }
    for (const ts of ws.sent) if (!ws.processing.has(ts)) fail(`${w} was sent '${ts.key}', not processing there`);
    for (const ts of ws.backlog.values()) if (!ws.processing.has(ts)) fail(`${w} backlog holds '${ts.key}', not processing there`);
    if (ws.sent.size + ws.backlog.size !== ws.processing.size) fail(`${w}: sent + backlog != processing`);
    if (ws.occupancy < 0 || ws.sentOccupancy < 0) fail(`${w} has negative occupancy`);
    if (Math.abs(ws.occupancy - occupancy) > EPS * Math.max(1, occupancy)) fail(`${w} occupancy ${ws.occupancy} != ${occupancy}`);
    if (Math.abs(ws.sentOccupancy - sentOccupancy) > EPS * Math.max(1, sentOccupancy)) fail(`${w} sent occupancy ${ws.sentOccupancy} != ${sentOccupancy}`);
    if (ws.backlog.size > 0 && !core.saturated(ws)) fail(`${w} has a backlog but free slots`);
  }

  for (const [id, cs] of core.clients) {
    for (const ts of cs.wantsWhat) {
      known(ts, `wantsWhat of client '${id}'`);
      if (!ts.whoWants.has(cs)) fail(`client '${id}' wants '${ts.key}', whose whoWants lacks it`);
    }
  }
  return problems;
}
