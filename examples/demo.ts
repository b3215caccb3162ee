/**
 * `npm start`: a small tour on the embedded defaults. First the local thread pool (a raw graph
 * on both local gets, a delayed reduction, a chunked array), then an in-process cluster (a
 * scheduler and two workers over real TCP on 127.0.0.1): futures, and the same array graph
 * computed with `{ get: client.get }`.
 */
import * as da from '../src/collections/array/index.js';
import { Client } from '../src/distributed/index.js';
import { compute, delayed, getSync, getThreads, shutdownThreadPools, type Graph } from '../src/index.js';

const inc = (x: number) => x + 1;
const add = (a: number, b: number) => a + b;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const square = (x: number) => x * x;
const neg = (x: number) => -x;

async function local(): Promise<void> {
  console.log('--- local thread pool');
  const dsk: Graph = { x: 1, y: [inc, 'x'], z: [add, 'x', 'y'] };
  console.log("getSync     z =", await getSync(dsk, 'z'));
  console.log("getThreads  [['y'], 'z'] =", JSON.stringify(await getThreads(dsk, [['y'], 'z'])));

  const n = 10_000;
  let t0 = performance.now();
  const total = delayed(sum)(Array.from({ length: n }, (_, i) => delayed(inc)(i)));
  const [threads, sync] = await Promise.all([total.compute(), compute(total, { scheduler: 'sync' })]);
  console.log(`delayed     sum of inc(i), i < ${n}: threads ${threads}, sync ${sync[0]} (${(performance.now() - t0).toFixed(0)} ms)`);

  const x = da.random.random([1e8], { chunks: 1e6, seed: 0 });
  t0 = performance.now();
  console.log(`array       ${String(x)}\n            x.sum() = ${await x.sum().compute()} (${(performance.now() - t0).toFixed(0)} ms)`);
}

async function cluster(): Promise<void> {
  console.log('--- in-process cluster: a scheduler and 2 workers over TCP on 127.0.0.1');
  const client = await Client.connect(undefined, { nWorkers: 2, threadsPerWorker: 1 });
  try {
    const A = client.map(square, Array.from({ length: 10 }, (_, i) => i));
    const B = client.map(neg, A);
    const total = client.submit(sum, B);
    console.log('futures     sum(neg(square(i))) for i < 10 =', await total.result());
    console.log('gather      squares =', JSON.stringify(await client.gather(A)));
    const x = da.random.random([1e7], { chunks: 1e6, seed: 0 });
    const t0 = performance.now();
    console.log(`array       x.sum().compute({ get: client.get }) = ${await x.sum().compute({ get: client.get })} (${(performance.now() - t0).toFixed(0)} ms)`);
  } finally {
    await client.close();
  }
}

await local();
await cluster();
await shutdownThreadPools();
