/** The rpc layer: typed servers, connection pools, batched one-way streams, and a logger. */
export { BatchedSend, type BatchedSendOptions } from './batched-send.js';
export { errorReply, RpcError, RpcProtocolError } from './errors.js';
export { createLogger, LOG_LEVELS, stderrSink, type Logger, type LoggerOptions, type LogLevel, type LogRecord, type LogSink } from './logger.js';
export { ConnectionPool, PoolClosedError, type CallOptions, type PoolOptions } from './pool.js';
export { rpc, type Rpc, type RpcOptions } from './rpc.js';
export { Server, type ServerOptions } from './server.js';
export { handleStream, type HandleStreamOptions, type StreamMessageHandlers } from './stream.js';
export type {
  AnyMessage,
  ErrorReply,
  Handler,
  Handlers,
  MessageOf,
  OkReply,
  OpMessage,
  OpName,
  OpSpec,
  ReplyEnvelope,
  ReplyOf,
  RequestOf,
  StreamHandler,
  StreamHandlers,
} from './types.js';
