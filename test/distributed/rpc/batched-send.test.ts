import { afterEach, describe, expect, it } from 'vitest';
import { connect, listen, type Comm } from '../../../src/distributed/comm/index.js';
import { CommClosedError } from '../../../src/distributed/comm/errors.js';
import { BatchedSend, handleStream, type AnyMessage } from '../../../src/distributed/rpc/index.js';
import { captureLogger, sleep, until, within } from '../comm/helpers.js';

interface Stream {
  'task-finished': { key: string; i: number };
  'heartbeat': { now: number };
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A connected pair: `sender` on the client side, `receiver` accepted by a listener. */
async function pair(): Promise<{ sender: Comm; receiver: Comm }> {
  let receiver: Comm | undefined;
  const listener = await listen('127.0.0.1:0', (c) => {
    receiver = c;
  });
  cleanup.push(() => listener.close());
  const sender = await connect(listener.address, { timeoutMs: 2000 });
  cleanup.push(() => sender.close());
  await until(() => receiver !== undefined, 2000);
  return { sender, receiver: receiver! };
}

/** Reads raw batches (arrays) until `count` messages have arrived. */
async function readBatches(comm: Comm, count: number): Promise<unknown[][]> {
  const batches: unknown[][] = [];
  let n = 0;
  while (n < count) {
    const b = (await comm.read()) as unknown[];
    expect(Array.isArray(b)).toBe(true);
    batches.push(b);
    n += b.length;
  }
  return batches;
}

describe('BatchedSend', () => {
  it('sends everything sent in one tick as one batch, in order', async () => {
    const { sender, receiver } = await pair();
    const bs = new BatchedSend<AnyMessage<Stream>>(sender, { intervalMs: 5 });
    for (let i = 0; i < 1000; i++) bs.send({ op: 'task-finished', key: `x-${i}`, i });
    expect(bs.buffered).toBe(1000);
    const batches = await within(3000, readBatches(receiver, 1000));
    expect(batches).toHaveLength(1);
    expect(batches[0].map((m) => (m as { i: number }).i)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(bs.batches).toBe(1);
    expect(bs.messages).toBe(1000);
  });

  it('batches a steady trickle by the interval, keeping order across batches', async () => {
    const { sender, receiver } = await pair();
    const bs = new BatchedSend(sender, { intervalMs: 20 });
    const reading = readBatches(receiver, 60);
    const t0 = performance.now();
    for (let i = 0; i < 60; i++) {
      bs.send({ op: 'heartbeat', now: i });
      await sleep(1);
    }
    const elapsed = performance.now() - t0;
    const batches = await within(3000, reading);
    // At most one batch per 20 ms (plus the first and the last): a handful, not 60.
    expect(batches.length).toBeGreaterThanOrEqual(2);
    expect(batches.length).toBeLessThanOrEqual(Math.ceil(elapsed / 20) + 2);
    expect(batches.length).toBeLessThan(30);
    expect(batches.flat().map((m) => (m as { now: number }).now)).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });

  it('sends the first message after a quiet spell without waiting for the interval', async () => {
    const { sender, receiver } = await pair();
    const bs = new BatchedSend(sender, { intervalMs: 500 });
    const t0 = Date.now();
    bs.send({ op: 'heartbeat', now: 0 });
    await within(2000, receiver.read());
    expect(Date.now() - t0).toBeLessThan(250);
    bs.send({ op: 'heartbeat', now: 1 }); // within the interval: waits for it
    const t1 = Date.now();
    await within(2000, receiver.read());
    expect(Date.now() - t1).toBeGreaterThanOrEqual(300);
  });

  it('close() flushes what is buffered and closes the comm', async () => {
    const { sender, receiver } = await pair();
    const bs = new BatchedSend(sender, { intervalMs: 50 });
    bs.send({ op: 'heartbeat', now: 0 });
    await sleep(5);
    for (let i = 1; i <= 100; i++) bs.send({ op: 'heartbeat', now: i });
    await within(3000, bs.close());
    expect(sender.closed).toBe(true);
    const got: unknown[] = [];
    for await (const batch of receiver) got.push(...(batch as unknown[]));
    expect(got).toHaveLength(101);
    expect(() => bs.send({ op: 'heartbeat', now: 0 })).toThrow(CommClosedError);
  });

  it('throws on send once the comm has failed', async () => {
    const { logger, records } = captureLogger();
    const { sender, receiver } = await pair();
    const bs = new BatchedSend(sender, { logger });
    receiver.abort();
    await until(() => sender.closed, 2000);
    expect(() => bs.send({ op: 'heartbeat', now: 0 })).toThrow(CommClosedError);
    expect(records).toEqual([]);
  });

  it('checks its options', () => {
    expect(() => new BatchedSend({} as Comm, { intervalMs: -1 })).toThrow("BatchedSend option 'intervalMs' must be a number >= 0");
  });
});

describe('handleStream', () => {
  it('dispatches each message of each batch to its handler, in order, until the comm closes', async () => {
    const { sender, receiver } = await pair();
    const seen: string[] = [];
    const done = handleStream<Stream>(receiver, {
      'task-finished': ({ key }) => void seen.push(key),
      heartbeat: async ({ now }) => {
        await sleep(1);
        seen.push(`hb-${now}`);
      },
    });
    const bs = new BatchedSend<AnyMessage<Stream>>(sender);
    bs.send({ op: 'task-finished', key: 'a', i: 0 }, { op: 'heartbeat', now: 1 });
    await sleep(10);
    await sender.write({ op: 'task-finished', key: 'single', i: 2 }); // an unbatched message is fine too
    bs.send({ op: 'task-finished', key: 'b', i: 1 });
    await bs.close();
    await within(3000, done);
    expect(seen).toEqual(['a', 'hb-1', 'single', 'b']);
  });

  it('aborts the stream, with a logged error, on an unknown op', async () => {
    const { logger, records } = captureLogger();
    const { sender, receiver } = await pair();
    const seen: number[] = [];
    const done = handleStream<Stream>(
      receiver,
      { heartbeat: ({ now }) => void seen.push(now), 'task-finished': () => undefined },
      { logger },
    );
    await sender.write([{ op: 'heartbeat', now: 1 }, { op: 'bogus' }, { op: 'heartbeat', now: 2 }]);
    await within(3000, done);
    expect(seen).toEqual([1]);
    expect(receiver.closed).toBe(true);
    expect(records.map((r) => [r.level, r.message])).toContainEqual([
      'error',
      `closed the stream from ${receiver.peer}: unknown operation 'bogus'; known: heartbeat, task-finished`,
    ]);
  });

  it('aborts the stream when a handler throws', async () => {
    const { logger, records } = captureLogger();
    const { sender, receiver } = await pair();
    const done = handleStream<Stream>(
      receiver,
      {
        heartbeat: () => {
          throw new Error('bad heartbeat');
        },
        'task-finished': () => undefined,
      },
      { logger },
    );
    await sender.write({ op: 'heartbeat', now: 1 });
    await within(3000, done);
    expect(records.some((r) => r.level === 'error' && r.message.includes("stream handler 'heartbeat' failed: bad heartbeat"))).toBe(true);
  });
});
