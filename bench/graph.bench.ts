/**
 * Scheduler overhead on trivial tasks: how many microseconds each task costs the scheduler.
 * The dask side (bench/python/graph_bench.py) builds the same graphs with tuples and runs
 * dask.get / dask.threaded.get / dask.delayed on them.
 */
import { delayed, getSync, getThreads, type Graph, type GetFn } from '../src/index.js';
import { threadsTuning } from '../src/schedulers/threads.js';
import type { Bench } from './lib/bench.js';
import { expectEqual, repeat } from './lib/timing.js';

export const N = 10_000;

// Self-contained, so the threads scheduler may ship them (it will run them inline: they are cheap).
export function inc(x: number): number {
  return x + 1;
}

export function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/**
 * `${prefix}x_i` = inc(lo + i) for i < n, and `${prefix}total` = sum(all x). A fresh prefix and
 * offset give fresh keys (the distributed bench needs them: a cluster remembers keys it holds).
 */
export function independentGraph(n: number, { prefix = '', lo = 0 } = {}): Graph {
  const g: Graph = {};
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = `${prefix}x_${i}`;
    g[k] = [inc, lo + i];
    keys.push(k);
  }
  g[`${prefix}total`] = [sum, keys];
  return g;
}

/** x_0 = 0, x_i = inc(x_{i-1}); the last key is x_{n-1}. */
export function chainGraph(n: number): Graph {
  const g: Graph = { x_0: 0 };
  for (let i = 1; i < n; i++) g[`x_${i}`] = [inc, `x_${i - 1}`];
  return g;
}

// sum of (i + 1) for i < N
const INDEPENDENT_TOTAL = (N * (N + 1)) / 2;

const SYNC_TARGET = { maxUsPerTask: 5, daskReferenceUs: 44 };
const THREADS_TARGET = { maxUsPerTask: 20, daskReferenceUs: 97 };

function independent(name: string, get: GetFn, target: Bench['target']): Bench {
  return {
    name,
    description: `${N} independent inc tasks + one sum over them; get(graph, 'total')`,
    daskScript: 'graph_bench.py',
    daskName: name,
    target,
    ours: ({ reps, warmup }) => {
      const g = independentGraph(N);
      return repeat(() => get(g, 'total'), { reps, warmup, nTasks: N + 1, check: expectEqual(INDEPENDENT_TOTAL) });
    },
  };
}

function chain(name: string, get: GetFn, target: Bench['target']): Bench {
  return {
    name,
    description: `a chain of ${N} tasks x_i = inc(x_{i-1}); get of the last key`,
    daskScript: 'graph_bench.py',
    daskName: name,
    target,
    ours: ({ reps, warmup }) => {
      const g = chainGraph(N);
      return repeat(() => get(g, `x_${N - 1}`), { reps, warmup, nTasks: N, check: expectEqual(N - 1) });
    },
  };
}

/**
 * The threads get with its tuning changed for the duration of one benchmark: how the issue's
 * "batch ready tasks per message, or run trivial ones inline — measure which" was measured.
 */
function tuned(bench: Bench, tuning: Partial<typeof threadsTuning>): Bench {
  return {
    ...bench,
    ours: async (opts) => {
      const saved = { ...threadsTuning };
      Object.assign(threadsTuning, tuning);
      try {
        return await bench.ours(opts);
      } finally {
        Object.assign(threadsTuning, saved);
      }
    },
  };
}

export const benches: readonly Bench[] = [
  independent('independent-sync', getSync, SYNC_TARGET),
  independent('independent-threads', getThreads, THREADS_TARGET),
  {
    ...tuned(independent('independent-threads-batched', getThreads, THREADS_TARGET), { inlineBelowMs: 0 }),
    description: `as independent-threads, but nothing inline: every task goes to the pool in batches`,
    daskName: 'independent-threads',
  },
  {
    ...tuned(independent('independent-threads-unbatched', getThreads, THREADS_TARGET), { inlineBelowMs: 0, targetBatchMs: 0 }),
    description: `as independent-threads, but one task per message to the pool (no inline, no batches)`,
    daskName: 'independent-threads',
  },
  chain('chain-sync', getSync, SYNC_TARGET),
  chain('chain-threads', getThreads, THREADS_TARGET),
  {
    name: 'delayed-build-compute',
    description: `build ${N} delayed(inc)(i) + delayed(sum)(list) and .compute() (threads); build and compute timed together`,
    daskScript: 'graph_bench.py',
    daskName: 'delayed-build-compute',
    target: { maxUsPerTask: 30, daskReferenceUs: 141 },
    ours: ({ reps, warmup }) =>
      repeat(
        () => {
          const dinc = delayed(inc);
          const xs = [];
          for (let i = 0; i < N; i++) xs.push(dinc(i));
          return delayed(sum)(xs).compute();
        },
        { reps, warmup, nTasks: N + 1, check: expectEqual(INDEPENDENT_TOTAL) },
      ),
  },
];
