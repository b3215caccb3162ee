/**
 * lz4 compression of frames (the manual's Protocol chapter, "Compression").
 *
 * The wire format of a compressed frame is an LZ4 *block* preceded by its uncompressed length as a
 * 4-byte little-endian integer (what python's `lz4.block.compress` writes by default, and what
 * lz4_flex's `compress_prepend_size` writes). Two implementations produce and read it:
 *
 * - `lz4` (the C library through node-gyp; an optional dependency, built by `npm install`): the
 *   fastest we measured (bench/protocol.bench.ts);
 * - `lz4-napi` (lz4_flex in Rust, prebuilt binaries in registry packages): the fallback when
 *   `lz4` did not build (no compiler, or a project whose npm did not approve its install script).
 *
 * Both write the same bytes format, so peers using different implementations understand each
 * other. Decompression never trusts a declared length: it must equal the length the part header
 * declares, and cannot exceed what an LZ4 block of that size can expand to.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Frames shorter than this are never compressed. */
export const MIN_COMPRESS_SIZE = 1024;
/** A compressed frame is used only if it is at most this fraction of the original. */
export const MAX_RATIO = 0.9;
/** The sample: this many pieces of SAMPLE_PIECE bytes from across the frame. */
export const SAMPLE_PIECES = 5;
export const SAMPLE_PIECE = 10 * 1024;
/** LZ4's own limit on one block's input (LZ4_MAX_INPUT_SIZE). */
export const MAX_COMPRESS_SIZE = 0x7e000000;
/** One LZ4 sequence expands at most ~255 times; anything declaring more is not LZ4 data. */
const MAX_EXPANSION = 255;

export interface Lz4Implementation {
  readonly name: 'lz4' | 'lz4-napi';
  /** The prefixed block, or null when the data does not fit an LZ4 block. */
  compress(data: Uint8Array): Uint8Array | null;
  /** Decompresses a prefixed block whose declared length was already checked to be `length`. */
  decompress(frame: Uint8Array, length: number): Uint8Array;
}

interface Lz4C {
  encodeBound(n: number): number;
  encodeBlock(input: Uint8Array, output: Uint8Array): number;
  decodeBlock(input: Uint8Array, output: Uint8Array): number;
}

interface Lz4Napi {
  compressSync(data: Buffer): Buffer;
  uncompressSync(data: Uint8Array): Buffer;
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function fromC(m: Lz4C): Lz4Implementation {
  return {
    name: 'lz4',
    compress(data) {
      const bound = m.encodeBound(data.byteLength);
      if (!(bound > 0)) return null;
      const out = Buffer.allocUnsafeSlow(4 + bound);
      const n = m.encodeBlock(data, out.subarray(4));
      if (!(n > 0)) return null;
      out.writeUInt32LE(data.byteLength, 0);
      const used = out.subarray(0, 4 + n);
      // Do not keep a frame-sized allocation alive for a small compressed result.
      return n < bound / 2 ? Uint8Array.prototype.slice.call(used) : used;
    },
    decompress(frame, length) {
      const out = Buffer.allocUnsafeSlow(length);
      const n = length === 0 && frame.byteLength === 4 ? 0 : m.decodeBlock(frame.subarray(4), out);
      if (n !== length) throw new Error(`lz4: corrupt block (decoded ${n} of ${length} bytes)`);
      return out;
    },
  };
}

function fromNapi(m: Lz4Napi): Lz4Implementation {
  return {
    name: 'lz4-napi',
    compress(data) {
      return m.compressSync(asBuffer(data));
    },
    decompress(frame, length) {
      let out: Buffer;
      try {
        out = m.uncompressSync(frame);
      } catch (e) {
        throw new Error(`lz4: corrupt block (${(e as Error).message})`);
      }
      if (out.byteLength !== length) throw new Error(`lz4: corrupt block (decoded ${out.byteLength} of ${length} bytes)`);
      return out;
    },
  };
}

function probe(impl: Lz4Implementation): Lz4Implementation | null {
  const data = new Uint8Array(4096).map((_, i) => i % 7);
  const c = impl.compress(data);
  if (c === null) return null;
  const d = impl.decompress(c, data.byteLength);
  return Buffer.compare(asBuffer(d), asBuffer(data)) === 0 ? impl : null;
}

function tryLoad(name: 'lz4' | 'lz4-napi'): Lz4Implementation | null {
  try {
    return probe(name === 'lz4' ? fromC(require('lz4') as Lz4C) : fromNapi(require('lz4-napi') as Lz4Napi));
  } catch {
    return null;
  }
}

const loaded = new Map<'lz4' | 'lz4-napi', Lz4Implementation | null>();

function load(name: 'lz4' | 'lz4-napi'): Lz4Implementation | null {
  if (!loaded.has(name)) loaded.set(name, tryLoad(name));
  return loaded.get(name)!;
}

/** The lz4 implementations that load here, fastest first. */
export function lz4Implementations(): readonly Lz4Implementation[] {
  return (['lz4', 'lz4-napi'] as const).map(load).filter((x): x is Lz4Implementation => x !== null);
}

let chosen: Lz4Implementation | null | undefined;

/** The implementation in use (null: none loads, so nothing is compressed). Loaded on first use. */
export function lz4(): Lz4Implementation | null {
  if (chosen === undefined) chosen = load('lz4') ?? load('lz4-napi');
  return chosen;
}

/** For tests and the bench: use a given implementation (by name), or the default again (undefined). */
export function useLz4(name: 'lz4' | 'lz4-napi' | undefined): void {
  if (name === undefined) {
    chosen = undefined;
    return;
  }
  const impl = lz4Implementations().find((i) => i.name === name);
  if (!impl) throw new Error(`lz4 implementation '${name}' is not available here`);
  chosen = impl;
}

/** Up to five 10 kB pieces from across `data`, laid end to end. */
function sample(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(SAMPLE_PIECES * SAMPLE_PIECE);
  const step = Math.floor((data.byteLength - SAMPLE_PIECE) / (SAMPLE_PIECES - 1));
  for (let i = 0; i < SAMPLE_PIECES; i++) {
    const at = i * step;
    out.set(data.subarray(at, at + SAMPLE_PIECE), i * SAMPLE_PIECE);
  }
  return out;
}

/**
 * The frame compressed, when that is worth it: frames of at least 1 kB whose sample (or, for a
 * frame under ~75 kB, the whole frame) compresses by at least 10 %. Null: send it as it is.
 */
export function maybeCompress(data: Uint8Array): Uint8Array | null {
  const n = data.byteLength;
  if (n < MIN_COMPRESS_SIZE || n > MAX_COMPRESS_SIZE) return null;
  const impl = lz4();
  if (impl === null) return null;
  if (n > 1.5 * SAMPLE_PIECES * SAMPLE_PIECE) {
    const s = sample(data);
    const cs = impl.compress(s);
    if (cs === null || cs.byteLength - 4 > MAX_RATIO * s.byteLength) return null;
  }
  const c = impl.compress(data);
  if (c === null || c.byteLength > MAX_RATIO * n) return null;
  return c;
}

/**
 * Checks that an lz4 frame can be what its header says (`length` bytes once decompressed) without
 * decompressing it: its prefix must agree, and an LZ4 block of its size must be able to expand that far.
 */
export function checkLz4Frame(frame: Uint8Array, length: number): void {
  if (frame.byteLength < 4) throw new Error(`lz4 frame of ${frame.byteLength} bytes is too short`);
  const prefix = (frame[0] | (frame[1] << 8) | (frame[2] << 16)) + frame[3] * 0x1000000;
  if (prefix !== length) throw new Error(`lz4 frame declares ${prefix} bytes but its header says ${length}`);
  if (length > (frame.byteLength - 4) * MAX_EXPANSION + 64) {
    throw new Error(`lz4 frame of ${frame.byteLength} bytes cannot expand to the ${length} bytes it declares`);
  }
}

/**
 * Decompresses a frame that its header says holds `length` bytes. Throws (never allocates an
 * absurd size) when the frame's own prefix disagrees or cannot hold that many bytes.
 */
export function decompressFrame(frame: Uint8Array, length: number): Uint8Array {
  checkLz4Frame(frame, length);
  const impl = lz4();
  if (impl === null) throw new Error('received an lz4-compressed frame, but neither lz4 nor lz4-napi loads here');
  return impl.decompress(frame, length);
}
