/**
 * Server: serves typed request/response ops and stream ops on every comm it is given (dask's
 * Server.handle_comm).
 *
 * Each comm is served by one loop: read a message, dispatch on its `op`, write the reply, read
 * the next. Messages on one comm are handled one at a time, in order; concurrency comes from
 * many comms (a ConnectionPool opens one per concurrent call).
 *
 * Bad input, per connection:
 * - a frame the parser refuses, or bytes the codec cannot decode: the comm closes itself; the
 *   server logs an error naming the peer and the reason and goes on serving other comms.
 * - a message that is not `{ op: string, ... }`: logged as an error, answered with an error
 *   reply when possible, and the comm is closed; the peer does not speak this protocol.
 * - an unknown op: an error reply naming the known ops, logged as a warning, and the comm STAYS
 *   OPEN. (dask closes it.) The message was well formed, so the comm is still in step and the
 *   next message can be served; closing would only make the caller's pool reconnect, and the
 *   caller gets a precise error rather than a bare "connection closed".
 * - a handler that throws or rejects: an error reply with the error's name, message and stack;
 *   the comm stays open.
 */
import type { Comm, CommOptions } from '../comm/comm.js';
import { CommClosedError, FrameError } from '../comm/errors.js';
import { listen, type Listener } from '../comm/listen.js';
import { errorReply } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { describe, isOpMessage, type ErrorReply, type Handlers, type ReplyEnvelope, type StreamHandlers } from './types.js';

export interface ServerOptions<Ops, Streams> {
  /** Request/response ops: the handler's return value is the reply. */
  readonly handlers: Handlers<Ops>;
  /** Ops that take over their comm (see StreamHandler). */
  readonly streams?: StreamHandlers<Streams>;
  /** Names the server in logs ('scheduler', 'worker alice'). */
  readonly name?: string;
  readonly logger?: Logger;
  /** Options for the comms this server accepts (codec, frame limits, ...). */
  readonly comm?: CommOptions;
}

type AnyHandler = (msg: { op: string }, comm: Comm) => unknown;

export class Server<Ops = {}, Streams = {}> {
  readonly name: string;
  readonly logger: Logger;
  readonly #handlers: Map<string, AnyHandler>;
  readonly #streams: Map<string, AnyHandler>;
  readonly #commOptions: CommOptions;
  readonly #comms = new Set<Comm>();
  #listener: Listener | undefined;
  #closed = false;

  constructor(options: ServerOptions<Ops, Streams>) {
    this.name = options.name ?? 'server';
    this.logger = options.logger ?? createLogger(`dask-ts.${this.name}`);
    this.#handlers = handlerMap(options.handlers, 'handlers');
    this.#streams = handlerMap(options.streams ?? {}, 'streams');
    for (const op of this.#streams.keys()) {
      if (this.#handlers.has(op)) throw new TypeError(`op '${op}' is in both handlers and streams; give it to one`);
    }
    this.#commOptions = options.comm ?? {};
  }

  /** Every op this server knows, sorted. */
  get ops(): string[] {
    return [...this.#handlers.keys(), ...this.#streams.keys()].sort();
  }

  /** Where the server listens ('tcp://host:port'); throws before listen(). */
  get address(): string {
    if (!this.#listener) throw new Error(`${this.name} is not listening; call listen() first`);
    return this.#listener.address;
  }

  /** The comms being served now. */
  get comms(): ReadonlySet<Comm> {
    return this.#comms;
  }

  /** Listens at `address` (default: a free port on 127.0.0.1) and returns the real address. */
  async listen(address = 'tcp://127.0.0.1:0'): Promise<string> {
    if (this.#closed) throw new Error(`${this.name} is closed`);
    if (this.#listener) throw new Error(`${this.name} already listens at ${this.#listener.address}`);
    this.#listener = await listen(address, (comm) => void this.handleComm(comm), {
      ...this.#commOptions,
      onError: (e) => this.logger.error(`the listener at ${address} failed`, e),
    });
    this.logger.info(`listening at ${this.#listener.address}`);
    return this.#listener.address;
  }

  /** Serves one comm until it closes (accepted ones arrive here; others may be passed in). */
  async handleComm(comm: Comm): Promise<void> {
    if (this.#closed) return comm.abort(new Error(`${this.name} is closed`));
    this.#comms.add(comm);
    try {
      await this.#serve(comm);
    } finally {
      this.#comms.delete(comm);
    }
  }

  /** Stops listening and closes every comm. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#listener?.close(), ...[...this.#comms].map((c) => c.close())]);
  }

  async #serve(comm: Comm): Promise<void> {
    for (;;) {
      let msg: unknown;
      try {
        msg = await comm.read();
      } catch (e) {
        return this.#readFailed(comm, e);
      }
      if (!isOpMessage(msg)) return this.#malformed(comm, msg);
      const stream = this.#streams.get(msg.op);
      if (stream) return this.#runStream(comm, msg, stream);
      const reply = await this.#dispatch(comm, msg);
      try {
        await this.#reply(comm, msg.op, reply);
      } catch {
        return; // the comm closed under us; the caller sees that on its side
      }
    }
  }

  async #dispatch(comm: Comm, msg: { op: string }): Promise<ReplyEnvelope> {
    const handler = this.#handlers.get(msg.op);
    if (handler === undefined) {
      this.logger.warn(`unknown operation '${msg.op}' from ${comm.peer}`);
      return { status: 'error', name: 'UnknownOpError', message: unknownOp(msg.op, this.ops) };
    }
    try {
      return { status: 'OK', result: await handler(msg, comm) };
    } catch (e) {
      this.logger.warn(`handler for '${msg.op}' from ${comm.peer} failed`, e);
      return errorReply(e);
    }
  }

  /** Writes the reply; a reply the codec cannot encode becomes an error reply. */
  async #reply(comm: Comm, op: string, reply: ReplyEnvelope): Promise<void> {
    try {
      await comm.write(reply);
    } catch (e) {
      if (e instanceof CommClosedError) throw e;
      const why = e instanceof Error ? e.message : String(e);
      this.logger.warn(`the reply to '${op}' could not be sent to ${comm.peer}: ${why}`);
      await comm.write({ status: 'error', name: 'ReplyEncodingError', message: `the reply to '${op}' could not be encoded: ${why}` } satisfies ErrorReply);
    }
  }

  async #runStream(comm: Comm, msg: { op: string }, handler: AnyHandler): Promise<void> {
    try {
      await handler(msg, comm);
    } catch (e) {
      this.logger.error(`stream handler '${msg.op}' for ${comm.peer} failed`, e);
    } finally {
      if (!comm.closed) await comm.close();
    }
  }

  #readFailed(comm: Comm, e: unknown): void {
    const reason = e instanceof CommClosedError ? (e.cause as Error | undefined) : (e as Error);
    if (reason === undefined) return this.logger.debug(`connection from ${comm.peer} closed`);
    const code = reason instanceof FrameError ? ` [${reason.code}]` : '';
    this.logger.error(`closed the connection from ${comm.peer}: ${reason.message}${code}`);
  }

  async #malformed(comm: Comm, msg: unknown): Promise<void> {
    const message = `malformed message: expected an object with a string 'op', got ${describe(msg)}`;
    this.logger.error(`closed the connection from ${comm.peer}: ${message}`);
    try {
      await comm.write({ status: 'error', name: 'ProtocolError', message } satisfies ErrorReply);
    } catch {
      // best effort: the comm is closed next either way
    }
    await comm.close();
  }
}

function unknownOp(op: string, known: string[]): string {
  return `unknown operation '${op}'; known: ${known.length ? known.join(', ') : '(none)'}`;
}

/** Own enumerable function properties only: 'constructor' or 'toString' are never ops. */
function handlerMap(handlers: object, what: string): Map<string, AnyHandler> {
  if (typeof handlers !== 'object' || handlers === null) throw new TypeError(`server ${what} must be an object of functions`);
  const map = new Map<string, AnyHandler>();
  for (const [op, fn] of Object.entries(handlers)) {
    if (typeof fn !== 'function') throw new TypeError(`server ${what}['${op}'] must be a function, got ${typeof fn}`);
    map.set(op, fn as AnyHandler);
  }
  return map;
}
