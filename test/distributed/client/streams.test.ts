/**
 * Streams (issue 6): client.map over async iterables, client.gather of one, asCompleted of one, and
 * the manual's Queue pipeline in async-iterator form, with back pressure, errors and cancellation.
 */
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { asCompleted, CancelledError, Future, ShippingError, TaskError, type Client, type FutureStream, type ResultStream } from '../../../src/distributed/index.js';
import { startClient, until, type ClientFixture } from './fixture.js';

const inc = (x: number) => x + 1;
const double = (x: number) => 2 * x;
const add = (a: number, b: number) => a + b;
/** Resolves to v after ms (the task's promise is awaited on the worker). */
const sleepy = (ms: number, v: number) => new Promise<number>((resolve) => setTimeout(() => resolve(v), ms));
const failOn3 = (x: number) => {
  if (x === 3) throw new RangeError('three is not allowed');
  return x;
};

let fx: ClientFixture;
let client: Client;

beforeAll(async () => {
  fx = await startClient();
  client = fx.client;
});

afterEach(async () => {
  // Every stream hands back what it holds: nothing stays wanted, here or on the scheduler.
  await until(() => client.refcount.size === 0, 5000, `the client to hold no keys (holds ${[...client.refcount.keys()].join(', ')})`);
  await until(() => fx.cluster.scheduler.state.wantsWhat(client.id).length === 0, 5000, 'the scheduler to forget what the client wanted');
});

afterAll(async () => {
  fx.check();
  await fx.close();
});

/** An async source of 0, 1, 2, ... (up to `n`) that counts how far it was pulled and whether it was closed. */
function counter(n = Infinity, opts: { failAt?: number; delayMs?: number } = {}) {
  const state = { pulled: 0, closed: false };
  async function* gen() {
    try {
      for (let i = 0; i < n; i++) {
        if (opts.delayMs !== undefined) await new Promise((r) => setTimeout(r, opts.delayMs));
        if (i === opts.failAt) throw new Error(`source failed at ${i}`);
        state.pulled++;
        yield i;
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, source: gen() };
}

/**
 * An async iterable of `items` that is not an async generator: an async generator awaits what it
 * yields, so `yield future` would yield the Future's result.
 */
function streamOf<T>(items: readonly T[]): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      let i = 0;
      return { next: async () => (i < items.length ? { value: items[i++], done: false } : { value: undefined, done: true }) };
    },
  };
}

/**
 * A Future from `for await`. TypeScript models `for await` as awaiting each value, so over an
 * async iterable of awaitables it may type the variable as the awaited result (it does so after
 * inferring a generic call in that position); at run time the value is the Future itself.
 */
const asFuture = <R = number>(x: unknown) => x as Future<R>;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe('map over an async iterable', () => {
  it('yields one Future per element as it arrives, typed, and gather brings the results back', async () => {
    const { source } = counter(5, { delayMs: 1 });
    const futures = client.map(inc, source);
    expectTypeOf(futures).toEqualTypeOf<FutureStream<number>>();
    expectTypeOf(futures).toMatchTypeOf<AsyncIterable<Future<number>>>();
    const got: Future<number>[] = [];
    for await (const f of futures) {
      expect(f).toBeInstanceOf(Future);
      got.push(asFuture(f));
    }
    expect(got.map((f) => f.key)).toEqual(client.map(inc, [0, 1, 2, 3, 4]).map((f) => (f.release(), f.key)));
    expect(await client.gather(got)).toEqual([1, 2, 3, 4, 5]);
    for (const f of got) f.release();
  });

  it('zips several iterables, async with sync, ending with the shortest; Futures in a sync iterable stay the caller’s', async () => {
    const tens = client.map(double, [5, 10, 15]);
    const { state, source } = counter(10);
    expect(await collect(client.gather(client.map(add, source, tens)))).toEqual([10, 21, 32]);
    expect(state.closed).toBe(true);
    expect(tens.map((f) => f.status)).toEqual(['finished', 'finished', 'finished']);
    expect(await client.gather(tens)).toEqual([10, 20, 30]);
    for (const f of tens) f.release();
    // Two async iterables: the shorter ends it, and the other one is closed.
    const a = counter(2);
    const b = counter(10);
    expect(await collect(client.gather(client.map(add, a.source, b.source)))).toEqual([0, 2]);
    expect(b.state.closed).toBe(true);
  });

  it('uses the view’s options: a key prefix, pure: false', async () => {
    const keys: string[] = [];
    for await (const x of client.with({ key: 'plus1' }).map(inc, counter(2).source)) {
      const f = asFuture(x);
      keys.push(f.key);
      f.release();
    }
    expect(keys.every((k) => k.startsWith('plus1-'))).toBe(true);
    async function* same() {
      yield 7;
      yield 7;
    }
    const impure: Future<number>[] = [];
    for await (const f of client.with({ pure: false }).map(inc, same())) impure.push(asFuture(f));
    expect(impure[0].key).not.toBe(impure[1].key);
    expect(await client.gather(impure)).toEqual([8, 8]);
    for (const f of impure) f.release();
  });

  it('refuses bad input at the call', () => {
    expect(() => client.with({ key: ['a', 'b'] }).map(inc, counter(2).source)).toThrow(/'key' must be a prefix string when an argument is an async iterable/);
    expect(() => (client.map as (...a: unknown[]) => unknown)(inc, counter(2).source, 5)).toThrow(/argument 3 is neither iterable nor async iterable \(got number 5\)/);
    expect(() => (client.map as (...a: unknown[]) => unknown)(5, counter(2).source)).toThrow(/expected a function first/);
  });
});

describe('gather of an async iterable', () => {
  it('yields results in input order, whatever order they finish in', async () => {
    async function* delays() {
      for (const ms of [60, 40, 20, 0]) yield ms;
    }
    expect(await collect(client.gather(client.map(sleepy, delays(), [60, 40, 20, 0])))).toEqual([60, 40, 20, 0]);
    // Deterministically: the first element cannot run (no worker is called 'nobody') while the others finish.
    const gated = client.with({ workers: ['nobody'] }).submit(inc, 100);
    const stream = client.gather(streamOf([gated, ...[0, 1, 2].map((i) => client.submit(double, i))]));
    let settled = false;
    const first = stream.next().finally(() => (settled = true));
    await until(() => stream.inFlight === 4, 5000, 'all four elements pulled');
    await until(() => fx.cluster.scheduler.state.counts().processing === 0, 5000, 'the others to finish');
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    await gated.cancel();
    await expect(first).rejects.toBeInstanceOf(CancelledError);
  });

  it('asCompleted of a stream yields in completion order instead', async () => {
    const gated = client.with({ workers: ['nobody'] }).submit(inc, 200);
    const order: string[] = [];
    for await (const x of asCompleted(streamOf([gated, ...[0, 1, 2].map((i) => client.submit(double, i))]))) {
      const f = asFuture(x);
      order.push(f.status === 'finished' ? String(await f) : f.status);
      if (order.length === 3) await gated.cancel();
      f.release();
    }
    expect(order.slice(0, 3).sort()).toEqual(['0', '2', '4']);
    expect(order[3]).toBe('cancelled');
  });

  it('gathers each element as gather(element) would: Futures inside arrays and objects, values as they are', async () => {
    async function* pairs() {
      for (let i = 0; i < 3; i++) yield { i, pair: [client.submit(inc, i), client.submit(double, i)] };
    }
    const stream = client.gather(pairs());
    expectTypeOf(stream).toEqualTypeOf<ResultStream<{ i: number; pair: number[] }>>();
    expect(await collect(stream)).toEqual([
      { i: 0, pair: [1, 0] },
      { i: 1, pair: [2, 2] },
      { i: 2, pair: [3, 4] },
    ]);
    // Its Futures were handed over and released: afterEach checks that nothing is held.
  });

  it('runs the manual’s Queue pipeline: source → inc → double → results', async () => {
    const { state, source } = counter(20, { delayMs: 1 });
    const results = await collect(client.gather(client.map(double, client.map(inc, source))));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => 2 * (i + 1)));
    expect(state).toEqual({ pulled: 20, closed: true });
  });

  it('runs it as the manual writes it, with scatter at the head: scatter → map → map → gather', async () => {
    const { state, source } = counter(10, { delayMs: 1 });
    const remote = client.scatter(source);
    const results = await collect(client.gather(client.map(double, client.map(inc, remote)), { maxInFlight: 3 }));
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => 2 * (i + 1)));
    expect(state).toEqual({ pulled: 10, closed: true });
  });

  it('applies back pressure: the source is never more than maxInFlight ahead of a slow consumer', async () => {
    const max = 4;
    const { state, source } = counter();
    const stream = client.gather(client.map(double, client.map(inc, source)), { maxInFlight: max });
    let consumed = 0;
    let mostAhead = 0;
    for await (const v of stream) {
      expect(v).toBe(2 * (consumed + 1));
      consumed++;
      mostAhead = Math.max(mostAhead, state.pulled - consumed);
      if (consumed % 5 === 0) {
        // A slow consumer: the pipeline fills its window, every task in it finishes and is
        // fetched, and still the source is pulled no further.
        await until(() => stream.inFlight === max && fx.cluster.scheduler.state.counts().processing === 0, 5000, 'a full window');
        await new Promise((r) => setTimeout(r, 20));
        expect(state.pulled).toBe(consumed + max);
      }
      if (consumed === 20) break;
    }
    expect(mostAhead).toBeLessThanOrEqual(max);
    expect(state.closed).toBe(true);
  });

  it('bounds the pipeline by default (64 elements ahead)', async () => {
    const { state, source } = counter();
    const stream = client.gather(client.map(inc, source));
    const first = await stream.next();
    expect(first).toEqual({ value: 1, done: false });
    await until(() => stream.inFlight === 64 && fx.cluster.scheduler.state.counts().processing === 0, 10_000, 'a full default window');
    expect(state.pulled).toBe(65);
    await stream.return();
    expect(state.closed).toBe(true);
  });

  it('validates maxInFlight, and refuses options for anything but a stream', async () => {
    for (const bad of [0, -1, 1.5, Infinity, '4']) {
      expect(() => client.gather(counter(1).source, { maxInFlight: bad as number })).toThrow(
        /Client.gather: 'maxInFlight' must be a positive integer \(elements ahead of the consumer\)/,
      );
    }
    expect(() => client.gather(counter(1).source, { window: 3 } as never)).toThrow(/unknown option 'window'; known options are maxInFlight/);
    expect(() => (client.gather as (x: unknown, o: unknown) => unknown)([1], { maxInFlight: 3 })).toThrow(/options apply to an async iterable/);
    expect(() => asCompleted([], { maxInFlight: 3 })).toThrow(/options apply to an async iterable/);
    expect(() => asCompleted(counter(1).source as never, { maxInFlight: 0 })).toThrow(/asCompleted: 'maxInFlight' must be a positive integer/);
  });
});

describe('errors and cancellation', () => {
  it('a task error surfaces at its element, after the results before it, and ends the stream', async () => {
    const { state, source } = counter();
    const stream = client.gather(client.map(inc, client.map(failOn3, source)), { maxInFlight: 3 });
    const seen: number[] = [];
    const err = await (async () => {
      try {
        for await (const v of stream) seen.push(v);
      } catch (e) {
        return e as TaskError;
      }
    })();
    expect(seen).toEqual([1, 2, 3]);
    expect(err).toBeInstanceOf(TaskError);
    expect(err!.key).toMatch(/^failOn3-/);
    expect((err!.cause as Error).message).toBe('three is not allowed');
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    expect(state.closed).toBe(true);
    expect(state.pulled).toBeLessThanOrEqual(3 + 1 + 3);
  });

  it('a source that throws ends the stream with its error, after the elements before it', async () => {
    const { source } = counter(Infinity, { failAt: 3 });
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const v of client.gather(client.map(inc, source))) seen.push(v);
      })(),
    ).rejects.toThrow('source failed at 3');
    expect(seen).toEqual([1, 2, 3]);
    // The map stream alone passes the source's error on at the same place.
    const direct = client.map(inc, counter(Infinity, { failAt: 1 }).source);
    const f = await direct.next();
    await expect(direct.next()).rejects.toThrow('source failed at 1');
    expect(await direct.next()).toEqual({ value: undefined, done: true });
    (f.value as Future).release();
  });

  it('a call that cannot be submitted ends the stream with the refusal and closes the source', async () => {
    const n = 5;
    const addN = (x: number) => x + n;
    const { state, source } = counter();
    await expect(collect(client.gather(client.map(addN, source)))).rejects.toThrow(ShippingError);
    expect(state.closed).toBe(true);
  });

  it('breaking out of for await releases what is in flight and closes the source; nothing leaks', async () => {
    const { state, source } = counter();
    const got: number[] = [];
    function* forever<T>(v: T) {
      for (;;) yield v;
    }
    for await (const v of client.gather(client.map(sleepy, forever(30), source), { maxInFlight: 6 })) {
      got.push(v);
      if (got.length === 2) break;
    }
    expect(got).toEqual([0, 1]);
    expect(state.closed).toBe(true);
    // afterEach: the client holds nothing and the scheduler was told.
  });

  it('a break does not wait for a source that is waiting for data', async () => {
    let release!: () => void;
    const stalled = new Promise<void>((r) => (release = r));
    let closed = false;
    async function* source() {
      try {
        yield 1;
        yield 2;
        await stalled;
        yield 3;
      } finally {
        closed = true;
      }
    }
    const got: number[] = [];
    for await (const v of client.gather(client.map(inc, source()))) {
      got.push(v);
      if (got.length === 2) break;
    }
    expect(got).toEqual([2, 3]);
    release();
    await until(() => closed, 5000, 'the source to close once its data came');
  });

  it('asCompleted of a stream is bounded and releases what it pulled but never yielded', async () => {
    const { state, source } = counter();
    const it = asCompleted(client.map(inc, source), { maxInFlight: 3 });
    const first = await it.next();
    expect(first.done).toBe(false);
    await until(() => it.count === 3, 5000, 'asCompleted to fill its window');
    await until(() => fx.cluster.scheduler.state.counts().processing === 0, 5000, 'the window to finish');
    expect(state.pulled).toBe(4);
    (first.value as Future).release();
    await it.return();
    expect(state.closed).toBe(true);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('asCompleted of a stream whose source throws yields what came before, then the error', async () => {
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const x of asCompleted(client.map(inc, counter(Infinity, { failAt: 2 }).source))) {
          const f = asFuture(x);
          seen.push(await f);
          f.release();
        }
      })(),
    ).rejects.toThrow('source failed at 2');
    expect(seen.sort()).toEqual([1, 2]);
  });
});
