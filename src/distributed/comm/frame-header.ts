/**
 * The wire form of one message: its frame count, each frame's length, then the frames.
 *
 *     count (uint64 LE) | length 0 (uint64 LE) | ... | length n-1 | frame 0 | ... | frame n-1
 *
 * This is dask's framing. Only the header is built here; the frames go to the socket as they
 * are, never copied into one buffer.
 */

/** Bytes in one header field. */
export const WORD = 8;

const TWO_32 = 2 ** 32;

/** The header (count and lengths) for a message made of `frames`. */
export function encodeHeader(frames: readonly Uint8Array[]): Buffer {
  const header = Buffer.allocUnsafe(WORD * (frames.length + 1));
  writeWord(header, 0, frames.length);
  for (let i = 0; i < frames.length; i++) writeWord(header, WORD * (i + 1), frames[i].byteLength);
  return header;
}

/** Writes a non-negative safe integer as uint64 LE (two 32-bit halves: no BigInt on the hot path). */
export function writeWord(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value % TWO_32, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_32), offset + 4);
}

/**
 * Reads a uint64 LE. Values above 2^53 lose precision, which is harmless: every caller compares
 * them against a limit far below that and refuses them.
 */
export function readWord(buf: Uint8Array, offset: number): number {
  const lo = buf[offset] | (buf[offset + 1] << 8) | (buf[offset + 2] << 16) | (buf[offset + 3] << 24);
  const hi = buf[offset + 4] | (buf[offset + 5] << 8) | (buf[offset + 6] << 16) | (buf[offset + 7] << 24);
  return (hi >>> 0) * TWO_32 + (lo >>> 0);
}
