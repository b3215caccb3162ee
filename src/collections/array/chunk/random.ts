/**
 * Kernels that fill one block with pseudo-random numbers.
 *
 * Design: every block owns an independent generator whose state is derived from (seed, flat block
 * index) by a splitmix-style mixer, so a block's numbers depend on nothing but the seed and the
 * chunking: not on which thread, process or machine draws them, nor in what order. The generator
 * is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator; passes BigCrush and PractRand):
 * 32-bit adds, shifts and xors only, which V8 compiles to plain integer instructions. A float64
 * takes two outputs (27 + 26 bits, as numpy does: (a>>5 * 2^26 + b>>6) / 2^53), a float32 one
 * (24 bits). The uniform loops are written out in full rather than calling a shared `next()`:
 * keeping the four state words in locals is what makes them fast (~3 ns per float64).
 * Every kernel is also a stream (stream.ts), so reductions can consume a block tile by tile.
 */
import { defineKernel } from '../../../graph/shipping/registry.js';
import type { NdArray } from '../core.js';
import type { DType, TypedArray } from '../dtype.js';
import { defineStream, type BlockStream } from './stream.js';
import { empty } from './strided.js';

const TWO32 = 4294967296;
const INV53 = 1 / 9007199254740992; // 2^-53
const INV24 = 1 / 16777216; // 2^-24

/** A good 32-bit finaliser (Chris Wellons' lowbias32): every input bit affects every output bit. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x | 0;
}

/**
 * The four sfc32 state words of block `block` of a stream seeded by `seed` (both non-negative
 * integers below 2^53), warmed up by 12 outputs as sfc32's author recommends.
 */
export function blockState(seed: number, block: number): Int32Array {
  const h = mix32(mix32(mix32(mix32(seed % TWO32) ^ Math.floor(seed / TWO32)) ^ (block % TWO32)) ^ Math.floor(block / TWO32));
  // splitmix32: successive Weyl steps of the hash, each mixed, seed the four words.
  const s = new Int32Array(4);
  for (let j = 0; j < 4; j++) s[j] = mix32((h + Math.imul(j + 1, 0x9e3779b9)) | 0);
  const g = new Sfc32(s);
  for (let j = 0; j < 12; j++) g.next();
  g.save(s);
  return s;
}

/** sfc32 as an object, for the kernels whose per-value work dwarfs a method call (normal, randint). */
export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(s: Int32Array) {
    this.a = s[0];
    this.b = s[1];
    this.c = s[2];
    this.d = s[3];
  }

  /** The next output as a signed 32-bit integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) + t | 0;
    return t;
  }

  /** A 53-bit integer from two outputs: the top 27 bits of one, the top 26 of the next. */
  bits53(): number {
    const hi = this.next() >>> 5;
    const lo = this.next() >>> 6;
    return hi * 67108864 + lo;
  }

  /** A double in [0, 1) with 53 random bits. */
  double(): number {
    return this.bits53() * INV53;
  }

  save(s: Int32Array): void {
    s[0] = this.a;
    s[1] = this.b;
    s[2] = this.c;
    s[3] = this.d;
  }
}

/** The stream of a uniform block: `low + (high - low) * u` with u uniform in [0, 1). */
function uniformStream(_shape: number[], seed: number, block: number, low: number, high: number, dtype: DType): BlockStream {
  const s = blockState(seed, block);
  const width = high - low;
  return dtype === 'float32'
    ? { fill: (out) => fillFloat32(out as Float32Array, s, low, width) }
    : { fill: (out) => fillFloat64(out as Float64Array, s, low, width) };
}

/** Block of `low + (high - low) * u` with u uniform in [0, 1); `random` is uniform(0, 1). */
export const uniform = defineKernel(
  'array.random.uniform',
  (shape: number[], seed: number, block: number, low: number, high: number, dtype: DType): NdArray => {
    const out = empty(dtype, shape);
    uniformStream(shape, seed, block, low, high, dtype).fill(out.data as TypedArray);
    return out;
  },
);
defineStream(uniform, uniformStream);

/**
 * Fills `out` from the generator state `s`, and leaves `s` where the stream continues. The loop
 * makes two numbers per turn (four sfc32 steps written out): ~15% faster than one per turn, as
 * V8 then schedules the steps of both together.
 */
function fillFloat64(out: Float64Array, s: Int32Array, low: number, width: number): void {
  let a = s[0];
  let b = s[1];
  let c = s[2];
  let d = s[3];
  const n = out.length;
  // For [0, 1) this is exactly (hi * 2^26 + lo) / 2^53: width * 2^-53 is a power of two.
  const scale = width * INV53;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t) | 0;
    const hi0 = t >>> 5;
    t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t) | 0;
    const lo0 = t >>> 6;
    t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t) | 0;
    const hi1 = t >>> 5;
    t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t) | 0;
    out[i] = low + (hi0 * 67108864 + lo0) * scale;
    out[i + 1] = low + (hi1 * 67108864 + (t >>> 6)) * scale;
  }
  s[0] = a;
  s[1] = b;
  s[2] = c;
  s[3] = d;
  if (i < n) {
    const g = new Sfc32(s);
    out[i] = low + g.bits53() * scale; // the loop's formula, so a stream cut anywhere gives the same numbers
    g.save(s);
  }
}

function fillFloat32(out: Float32Array, s: Int32Array, low: number, width: number): void {
  let a = s[0];
  let b = s[1];
  let c = s[2];
  let d = s[3];
  const n = out.length;
  const scale = width * INV24;
  for (let i = 0; i < n; i++) {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t) | 0;
    // As numpy: computed in float64, rounded once to float32 (for [0, 1) always below 1).
    out[i] = low + (t >>> 8) * scale;
  }
  s[0] = a;
  s[1] = b;
  s[2] = c;
  s[3] = d;
}

/**
 * The stream of a normal(loc, scale) block, by Marsaglia's polar method: pairs of uniforms in the
 * unit disc give two independent normals per accepted pair (no trigonometry). A fill that ends
 * inside a pair keeps its second value for the next fill.
 */
function normalStream(_shape: number[], seed: number, block: number, loc: number, scale: number): BlockStream {
  const g = new Sfc32(blockState(seed, block));
  let spare = 0;
  let hasSpare = false;
  return {
    fill(out) {
      const n = out.length;
      let i = 0;
      if (hasSpare && n > 0) {
        out[i++] = spare;
        hasSpare = false;
      }
      while (i < n) {
        let u: number;
        let v: number;
        let r: number;
        do {
          u = 2 * g.double() - 1;
          v = 2 * g.double() - 1;
          r = u * u + v * v;
        } while (r >= 1 || r === 0);
        const f = Math.sqrt((-2 * Math.log(r)) / r);
        out[i++] = loc + scale * u * f;
        if (i < n) out[i++] = loc + scale * v * f;
        else [spare, hasSpare] = [loc + scale * v * f, true];
      }
    },
  };
}

/** Block of normal(loc, scale) samples (see normalStream). */
export const normal = defineKernel(
  'array.random.normal',
  (shape: number[], seed: number, block: number, loc: number, scale: number, dtype: DType): NdArray => {
    const out = empty(dtype, shape);
    normalStream(shape, seed, block, loc, scale).fill(out.data as TypedArray);
    return out;
  },
);
defineStream(normal, normalStream);

/**
 * The stream of an int32 block uniform in [low, high). Unbiased: a 32-bit draw is rejected when it
 * falls in the incomplete last copy of the range, then reduced modulo the range.
 */
function randintStream(_shape: number[], seed: number, block: number, low: number, high: number): BlockStream {
  const g = new Sfc32(blockState(seed, block));
  const range = high - low; // 1 .. 2^32
  const limit = TWO32 - (TWO32 % range);
  return {
    fill(out) {
      for (let i = 0; i < out.length; i++) {
        let x = g.next() >>> 0;
        while (x >= limit) x = g.next() >>> 0;
        out[i] = low + (x % range);
      }
    },
  };
}

export const randint = defineKernel(
  'array.random.randint',
  (shape: number[], seed: number, block: number, low: number, high: number): NdArray => {
    const out = empty('int32', shape);
    randintStream(shape, seed, block, low, high).fill(out.data as TypedArray);
    return out;
  },
);
defineStream(randint, randintStream);
