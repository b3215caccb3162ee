/** Errors of the rpc layer: a remote error rebuilt locally, and the reply shape it comes from. */
import { errorInfo, RemoteError } from '../../schedulers/errors.js';
import type { ErrorReply } from './types.js';

/**
 * A request failed on the server. `name`, `message` and the top of `stack` are the remote
 * error's; the stack goes on with where the call was made here. `op` and `address` say which
 * call it was.
 */
export class RpcError extends RemoteError {
  constructor(
    readonly address: string,
    readonly op: string,
    reply: ErrorReply,
  ) {
    super({ name: reply.name, message: reply.message, stack: reply.stack });
    const remote = reply.stack ?? `${reply.name}: ${reply.message}`;
    const here = (new Error().stack ?? '').split('\n').slice(2).join('\n');
    this.stack = `${remote}\n    --- rpc '${op}' to ${address}, called from ---\n${here}`;
  }
}

/** The server and its callers disagree on the protocol (a reply with no status, say). */
export class RpcProtocolError extends Error {
  override name = 'RpcProtocolError';
}

/** The error reply for a thrown value. */
export function errorReply(e: unknown): ErrorReply {
  const info = errorInfo(e);
  return { status: 'error', name: info.name, message: info.message, ...(info.stack ? { stack: info.stack } : {}) };
}
