/**
 * handleStream(): the receiving end of a BatchedSend (dask's Server.handle_stream). Reads until
 * the comm closes; each message is either one `{ op, ... }` or a batch (an array of them), and
 * each is dispatched, in order, to the one-way handler for its op. Nothing is replied.
 *
 * A message that is not `{ op: string }`, an unknown op, or a handler that throws is a broken
 * stream: it is logged as an error and the comm is aborted (as dask does), since the messages
 * after it may depend on it.
 */
import type { Comm } from '../comm/comm.js';
import { CommClosedError } from '../comm/errors.js';
import { createLogger, type Logger } from './logger.js';
import { describe, isOpMessage, type MessageOf, type OpName } from './types.js';

export type StreamMessageHandlers<Msgs> = {
  readonly [K in OpName<Msgs>]: (msg: MessageOf<Msgs, K>, comm: Comm) => unknown;
};

export interface HandleStreamOptions {
  readonly logger?: Logger;
}

/** Resolves when the comm closes (orderly or not); never rejects. */
export async function handleStream<Msgs>(
  comm: Comm,
  handlers: StreamMessageHandlers<Msgs>,
  options: HandleStreamOptions = {},
): Promise<void> {
  const logger = options.logger ?? createLogger('dask-ts.stream');
  const table = new Map(Object.entries(handlers) as [string, (msg: unknown, comm: Comm) => void | Promise<void>][]);
  for (;;) {
    let batch: unknown;
    try {
      batch = await comm.read();
    } catch (e) {
      const reason = e instanceof CommClosedError ? e.cause : e;
      if (reason === undefined) logger.debug(`stream from ${comm.peer} closed`);
      else logger.error(`stream from ${comm.peer} closed: ${(reason as Error).message}`);
      return;
    }
    for (const msg of Array.isArray(batch) ? batch : [batch]) {
      const problem = !isOpMessage(msg)
        ? `malformed message: expected an object with a string 'op', got ${describe(msg)}`
        : table.has(msg.op)
          ? undefined
          : `unknown operation '${msg.op}'; known: ${[...table.keys()].sort().join(', ') || '(none)'}`;
      if (problem !== undefined) return broken(comm, logger, problem);
      try {
        await table.get((msg as { op: string }).op)!(msg, comm);
      } catch (e) {
        return broken(comm, logger, `stream handler '${(msg as { op: string }).op}' failed: ${(e as Error)?.message ?? String(e)}`, e);
      }
    }
  }
}

function broken(comm: Comm, logger: Logger, message: string, error?: unknown): void {
  logger.error(`closed the stream from ${comm.peer}: ${message}`, error);
  comm.abort(new Error(message));
}
