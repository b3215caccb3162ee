/**
 * Matrix products: `a.dot(b).sum()` on two random 4000x4000 float64 arrays in 1000x1000 chunks,
 * 64 block products of 1000^3 multiply-adds each (128 GFLOP). The dask side
 * (bench/python/dot_bench.py) runs `(a.dot(b)).sum().compute()` on `da.random.random` arrays,
 * where numpy calls OpenBLAS; ours runs the WebAssembly SIMD gemm of chunk/gemm-wasm.ts on the
 * thread pool, one task per output block summing its 4 products. `gemm-1000` times one 1000x1000
 * block product on one thread (our tensordot kernel, against numpy's `a @ b`, which OpenBLAS may
 * spread over both cores): 2 GFLOP, so GFLOP/s = 2 / seconds; the summary prints both.
 * `add-transpose-mean` is the elementwise-plus-reduction workload: `x.add(x.T).mean({ axis: 0 })`
 * on a random 10000x10000 float64 array in 1000x1000 chunks (800 MB; every block meets its mirror).
 * Figures are per run (n_tasks is 1, so "µs/task" is microseconds per run).
 */
import ndarray from 'ndarray';
import type { NdArray } from '../src/collections/array/index.js';
import { tensordot as tensordotKernel } from '../src/collections/array/chunk/linalg.js';
import { dot } from '../src/collections/array/dot.js';
import { random } from '../src/collections/array/random.js';
import { mean, sum } from '../src/collections/array/reductions.js';
import { add } from '../src/collections/array/elemwise.js';
import { transpose } from '../src/collections/array/transpose.js';
import type { Bench } from './lib/bench.js';
import type { DaskMeasurement } from './lib/dask.js';
import { repeat, type Measurement } from './lib/timing.js';

export const N = 4000;
export const CHUNK = 1000;
const MAX_REPS = 3;

/** Σ_ij (AB)_ij for uniform [0, 1) entries is about N^3 / 4; a wrong product misses that by far more than 1 %. */
function checkApprox(result: unknown): void {
  const expected = N ** 3 / 4;
  if (typeof result !== 'number' || Math.abs(result - expected) > 0.01 * expected) {
    throw new Error(`dot-sum computed ${String(result)}, expected about ${expected}`);
  }
}

const BLOCK = 1000;

/** Our last results, for the summaries after the table. */
const last: Record<string, Measurement> = {};
const gflops = (m: { median_s: number } | undefined) => (m ? (2 * BLOCK ** 3 / 1e9 / m.median_s).toFixed(1) : '-');

function block(seed: number): NdArray {
  return ndarray(Float64Array.from({ length: BLOCK * BLOCK }, (_, i) => ((i * seed) % 1009) / 1009), [BLOCK, BLOCK]) as NdArray;
}

export const benches: readonly Bench[] = [
  {
    name: 'gemm-1000',
    description: `one ${BLOCK}x${BLOCK} float64 block product on one thread (the dot kernel); seconds per product`,
    daskScript: 'dot_bench.py',
    daskName: 'gemm-1000',
    ours: async ({ reps, warmup }) => {
      const [a, b] = [block(7919), block(104729)];
      let expected = 0;
      for (let k = 0; k < BLOCK; k++) expected += a.get(3, k) * b.get(k, 5);
      const check = (r: unknown) => {
        if (Math.abs((r as NdArray).get(3, 5) - expected) > 1e-9 * expected) throw new Error('gemm-1000 computed a wrong product');
      };
      return (last['gemm-1000'] = await repeat(() => tensordotKernel([a], [b], [1], [0], 'float64'), { reps, warmup, nTasks: 1, check }));
    },
    summary: (dask?: DaskMeasurement) => [`gemm-1000: ours ${gflops(last['gemm-1000'])} GFLOP/s on one thread, numpy ${gflops(dask)} GFLOP/s (OpenBLAS, up to 2 threads)`],
  },
  {
    name: 'dot-sum-4000',
    description: `a.dot(b).sum() for random ${N}x${N} float64 in ${CHUNK}x${CHUNK} chunks (threads); seconds per run`,
    daskScript: 'dot_bench.py',
    daskName: 'dot-sum-4000',
    ours: async ({ reps, warmup }) => {
      const a = random.random([N, N], { chunks: CHUNK, seed: 1 });
      const b = random.random([N, N], { chunks: CHUNK, seed: 2 });
      const total = sum(dot(a, b));
      // Each run takes seconds: at most 3 timed runs and 1 warm-up, whatever the command line says.
      return (last['dot-sum-4000'] = await repeat(() => total.compute(), { reps: Math.min(reps, MAX_REPS), warmup: Math.min(warmup, 1), minWarmupMs: 0, nTasks: 1, check: checkApprox }));
    },
    summary: (dask?: DaskMeasurement) => {
      const ours = last['dot-sum-4000'];
      if (!ours || !dask) return [];
      return [`dot-sum-4000: ours ${ours.median_s.toFixed(2)} s, dask ${dask.median_s.toFixed(2)} s, ours/dask ${(ours.median_s / dask.median_s).toFixed(2)} (target <= 2)`];
    },
  },
  {
    name: 'add-transpose-mean',
    description: 'x.add(x.T).mean({ axis: 0 }) for random 10000x10000 float64 in 1000x1000 chunks (threads); seconds per run',
    daskScript: 'dot_bench.py',
    daskName: 'add-transpose-mean',
    target: { maxUsPerTask: 0.96e6, daskReferenceUs: 0.96e6 },
    ours: ({ reps, warmup }) => {
      const x = random.random([10_000, 10_000], { chunks: CHUNK, seed: 3 });
      const m = mean(add(x, transpose(x)), { axis: 0 });
      // Each entry is the mean of 10000 sums of two uniforms: about 1.
      const check = (r: unknown) => {
        const v = (r as NdArray).get(17);
        if ((r as NdArray).shape[0] !== 10_000 || Math.abs(v - 1) > 0.05) throw new Error(`add-transpose-mean computed ${v} at 17, expected about 1`);
      };
      return repeat(() => m.compute(), { reps: Math.min(reps, MAX_REPS), warmup: Math.min(warmup, 1), minWarmupMs: 0, nTasks: 1, check });
    },
  },
];
