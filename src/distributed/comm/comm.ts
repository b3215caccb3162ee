/**
 * A Comm: one connection that carries whole messages both ways. TCP is the one transport today
 * (tcp.ts); the interface is what servers, pools and batched sends are written against.
 */
import type { Codec } from './codec.js';
import type { FrameLimits } from './frame-parser.js';

export interface Comm extends AsyncIterable<unknown> {
  /** The other end, 'tcp://host:port'. */
  readonly peer: string;
  /** This end, 'tcp://host:port'. */
  readonly local: string;
  /** True once closed by either side or by an error; read and write then reject. */
  readonly closed: boolean;
  /** Why the comm closed when it was not an orderly close (a FrameError, a socket error). */
  readonly closeReason: Error | undefined;
  /** Resolves once the connection is fully closed; never rejects. */
  readonly finished: Promise<void>;
  /**
   * Sends one message. Resolves once all its bytes are handed to the operating system, so a
   * writer that awaits each write never holds more than one message in the socket's buffer, and
   * may reuse the message's buffers afterwards. Rejects with a CommClosedError when closed; an
   * encoding error (or a message above the frame limits) rejects without closing the comm.
   */
  write(msg: unknown): Promise<void>;
  /**
   * The next message. Messages that arrived before the peer closed are still delivered; after
   * them, rejects with a CommClosedError (whose `cause` is `closeReason`).
   */
  read(): Promise<unknown>;
  /** Flushes pending writes, closes both directions, and resolves when the socket is closed. */
  close(): Promise<void>;
  /** Closes at once, dropping pending writes; `reason` becomes `closeReason`. */
  abort(reason?: Error): void;
}

export interface CommOptions {
  /** Message <-> frames (default: the distributed protocol). */
  readonly codec?: Codec;
  /** Passed to the codec's decode: false leaves user payloads serialized. */
  readonly deserialize?: boolean;
  /** What an incoming message may declare; see FrameLimits. */
  readonly limits?: Partial<FrameLimits>;
  /**
   * Bytes of received, unread messages held before the socket stops reading (default 16 MiB).
   * This is what makes a slow reader push back on its writer through TCP.
   */
  readonly readBufferBytes?: number;
  /** How long close() waits for the peer to close its side before dropping the socket (default 1000). */
  readonly closeTimeoutMs?: number;
}
