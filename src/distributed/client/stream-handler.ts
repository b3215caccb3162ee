/**
 * The scheduler's side of the client's stream: messages read in a loop and applied to the states
 * of the keys they name (refs.ts). The loop ends when the comm closes, which the client takes as
 * losing the scheduler unless it closed the comm itself.
 */
import { describe as describeValue } from '../../graph/normalize.js';
import type { Comm } from '../comm/comm.js';
import type { SchedulerToClient } from '../messages.js';
import type { Logger } from '../rpc/logger.js';
import { CancelledError, LostDataError, remoteTaskError } from './errors.js';
import type { Refs } from './refs.js';
import type { Restarts } from './restart.js';

export interface StreamHost {
  readonly refs: Refs;
  readonly restarts: Restarts;
  readonly logger: Logger;
  /** The comm closed: the connection to the scheduler is gone (or the client closed it). */
  disconnected(error: Error): void;
}

/** Reads until the comm closes; resolves then. One bad message is logged, never ends the loop. */
export async function readSchedulerStream(comm: Comm, host: StreamHost): Promise<void> {
  for (;;) {
    let batch: unknown;
    try {
      batch = await comm.read();
    } catch (e) {
      host.disconnected(e as Error);
      return;
    }
    for (const msg of Array.isArray(batch) ? batch : [batch]) {
      try {
        handle(host, msg as SchedulerToClient);
      } catch (e) {
        host.logger.error('a message from the scheduler could not be handled', e);
      }
    }
  }
}

function handle({ refs, restarts, logger }: StreamHost, msg: SchedulerToClient): void {
  if (typeof msg !== 'object' || msg === null || typeof msg.op !== 'string') {
    logger.warn(`ignored a malformed message from the scheduler: ${describeValue(msg)}`);
    return;
  }
  if (msg.op === 'restart') {
    for (const s of refs.states()) if (restarts.cancels(msg.id, s)) s.cancel(new CancelledError(s.key, 'the cluster restarted'));
    // Cancels sent before the restart get no answer now: the scheduler forgot those keys.
    refs.forgetCancels();
    restarts.answered(msg.id);
    return;
  }
  if (!('key' in msg)) {
    logger.debug(`ignored message '${(msg as { op: string }).op}' from the scheduler`);
    return;
  }
  if (refs.stale(msg.key, msg.op)) return;
  const s = refs.state(msg.key);
  if (s === undefined) return;
  switch (msg.op) {
    case 'key-in-memory':
      s.finish(msg.type, Array.isArray(msg.workers) ? msg.workers : undefined);
      return;
    case 'task-erred':
      s.fail(remoteTaskError(msg.key, msg.exception, msg.traceback, msg.blame), msg.traceback);
      return;
    case 'cancelled-key':
      s.cancel(new CancelledError(msg.key, 'the scheduler cancelled it (an input was cancelled)'));
      return;
    case 'lost-data':
      s.lose(new LostDataError(msg.key, 'its data was put on the cluster directly (scatter), and no worker that held it remains'));
      return;
    default:
      logger.debug(`ignored message '${(msg as { op: string }).op}' from the scheduler`);
  }
}
