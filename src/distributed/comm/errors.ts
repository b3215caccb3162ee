/**
 * Errors of the comm layer, each with a stable `code` (as ws reports frame errors) so callers and
 * tests match on the code, not on the wording.
 */

/** Why a frame parser refused a byte stream. */
export type FrameErrorCode =
  | 'ERR_NO_FRAMES'
  | 'ERR_TOO_MANY_FRAMES'
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_MESSAGE_TOO_LARGE'
  | 'ERR_TRUNCATED'
  | 'ERR_MALFORMED_MESSAGE';

/** The bytes on a connection are not a well-formed message; the connection is closed. */
export class FrameError extends Error {
  override name = 'FrameError';
  constructor(
    readonly code: FrameErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The connection is closed: `read()` and `write()` reject with this. `cause` says why when the
 * close was not an orderly one (a FrameError, a socket error).
 */
export class CommClosedError extends Error {
  override name = 'CommClosedError';
  readonly code = 'ERR_COMM_CLOSED';
  constructor(
    readonly peer: string,
    cause?: Error,
  ) {
    super(cause ? `connection to ${peer} closed: ${cause.message}` : `connection to ${peer} closed`, { cause });
  }
}

/** Nothing answered at an address within the timeout (or the address cannot be reached at all). */
export class ConnectError extends Error {
  override name = 'ConnectError';
  constructor(
    readonly address: string,
    /** The last system error code seen (ECONNREFUSED, ENOTFOUND, ...), or 'ETIMEDOUT'. */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
