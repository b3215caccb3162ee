/**
 * A message to frames and back (the manual's Protocol chapter).
 *
 * A message is split into *parts*, each with its own msgpack header:
 * - part 0, the body: the message as a msgpack tree (tree.ts), whose large byte views (typed
 *   arrays, Buffers, ndarray data) became data frames of this part instead of msgpack bytes;
 * - one part per Serialize / Serialized / value of a registered serializer found in the message:
 *   the serializer's header and frames (except small ones, carried in the body: tree.ts).
 *
 * Frame 0 is part 0's header, msgpack:
 *
 *   { v: 1,                       protocol version
 *     tagged: boolean,            whether the receiver must walk the body to rebuild tagged values
 *     body?: <tree>,              the body itself, when it travels in frame 0 (see below)
 *     compression?: [...],        per frame of part 0: 'lz4' or null   (absent: no frames)
 *     lengths?: [...],            per frame of part 0: uncompressed byte length
 *     parts?: [header1, ...],     the other parts' headers: their serializer's header, with
 *                                 `serializer`, `compression` and `lengths`
 *     ht?: true }                 the part headers hold tagged values
 *
 * then part 0's frames (the msgpack body when it is not in frame 0, then the data frames), then
 * part 1's frames, and so on. The body travels inside frame 0 (one msgpack encode and one decode
 * for the small, frequent scheduler messages) unless it is larger than 64 KiB and compression is
 * on: then it is a frame of its own, compressed when it is worth it. Frames of 1 kB or more are
 * lz4-compressed when a sample compresses by at least 10 % (compression.ts).
 *
 * The comm layer sends the frames as count + lengths + bytes; this module never sees a socket.
 * Memory: frames from toFrames are views of the message's own typed arrays (no copy), so send them
 * before mutating those arrays; several frames may share one ArrayBuffer, and some may live in a
 * SharedArrayBuffer (thread-pool results). fromFrames returns typed arrays that are views of the
 * frames it is given, so the comm layer must hand over frames whose memory it will not reuse.
 */
import { checkLz4Frame, decompressFrame, maybeCompress } from './compression.js';
import { ProtocolError, Serialized } from './markers.js';
import { pack, unpack } from './msgpack.js';
import { deserialize as deserializeValue, treeHooks } from './registry.js';
import { decodeTree, encodeCtx, encodeTree, NO_FRAMES, type DecodeCtx } from './tree.js';

export const PROTOCOL_VERSION = 1;

export interface ToFramesOptions {
  /** 'lz4' (the default): compress frames that are worth it; 'none': never. */
  readonly compression?: 'lz4' | 'none';
}

export interface FromFramesOptions {
  /**
   * true (the default): Serialize()d parts come back as their values. false (the scheduler):
   * they stay `Serialized` (header + the received frames), to be sent on untouched.
   */
  readonly deserialize?: boolean;
}

/** Bodies above this size travel as their own (compressible) frame. */
export const INLINE_BODY_MAX = 64 * 1024;

interface PartHeader {
  compression: ('lz4' | null)[];
  lengths: number[];
  [k: string]: unknown;
}

/** Compresses what is worth it; pushes the frames to send to `out` and returns the header fields. */
function compressPart(frames: readonly Uint8Array[], compress: boolean, out: Uint8Array[]): Pick<PartHeader, 'compression' | 'lengths'> {
  const compression: ('lz4' | null)[] = [];
  const lengths: number[] = [];
  for (const f of frames) {
    const c = compress ? maybeCompress(f) : null;
    compression.push(c === null ? null : 'lz4');
    lengths.push(f.byteLength);
    out.push(c ?? f);
  }
  return { compression, lengths };
}

/**
 * A message (plain objects/arrays/strings/numbers/booleans/null, Uint8Array/Buffer, typed arrays,
 * ndarray, Map, Set, Date, bigint, Error, and Serialize/Serialized markers anywhere inside) to a
 * list of frames. A value that cannot travel is a TypeError naming it and its place (`msg.args[2]`).
 */
export function toFrames(msg: unknown, opts: ToFramesOptions = {}): Uint8Array[] {
  const mode = opts.compression ?? 'lz4';
  if (mode !== 'lz4' && mode !== 'none') throw new TypeError(`toFrames: compression must be 'lz4' or 'none', got ${String(mode)}`);
  const compress = mode === 'lz4';

  const data: Uint8Array[] = [];
  const parts: Serialized[] = [];
  const ctx = encodeCtx(data, parts, treeHooks());
  const tree = encodeTree(msg, ctx, 'msg');

  const head: Record<string, unknown> = { v: PROTOCOL_VERSION, tagged: ctx.tagged };
  const rest: Uint8Array[] = [];
  if (data.length > 0) Object.assign(head, compressPart(data, compress, rest));
  if (parts.length > 0) {
    const headers: Record<string, unknown>[] = [];
    for (let i = 0; i < parts.length; i++) {
      const s = parts[i];
      const h = s.header;
      if (h.compression !== undefined || h.lengths !== undefined) {
        // Already on the wire once (the scheduler relaying it): its frames go on as they came.
        const ok =
          Array.isArray(h.compression) &&
          Array.isArray(h.lengths) &&
          h.compression.length === s.frames.length &&
          h.lengths.length === s.frames.length;
        if (!ok) throw new TypeError(`toFrames: Serialized part ${i + 1}: header.compression and header.lengths must list every frame`);
        headers.push(h);
        for (const f of s.frames) rest.push(f);
      } else {
        headers.push({ ...h, ...compressPart(s.frames, compress, rest) });
      }
    }
    const hctx = encodeCtx(null, null, null);
    head.parts = encodeTree(headers, hctx, 'header');
    if (hctx.tagged) head.ht = true;
  }

  // The body goes last, so that its bytes end frame 0 (see bodyBytes).
  head.body = tree;
  let first = pack(head);
  if (compress && first.byteLength > INLINE_BODY_MAX) {
    // A large body: its own frame, compressed when that pays.
    const body = bodyBytes(first, head) ?? pack(tree);
    const c = maybeCompress(body);
    if (c !== null) {
      head.body = undefined;
      delete head.body;
      const compression = (head.compression as ('lz4' | null)[] | undefined) ?? [];
      const lengths = (head.lengths as number[] | undefined) ?? [];
      head.compression = ['lz4', ...compression];
      head.lengths = [body.byteLength, ...lengths];
      first = pack(head);
      return [first, c, ...rest];
    }
  }
  return [first, ...rest];
}

/**
 * The body's msgpack bytes inside `first` (the packed head, whose last entry is the body), so that a
 * large body is not packed a second time (packing is most of toFrames' time on a large
 * update-graph). Found by packing the head without the body, which is the same bytes up to the
 * map's entry count, followed by the key 'body'; undefined when the bytes are not laid out so.
 */
function bodyBytes(first: Uint8Array, head: Record<string, unknown>): Uint8Array | undefined {
  const { body: _, ...rest } = head;
  const prefix = pack(rest);
  const at = prefix.byteLength + 5;
  // Both maps written as map16 (0xde + a 2-byte count), the key as a fixstr of 4 bytes.
  if (prefix[0] !== 0xde || first[0] !== 0xde || at >= first.byteLength) return undefined;
  for (let i = 3; i < prefix.byteLength; i++) if (prefix[i] !== first[i]) return undefined;
  const key = prefix.byteLength;
  if (first[key] !== 0xa4 || first[key + 1] !== 0x62 || first[key + 2] !== 0x6f || first[key + 3] !== 0x64 || first[key + 4] !== 0x79) return undefined;
  return first.subarray(at);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function bad(what: string): never {
  throw new ProtocolError(`malformed message: ${what}`);
}

interface PartView {
  readonly header: PartHeader;
  /** Index of the part's first frame in `frames`. */
  readonly start: number;
}

const NONE: readonly never[] = [];

/** Checks a part header's frame list against the frames received from `at` on. */
function checkFrames(h: Record<string, unknown>, i: number, frames: readonly Uint8Array[], at: number): PartHeader {
  const compression = h.compression ?? (i === 0 ? NONE : undefined);
  const lengths = h.lengths ?? (i === 0 ? NONE : undefined);
  if (!Array.isArray(compression) || !Array.isArray(lengths) || compression.length !== lengths.length) {
    bad(`part ${i}: compression and lengths do not list the same frames`);
  }
  if (at + lengths.length > frames.length) bad(`the headers declare more frames than the ${frames.length - 1} received`);
  for (let j = 0; j < lengths.length; j++) {
    const n = lengths[j];
    const c = compression[j];
    if (!isCount(n)) bad(`part ${i}, frame ${j}: length ${JSON.stringify(n)}`);
    if (c === null) {
      if (frames[at + j].byteLength !== n) bad(`part ${i}, frame ${j} has ${frames[at + j].byteLength} bytes, its header says ${n}`);
    } else if (c === 'lz4') {
      try {
        checkLz4Frame(frames[at + j], n);
      } catch (e) {
        bad(`part ${i}, frame ${j}: ${(e as Error).message}`);
      }
    } else {
      bad(`part ${i}, frame ${j}: unknown compression ${JSON.stringify(c)}`);
    }
  }
  // Our own freshly decoded object: fill in the defaults in place.
  h.compression = compression;
  h.lengths = lengths;
  return h as PartHeader;
}

/** Checks the headers against the frames; returns where each part's frames are. */
function layout(head: Record<string, unknown>, frames: readonly Uint8Array[]): PartView[] {
  const views: PartView[] = [{ header: checkFrames(head, 0, frames, 1), start: 1 }];
  let at = 1 + views[0].header.lengths.length;
  if (head.parts !== undefined) {
    if (!Array.isArray(head.parts)) bad('parts is not a list');
    const parts = (head.ht === true ? decodeTree(head.parts, NO_FRAMES) : head.parts) as unknown[];
    for (let i = 0; i < parts.length; i++) {
      const h = parts[i];
      if (typeof h !== 'object' || h === null || Array.isArray(h)) bad(`part ${i + 1} has no header`);
      if (typeof (h as Record<string, unknown>).serializer !== 'string') bad(`part ${i + 1} names no serializer`);
      const header = checkFrames(h as Record<string, unknown>, i + 1, frames, at);
      views.push({ header, start: at });
      at += header.lengths.length;
    }
  }
  if (at !== frames.length) bad(`the headers declare ${at - 1} frames, ${frames.length - 1} were received`);
  return views;
}
function plain(frames: readonly Uint8Array[], part: PartView, j: number): Uint8Array {
  const f = frames[part.start + j];
  if (part.header.compression[j] === null) return f;
  try {
    return decompressFrame(f, part.header.lengths[j]);
  } catch (e) {
    throw e instanceof ProtocolError ? e : new ProtocolError(`malformed message: frame ${part.start + j}: ${(e as Error).message}`);
  }
}

/**
 * Frames back to the message. Malformed frames (truncated, inconsistent headers, lying lengths)
 * are a ProtocolError. With `deserialize: false`, Serialize()d parts stay opaque `Serialized`.
 */
export function fromFrames(frames: readonly Uint8Array[], opts: FromFramesOptions = {}): unknown {
  if (!Array.isArray(frames)) throw new TypeError('fromFrames expects an array of frames');
  if (frames.length < 1) bad('no frames');
  for (let i = 0; i < frames.length; i++) {
    if (!(frames[i] instanceof Uint8Array)) bad(`frame ${i} is not bytes`);
  }
  const head = unpack(frames[0], 'message header');
  if (typeof head !== 'object' || head === null || Array.isArray(head)) bad('frame 0 is not a message header');
  const h = head as Record<string, unknown>;
  if (h.v !== PROTOCOL_VERSION) bad(`protocol version ${JSON.stringify(h.v)}, expected ${PROTOCOL_VERSION}`);
  const inline = Object.hasOwn(h, 'body');
  // The common case: a body in frame 0, nothing tagged, no other frames.
  if (inline && h.tagged !== true && frames.length === 1 && h.lengths === undefined && h.parts === undefined) return h.body;

  const views = layout(h, frames);
  const body = views[0];
  let tree: unknown;
  if (inline) tree = h.body;
  else {
    if (body.header.lengths.length === 0) bad('no body');
    tree = unpack(plain(frames, body, 0), 'message body');
  }
  if (h.tagged !== true) return tree;

  const wantValues = opts.deserialize ?? true;
  const first = inline ? 0 : 1;
  const dataCount = body.header.lengths.length - first;
  const dataCache = new Map<number, Uint8Array>();
  const partCache = new Map<number, unknown>();
  const ctx: DecodeCtx = {
    frame(i) {
      if (!isCount(i) || i >= dataCount) bad(`no data frame ${i}`);
      let f = dataCache.get(i);
      if (f === undefined) {
        f = plain(frames, body, i + first);
        dataCache.set(i, f);
      }
      return f;
    },
    part(i) {
      if (!isCount(i) || i + 1 >= views.length) bad(`no part ${i + 1}`);
      if (partCache.has(i)) return partCache.get(i);
      const v = views[i + 1];
      const s = new Serialized(v.header, frames.slice(v.start, v.start + v.header.lengths.length));
      const value = wantValues ? deserializeValue(s) : s;
      partCache.set(i, value);
      return value;
    },
    inline: (s) => (wantValues ? deserializeValue(s) : s),
  };
  return decodeTree(tree, ctx);
}
