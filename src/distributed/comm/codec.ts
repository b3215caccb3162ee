/**
 * How a comm turns a message into frames and back. The default is the distributed protocol
 * (msgpack, large bytes as their own frames); the others are for tests and for measuring the
 * transport alone.
 */
import { fromFrames, toFrames } from '../protocol/index.js';

export interface DecodeOptions {
  /**
   * False leaves user payloads serialized (dask's `deserialize=False`: the scheduler passes data
   * along without decoding it). Undefined means the codec's default.
   */
  readonly deserialize?: boolean;
}

export interface Codec {
  /** The frames of one message. They are written as they are, never copied into one buffer. */
  encode(msg: unknown): Uint8Array[];
  /** The message of `frames`. A throw means a malformed message: the connection is closed. */
  decode(frames: Uint8Array[], options: DecodeOptions): unknown;
}

/** JSON in one frame: readable on the wire and dependency-free; no bytes, Maps or BigInts. */
export const jsonCodec: Codec = Object.freeze({
  encode(msg: unknown): Uint8Array[] {
    const text = JSON.stringify(msg);
    if (text === undefined) throw new TypeError(`a ${typeof msg} cannot be sent as JSON`);
    return [Buffer.from(text, 'utf8')];
  },
  decode(frames: Uint8Array[]): unknown {
    if (frames.length !== 1) throw new TypeError(`a JSON message has 1 frame, got ${frames.length}`);
    const f = frames[0];
    return JSON.parse(Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('utf8'));
  },
});

/**
 * The identity: a message is its array of frames. For raw byte transfer and for measuring the
 * transport without any encoding.
 */
export const framesCodec: Codec = Object.freeze({
  encode(msg: unknown): Uint8Array[] {
    if (!Array.isArray(msg) || !msg.every((f) => f instanceof Uint8Array)) {
      throw new TypeError('framesCodec sends arrays of Uint8Array only');
    }
    return msg as Uint8Array[];
  },
  decode(frames: Uint8Array[]): unknown {
    return frames;
  },
});

/** The distributed protocol: msgpack, large bytes as their own frames, lz4 where it pays. */
export const protocolCodec: Codec = Object.freeze({
  encode: (msg: unknown): Uint8Array[] => toFrames(msg),
  decode: (frames: Uint8Array[], options: DecodeOptions): unknown => fromFrames(frames, options),
});

/** The codec comms use when none is given. */
export const defaultCodec: Codec = protocolCodec;
