/**
 * The errors a client reports: a failed task (TaskError, the same class every local get uses),
 * a cancelled or lost future, a closed client, a timeout. Each names the key it is about.
 */
import { errorInfo, RemoteError, TaskError } from '../../schedulers/errors.js';
import type { Key } from '../messages.js';

/** The future was cancelled (client.cancel, future.cancel, a restart, or the client closed). */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor(
    readonly key: Key,
    why = 'it was cancelled',
  ) {
    super(`future '${key}' has no result: ${why}`);
  }
}

/**
 * The future's data is gone and cannot be recomputed: scattered data whose workers left, or every
 * future of a client whose connection to the scheduler broke.
 */
export class LostDataError extends Error {
  override name = 'LostDataError';
  constructor(
    readonly key: Key,
    why: string,
  ) {
    super(`future '${key}' is lost: ${why}`);
  }
}

/** The client is closed (or its connection to the scheduler broke): it cannot do this any more. */
export class ClientClosedError extends Error {
  override name = 'ClientClosedError';
}

/** A wait, a connection or a reply took longer than allowed. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/**
 * The error a future reports for a task that failed on a worker: a TaskError whose key is the task
 * that raised (`blame`, which is not the future's key when an input failed) and whose cause is the
 * remote error rebuilt here (its name, message and the worker's stack).
 */
export function remoteTaskError(key: Key, exception: unknown, traceback: string | undefined, blame: Key | undefined): TaskError {
  let cause: Error;
  if (exception instanceof Error) cause = exception;
  else if (typeof exception === 'object' && exception !== null && typeof (exception as Error).message === 'string') {
    const e = exception as Partial<Error>;
    cause = new RemoteError({ name: String(e.name ?? 'Error'), message: String(e.message), stack: typeof e.stack === 'string' ? e.stack : traceback });
  } else {
    cause = new RemoteError({ ...errorInfo(exception), stack: traceback });
  }
  if (cause.stack === undefined && traceback !== undefined) cause.stack = traceback;
  return new TaskError(blame ?? key, cause);
}
