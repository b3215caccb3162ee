import fc from 'fast-check';
import ndarray from 'ndarray';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  fromFrames,
  ProtocolError,
  Serialize,
  Serialized,
  toFrames,
} from '../../../src/distributed/protocol/index.js';
import { pack, unpack } from '../../../src/distributed/protocol/msgpack.js';

const roundTrip = (msg: unknown, opts?: { compression?: 'lz4' | 'none' }) => fromFrames(toFrames(msg, opts));

/** Frame 0 decoded: the body part's header. */
function head(frames: Uint8Array[]): Record<string, unknown> {
  return unpack(frames[0], 'test') as Record<string, unknown>;
}

function elements(nd: ndarray.NdArray): number[] {
  const out: number[] = [];
  const walk = (idx: number[]): void => {
    if (idx.length === nd.shape.length) {
      out.push(nd.get(...idx) as number);
      return;
    }
    for (let i = 0; i < nd.shape[idx.length]; i++) walk([...idx, i]);
  };
  walk([]);
  return out;
}

describe('toFrames / fromFrames: round trips', () => {
  it('keeps a small scheduler message as it is, in one frame', () => {
    const msg = {
      op: 'task-finished',
      key: "('x', 3)",
      nbytes: 8000000,
      type: 'ndarray',
      startstops: [{ action: 'compute', start: 1700000000.25, stop: 1700000000.5 }],
    };
    const frames = toFrames(msg);
    expect(frames).toHaveLength(1);
    expect(fromFrames(frames)).toStrictEqual(msg);
  });

  it('decodes frames that arrived in shared memory, as large frames do, with typed arrays as views of them', () => {
    const data = new Float64Array(1000).map((_, i) => i / 3);
    const msg = { op: 'update-data', names: ['é', 'x'.repeat(100)], data, obj: new Serialize({ a: 'ü'.repeat(2000) }) };
    const shared = toFrames(msg, { compression: 'none' }).map((f) => {
      const s = new Uint8Array(new SharedArrayBuffer(f.byteLength));
      s.set(f);
      return s;
    });
    const back = fromFrames(shared) as typeof msg;
    expect(back.names).toEqual(msg.names);
    expect(back.obj).toEqual({ a: 'ü'.repeat(2000) });
    expect(back.data).toEqual(data);
    expect(back.data.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('keeps special numbers, big and small ints, strings and nulls', () => {
    const msg = {
      nan: NaN,
      inf: Infinity,
      ninf: -Infinity,
      nzero: -0,
      zero: 0,
      ints: [0, 1, -1, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32, -(2 ** 31) - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 60],
      floats: [0.1, -1.5e-300, 1.7976931348623157e308, 5e-324],
      s: ['', 'é', '😀', 'x'.repeat(70000)],
      u: undefined,
      n: null,
      b: [true, false],
    };
    const out = roundTrip(msg) as typeof msg;
    expect(out).toStrictEqual(msg);
    expect(Object.is(out.nzero, -0)).toBe(true);
    expect(Object.is(out.zero, 0)).toBe(true);
    expect(Number.isNaN(out.nan)).toBe(true);
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
    expect(Object.is((roundTrip([-0]) as number[])[0], -0)).toBe(true);
  });

  it('keeps bigints of any size', () => {
    const msg = { a: 0n, b: -1n, c: 2n ** 64n, d: -(2n ** 200n) + 7n, e: [123456789012345678901234567890n] };
    expect(roundTrip(msg)).toStrictEqual(msg);
  });

  it('keeps Map (any keys), Set and Date, nested anywhere', () => {
    const msg = {
      m: new Map<unknown, unknown>([
        ['a', 1],
        [2, new Set([1, 'x', new Date(5)])],
        [JSON.stringify({ k: 1 }), [new Map([[null, undefined]])]],
        [new Float64Array([1, 2]), 'typed key'],
      ]),
      s: new Set([new Date(0), -0, NaN]),
      d: new Date('2024-02-29T12:00:00.123Z'),
      invalid: new Date(NaN),
      nested: [[new Map([['deep', { x: [new Set(['y'])] }]])]],
    };
    const out = roundTrip(msg) as typeof msg;
    expect(out).toStrictEqual(msg);
    expect(out.m).toBeInstanceOf(Map);
    expect(out.s).toBeInstanceOf(Set);
    expect(Number.isNaN(out.invalid.getTime())).toBe(true);
  });

  it('keeps every typed array type, Buffer, Uint8Array, DataView and ArrayBuffer, with their types', () => {
    const values = [
      new Int8Array([-128, 0, 127]),
      new Uint8Array([0, 255]),
      new Uint8ClampedArray([0, 255]),
      new Int16Array([-32768, 32767]),
      new Uint16Array([65535]),
      new Int32Array([-(2 ** 31), 2 ** 31 - 1]),
      new Uint32Array([2 ** 32 - 1]),
      new Float32Array([1.5, NaN, -0, Infinity]),
      new Float64Array([Math.PI, NaN, -0, -Infinity]),
      new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
      new BigUint64Array([2n ** 64n - 1n]),
      Buffer.from('hello'),
      new DataView(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2),
      new Uint8Array(new ArrayBuffer(4096)).fill(7),
      new Float64Array(5000).map((_, i) => i / 3),
    ];
    const out = roundTrip({ values }) as { values: ArrayBufferView[] };
    expect(out.values).toHaveLength(values.length);
    out.values.forEach((v, i) => {
      expect(v.constructor).toBe(values[i].constructor);
      expect(Buffer.from(v.buffer, v.byteOffset, v.byteLength)).toEqual(
        Buffer.from(values[i].buffer, values[i].byteOffset, values[i].byteLength),
      );
    });
    expect(Buffer.isBuffer(out.values[11])).toBe(true);
    expect(Buffer.isBuffer(out.values[1])).toBe(false);

    const ab = new Uint8Array([9, 8, 7]).buffer;
    const big = new ArrayBuffer(5000);
    new Uint8Array(big)[4999] = 1;
    const abOut = roundTrip([ab, big]) as ArrayBuffer[];
    expect(abOut[0]).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(abOut[0])]).toEqual([9, 8, 7]);
    expect(abOut[1].byteLength).toBe(5000);
    expect(new Uint8Array(abOut[1])[4999]).toBe(1);
  });

  it('keeps empty typed arrays and subarray views with offsets (only the view travels)', () => {
    const base = new Float64Array(10000).map((_, i) => i);
    const msg = {
      empty: new Float64Array(0),
      emptyBig: new BigInt64Array(0),
      small: base.subarray(3, 7),
      large: base.subarray(1000, 9000),
      bytes: new Uint8Array(base.buffer, 3, 2000),
    };
    const frames = toFrames(msg, { compression: 'none' });
    const total = frames.reduce((s, f) => s + f.byteLength, 0);
    expect(total).toBeLessThan(8000 * 8 + 2000 + 1000); // not the whole 80 kB buffer
    const out = fromFrames(frames) as typeof msg;
    expect(out.empty).toStrictEqual(new Float64Array(0));
    expect(out.emptyBig).toStrictEqual(new BigInt64Array(0));
    expect([...out.small]).toEqual([3, 4, 5, 6]);
    expect(out.large.length).toBe(8000);
    expect(out.large[0]).toBe(1000);
    expect(out.large[7999]).toBe(8999);
    expect(Buffer.from(out.bytes)).toEqual(Buffer.from(msg.bytes));
  });

  it('keeps ndarrays, contiguous or not, of any shape', () => {
    const data = new Float32Array(24).map((_, i) => i);
    const a = ndarray(data, [2, 3, 4]);
    const cases = [
      a,
      a.transpose(2, 0, 1),
      a.step(1, -1, 2),
      a.lo(1, 1, 1).hi(1, 2, 2),
      a.pick(null, 1, null),
      ndarray(new Float64Array(0), [0, 3]),
      ndarray(new Int32Array([5]), []),
      ndarray(new BigInt64Array([1n, 2n, 3n, 4n]), [2, 2]).transpose(1, 0),
      ndarray([1, 2, 3, 4, 5, 6], [2, 3]).transpose(1, 0),
      ndarray(new Float64Array(20000).map((_, i) => i), [100, 200]).transpose(1, 0),
    ];
    const out = roundTrip({ nds: cases }) as { nds: ndarray.NdArray[] };
    out.nds.forEach((nd, i) => {
      expect(nd.shape).toEqual(cases[i].shape);
      expect(nd.data.constructor).toBe(cases[i].data.constructor);
      expect(elements(nd)).toEqual(elements(cases[i] as ndarray.NdArray));
    });
  });

  it('keeps errors: name, message, stack, cause and own properties', () => {
    const cause = new RangeError('inner');
    const e = Object.assign(new TypeError('outer', { cause }), { code: 'E_BAD', key: "('x', 1)", fn: () => 1 });
    class CustomError extends Error {
      override name = 'CustomError';
    }
    const msg = { exception: e, custom: new CustomError('mine'), agg: new AggregateError([new Error('a')], 'many') };
    const out = roundTrip(msg) as { exception: TypeError & { code: string; key: string }; custom: Error; agg: AggregateError };
    expect(out.exception).toBeInstanceOf(TypeError);
    expect(out.exception.message).toBe('outer');
    expect(out.exception.stack).toBe(e.stack);
    expect(out.exception.code).toBe('E_BAD');
    expect(out.exception.key).toBe("('x', 1)");
    expect('fn' in out.exception).toBe(false); // what cannot travel is dropped, not fatal
    expect(out.exception.cause).toBeInstanceOf(RangeError);
    expect((out.exception.cause as Error).message).toBe('inner');
    expect(out.custom.name).toBe('CustomError');
    expect(out.custom.message).toBe('mine');
    expect(out.custom.stack).toBe(msg.custom.stack);
    expect(out.agg).toBeInstanceOf(AggregateError);
    // A property that cannot travel does not poison a sibling that shares a value with it.
    const shared = { v: 1 };
    const e2 = Object.assign(new Error('x'), { bad: { shared, f: () => 1 }, good: shared });
    expect((roundTrip(e2) as { good: unknown; bad?: unknown }).good).toEqual({ v: 1 });
    expect(out.agg.errors[0].message).toBe('a');
  });

  it('keeps keys that look like its own tags, and __proto__ as an own key', () => {
    const tricky = JSON.parse('{"__proto__": {"polluted": true}, "\\u0000": "t", "d": "float64"}');
    const out = roundTrip({ tricky }) as { tricky: Record<string, unknown> };
    expect(Object.getPrototypeOf(out.tricky)).toBe(Object.prototype);
    expect(Object.keys(out.tricky).sort()).toEqual(['\u0000', '__proto__', 'd'].sort());
    expect(Object.getOwnPropertyDescriptor(out.tricky, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('round-trips arbitrary values (property)', () => {
    const value = fc.anything({
      withBigInt: true,
      withMap: true,
      withSet: true,
      withDate: true,
      withTypedArray: true,
      withNullPrototype: false,
      withSparseArray: false,
      withBoxedValues: false,
      withObjectString: false,
      maxDepth: 4,
    });
    fc.assert(
      fc.property(value, (v) => {
        expect(roundTrip(v)).toStrictEqual(v);
      }),
      { numRuns: 300 },
    );
  });
});

describe('large bytes travel as frames, never inside the msgpack body', () => {
  it('sends an 8 MB Float64Array as its own frame, without copying it', () => {
    const arr = new Float64Array(1_000_000).map(() => Math.random());
    const frames = toFrames({ op: 'get-data-response', data: { "('x', 1)": arr } });
    expect(frames).toHaveLength(2);
    expect(frames[0].byteLength).toBeLessThan(200); // the body: a placeholder, not 8 MB
    expect(frames[1].byteLength).toBe(8_000_000);
    expect(frames[1].buffer).toBe(arr.buffer); // the array's own memory
    const out = fromFrames(frames) as { data: Record<string, Float64Array> };
    const got = out.data["('x', 1)"];
    expect(got).toBeInstanceOf(Float64Array);
    expect(got.buffer).toBe(arr.buffer); // a view over the received frame: no copy on decode either
    expect(got[123456]).toBe(arr[123456]);
  });

  it('views the received frame where aligned, copies only when misaligned', () => {
    const arr = new Float64Array(1000).map((_, i) => i * 1.5);
    const frames = toFrames({ a: arr }, { compression: 'none' });
    const at = (offset: number): Uint8Array[] => {
      const mem = new Uint8Array(offset + frames[1].byteLength);
      mem.set(frames[1], offset);
      return [frames[0], mem.subarray(offset)];
    };
    const aligned = at(16);
    const a = (fromFrames(aligned) as { a: Float64Array }).a;
    expect(a.buffer).toBe(aligned[1].buffer);
    expect(a.byteOffset).toBe(16);
    const misaligned = at(3);
    const m = (fromFrames(misaligned) as { a: Float64Array }).a;
    expect(m.buffer).not.toBe(misaligned[1].buffer);
    expect(m.byteOffset % 8).toBe(0);
    expect([...m]).toEqual([...arr]);
  });

  it('inlines small typed arrays in the body', () => {
    const frames = toFrames({ a: new Float64Array([1, 2, 3]) });
    expect(frames).toHaveLength(1);
    expect([...(fromFrames(frames) as { a: Float64Array }).a]).toEqual([1, 2, 3]);
  });
});

describe('compression', () => {
  it('compresses compressible frames (and records it per frame), not random ones', () => {
    const zeros = new Float64Array(1_000_000);
    const random = new Uint8Array(randomBytes(8_000_000));
    const frames = toFrames({ zeros, random });
    const h = head(frames);
    expect(h.compression).toEqual(['lz4', null]);
    expect(h.lengths).toEqual([8_000_000, 8_000_000]);
    expect(frames[1].byteLength).toBeLessThan(100_000);
    expect(frames[2].buffer).toBe(random.buffer);
    const out = fromFrames(frames) as { zeros: Float64Array; random: Uint8Array };
    expect(out.zeros).toBeInstanceOf(Float64Array);
    expect(out.zeros.length).toBe(zeros.length);
    expect(out.zeros.every((x) => x === 0)).toBe(true);
    expect(Buffer.from(out.random).equals(Buffer.from(random))).toBe(true);
  });

  it("never compresses with compression: 'none', nor frames under 1 kB", () => {
    const zeros = new Float64Array(100_000);
    const none = toFrames({ zeros }, { compression: 'none' });
    expect(head(none).compression).toEqual([null]);
    expect(none[1].buffer).toBe(zeros.buffer);
    const small = toFrames({ z: new Uint8Array(1000), w: new Uint8Array(1100) });
    expect(head(small).compression).toEqual([expect.anything()]);
    expect(head(small).lengths).toEqual([1100]); // the 1000-byte array went inline
    expect(() => toFrames({}, { compression: 'zstd' as 'none' })).toThrow(TypeError);
  });

  it('compresses a large compressible body as its own frame', () => {
    const msg = { op: 'update-graph', keys: Array.from({ length: 20000 }, (_, i) => `('inc-0123456789abcdef', ${i})`) };
    const frames = toFrames(msg);
    expect(frames).toHaveLength(2);
    const h = head(frames);
    expect('body' in h).toBe(false);
    expect(h.compression).toEqual(['lz4']);
    expect(frames[1].byteLength).toBeLessThan((h.lengths as number[])[0] * 0.9);
    expect(fromFrames(frames)).toStrictEqual(msg);
    expect(toFrames(msg, { compression: 'none' })).toHaveLength(1);
  });
});

describe('Serialize and Serialized', () => {
  const payload = () => ({ fn: { kind: 'kernel', name: 'array.sum-chunk' }, args: ["('x', 1)", new Float64Array(50_000), new Map([['axis', 0]])] });

  it('decodes Serialize()d values by default', () => {
    const msg = { op: 'compute-task', key: 'y', run_spec: new Serialize(payload()) };
    expect(fromFrames(toFrames(msg))).toStrictEqual({ ...msg, run_spec: payload() });
  });

  it('keeps them opaque with deserialize: false, and they pass through unchanged', () => {
    const msg = { op: 'compute-task', key: 'y', run_spec: new Serialize(payload()), data: [new Serialize(new Int32Array(3000).fill(4))] };
    const sent = toFrames(msg);
    const atScheduler = fromFrames(sent, { deserialize: false }) as { run_spec: Serialized; data: Serialized[] };
    expect(atScheduler.run_spec).toBeInstanceOf(Serialized);
    expect(atScheduler.run_spec.header.serializer).toBe('msgpack');
    expect(atScheduler.run_spec.header.compression).toEqual([null, 'lz4']); // the zeros compressed once, at the client
    expect(atScheduler.data[0].header.serializer).toBe('typed');
    const relayed = toFrames({ op: 'relay', task: atScheduler });
    // The opaque frames go on as the very same bytes: nothing was decoded or recompressed.
    for (const f of atScheduler.run_spec.frames) expect(relayed).toContain(f);
    const atWorker = fromFrames(relayed) as { task: { run_spec: unknown; data: Int32Array[] } };
    expect(atWorker.task.run_spec).toStrictEqual(payload());
    expect(atWorker.task.data[0]).toStrictEqual(new Int32Array(3000).fill(4));
  });

  it('sends a hand-made Serialized as a part', () => {
    const bytes = new Uint8Array(4096).map((_, i) => i % 7);
    const s = new Serialized({ serializer: 'typed', dtype: 'uint16' }, [bytes]);
    const out = fromFrames(toFrames({ s })) as { s: Uint16Array };
    expect(new Uint8Array(out.s.buffer, out.s.byteOffset, out.s.byteLength)).toEqual(bytes);
    const opaque = fromFrames(toFrames({ s }, { compression: 'none' }), { deserialize: false }) as { s: Serialized };
    expect(opaque.s.header).toMatchObject({ serializer: 'typed', dtype: 'uint16', compression: [null], lengths: [4096] });
    expect(() => toFrames({ s: new Serialized({ serializer: 'typed', compression: ['lz4'] }, []) })).toThrow(TypeError);
  });

  it('carries a small Serialized (one frame under 1 kB, a flat header) inside the body, opaque or decoded as a part is', () => {
    const s = new Serialized({ serializer: 'typed', dtype: 'uint16' }, [new Uint8Array([1, 0, 2, 0])]);
    const frames = toFrames({ s, n: new Serialize(7) });
    expect(frames).toHaveLength(1);
    const out = fromFrames(frames) as { s: Uint16Array; n: number };
    expect([...out.s]).toEqual([1, 2]);
    expect(out.n).toBe(7);
    const opaque = fromFrames(frames, { deserialize: false }) as { s: Serialized; n: Serialized };
    expect(opaque.s).toBeInstanceOf(Serialized);
    expect(opaque.s.header).toEqual({ serializer: 'typed', dtype: 'uint16' });
    expect([...opaque.s.frames[0]]).toEqual([1, 0, 2, 0]);
    // Relayed (the scheduler), it arrives as it left the first sender.
    expect(fromFrames(toFrames({ relayed: opaque }))).toEqual({ relayed: { s: new Uint16Array([1, 2]), n: 7 } });
    // A header that is not flat data, or more than one frame: a part, as before.
    const nested = new Serialized({ serializer: 'ndarray', dtype: 'uint8', shape: [2] }, [new Uint8Array([1, 2])]);
    expect(toFrames({ nested })).toHaveLength(2);
  });

  it('decodes a large part referenced twice once; a small one travels (and decodes) per reference', () => {
    const part = new Serialize({ a: new Float64Array(1000).fill(1) });
    const out = roundTrip({ x: part, y: part }) as { x: unknown; y: unknown };
    expect(out.x).toEqual({ a: new Float64Array(1000).fill(1) });
    expect(out.y).toBe(out.x);
    const small = new Serialize({ a: 1 });
    const twice = roundTrip({ x: small, y: small }) as { x: unknown; y: unknown };
    expect(twice).toEqual({ x: { a: 1 }, y: { a: 1 } });
  });
});

describe('values that cannot travel', () => {
  class Foo {}
  const cases: [string, unknown, RegExp][] = [
    ['a function', { op: 'x', args: [1, 2, function inc() {}] }, /cannot serialize a function \('inc'\) at msg\.args\[2\]/],
    ['an arrow function', { args: [1, 2, () => 1] }, /a function at msg\.args\[2\]/],
    ['a class instance', { args: [1, 2, new Foo()] }, /an instance of Foo at msg\.args\[2\]: register a serializer/],
    ['a symbol', { s: Symbol('q') }, /a symbol at msg\.s/],
    ['a WeakMap', { 'a b': [new WeakMap()] }, /an instance of WeakMap at msg\["a b"\]\[0\]/],
    ['inside a Map', { m: new Map([['k', new Foo()]]) }, /Foo at msg\.m\.get\("k"\)/],
    ['inside a Set', { s: new Set([1, new Foo()]) }, /Foo at msg\.s\.values\(\)\[1\]/],
    ['inside a Serialize', { run: new Serialize({ f: Math.max }) }, /function \('max'\) at msg\.run\.value\.f/],
    ['a boxed string', { s: new String('x') }, /an instance of String at msg\.s/],
    ['a promise', { p: Promise.resolve(1) }, /an instance of Promise at msg\.p/],
  ];
  for (const [what, msg, re] of cases) {
    it(`refuses ${what}, naming it and where it is`, () => {
      expect(() => toFrames(msg)).toThrow(TypeError);
      expect(() => toFrames(msg)).toThrow(re);
    });
  }

  it('refuses cycles and absurd nesting', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = { back: [a] };
    expect(() => toFrames({ a })).toThrow(/cyclic reference at msg\.a\.self\.back\[0\]/);
    const cyc = new Serialize(null);
    const loop = { s: cyc };
    (cyc as { value: unknown }).value = loop;
    expect(() => toFrames(loop)).toThrow(/cyclic/);
    let deep: unknown = 1;
    for (let i = 0; i < 2000; i++) deep = [deep];
    expect(() => toFrames(deep)).toThrow(/nested deeper than/);
  });

  it('allows the same value twice (a DAG, not a cycle)', () => {
    const shared = { v: [1, 2] };
    expect(roundTrip({ a: shared, b: [shared, shared] })).toStrictEqual({ a: shared, b: [shared, shared] });
  });
});

describe('malformed frames are an Error, never a crash or a hang', () => {
  const good = () =>
    toFrames({
      op: 'x',
      a: new Float64Array(5000).fill(1.5),
      r: new Uint8Array(randomBytes(3000)),
      s: new Serialize({ q: new Int16Array(2000) }),
      m: new Map([[1, 2]]),
    });

  const expectProtocolError = (frames: readonly Uint8Array[], re?: RegExp) => {
    let err: unknown;
    try {
      fromFrames(frames);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    if (re) expect((err as Error).message).toMatch(re);
  };

  it('refuses missing, extra and truncated frames', () => {
    const f = good();
    expect(f.length).toBeGreaterThan(2);
    expectProtocolError([]);
    expectProtocolError(f.slice(0, -1), /declare/);
    expectProtocolError([...f, new Uint8Array(3)], /declare/);
    expectProtocolError([f[0].subarray(0, f[0].byteLength - 5), ...f.slice(1)]);
    for (let i = 1; i < f.length; i++) {
      const cut = f.slice();
      cut[i] = f[i].subarray(0, f[i].byteLength - 1);
      expectProtocolError(cut);
    }
    expect(() => fromFrames('nope' as unknown as Uint8Array[])).toThrow(TypeError);
    expectProtocolError([f[0], 'x' as unknown as Uint8Array]);
  });

  it('refuses a wrong or foreign header', () => {
    expectProtocolError([new Uint8Array([0xc1])]);
    expectProtocolError([new Uint8Array(0)]);
    expectProtocolError([pack('hello')], /not a message header/);
    expectProtocolError([pack({ v: 2, tagged: false, body: 1 })], /version/);
    expectProtocolError([pack({ v: 1, tagged: false })], /no body/);
    expectProtocolError([pack({ v: 1, tagged: true, body: { '\u0000': 'zz' } })], /unknown tag/);
    expectProtocolError([pack({ v: 1, tagged: true, body: { '\u0000': 't', d: 'float64', f: 0 } })], /no data frame/);
    expectProtocolError([pack({ v: 1, tagged: true, body: { '\u0000': 't', d: 'float99', b: new Uint8Array(8) } })], /dtype/);
    expectProtocolError([pack({ v: 1, tagged: true, body: { '\u0000': 't', d: 'float64', b: new Uint8Array(7) } })], /whole number/);
    expectProtocolError([pack({ v: 1, tagged: true, body: { '\u0000': 'p', i: 0 } })], /no part/);
    expectProtocolError([pack({ v: 1, tagged: true, body: { '\u0000': 'nd', d: 'float64', s: [1e9, 1e9], b: new Uint8Array(8) } })], /ndarray/);
    expectProtocolError([pack({ v: 1, tagged: true, body: { '\u0000': 'big', v: '12abc' } })], /bigint/);
    expectProtocolError([pack({ v: 1, tagged: false, body: 1, parts: [{ compression: [null], lengths: [1] }] }), new Uint8Array(1)], /serializer/);
    expectProtocolError([pack({ v: 1, tagged: false, body: 1, parts: [{ serializer: 'typed', compression: [null], lengths: [1] }] })], /more frames/);
    expectProtocolError([pack({ v: 1, tagged: false, body: 1, parts: 'x' })], /parts/);
  });

  it('refuses absurd declared lengths and frame counts without allocating them', () => {
    const frame = new Uint8Array(10);
    expectProtocolError([pack({ v: 1, tagged: false, body: 1, compression: [null], lengths: [2 ** 40] }), frame], /header says/);
    expectProtocolError([pack({ v: 1, tagged: false, body: 1, compression: [null], lengths: [-1] }), frame], /length/);
    expectProtocolError([pack({ v: 1, tagged: false, body: 1, compression: [null, null], lengths: [10, 10] }), frame], /more frames/);
    const many = new Array(100_000).fill(null);
    expectProtocolError([pack({ v: 1, tagged: false, body: 1, compression: many, lengths: many.map(() => 1) }), frame], /more frames/);
    // An lz4 frame that claims to expand to 4 GiB - 1 (its prefix and its header agree).
    const lying = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x10, 0x61]);
    const t0 = performance.now();
    expectProtocolError([pack({ v: 1, tagged: false, body: 1, compression: ['lz4'], lengths: [2 ** 32 - 1] }), lying], /cannot expand/);
    expectProtocolError([pack({ v: 1, tagged: false, body: 1, compression: ['lz4'], lengths: [5] }), lying], /declares/);
    expectProtocolError([pack({ v: 1, tagged: false, body: 1, compression: ['lz4'], lengths: [5] }), new Uint8Array(2)], /too short/);
    expectProtocolError([pack({ v: 1, tagged: false, body: 1, compression: ['zstd'], lengths: [10] }), frame], /compression/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('refuses corrupt lz4 data', () => {
    const zeros = new Float64Array(10_000);
    const f = toFrames({ zeros });
    expect(head(f).compression).toEqual(['lz4']);
    const corrupt = Uint8Array.from(f[1]);
    corrupt.fill(0xff, 4, 12);
    expectProtocolError([f[0], corrupt], /lz4|corrupt/);
  });

  it('survives random corruption of valid frames (fuzz)', () => {
    const samples = [
      good(),
      toFrames({ op: 'task-finished', key: "('x', 3)", nbytes: 8, startstops: [{ start: 1, stop: 2 }] }),
      toFrames({ z: new Float64Array(20000), s: new Serialize(new Map([['a', [1n, new Date(1)]]])) }),
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: samples.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (which, edits) => {
          const frames = samples[which].map((f) => Uint8Array.from(f));
          for (const [fi, at, byte] of edits) {
            const fr = frames[fi % frames.length];
            if (fr.byteLength > 0) fr[at % fr.byteLength] = byte;
          }
          try {
            fromFrames(frames);
            fromFrames(frames, { deserialize: false });
          } catch (e) {
            expect(e).toBeInstanceOf(Error);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});
