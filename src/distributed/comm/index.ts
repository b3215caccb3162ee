/** The comm layer: whole messages over TCP, with dask's framing and a bounded frame parser. */
export { formatAddress, normalizeAddress, parseAddress, type HostPort } from './address.js';
export { defaultCodec, framesCodec, jsonCodec, protocolCodec, type Codec, type DecodeOptions } from './codec.js';
export type { Comm, CommOptions } from './comm.js';
export { connect, DEFAULT_CONNECT_TIMEOUT_MS, type ConnectOptions } from './connect.js';
export { CommClosedError, ConnectError, FrameError, type FrameErrorCode } from './errors.js';
export { encodeHeader } from './frame-header.js';
export { DEFAULT_FRAME_LIMITS, FrameParser, resolveFrameLimits, type FrameLimits } from './frame-parser.js';
export { listen, type Listener, type ListenOptions } from './listen.js';
export { commTraffic, TcpComm } from './tcp-comm.js';
