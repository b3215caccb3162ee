import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { connect, framesCodec, type Comm } from '../../../src/distributed/comm/index.js';
import { CommClosedError, ConnectError } from '../../../src/distributed/comm/errors.js';
import { ConnectionPool, rpc, RpcError, Server } from '../../../src/distributed/rpc/index.js';
import { captureLogger, rawSocket, sleep, socketClosed, u64, until, within } from '../comm/helpers.js';

interface TestOps {
  add: { request: { x: number; y: number }; reply: number };
  echo: { request: { value: unknown }; reply: unknown };
  fail: { request: { why: string }; reply: never };
  slow: { request: { ms: number }; reply: 'done' };
  whoami: { request: object; reply: string };
  badReply: { request: object; reply: object };
}
interface TestStreams {
  count: { upTo: number };
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function failingHandler(why: string): never {
  throw new TypeError(`refused: ${why}`);
}

async function startServer() {
  const { logger, records } = captureLogger('server');
  const server = new Server<TestOps, TestStreams>({
    name: 'test-server',
    logger,
    handlers: {
      add: ({ x, y }) => x + y,
      echo: ({ value }) => value,
      fail: ({ why }) => failingHandler(why),
      slow: async ({ ms }) => {
        await sleep(ms);
        return 'done' as const;
      },
      whoami: (_msg, comm) => comm.peer,
      badReply: () => ({
        get field(): never {
          throw new Error('this getter cannot be read');
        },
      }),
    },
    streams: {
      count: async ({ upTo }, comm) => {
        for (let i = 1; i <= upTo; i++) await comm.write(i);
      },
    },
  });
  const address = await server.listen();
  cleanup.push(() => server.close());
  return { server, address, records };
}

function pool(options: ConstructorParameters<typeof ConnectionPool>[0] = {}): ConnectionPool {
  const p = new ConnectionPool({ connectTimeoutMs: 2000, ...options });
  cleanup.push(() => p.close());
  return p;
}

describe('Server and rpc', () => {
  it('answers typed requests', async () => {
    const { address } = await startServer();
    const remote = rpc<TestOps>(address);
    cleanup.push(() => remote.close());
    const sum = await within(2000, remote.call({ op: 'add', x: 1, y: 2 }));
    expectTypeOf(sum).toEqualTypeOf<number>();
    expect(sum).toBe(3);
    expect(await remote.call({ op: 'echo', value: { a: [1, 'b', null] } })).toEqual({ a: [1, 'b', null] });
    // @ts-expect-error: 'y' is missing
    void remote.call({ op: 'add', x: 1 }).catch(() => undefined);
    // @ts-expect-error: not an op of TestOps
    void remote.call({ op: 'nope' }).catch(() => undefined);
  });

  it('serves many concurrent requests through a pool with few connections', async () => {
    const { address, server } = await startServer();
    const p = pool({ limit: 8 });
    let maxOpen = 0;
    let maxServed = 0;
    const calls = Array.from({ length: 1000 }, async (_, i) => {
      const r = await p.call<number>(address, { op: 'add', x: i, y: 1 });
      maxOpen = Math.max(maxOpen, p.open);
      maxServed = Math.max(maxServed, server.comms.size);
      return r;
    });
    const results = await within(10_000, Promise.all(calls));
    expect(results).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(maxOpen).toBeLessThanOrEqual(8);
    expect(maxServed).toBeLessThanOrEqual(8);
    expect(p.active).toBe(0);
    expect(p.idle).toBe(p.open);
  });

  it('reuses one idle connection for sequential calls', async () => {
    const { address } = await startServer();
    const p = pool();
    const peers = new Set<string>();
    for (let i = 0; i < 20; i++) peers.add(await within(2000, p.call<string>(address, { op: 'whoami' })));
    expect(peers.size).toBe(1);
    expect(p.open).toBe(1);
  });

  it('answers an unknown op with an error naming the known ops, and keeps the connection', async () => {
    const { address, records } = await startServer();
    const p = pool();
    const before = await p.call<string>(address, { op: 'whoami' });
    const e = await p.call(address, { op: 'frobnicate' }).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(RpcError);
    expect((e as RpcError).message).toBe("unknown operation 'frobnicate'; known: add, badReply, count, echo, fail, slow, whoami");
    expect((e as RpcError).name).toBe('UnknownOpError');
    expect((e as RpcError).op).toBe('frobnicate');
    expect(await p.call<string>(address, { op: 'whoami' })).toBe(before); // same connection
    expect(records.some((r) => r.level === 'warn' && r.message.includes("unknown operation 'frobnicate'"))).toBe(true);
  });

  it("never takes a prototype property such as 'toString' for an op", async () => {
    const { address } = await startServer();
    await expect(within(2000, pool().call(address, { op: 'toString' }))).rejects.toThrow("unknown operation 'toString'");
  });

  it('turns a throwing handler into an error with the remote message and stack; the connection stays', async () => {
    const { address } = await startServer();
    const p = pool();
    const e = (await p.call(address, { op: 'fail', why: 'no reason' }).then(() => undefined, (x: unknown) => x)) as RpcError;
    expect(e).toBeInstanceOf(RpcError);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('TypeError');
    expect(e.message).toBe('refused: no reason');
    expect(e.stack).toContain('failingHandler'); // the server-side frame
    expect(e.stack).toContain(`--- rpc 'fail' to ${address}, called from ---`);
    expect(e.address).toBe(address);
    expect(p.open).toBe(1);
    expect(await p.call(address, { op: 'add', x: 2, y: 2 })).toBe(4);
    expect(p.open).toBe(1);
  });

  it('closes a connection that sends a message without an op, with a logged error', async () => {
    const { address, server, records } = await startServer();
    const c = await connect(address, { timeoutMs: 2000 });
    cleanup.push(() => c.close());
    await c.write({ hello: 'there' });
    expect(await within(2000, c.read())).toMatchObject({
      status: 'error',
      message: "malformed message: expected an object with a string 'op', got an object with keys [hello]",
    });
    await expect(within(2000, c.read())).rejects.toBeInstanceOf(CommClosedError);
    expect(records.some((r) => r.level === 'error' && r.message.includes('malformed message'))).toBe(true);
    await until(() => server.comms.size === 0, 2000);
  });

  it('keeps serving a second client after a first sends garbage', async () => {
    const { address, records } = await startServer();
    const raw = await rawSocket(address);
    cleanup.push(() => void raw.destroy());
    raw.write(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]));
    await within(2000, socketClosed(raw), 'the garbage connection closing');
    await until(() => records.some((r) => r.level === 'error'), 2000, 'a logged error');
    const err = records.find((r) => r.level === 'error')!;
    expect(err.message).toMatch(/^closed the connection from tcp:\/\/127\.0\.0\.1:\d+: a message declares \d+ frames, above the limit of \d+ \(maxFrames\) \[ERR_TOO_MANY_FRAMES\]$/);
    expect(await within(2000, pool().call(address, { op: 'add', x: 20, y: 22 }))).toBe(42);
  });

  it('closes a connection that declares a frame above the limit, without allocating it', async () => {
    const { logger, records } = captureLogger();
    const server = new Server<TestOps>({
      logger,
      comm: { limits: { maxFrameBytes: 1 << 20 } },
      handlers: {
        add: ({ x, y }) => x + y,
        echo: ({ value }) => value,
        fail: () => failingHandler('x'),
        slow: () => 'done',
        whoami: () => '',
        badReply: () => ({}),
      },
    });
    const address = await server.listen('127.0.0.1:0');
    cleanup.push(() => server.close());
    const before = process.memoryUsage().arrayBuffers;
    const raw = await rawSocket(address);
    cleanup.push(() => void raw.destroy());
    raw.write(Buffer.concat([u64(1), u64(1.5 * 2 ** 30)])); // 1.5 GiB declared, nothing sent
    await within(2000, socketClosed(raw));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(100 * 2 ** 20);
    await until(() => records.some((r) => r.level === 'error'), 2000);
    expect(records.find((r) => r.level === 'error')!.message).toContain(
      'frame 0 of 1 declares 1610612736 bytes, above the limit of 1048576 bytes per frame (maxFrameBytes) [ERR_FRAME_TOO_LARGE]',
    );
    expect(await within(2000, pool().call(address, { op: 'add', x: 1, y: 1 }))).toBe(2);
  });

  it('hands a stream op the comm, which closes when the handler returns', async () => {
    const { address } = await startServer();
    const c = await connect(address, { timeoutMs: 2000 });
    cleanup.push(() => c.close());
    await c.write({ op: 'count', upTo: 5 });
    const got: unknown[] = [];
    await within(3000, (async () => {
      for await (const m of c) got.push(m);
    })());
    expect(got).toEqual([1, 2, 3, 4, 5]);
  });

  it('gives up on a slow reply after timeoutMs and does not reuse that connection', async () => {
    const { address } = await startServer();
    const p = pool();
    await expect(within(2000, p.call(address, { op: 'slow', ms: 1000 }, { timeoutMs: 50 }))).rejects.toThrow(
      "no reply to 'slow' from",
    );
    expect(p.open).toBe(0);
    expect(await within(2000, p.call(address, { op: 'slow', ms: 1 }))).toBe('done');
  });

  it('says clearly when nothing listens any more', async () => {
    const { address, server } = await startServer();
    const p = pool({ connectTimeoutMs: 200 });
    expect(await p.call(address, { op: 'add', x: 1, y: 1 })).toBe(2);
    await within(3000, server.close());
    await expect(within(3000, p.call(address, { op: 'add', x: 1, y: 1 }))).rejects.toSatisfy(
      (e) => e instanceof ConnectError || e instanceof CommClosedError,
    );
    await expect(within(3000, p.call(address, { op: 'add', x: 1, y: 1 }))).rejects.toThrow(
      `could not connect to ${address} within 200 ms: ECONNREFUSED`,
    );
  });

  it('works untyped: without a type argument the ops come from the handlers', async () => {
    const server = new Server({ handlers: { twice: (m: { n: number }) => m.n * 2 }, logger: captureLogger().logger });
    const address = await server.listen();
    cleanup.push(() => server.close());
    expect(await within(2000, pool().call(address, { op: 'twice', n: 21 }))).toBe(42);
    // @ts-expect-error: a typed server wants every op of its map
    void (() => new Server<TestOps>({ handlers: { add: ({ x, y }) => x + y } }));
  });

  it('checks its handler maps', () => {
    const add = () => 0;
    // @ts-expect-error: a handler must be a function
    expect(() => new Server<{ a: { request: object; reply: number } }>({ handlers: { a: 1 } })).toThrow("server handlers['a'] must be a function");
    expect(
      () =>
        new Server<{ a: { request: object; reply: number } }, { a: object }>({ handlers: { a: add }, streams: { a: add } }),
    ).toThrow("op 'a' is in both handlers and streams");
    expect(() => new Server({ handlers: {} }).address).toThrow('server is not listening');
  });

  it('replies with an error when the reply cannot be encoded, and keeps the connection', async () => {
    const { address } = await startServer();
    const p = pool();
    const peer = await p.call<string>(address, { op: 'whoami' });
    await expect(within(2000, p.call(address, { op: 'badReply' }))).rejects.toThrow(
      "the reply to 'badReply' could not be encoded: this getter cannot be read",
    );
    expect(await p.call<string>(address, { op: 'whoami' })).toBe(peer);
  });
});

describe('ConnectionPool', () => {
  it('closes idle connections to other addresses to stay under its limit', async () => {
    const a = await startServer();
    const b = await startServer();
    const p = pool({ limit: 2 });
    await p.call(a.address, { op: 'add', x: 0, y: 0 });
    await Promise.all([p.call(a.address, { op: 'slow', ms: 20 }), p.call(a.address, { op: 'slow', ms: 20 })]);
    expect(p.open).toBe(2);
    expect(await within(2000, p.call(b.address, { op: 'add', x: 1, y: 1 }))).toBe(2);
    expect(p.open).toBe(2);
    await until(() => a.server.comms.size === 1, 2000, 'one comm to a closed');
  });

  it('makes callers wait for a free connection at the limit', async () => {
    const { address, server } = await startServer();
    const p = pool({ limit: 1 });
    const order: number[] = [];
    await within(5000, Promise.all([0, 1, 2].map(async (i) => {
      await p.call(address, { op: 'slow', ms: 30 });
      order.push(i);
    })));
    expect(order).toEqual([0, 1, 2]);
    expect(server.comms.size).toBe(1);
  });

  it('rejects waiting and later calls once closed', async () => {
    const { address } = await startServer();
    const p = new ConnectionPool({ limit: 1 });
    const first = p.call(address, { op: 'slow', ms: 200 }).catch((e: unknown) => e);
    await sleep(20);
    const waiting = p.call(address, { op: 'add', x: 1, y: 1 }).catch((e: unknown) => e);
    await p.close();
    expect(await within(2000, waiting)).toMatchObject({ name: 'PoolClosedError', message: 'the connection pool is closed' });
    expect(await within(2000, first)).toBeInstanceOf(CommClosedError);
    await expect(p.call(address, { op: 'add', x: 1, y: 1 })).rejects.toThrow('the connection pool is closed');
    expect(p.open).toBe(0);
  });

  it('carries the comm options it is given (a different codec)', async () => {
    const server = new Server<{ size: { request: object; reply: number } }>({
      handlers: { size: () => 0 },
      logger: captureLogger().logger,
      comm: { codec: framesCodec },
    });
    const address = await server.listen();
    cleanup.push(() => server.close());
    const seen: Comm[] = [];
    const p = pool({
      comm: { codec: framesCodec },
      connect: async (addr, options) => {
        const c = await connect(addr, options);
        seen.push(c);
        return c;
      },
    });
    // A frames-codec server reads an array of bytes, which is not an op message: closed.
    await expect(within(2000, p.call(address, [new Uint8Array(1)] as never))).rejects.toThrow();
    expect(seen).toHaveLength(1);
  });
});
