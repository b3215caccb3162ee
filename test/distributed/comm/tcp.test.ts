import { createHash } from 'node:crypto';
import { connect as netConnect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CommClosedError,
  ConnectError,
  FrameError,
  connect,
  encodeHeader,
  framesCodec,
  jsonCodec,
  listen,
  normalizeAddress,
  parseAddress,
  type Comm,
  type Listener,
} from '../../../src/distributed/comm/index.js';
import { tapAccepted } from '../../../src/distributed/comm/tcp-comm.js';
import { blockPool } from '../../../src/schedulers/block-pool.js';
import { closedPort, rawSocket, sleep, socketClosed, u64, until, within } from './helpers.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A listener whose comms arrive in `accepted`, closed after the test. */
async function server(options: Parameters<typeof listen>[2] = {}): Promise<{ listener: Listener; accepted: Comm[]; next(): Promise<Comm> }> {
  const accepted: Comm[] = [];
  const listener = await listen('tcp://127.0.0.1:0', (c) => void accepted.push(c), options);
  cleanup.push(() => listener.close());
  let taken = 0;
  return {
    listener,
    accepted,
    next: async () => {
      await until(() => accepted.length > taken, 5000, 'an accepted connection');
      return accepted[taken++];
    },
  };
}

async function client(address: string, options: Parameters<typeof connect>[1] = {}): Promise<Comm> {
  const c = await connect(address, { timeoutMs: 5000, ...options });
  cleanup.push(() => c.close());
  return c;
}

describe('addresses', () => {
  it('accepts tcp://host:port and host:port, IPv6 in brackets', () => {
    expect(parseAddress('tcp://127.0.0.1:8786')).toEqual({ host: '127.0.0.1', port: 8786 });
    expect(parseAddress('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseAddress('tcp://[::1]:99')).toEqual({ host: '::1', port: 99 });
    expect(normalizeAddress('10.0.0.1:5')).toBe('tcp://10.0.0.1:5');
    expect(normalizeAddress('[::1]:5')).toBe('tcp://[::1]:5');
  });

  it('rejects bad addresses with a TypeError that shows them', () => {
    expect(() => parseAddress('127.0.0.1')).toThrow("bad address '127.0.0.1'");
    expect(() => parseAddress('host:70000')).toThrow(TypeError);
    expect(() => parseAddress('host:')).toThrow(TypeError);
    expect(() => parseAddress('::1:80')).toThrow(TypeError);
    expect(() => parseAddress('inproc://x:1')).toThrow("unsupported address scheme 'inproc'");
  });
});

describe('TCP comms', () => {
  it('listens on port 0 at a real port and carries messages both ways', async () => {
    const { listener, next } = await server();
    expect(listener.address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(listener.address).not.toBe('tcp://127.0.0.1:0');
    const c = await client(listener.address.slice('tcp://'.length)); // the short form works too
    const s = await next();
    expect(c.peer).toBe(listener.address);
    expect(s.peer).toBe(c.local);
    await c.write({ op: 'hello', n: [1, 2, 3] });
    expect(await within(2000, s.read())).toEqual({ op: 'hello', n: [1, 2, 3] });
    await s.write('reply');
    expect(await within(2000, c.read())).toBe('reply');
  });

  it('keeps messages in order and iterates until an orderly close', async () => {
    const { listener, next } = await server();
    const c = await client(listener.address);
    const s = await next();
    for (let i = 0; i < 100; i++) void c.write(i);
    await c.close();
    const got: unknown[] = [];
    await within(3000, (async () => {
      for await (const m of s) got.push(m);
    })());
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(s.closed).toBe(true);
    expect(s.closeReason).toBeUndefined();
  });

  it('read and write reject with CommClosedError once the peer has closed', async () => {
    const { listener, next } = await server();
    const c = await client(listener.address);
    const s = await next();
    const pending = c.read().then(() => undefined, (e: unknown) => e);
    await s.close();
    expect(await within(2000, pending)).toBeInstanceOf(CommClosedError);
    await expect(c.read()).rejects.toThrow(`connection to ${listener.address} closed`);
    await until(() => c.closed, 2000);
    await expect(c.write('x')).rejects.toBeInstanceOf(CommClosedError);
  });

  it('rejects a message the codec cannot encode, and the comm stays usable', async () => {
    const { listener, next } = await server();
    const c = await client(listener.address);
    const s = await next();
    const unreadable = {
      get field(): never {
        throw new Error('this getter cannot be read');
      },
    };
    await expect(c.write(unreadable)).rejects.toThrow('this getter cannot be read');
    expect(c.closed).toBe(false);
    await c.write('after');
    expect(await within(2000, s.read())).toBe('after');
  });

  it('refuses to send a message above its own frame limits, without closing', async () => {
    const { listener } = await server({ codec: framesCodec });
    const c = await client(listener.address, { codec: framesCodec, limits: { maxFrameBytes: 100 } });
    await expect(c.write([new Uint8Array(101)])).rejects.toMatchObject({ code: 'ERR_FRAME_TOO_LARGE' });
    await expect(c.write([])).rejects.toMatchObject({ code: 'ERR_NO_FRAMES' });
    expect(c.closed).toBe(false);
  });

  // Accepted sockets read Node's 64 KiB chunks; connecting ones read through a reused buffer.
  const directions = [
    { name: 'to the listening side', flip: false },
    { name: 'to the connecting side', flip: true },
  ];

  it.each(directions)('moves a 50 MB frame intact, next to small frames ($name)', async ({ flip }) => {
    const { listener, next } = await server({ codec: framesCodec });
    const a = await client(listener.address, { codec: framesCodec });
    const b = await next();
    const [c, s] = flip ? [b, a] : [a, b];
    const big = new Uint8Array(50 * 2 ** 20);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
    big[big.length - 1] = 42;
    const sent = [Uint8Array.from([1, 2, 3]), big, new Uint8Array(0), Uint8Array.from([4])];
    const [, got] = await within(10_000, Promise.all([c.write(sent), s.read() as Promise<Uint8Array[]>]));
    expect(got.map((f) => f.byteLength)).toEqual([3, big.length, 0, 1]);
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(sha(got[1])).toBe(sha(big));
    expect(Array.from(got[0])).toEqual([1, 2, 3]);
  });

  it('reads an accepted socket through onread: reads larger than the 64 KiB chunks of data events', async () => {
    const sizes: number[] = [];
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const total = 4 * 2 ** 20;
    let got = 0;
    const srv = createServer((socket) => {
      const tap = tapAccepted(socket);
      expect(tap).toBeDefined();
      tap!.attach(
        (view) => {
          sizes.push(view.byteLength);
          if ((got += view.byteLength) >= total) done();
          return true;
        },
        () => undefined,
      );
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => srv.close(() => r())));
    const sock = netConnect((srv.address() as { port: number }).port, '127.0.0.1');
    cleanup.push(() => void sock.destroy());
    sock.write(new Uint8Array(total));
    await within(5000, all);
    expect(got).toBe(total);
    expect(Math.max(...sizes)).toBeGreaterThan(65536);
  });

  it.each(directions)('makes a writer wait for a slow reader instead of buffering without bound ($name)', async ({ flip }) => {
    const MiB = 2 ** 20;
    const { listener, next } = await server({ codec: framesCodec, readBufferBytes: MiB });
    const a = await client(listener.address, { codec: framesCodec, readBufferBytes: MiB });
    const b = await next();
    const [c, s] = flip ? [b, a] : [a, b];
    const frame = new Uint8Array(MiB).fill(1);
    const total = 200;
    let written = 0;
    const writer = (async () => {
      for (let i = 0; i < total; i++) {
        await c.write([frame]);
        written++;
      }
    })();
    // Nobody reads: the writes stall once the reader's buffer and the kernel's are full.
    let last = -1;
    const deadline = Date.now() + 5000;
    while (written !== last && Date.now() < deadline) {
      last = written;
      await sleep(200);
    }
    expect(written).toBe(last); // no progress while nobody reads
    expect(written).toBeLessThan(64); // at most (reader buffer + kernel buffers) / 1 MiB
    // Reading drains it all, in order.
    let read = 0;
    await within(10_000, (async () => {
      while (read < total) {
        const [f] = (await s.read()) as Uint8Array[];
        expect(f.byteLength).toBe(MiB);
        read++;
      }
    })(), 'draining');
    await within(5000, writer, 'the writer');
    expect(written).toBe(total);
  });

  it('closes a connection whose header declares a frame above the limit, and says why', async () => {
    const { listener, next } = await server({ limits: { maxFrameBytes: 1 << 20 } });
    const raw = await rawSocket(listener.address);
    cleanup.push(() => void raw.destroy());
    raw.write(Buffer.concat([u64(1), u64(2n ** 40n)]));
    const s = await next();
    const e = await within(2000, s.read().then(() => undefined, (x: unknown) => x));
    expect(e).toBeInstanceOf(CommClosedError);
    const reason = s.closeReason as FrameError;
    expect(reason).toBeInstanceOf(FrameError);
    expect(reason.code).toBe('ERR_FRAME_TOO_LARGE');
    expect((e as Error).message).toContain('declares 1099511627776 bytes, above the limit of 1048576 bytes per frame');
    await within(2000, socketClosed(raw), 'the raw socket closing');
  });

  it('closes a connection that sends garbage', async () => {
    const { listener, next } = await server();
    const raw = await rawSocket(listener.address);
    cleanup.push(() => void raw.destroy());
    raw.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const s = await next();
    await expect(within(2000, s.read())).rejects.toBeInstanceOf(CommClosedError);
    expect((s.closeReason as FrameError).code).toBe('ERR_TOO_MANY_FRAMES');
    await within(2000, socketClosed(raw));
  });

  it('closes a connection whose frames do not decode (well framed, malformed message)', async () => {
    const { listener, next } = await server({ codec: jsonCodec });
    const raw = await rawSocket(listener.address);
    cleanup.push(() => void raw.destroy());
    const body = Buffer.from('{not json');
    raw.write(Buffer.concat([encodeHeader([body]), body]));
    const s = await next();
    await expect(within(2000, s.read())).rejects.toThrow('a message could not be decoded');
    expect((s.closeReason as FrameError).code).toBe('ERR_MALFORMED_MESSAGE');
  });

  it('closes a connection whose frames are not a protocol message (the default codec)', async () => {
    const { listener, next } = await server();
    const raw = await rawSocket(listener.address);
    cleanup.push(() => void raw.destroy());
    const frames = [Buffer.from([0xc1]), Buffer.from('not msgpack')];
    raw.write(Buffer.concat([encodeHeader(frames), ...frames]));
    const s = await next();
    await expect(within(2000, s.read())).rejects.toThrow('a message could not be decoded');
    expect((s.closeReason as FrameError).code).toBe('ERR_MALFORMED_MESSAGE');
  });

  it('carries bytes, typed arrays, Maps and BigInts through the default codec', async () => {
    const { listener, next } = await server();
    const c = await client(listener.address);
    const s = await next();
    const msg = { op: 'put', data: new Float64Array([1.5, -2, 3]), big: new Uint8Array(100_000).fill(3), m: new Map([['k', 1n]]) };
    await c.write(msg);
    const got = (await within(2000, s.read())) as typeof msg;
    expect(got.data).toEqual(msg.data);
    expect(got.big).toEqual(msg.big);
    expect(got.m).toEqual(msg.m);
  });

  it.skipIf(process.env.DASK_TS_NATIVE === '0')('receives large frames one after another into the same memory once the last is dropped', async () => {
    // The block pool (schedulers/block-pool.ts): each 32 MB frame is its own block, and once the
    // previous message is gone the next lands in that block instead of in fresh pages.
    const pool = blockPool();
    expect(pool, 'build/Release/block_pool.node is missing: run `npm install`').not.toBeNull();
    const { listener, next } = await server();
    const c = await client(listener.address);
    const s = await next();
    const first = pool!.stats();
    const whole: number[] = []; // 1: the message arrived whole, in shared memory
    // Random numbers, which lz4 cannot shrink: a compressed frame would be decompressed elsewhere.
    const data = new Float64Array(4_000_000).map(() => Math.random());
    // In a function of its own, so no register of the test keeps the previous message alive.
    const receive = async (i: number) => {
      data[0] = i;
      await c.write({ op: 'put', data });
      const got = (await within(5000, s.read())) as { data: Float64Array };
      return got.data.buffer instanceof SharedArrayBuffer && got.data[0] === i && got.data[7] === data[7];
    };
    for (let i = 0; i < 4; i++) whole.push(Number(await receive(i)));
    const after = pool!.stats();
    expect(whole).toEqual([1, 1, 1, 1]);
    expect(after.reused - first.reused).toBeGreaterThanOrEqual(2);
    expect(after.mapped - first.mapped).toBeLessThanOrEqual(2);
  });

  it('reports a connection that ends inside a message', async () => {
    const { listener, next } = await server();
    const raw = await rawSocket(listener.address);
    raw.end(Buffer.concat([u64(1), u64(100), Buffer.alloc(10)]));
    const s = await next();
    await expect(within(2000, s.read())).rejects.toThrow('the connection ended in the middle of a message (10 of 100 body bytes received)');
    expect((s.closeReason as FrameError).code).toBe('ERR_TRUNCATED');
  });

  it('fails to connect to a closed port with a clear error within the timeout', async () => {
    const port = await closedPort();
    const start = Date.now();
    const e = await within(3000, connect(`127.0.0.1:${port}`, { timeoutMs: 300 }).then(() => undefined, (x: unknown) => x));
    const elapsed = Date.now() - start;
    expect(e).toBeInstanceOf(ConnectError);
    expect((e as Error).message).toBe(`could not connect to tcp://127.0.0.1:${port} within 300 ms: ECONNREFUSED`);
    expect((e as ConnectError).code).toBe('ECONNREFUSED');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1500);
  });

  it('fails at once for a host that does not resolve', async () => {
    const start = Date.now();
    await expect(within(10_000, connect('tcp://no-such-host.invalid:1', { timeoutMs: 5000 }))).rejects.toThrow(
      /^could not connect to tcp:\/\/no-such-host\.invalid:1: (ENOTFOUND|EAI_AGAIN)/,
    );
    expect(Date.now() - start).toBeLessThan(5000);
  });

  it('retries until a listener comes up within the timeout', async () => {
    const port = await closedPort();
    const pending = connect(`127.0.0.1:${port}`, { timeoutMs: 3000 });
    await sleep(150);
    const listener = await listen(`127.0.0.1:${port}`, () => undefined);
    cleanup.push(() => listener.close());
    const c = await within(3000, pending);
    cleanup.push(() => c.close());
    expect(c.peer).toBe(`tcp://127.0.0.1:${port}`);
  });

  it('checks its options', async () => {
    await expect(connect('127.0.0.1:1', { timeoutMs: 0 })).rejects.toThrow("connect option 'timeoutMs' must be a positive number");
    await expect(connect('nonsense')).rejects.toThrow(TypeError);
  });

  it('closing the listener closes the comms it accepted', async () => {
    const accepted: Comm[] = [];
    const listener = await listen('127.0.0.1:0', (c) => void accepted.push(c));
    const c = await client(listener.address);
    await until(() => accepted.length === 1, 2000);
    expect(listener.comms.size).toBe(1);
    await within(3000, listener.close());
    expect(accepted[0].closed).toBe(true);
    await expect(within(2000, c.read())).rejects.toBeInstanceOf(CommClosedError);
    await expect(connect(listener.address, { timeoutMs: 100 })).rejects.toBeInstanceOf(ConnectError);
  });

  it('aborts a comm whose onComm callback throws', async () => {
    const listener = await listen('127.0.0.1:0', () => {
      throw new Error('not today');
    });
    cleanup.push(() => listener.close());
    const c = await client(listener.address);
    await expect(within(2000, c.read())).rejects.toBeInstanceOf(CommClosedError);
  });
});

describe('messages of many serialised parts', () => {
  it('carries a message of 20,000 Serialize parts with the default limits (each part is a frame)', async () => {
    const { Serialize } = await import('../../../src/distributed/protocol/index.js');
    const srv = await server();
    const c = await client(srv.listener.address);
    const s = await srv.next();
    const data: Record<string, unknown> = {};
    for (let i = 0; i < 20_000; i++) data[`k-${i}`] = new Serialize(i);
    await within(10_000, c.write({ op: 'get-data-reply', data }));
    const got = (await within(10_000, s.read())) as { data: Record<string, unknown> };
    expect(Object.keys(got.data)).toHaveLength(20_000);
    expect(got.data['k-19999']).toBe(19_999);
  });
});
