/**
 * Typed messages. A server and its callers share one interface that maps each op to its request
 * fields and its reply, so a handler and a call site are checked against the same definition
 * (dask's `rpc.__getattr__` could not be):
 *
 *     interface CounterOps {
 *       add: { request: { x: number; y: number }; reply: number };
 *       ping: { request: {}; reply: 'pong' };
 *     }
 *     new Server<CounterOps>({ handlers: { add: ({ x, y }) => x + y, ping: () => 'pong' } });
 *     await rpc<CounterOps>(address).call({ op: 'add', x: 1, y: 2 });   // number
 *
 * One-way messages (stream handlers, batched sends) map each op to its fields only:
 *
 *     interface WorkerStream { 'task-finished': { key: string; nbytes: number } }
 */
import type { Comm } from '../comm/comm.js';

/** One request/response operation. */
export interface OpSpec {
  readonly request: object;
  readonly reply: unknown;
}

export type OpName<Ops> = keyof Ops & string;

/**
 * The request of op K: `{ op: K, ...fields }`. An op map that is not made of OpSpecs (a server
 * built without a type argument, whose ops are inferred from its handlers) gets untyped fields.
 */
export type RequestOf<Ops, K extends OpName<Ops>> = { op: K } & (Ops[K] extends { request: infer R } ? R : UntypedFields);

export type ReplyOf<Ops, K extends OpName<Ops>> = Ops[K] extends { reply: infer R } ? R : unknown;

type UntypedFields = any;

/** A request/response handler: its return value (awaited) is the reply. */
export type Handler<Ops, K extends OpName<Ops>> = (
  msg: RequestOf<Ops, K>,
  comm: Comm,
) => ReplyOf<Ops, K> | Promise<ReplyOf<Ops, K>>;

export type Handlers<Ops> = { readonly [K in OpName<Ops>]: Handler<Ops, K> };

/** A one-way message: `{ op, ...fields }`. */
export type MessageOf<Msgs, K extends OpName<Msgs>> = { op: K } & Msgs[K];

/** Any message of a one-way message map. */
export type AnyMessage<Msgs> = { [K in OpName<Msgs>]: MessageOf<Msgs, K> }[OpName<Msgs>];

/**
 * A stream handler (dask's handle_stream ops, such as register-worker): it takes over the comm
 * that carried its first message, for as long as it runs; no reply is sent for it. It is
 * awaited, its value ignored; when it settles, the server closes the comm.
 */
export type StreamHandler<Msgs, K extends OpName<Msgs>> = (msg: MessageOf<Msgs, K>, comm: Comm) => unknown;

export type StreamHandlers<Msgs> = { readonly [K in OpName<Msgs>]: StreamHandler<Msgs, K> };

/** What travels back for a request. */
export type ReplyEnvelope<R = unknown> = OkReply<R> | ErrorReply;

export interface OkReply<R> {
  readonly status: 'OK';
  readonly result: R;
}

export interface ErrorReply {
  readonly status: 'error';
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

/** Any request or one-way message, untyped: a string `op` and any other fields. */
export interface OpMessage {
  readonly op: string;
  readonly [field: string]: unknown;
}

/** A message a server can dispatch: a plain object with a string `op`. */
export function isOpMessage(msg: unknown): msg is { op: string } {
  return typeof msg === 'object' && msg !== null && !Array.isArray(msg) && typeof (msg as { op?: unknown }).op === 'string';
}

/** A short description of a value for error messages (never the whole value). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    return `an object with keys [${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', ...' : ''}]`;
  }
  if (typeof value === 'string') return `the string '${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`;
  return `${typeof value} ${String(value)}`;
}
