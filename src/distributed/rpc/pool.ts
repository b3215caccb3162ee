/**
 * ConnectionPool: comms to many addresses, reused between calls, with a cap on how many are open
 * at once (dask's ConnectionPool).
 *
 * A call takes an idle comm to its address, or opens one while fewer than `limit` are open, or
 * closes the oldest idle comm to another address to make room, or else waits until a comm is
 * given back. A comm that fails mid-call is closed, never reused.
 */
import type { Comm, CommOptions } from '../comm/comm.js';
import { normalizeAddress } from '../comm/address.js';
import { connect, DEFAULT_CONNECT_TIMEOUT_MS } from '../comm/connect.js';
import { CommClosedError } from '../comm/errors.js';
import { RpcError, RpcProtocolError } from './errors.js';
import { describe, type OpMessage } from './types.js';

export interface PoolOptions {
  /** Most comms open at once, idle or busy (default 512). */
  readonly limit?: number;
  /** Budget to connect, retries included (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /** Options for the comms the pool opens (codec, frame limits, ...). */
  readonly comm?: CommOptions;
  /** How to open a comm (default: TCP connect); for other transports and tests. */
  readonly connect?: (address: string, options: CommOptions & { timeoutMs: number }) => Promise<Comm>;
}

export interface CallOptions {
  /**
   * Give up waiting for the reply after this long (default: wait as long as it takes). The comm is
   * then closed, since its reply may still come.
   */
  readonly timeoutMs?: number;
}

export class PoolClosedError extends Error {
  override name = 'PoolClosedError';
  constructor() {
    super('the connection pool is closed');
  }
}

export class ConnectionPool {
  readonly limit: number;
  readonly #connectTimeoutMs: number;
  readonly #commOptions: CommOptions;
  readonly #connect: NonNullable<PoolOptions['connect']>;
  /** Idle comms per address, oldest first. */
  readonly #idle = new Map<string, Comm[]>();
  readonly #busy = new Map<Comm, string>();
  #waiters: (() => void)[] = [];
  /** Comms open or being opened, idle or busy. */
  #open = 0;
  #closed = false;

  constructor(options: PoolOptions = {}) {
    this.limit = options.limit ?? 512;
    if (!Number.isSafeInteger(this.limit) || this.limit < 1) {
      throw new TypeError(`pool option 'limit' must be a positive integer, got ${String(options.limit)}`);
    }
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#commOptions = options.comm ?? {};
    this.#connect = options.connect ?? connect;
  }

  /** Comms open or being opened. */
  get open(): number {
    return this.#open;
  }

  /** Comms lent out by connect() and not given back yet. */
  get active(): number {
    return this.#busy.size;
  }

  /** Idle comms kept for reuse. */
  get idle(): number {
    let n = 0;
    for (const list of this.#idle.values()) n += list.length;
    return n;
  }

  /** A comm to `address` for the caller's exclusive use; give it back with reuse(). */
  async connect(address: string): Promise<Comm> {
    const key = normalizeAddress(address);
    for (;;) {
      if (this.#closed) throw new PoolClosedError();
      const idle = this.#takeIdle(key);
      if (idle) {
        this.#busy.set(idle, key);
        return idle;
      }
      if (this.#open < this.limit || this.#evictIdle()) return this.#openComm(key);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Gives a comm back: kept for reuse if it is still open, else forgotten. */
  reuse(address: string, comm: Comm): void {
    const key = this.#busy.get(comm);
    if (key === undefined) return;
    this.#busy.delete(comm);
    if (this.#closed || comm.closed || key !== normalizeAddress(address)) {
      if (!comm.closed) void comm.close();
      this.#open--;
    } else {
      const list = this.#idle.get(key);
      if (list) list.push(comm);
      else this.#idle.set(key, [comm]);
    }
    this.#waiters.shift()?.();
  }

  /**
   * Sends `msg` to `address` and returns the reply's result; an error reply rejects with an
   * RpcError carrying the remote message and stack.
   */
  async call<R = unknown>(address: string, msg: OpMessage, options: CallOptions = {}): Promise<R> {
    const comm = await this.connect(address);
    let reusable = false;
    let reply: unknown;
    try {
      try {
        await comm.write(msg);
      } catch (e) {
        reusable = !(e instanceof CommClosedError); // an encoding error leaves the comm in step
        throw e;
      }
      reply = await readReply(comm, options.timeoutMs, msg.op);
      reusable = isEnvelope(reply);
    } finally {
      if (!reusable) comm.abort();
      this.reuse(address, comm);
    }
    return unwrap<R>(reply, comm.peer, msg.op);
  }

  /** Closes every comm; calls waiting for a comm reject with PoolClosedError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const all = [...this.#busy.keys(), ...[...this.#idle.values()].flat()];
    this.#idle.clear();
    this.#open -= all.length - this.#busy.size; // busy comms are counted down as they come back
    for (const wake of this.#waiters.splice(0)) wake();
    await Promise.all(all.map((c) => c.close()));
  }

  async #openComm(key: string): Promise<Comm> {
    this.#open++;
    let comm: Comm;
    try {
      comm = await this.#connect(key, { ...this.#commOptions, timeoutMs: this.#connectTimeoutMs });
    } catch (e) {
      this.#open--;
      this.#waiters.shift()?.();
      throw e;
    }
    if (this.#closed) {
      this.#open--;
      comm.abort();
      throw new PoolClosedError();
    }
    this.#busy.set(comm, key);
    return comm;
  }

  /** The most recently used open idle comm to `key`; closed ones found on the way are dropped. */
  #takeIdle(key: string): Comm | undefined {
    const list = this.#idle.get(key);
    while (list !== undefined && list.length > 0) {
      const comm = list.pop()!;
      if (list.length === 0) this.#idle.delete(key);
      if (!comm.closed) return comm;
      this.#open--;
    }
    return undefined;
  }

  /** Closes the oldest idle comm (to any address) to free a slot; false if there is none. */
  #evictIdle(): boolean {
    for (const [key, list] of this.#idle) {
      const comm = list.shift();
      if (list.length === 0) this.#idle.delete(key);
      if (comm === undefined) continue;
      this.#open--;
      if (!comm.closed) void comm.close();
      return true;
    }
    return false;
  }
}

function readReply(comm: Comm, timeoutMs: number | undefined, op: string): Promise<unknown> {
  if (timeoutMs === undefined) return comm.read();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new Error(`no reply to '${op}' from ${comm.peer} within ${timeoutMs} ms`);
      e.name = 'TimeoutError';
      reject(e);
    }, timeoutMs);
  });
  return Promise.race([comm.read(), timeout]).finally(() => clearTimeout(timer));
}

function isEnvelope(reply: unknown): boolean {
  const status = typeof reply === 'object' && reply !== null ? (reply as { status?: unknown }).status : undefined;
  return status === 'OK' || status === 'error';
}

function unwrap<R>(reply: unknown, address: string, op: string): R {
  if (!isEnvelope(reply)) {
    throw new RpcProtocolError(`malformed reply to '${op}' from ${address}: expected { status: 'OK' | 'error' }, got ${describe(reply)}`);
  }
  const r = reply as { status: 'OK'; result: R } | { status: 'error'; name: string; message: string; stack?: string };
  if (r.status === 'OK') return r.result;
  throw new RpcError(address, op, {
    status: 'error',
    name: String(r.name ?? 'Error'),
    message: String(r.message ?? ''),
    ...(typeof r.stack === 'string' ? { stack: r.stack } : {}),
  });
}
