import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FrameError } from '../../../src/distributed/comm/errors.js';
import { encodeHeader, readWord, writeWord } from '../../../src/distributed/comm/frame-header.js';
import { DEFAULT_FRAME_LIMITS, FrameParser, resolveFrameLimits, SHARED_FRAME_BYTES } from '../../../src/distributed/comm/frame-parser.js';
import { u64 } from './helpers.js';

/** One message on the wire: header then frames. */
function wire(frames: Uint8Array[]): Buffer {
  return Buffer.concat([encodeHeader(frames), ...frames]);
}

const bytes = (...xs: number[]) => Uint8Array.from(xs);
const plain = (messages: Uint8Array[][]) => messages.map((m) => m.map((f) => Array.from(f)));

function failure(f: () => unknown): FrameError {
  try {
    f();
  } catch (e) {
    if (e instanceof FrameError) return e;
    throw e;
  }
  throw new Error('expected a FrameError');
}

afterEach(() => vi.restoreAllMocks());

describe('frame header', () => {
  it('writes and reads uint64 LE words, above 2^32 too', () => {
    const b = Buffer.alloc(8);
    for (const n of [0, 1, 255, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER]) {
      writeWord(b, 0, n);
      expect(b.readBigUInt64LE(0)).toBe(BigInt(n));
      expect(readWord(b, 0)).toBe(n);
    }
  });

  it('is the count, then each length', () => {
    const h = encodeHeader([bytes(1, 2, 3), new Uint8Array(0), new Uint8Array(300)]);
    expect([0, 8, 16, 24].map((o) => Number(h.readBigUInt64LE(o)))).toEqual([3, 3, 0, 300]);
  });
});

describe('FrameParser', () => {
  it('parses one message delivered whole, and several in one chunk', () => {
    const a = [bytes(1, 2), bytes(3)];
    const b = [new Uint8Array(0), bytes(9, 9, 9)];
    expect(plain(new FrameParser().push(wire(a)))).toEqual(plain([a]));
    expect(plain(new FrameParser().push(Buffer.concat([wire(a), wire(b)])))).toEqual(plain([a, b]));
  });

  it('parses a message delivered one byte at a time', () => {
    const msg = [bytes(1, 2, 3, 4, 5), bytes(6), new Uint8Array(0)];
    const p = new FrameParser();
    const out: Uint8Array[][] = [];
    const w = wire(msg);
    for (let i = 0; i < w.length; i++) {
      out.push(...p.push(w.subarray(i, i + 1)));
      if (i < w.length - 1) expect(out).toEqual([]);
    }
    expect(plain(out)).toEqual(plain([msg]));
    expect(p.idle).toBe(true);
  });

  it('parses any messages however the stream is cut into chunks', () => {
    const frame = fc.uint8Array({ maxLength: 200 });
    const message = fc.array(frame, { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 12 }), (messages, cuts) => {
        const stream = Buffer.concat(messages.map(wire));
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y);
        const p = new FrameParser();
        const out: Uint8Array[][] = [];
        let at = 0;
        for (const c of [...points, stream.length]) {
          out.push(...p.push(stream.subarray(at, c)));
          at = c;
        }
        expect(plain(out)).toEqual(plain(messages));
        expect(p.idle).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps nothing of a transient chunk (one whose memory is reused after push)', () => {
    const frame = fc.uint8Array({ maxLength: 300 });
    const message = fc.array(frame, { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 64 }), (messages, size) => {
        const stream = Buffer.concat(messages.map(wire));
        const scratch = Buffer.alloc(size); // one reused read buffer, as with a socket's onread
        const p = new FrameParser();
        const out: Uint8Array[][] = [];
        for (let at = 0; at < stream.length; at += size) {
          const n = stream.copy(scratch, 0, at, at + size);
          out.push(...p.push(scratch.subarray(0, n), true));
          scratch.fill(0xee); // whatever was kept as a view would now be garbage
        }
        expect(plain(out)).toEqual(plain(messages));
      }),
      { numRuns: 200 },
    );
  });

  it('returns a view of the chunk when one chunk holds the frame (no copy)', () => {
    const chunk = wire([new Uint8Array(1000).fill(7)]);
    const [[frame]] = new FrameParser().push(chunk);
    expect(frame.buffer).toBe(chunk.buffer);
    expect(frame.byteOffset).toBe(chunk.byteOffset + 16);
  });

  it('assembles a frame spread over chunks once, into a buffer of exactly its size', () => {
    const big = new Uint8Array(100_000).map((_, i) => i % 251);
    const w = wire([big]);
    const p = new FrameParser();
    const alloc = vi.spyOn(Buffer, 'allocUnsafe');
    const out: Uint8Array[][] = [];
    for (let i = 0; i < w.length; i += 4096) out.push(...p.push(w.subarray(i, i + 4096)));
    const sizes = alloc.mock.calls.map(([n]) => n);
    expect(sizes.filter((n) => n >= 1000)).toEqual([100_000]);
    expect(Buffer.compare(out[0][0], big)).toBe(0);
  });

  it('refuses a frame length above maxFrameBytes from the header alone, allocating nothing', () => {
    const allocs = [vi.spyOn(Buffer, 'allocUnsafe'), vi.spyOn(Buffer, 'allocUnsafeSlow'), vi.spyOn(Buffer, 'alloc')];
    const p = new FrameParser({ maxFrameBytes: 1 << 20 });
    const e = failure(() => p.push(Buffer.concat([u64(2), u64(10), u64(2n ** 40n)])));
    expect(e.code).toBe('ERR_FRAME_TOO_LARGE');
    expect(e.message).toBe(
      'frame 1 of 2 declares 1099511627776 bytes, above the limit of 1048576 bytes per frame (maxFrameBytes)',
    );
    for (const spy of allocs) expect(spy.mock.calls.filter(([n]) => (n as number) > 64)).toEqual([]);
  });

  it('allocates a frame only once its first byte has arrived', () => {
    const alloc = vi.spyOn(Buffer, 'allocUnsafe');
    const p = new FrameParser();
    p.push(Buffer.concat([u64(1), u64(500_000)]));
    expect(alloc.mock.calls.filter(([n]) => n > 64)).toEqual([]);
    p.push(Buffer.from([1]));
    expect(alloc.mock.calls.filter(([n]) => n > 64)).toEqual([[500_000]]);
  });

  it('assembles a large frame in shared memory, allocated only once its first byte has arrived', () => {
    const p = new FrameParser();
    p.push(Buffer.concat([u64(1), u64(50_000_000)]));
    expect(p.readTarget(1)).toBeUndefined();
    p.push(Buffer.from([1]));
    const target = p.readTarget(1)!;
    expect(target.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(target.buffer.byteLength).toBe(50_000_000);
    expect(target.byteLength).toBe(50_000_000 - 1);
  });

  it('takes bytes read straight into readTarget() in place, and never offers more than the frame', () => {
    const n = SHARED_FRAME_BYTES + 10;
    const p = new FrameParser();
    p.push(Buffer.concat([u64(2), u64(n), u64(3), Buffer.from([9])]));
    expect(p.readTarget(n)).toBeUndefined(); // less than n bytes are missing
    const copy = vi.spyOn(Uint8Array.prototype, 'set');
    const out: Uint8Array[][] = [];
    for (let target = p.readTarget(1); target !== undefined; target = p.readTarget(1)) {
      const got = target.subarray(0, Math.min(target.length, 300_000)); // a socket read of up to 300 kB
      got.fill(9);
      out.push(...p.push(got, true));
    }
    expect(copy).not.toHaveBeenCalled();
    out.push(...p.push(Buffer.from([4, 5, 6]), true));
    expect(out).toHaveLength(1);
    const [big, small] = out[0];
    expect(big.byteLength).toBe(n);
    expect(big.every((x) => x === 9)).toBe(true);
    expect(Array.from(small)).toEqual([4, 5, 6]);
    expect(p.readTarget(1)).toBeUndefined();
  });

  it('refuses a length of 2^64 - 1 (beyond a safe integer) the same way', () => {
    const e = failure(() => new FrameParser().push(Buffer.concat([u64(1), u64(2n ** 64n - 1n)])));
    expect(e.code).toBe('ERR_FRAME_TOO_LARGE');
  });

  it('refuses a frame count above maxFrames before waiting for the lengths', () => {
    const p = new FrameParser({ maxFrames: 100 });
    const e = failure(() => p.push(u64(101)));
    expect(e.code).toBe('ERR_TOO_MANY_FRAMES');
    expect(e.message).toContain('declares 101 frames, above the limit of 100 (maxFrames)');
  });

  it('refuses a message whose frames together exceed maxMessageBytes', () => {
    const p = new FrameParser({ maxFrameBytes: 1000, maxMessageBytes: 1500 });
    const e = failure(() => p.push(Buffer.concat([u64(2), u64(1000), u64(1000)])));
    expect(e.code).toBe('ERR_MESSAGE_TOO_LARGE');
    expect(e.message).toContain('declares 2000 bytes, above the limit of 1500 bytes per message');
  });

  it('refuses a message of zero frames', () => {
    expect(failure(() => new FrameParser().push(u64(0))).code).toBe('ERR_NO_FRAMES');
  });

  it('refuses text such as an HTTP request (garbage reads as a huge frame count)', () => {
    const e = failure(() => new FrameParser().push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')));
    expect(e.code).toBe('ERR_TOO_MANY_FRAMES');
  });

  it('stays failed: every later push throws the same error', () => {
    const p = new FrameParser();
    const e = failure(() => p.push(u64(0)));
    expect(failure(() => p.push(wire([bytes(1)])))).toBe(e);
  });

  it('reports a stream that ends inside a message', () => {
    const p = new FrameParser();
    p.push(wire([new Uint8Array(10)]).subarray(0, 20));
    const e = failure(() => p.end());
    expect(e.code).toBe('ERR_TRUNCATED');
    expect(e.message).toContain('4 of 10 body bytes received');
    const q = new FrameParser();
    q.push(u64(3).subarray(0, 5));
    expect(failure(() => q.end()).message).toContain('inside the header');
    const ok = new FrameParser();
    ok.push(wire([bytes(1)]));
    expect(() => ok.end()).not.toThrow();
  });

  it('checks its limits', () => {
    expect(resolveFrameLimits()).toEqual(DEFAULT_FRAME_LIMITS);
    expect(DEFAULT_FRAME_LIMITS).toEqual({ maxFrames: 1_000_000, maxFrameBytes: 2 ** 31, maxMessageBytes: 2 ** 31 });
    expect(resolveFrameLimits({ maxFrames: 5, maxFrameBytes: undefined }).maxFrames).toBe(5);
    expect(() => resolveFrameLimits({ maxFrameBytes: -1 })).toThrow("frame limit 'maxFrameBytes' must be a positive integer, got -1");
    expect(() => resolveFrameLimits({ maxFrames: 1.5 })).toThrow(TypeError);
  });
});
