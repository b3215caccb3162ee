/** Shared helpers for the comm and rpc tests: raw sockets, bounded waits, captured logs. */
import { connect as netConnect, type Socket } from 'node:net';
import { parseAddress } from '../../../src/distributed/comm/address.js';
import { createLogger, type Logger, type LogRecord } from '../../../src/distributed/rpc/logger.js';

/** Rejects if `p` takes longer than `ms`, naming `what`. */
export function within<T>(ms: number, p: Promise<T>, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `cond` every 10 ms; rejects after `ms`. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A plain TCP socket to a comm address, for sending bytes that are not well-formed messages. */
export function rawSocket(address: string): Promise<Socket> {
  const { host, port } = parseAddress(address);
  return new Promise((resolve, reject) => {
    const s = netConnect({ host, port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves when a raw socket is closed by its peer (or errors). */
export function socketClosed(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    s.on('error', () => undefined);
    s.resume();
    s.once('close', () => resolve());
  });
}

/** A uint64 LE word. */
export function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

/** A logger whose records are kept in `records` instead of printed. */
export function captureLogger(name = 'test'): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { logger: createLogger(name, { level: 'debug', sink: (r) => records.push(r) }), records };
}

/** A free port on 127.0.0.1 that nothing listens on (it was listened on and closed). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
