/**
 * listen(): accepts connections at an address and hands each one, as a Comm, to a callback.
 * The listener keeps its comms, so closing it closes them too.
 */
import { createServer, type Server as NetServer } from 'node:net';
import { formatAddress, parseAddress } from './address.js';
import type { Comm, CommOptions } from './comm.js';
import { tapAccepted, TcpComm } from './tcp-comm.js';

export interface ListenOptions extends CommOptions {
  /** The kernel's queue of connections not yet accepted (Node's default when omitted). */
  readonly backlog?: number;
  /**
   * Errors of the listening socket after it is up (failed accepts, such as EMFILE). Without it
   * they are ignored: one failed accept must not bring the process down.
   */
  readonly onError?: (error: Error) => void;
}

export interface Listener {
  /** Where peers connect: 'tcp://host:port', with the real port when port 0 was asked. */
  readonly address: string;
  /** The comms accepted and still open. */
  readonly comms: ReadonlySet<Comm>;
  /** Stops accepting, closes every accepted comm, and resolves when all are closed. */
  close(): Promise<void>;
}

/**
 * Listens at 'tcp://host:port' (or 'host:port'; port 0 picks a free port). `onComm` runs for
 * each new connection; if it throws or rejects, that comm is aborted with the error as reason.
 */
export async function listen(
  address: string,
  onComm: (comm: Comm) => void | Promise<void>,
  options: ListenOptions = {},
): Promise<Listener> {
  const { host, port } = parseAddress(address);
  const comms = new Set<Comm>();
  const server = createServer((socket) => {
    const comm = new TcpComm(socket, options, tapAccepted(socket));
    comms.add(comm);
    void comm.finished.then(() => comms.delete(comm));
    try {
      const r = onComm(comm);
      if (r instanceof Promise) r.catch((e: unknown) => comm.abort(asError(e)));
    } catch (e) {
      comm.abort(asError(e));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(`could not listen on ${formatAddress(host, port)}: ${e.code ?? e.message}`, { cause: e })),
    );
    server.listen({ host, port, backlog: options.backlog }, () => resolve());
  });
  server.removeAllListeners('error');
  server.on('error', (e) => options.onError?.(e));
  return new TcpListener(server, formatAddress(host, boundPort(server)), comms);
}

class TcpListener implements Listener {
  #closing: Promise<void> | undefined;
  constructor(
    readonly server: NetServer,
    readonly address: string,
    readonly comms: Set<Comm>,
  ) {}

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
      await Promise.all([...this.comms].map((c) => c.close()));
      await stopped;
    })();
    return this.#closing;
  }
}

function boundPort(server: NetServer): number {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('a TCP listener has no port');
  return a.port;
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
