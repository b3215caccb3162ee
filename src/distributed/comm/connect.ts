/**
 * connect(): a Comm to an address, retrying refused connections until a deadline, as dask does
 * (a worker may start before its scheduler listens). Errors that retrying cannot fix (an unknown
 * host, a bad address) fail at once; every failure is a ConnectError naming the address.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { formatAddress, parseAddress } from './address.js';
import type { CommOptions } from './comm.js';
import { ConnectError } from './errors.js';
import { readTap, TcpComm, type ReadTap } from './tcp-comm.js';

export interface ConnectOptions extends CommOptions {
  /** The whole budget for connecting, retries included (default 5000 ms). */
  readonly timeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** Errors that may go away if we try again shortly (the listener is not up yet, or busy). */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'EAGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const FIRST_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 500;

/** Opens a Comm to 'tcp://host:port' (or 'host:port'). */
export async function connect(address: string, options: ConnectOptions = {}): Promise<TcpComm> {
  const { host, port } = parseAddress(address);
  const target = formatAddress(host, port);
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) {
    throw new TypeError(`connect option 'timeoutMs' must be a positive number, got ${String(timeoutMs)}`);
  }
  const deadline = Date.now() + timeoutMs;
  let backoff = FIRST_BACKOFF_MS;
  let last: NodeJS.ErrnoException | undefined;
  for (let remaining = timeoutMs; remaining > 0; remaining = deadline - Date.now()) {
    try {
      const tap = readTap();
      return new TcpComm(await attempt(host, port, remaining, tap), options, tap);
    } catch (e) {
      last = e as NodeJS.ErrnoException;
      const code = last.code ?? 'UNKNOWN';
      if (!RETRYABLE.has(code)) {
        throw new ConnectError(target, code, `could not connect to ${target}: ${code} (${last.message})`, { cause: e });
      }
    }
    await sleep(Math.min(backoff, Math.max(0, deadline - Date.now())));
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }
  const code = last?.code ?? 'ETIMEDOUT';
  throw new ConnectError(target, code, `could not connect to ${target} within ${timeoutMs} ms: ${code}`, { cause: last });
}

/** One connection attempt, abandoned after `ms`. */
function attempt(host: string, port: number, ms: number, tap: ReadTap): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port, onread: tap.onread });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' }));
    }, ms);
    const onError = (e: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
