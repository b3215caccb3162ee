/**
 * rpc(): a typed handle on one remote server. `call` takes the message and infers the op, so the
 * reply type follows from the op name (no stringly-typed attribute lookup as in dask's rpc).
 */
import { normalizeAddress } from '../comm/address.js';
import { ConnectionPool, type CallOptions, type PoolOptions } from './pool.js';
import type { OpMessage, OpName, ReplyOf, RequestOf } from './types.js';

export interface Rpc<Ops> {
  /** The server's address, 'tcp://host:port'. */
  readonly address: string;
  call<K extends OpName<Ops>>(msg: RequestOf<Ops, K>, options?: CallOptions): Promise<ReplyOf<Ops, K>>;
  /** Closes the comms of a private pool; a shared pool (options.pool) is left open. */
  close(): Promise<void>;
}

export interface RpcOptions extends PoolOptions {
  /** Share this pool's comms (the usual case inside a scheduler, worker or client). */
  readonly pool?: ConnectionPool;
}

/**
 * A handle on the server at `address`. Without `pool`, the handle has a private pool, so
 * overlapping calls each get a comm and the comms are reused between calls.
 */
export function rpc<Ops>(address: string, options: RpcOptions = {}): Rpc<Ops> {
  const target = normalizeAddress(address);
  const pool = options.pool ?? new ConnectionPool(options);
  const own = options.pool === undefined;
  return {
    address: target,
    call: (msg, callOptions) => pool.call(target, msg as unknown as OpMessage, callOptions),
    close: async () => {
      if (own) await pool.close();
    },
  };
}
