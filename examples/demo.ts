/**
 * `npm start`: a small tour on the embedded default, the local thread pool.
 * A raw graph, the same graph on both local gets, and a delayed reduction of 10,000 calls.
 */
import { compute, delayed, getSync, getThreads, shutdownThreadPools, type Graph } from '../src/index.js';

const inc = (x: number) => x + 1;
const add = (a: number, b: number) => a + b;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

async function main(): Promise<void> {
  const dsk: Graph = { x: 1, y: [inc, 'x'], z: [add, 'x', 'y'] };
  console.log('graph       ', "{ x: 1, y: [inc, 'x'], z: [add, 'x', 'y'] }");
  console.log("getSync     z =", await getSync(dsk, 'z'));
  console.log("getThreads  [['y'], 'z'] =", JSON.stringify(await getThreads(dsk, [['y'], 'z'])));

  const n = 10_000;
  const t0 = performance.now();
  const total = delayed(sum)(Array.from({ length: n }, (_, i) => delayed(inc)(i)));
  const [threads, sync] = await Promise.all([total.compute(), compute(total, { scheduler: 'sync' })]);
  const ms = performance.now() - t0;
  console.log(`delayed     sum of inc(i) for i < ${n}: threads ${threads}, sync ${sync[0]} (${ms.toFixed(0)} ms for both)`);
  await shutdownThreadPools();
}

await main();
