/**
 * client.restart, in the scheduler's state machine: every client stops wanting every key, and the
 * ordinary transitions release and forget all tasks (so every structure that follows task states
 * — worker queues, occupancy, replicas, work stealing — is emptied the way it always is). Then
 * every worker is told to restart (it drops its data and the work it was given; results of work
 * already under way never come back) and every client that the cluster restarted (it cancels all
 * its Futures). Worker messages about keys from before the restart still in flight are stale and
 * handled as such (a result for a forgotten key is freed; a run id no longer matches).
 */
import type { SchedulerCore } from './core.js';
import type { SchedulerEvent } from './events.js';
import { drain } from './transitions.js';

export function restart(core: SchedulerCore, e: Extract<SchedulerEvent, { type: 'restart' }>): void {
  for (const cs of core.clients.values()) {
    for (const ts of cs.wantsWhat) {
      ts.whoWants.delete(cs);
      core.releaseIfUnneeded(ts);
    }
    cs.wantsWhat.clear();
  }
  drain(core);
  if (core.tasks.size > 0) core.note(`restart: ${core.tasks.size} tasks were still known after releasing everything`);
  for (const ws of core.workers.values()) core.toWorker(ws, { op: 'restart', stimulusId: core.stimulusId });
  for (const cs of core.clients.values()) core.toClient(cs, { op: 'restart', id: e.id });
  core.note(`restart requested by client '${e.client}'`);
}
