import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkLz4Frame,
  decompressFrame,
  lz4,
  lz4Implementations,
  maybeCompress,
  useLz4,
} from '../../../src/distributed/protocol/compression.js';
import { fromFrames, toFrames } from '../../../src/distributed/protocol/index.js';

afterEach(() => useLz4(undefined));

/** Compressible but not trivial: small integers as float64. */
function integers(n: number): Uint8Array {
  return new Uint8Array(new Float64Array(n).map((_, i) => (i * 7919) % 101).buffer);
}

describe('lz4 implementations', () => {
  it('has at least one (lz4-napi ships prebuilt), the C one first when it built', () => {
    const names = lz4Implementations().map((i) => i.name);
    expect(names).toContain('lz4-napi');
    expect(lz4()?.name).toBe(names[0]);
    if (names.includes('lz4')) expect(names[0]).toBe('lz4');
  });

  it('speak the same format: each decompresses what the others compress', () => {
    const data = integers(20_000);
    for (const a of lz4Implementations()) {
      for (const b of lz4Implementations()) {
        const c = a.compress(data)!;
        expect(c.byteLength).toBeLessThan(data.byteLength);
        expect(Buffer.from(b.decompress(c, data.byteLength)).equals(Buffer.from(data))).toBe(true);
      }
    }
  });

  it('interoperate through the whole protocol', () => {
    const impls = lz4Implementations().map((i) => i.name);
    const msg = { a: new Float64Array(integers(10_000).buffer) };
    for (const from of impls) {
      useLz4(from);
      const frames = toFrames(msg);
      for (const to of impls) {
        useLz4(to);
        expect(fromFrames(frames)).toStrictEqual(msg);
      }
    }
  });

  it('refuses corrupt blocks with an Error', () => {
    const data = integers(5000);
    for (const impl of lz4Implementations()) {
      const c = Uint8Array.from(impl.compress(data)!);
      c.fill(0xee, 4, 40);
      expect(() => impl.decompress(c, data.byteLength)).toThrow(Error);
      expect(() => impl.decompress(c.subarray(0, 30), data.byteLength)).toThrow(Error);
    }
  });
});

describe('maybeCompress', () => {
  it('leaves frames under 1 kB alone', () => {
    expect(maybeCompress(new Uint8Array(1023))).toBeNull();
    expect(maybeCompress(new Uint8Array(1024))).not.toBeNull();
  });

  it('compresses when the sample shrinks by 10 %, not otherwise', () => {
    expect(maybeCompress(new Uint8Array(randomBytes(200_000)))).toBeNull();
    expect(maybeCompress(new Uint8Array(randomBytes(5_000)))).toBeNull();
    const c = maybeCompress(integers(100_000));
    expect(c).not.toBeNull();
    expect(c!.byteLength).toBeLessThan(0.9 * 800_000);
  });

  it('judges by a sample from across the frame', () => {
    // Random at both ends and in the middle, zeros between: the samples (taken at five places
    // spread evenly) fall mostly on random data, so the frame is sent as it is.
    const n = 1_000_000;
    const mixed = new Uint8Array(n);
    for (const at of [0, 0.25, 0.5, 0.75]) mixed.set(randomBytes(10 * 1024), Math.floor(at * (n - 10 * 1024)));
    mixed.set(randomBytes(10 * 1024), n - 10 * 1024);
    expect(maybeCompress(mixed)).toBeNull();
  });
});

describe('decompressFrame', () => {
  it('checks the declared length before allocating', () => {
    const c = maybeCompress(integers(1000))!;
    expect(Buffer.from(decompressFrame(c, 8000)).equals(Buffer.from(integers(1000)))).toBe(true);
    expect(() => checkLz4Frame(c, 8001)).toThrow(/declares 8000/);
    expect(() => checkLz4Frame(new Uint8Array([1, 2]), 0)).toThrow(/too short/);
    expect(() => checkLz4Frame(new Uint8Array([0, 0, 0, 0x40, 1, 2, 3]), 0x40000000)).toThrow(/cannot expand/);
  });
});
