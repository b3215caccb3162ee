/** The markers a message may carry, and the error malformed input raises. */

/** Marks a value (user data, task payloads) for the serializer registry; it travels as its own header + frames. */
export class Serialize {
  constructor(readonly value: unknown) {}
}

/**
 * An opaque, already-serialized value: header + frames, passed along without decoding. After a
 * trip through `fromFrames(..., { deserialize: false })` the header also records `compression`
 * (per frame: 'lz4' or null) and `lengths` (uncompressed byte lengths), and the frames are the
 * received (possibly compressed) bytes, so the value can be sent on untouched.
 */
export class Serialized {
  constructor(
    readonly header: Record<string, unknown>,
    readonly frames: readonly Uint8Array[],
  ) {}
}

/** Frames that are not a message of this protocol: truncated, inconsistent, or lying about sizes. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}
