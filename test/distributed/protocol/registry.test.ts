import ndarray from 'ndarray';
import { afterEach, describe, expect, it } from 'vitest';
import {
  deserialize,
  fromFrames,
  ProtocolError,
  registerSerializer,
  serialize,
  Serialize,
  Serialized,
  serializers,
  toFrames,
  unregisterSerializer,
} from '../../../src/distributed/protocol/index.js';

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

const pointSerializer = {
  name: 'test-point',
  test: (v: unknown) => v instanceof Point,
  serialize: (p: Point) => ({ header: { kind: 'point' }, frames: [new Uint8Array(new Float64Array([p.x, p.y]).buffer)] }),
  deserialize: (_h: Record<string, unknown>, frames: readonly Uint8Array[]) => {
    const f = new Float64Array(Uint8Array.from(frames[0]).buffer);
    return new Point(f[0], f[1]);
  },
  nbytes: () => 16,
};

afterEach(() => {
  unregisterSerializer('test-point');
});

describe('serialize / deserialize', () => {
  it('picks the built-in serializer by type', () => {
    expect(serialize(new Float32Array(3)).header).toEqual({ serializer: 'typed', dtype: 'float32' });
    expect(serialize(Buffer.from('x')).header).toEqual({ serializer: 'typed', dtype: 'buffer' });
    expect(serialize(ndarray(new Int16Array(6), [2, 3])).header).toEqual({ serializer: 'ndarray', dtype: 'int16', shape: [2, 3] });
    expect(serialize(new TypeError('bad')).header).toMatchObject({ serializer: 'error', name: 'TypeError', message: 'bad' });
    expect(serialize({ a: 1 }).header).toMatchObject({ serializer: 'msgpack' });
    expect(serialize(new Map([[1, 2]])).header).toMatchObject({ serializer: 'msgpack', tagged: true });
    expect(serializers().map((s) => s.name)).toEqual(['typed', 'ndarray', 'error', 'msgpack']);
  });

  it('does not copy typed-array bytes', () => {
    const a = new Float64Array(10).fill(2);
    const s = serialize(a);
    expect(s.frames[0].buffer).toBe(a.buffer);
    expect(deserialize(s)).toStrictEqual(a);
  });

  it('round-trips every kind of value', () => {
    const values: unknown[] = [
      1,
      'x',
      null,
      [1, [2]],
      { a: new Float64Array(5000).fill(1), m: new Map([['k', new Set([1n])]]) },
      new Int8Array([1, -1]),
      new Date(7),
      -0,
    ];
    for (const v of values) expect(deserialize(serialize(v))).toStrictEqual(v);
    const e = deserialize(serialize(new RangeError('r'))) as Error;
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('r');
    const nd = deserialize(serialize(ndarray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]).transpose(1, 0))) as ndarray.NdArray;
    expect(nd.shape).toEqual([3, 2]);
    expect(nd.get(2, 1)).toBe(6);
  });

  it('treats Serialize as transparent and Serialized as already done', () => {
    const s = serialize({ a: 1 });
    expect(serialize(s)).toBe(s);
    expect(deserialize(serialize(new Serialize({ a: [1] })))).toEqual({ a: [1] });
    // Serialize and Serialized nested inside a serialized value travel inline.
    const inner = serialize(new Uint16Array([7, 8]));
    expect(deserialize(serialize({ x: new Serialize([1]), y: inner }))).toEqual({ x: [1], y: new Uint16Array([7, 8]) });
  });

  it('names what cannot be serialized and where', () => {
    expect(() => serialize({ f: [() => 1] })).toThrow(/cannot serialize a function at value\.f\[0\]/);
    expect(() => serialize(new (class Bar {})())).toThrow(/an instance of Bar at value:/);
    expect(() => deserialize({ header: {}, frames: [] } as unknown as Serialized)).toThrow(TypeError);
  });

  it('refuses a Serialized naming an unknown serializer, or with bad frames', () => {
    expect(() => deserialize(new Serialized({ serializer: 'nope' }, []))).toThrow(/no serializer named 'nope'/);
    expect(() => deserialize(new Serialized({}, []))).toThrow(ProtocolError);
    expect(() => deserialize(new Serialized({ serializer: 'typed', dtype: 'float64' }, [new Uint8Array(3)]))).toThrow(ProtocolError);
    expect(() => deserialize(new Serialized({ serializer: 'typed', dtype: 'what' }, [new Uint8Array(8)]))).toThrow(ProtocolError);
    expect(() => deserialize(new Serialized({ serializer: 'ndarray', dtype: 'float64', shape: [2] }, [new Uint8Array(8)]))).toThrow(ProtocolError);
    expect(() => deserialize(new Serialized({ serializer: 'msgpack' }, [new Uint8Array([0xc1])]))).toThrow(ProtocolError);
    expect(() => deserialize(new Serialized({ serializer: 'typed', dtype: 'uint8', compression: ['lz4'], lengths: [10] }, [new Uint8Array(5)]))).toThrow(ProtocolError);
    expect(() => deserialize(new Serialized({ serializer: 'typed', dtype: 'uint8', compression: [null] }, [new Uint8Array(5)]))).toThrow(ProtocolError);
  });
});

describe('registerSerializer', () => {
  it('adds a serializer for a class, used anywhere in a message, as its own part', () => {
    registerSerializer(pointSerializer);
    const msg = { op: 'x', args: [1, new Point(3, 4), { nested: [new Point(5, 6)] }] };
    const out = fromFrames(toFrames(msg)) as typeof msg;
    expect(out.args[1]).toBeInstanceOf(Point);
    expect(out).toEqual(msg);
    expect(deserialize(serialize(new Point(1, 2)))).toEqual(new Point(1, 2));
    expect(serializers()[0].name).toBe('test-point');

    // The scheduler keeps it opaque, and can relay it.
    const opaque = fromFrames(toFrames(msg), { deserialize: false }) as { args: unknown[] };
    expect(opaque.args[1]).toBeInstanceOf(Serialized);
    expect((opaque.args[1] as Serialized).header).toMatchObject({ serializer: 'test-point', kind: 'point' });
    expect(fromFrames(toFrames(opaque))).toEqual(msg);
  });

  it('replaces a serializer registered under the same name', () => {
    registerSerializer(pointSerializer);
    registerSerializer({ ...pointSerializer, deserialize: () => 'replaced' });
    expect(fromFrames(toFrames([new Point(1, 1)]))).toEqual(['replaced']);
    expect(serializers().filter((s) => s.name === 'test-point')).toHaveLength(1);
  });

  it('fails clearly where the receiving side lacks the serializer', () => {
    registerSerializer(pointSerializer);
    const frames = toFrames({ p: new Point(1, 2) });
    unregisterSerializer('test-point');
    expect(() => fromFrames(frames)).toThrow(/no serializer named 'test-point'/);
    expect(fromFrames(frames, { deserialize: false })).toMatchObject({ p: expect.any(Serialized) });
  });

  it('refuses bad serializers and built-in names', () => {
    expect(() => registerSerializer({ ...pointSerializer, name: '' })).toThrow(TypeError);
    expect(() => registerSerializer({ ...pointSerializer, test: undefined as never })).toThrow(/test must be a function/);
    expect(() => registerSerializer({ ...pointSerializer, name: 'msgpack' })).toThrow(/built-in/);
    expect(unregisterSerializer('typed')).toBe(false);
  });

  it('reports a serializer that breaks its contract, with the place in the message', () => {
    registerSerializer({ ...pointSerializer, serialize: () => ({ header: { serializer: 'x' }, frames: [] }) });
    expect(() => toFrames({ args: [new Point(0, 0)] })).toThrow(/reserved header key 'serializer'.* at msg\.args\[0\]/);
    registerSerializer({ ...pointSerializer, serialize: () => ({ header: {}, frames: ['x' as unknown as Uint8Array] }) });
    expect(() => toFrames({ args: [new Point(0, 0)] })).toThrow(/returned no \{ header, frames \}/);
    registerSerializer({
      ...pointSerializer,
      serialize: () => {
        throw new Error('kaput');
      },
    });
    expect(() => toFrames({ a: { b: new Point(0, 0) } })).toThrow(/serializer 'test-point' threw: kaput\) at msg\.a\.b/);
  });
});
