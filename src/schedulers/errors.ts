/** Errors a get reports: a failing task (with its key and the thread's stack) and cancellation. */
import type { Key } from '../graph/spec.js';

/** The plain shape an error takes to cross a thread or a socket. */
export interface ErrorInfo {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

export function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: `a non-Error value was thrown: ${String(e)}` };
}

/** The error a user function raised, rebuilt where the caller can see it. */
export class RemoteError extends Error {
  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = info.name;
    if (info.stack) this.stack = info.stack;
  }
}

/**
 * A task failed. `key` names it, `cause` is the original error (its stack is the stack of the
 * thread that ran it), and the message leads with both.
 */
export class TaskError extends Error {
  override name = 'TaskError';
  constructor(
    readonly key: Key,
    override readonly cause: Error,
  ) {
    super(`task '${key}' failed: ${cause.name}: ${cause.message}`, { cause });
    this.stack = `${this.name}: ${this.message}\n    --- the task's stack ---\n${cause.stack ?? ''}`;
  }
}

/** The error a get rejects with when its AbortSignal fires. */
export function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error(reason === undefined ? 'the computation was aborted' : String(reason));
  e.name = 'AbortError';
  return e;
}
