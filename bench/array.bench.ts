/**
 * Random arrays and reductions: `random.random([n], { chunks: 1e6 }).sum().compute()` on the
 * threads scheduler, for n = 1e8 (800 MB of float64, 100 blocks) and n = 1e9 (8 GB, 1000 blocks,
 * which must stream: each random block fuses with its partial sum, so only a few blocks per
 * thread are alive at once). The dask side (bench/python/array_bench.py) runs
 * `da.random.random(n, chunks=1e6).sum().compute()`.
 *
 * Each benchmark runs in a child process of its own, so that its peak resident set size (all
 * threads: VmHWM (bench/lib/rss.ts)) is its own; dask's is `resource.getrusage` in its
 * process. Figures are per run (n_tasks is 1, so "µs/task" reads as µs per run); the summary
 * after the table gives seconds, the ratio and both peaks. Each run takes seconds: at most 5 timed
 * runs for 1e8 and 3 for 1e9, after at most one warm-up (for 1e9 a warm-up at 1e8, on both sides).
 *
 * Usage: npm run bench -- random-sum
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench } from './lib/bench.js';
import { peakRssBytes } from './lib/rss.js';
import type { DaskMeasurement } from './lib/dask.js';
import { fmtNum } from './lib/table.js';
import { median, min, type Measurement } from './lib/timing.js';

const REPO = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHUNK = 1e6;
/** dask 2022.12 on this machine (2 cores): random(1e8, chunks=1e6).sum() in about 0.43-0.5 s. */
const DASK_1E8_S = 0.5;
const GIB = 2 ** 30;

interface ChildResult {
  readonly times: number[];
  readonly maxRssBytes: number;
  readonly mean: number;
  readonly threads: number;
}

/** In the child: warm-ups, timed runs, then one JSON line on stdout. */
async function child(n: number, reps: number, warmup: number, warmupN: number): Promise<void> {
  const { shutdownThreadPools } = await import('../src/index.js');
  const { defaultThreadCount } = await import('../src/schedulers/pool.js');
  const { random } = await import('../src/collections/array/random.js');
  const { sum } = await import('../src/collections/array/reductions.js');
  const run = async (size: number) => (await sum(random.random([size], { chunks: CHUNK })).compute()) as number;
  for (let i = 0; i < warmup; i++) await run(warmupN);
  const times: number[] = [];
  let mean = 0;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    mean = (await run(n)) / n;
    times.push((performance.now() - t0) / 1000);
    console.error(`  ours: random-sum n=${n} run ${i + 1}/${reps}: ${fmtNum(times[i])} s`);
    if (Math.abs(mean - 0.5) > 1e-3) throw new Error(`random-sum: mean ${mean}, expected about 0.5`);
  }
  await shutdownThreadPools();
  const result: ChildResult = { times, maxRssBytes: peakRssBytes(), mean, threads: defaultThreadCount() };
  console.log(JSON.stringify(result));
}

function runChild(n: number, reps: number, warmup: number, warmupN: number): ChildResult {
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(n), String(reps), String(warmup), String(warmupN)],
    { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
  );
  if (res.error) throw res.error;
  const line = res.stdout.split('\n').find((l) => l.startsWith('{'));
  if (res.status !== 0 || line === undefined) throw new Error(`random-sum child (n=${n}) exited with ${res.status ?? res.signal}`);
  return JSON.parse(line) as ChildResult;
}

const mib = (bytes: number) => `${fmtNum(bytes / 2 ** 20)} MiB`;

function randomSum(name: string, n: number, maxReps: number, warmupN: number, target?: Bench['target']): Bench {
  let last: ChildResult | undefined;
  return {
    name,
    description: `random.random([${n.toExponential()}], { chunks: 1e6 }).sum().compute() on threads; per run, peak RSS in the summary`,
    daskScript: 'array_bench.py',
    daskName: name,
    target,
    ours: async ({ reps, warmup }): Promise<Measurement> => {
      last = runChild(n, Math.max(1, Math.min(reps, maxReps)), Math.min(warmup, 1), warmupN);
      return { median_s: median(last.times), min_s: min(last.times), n_tasks: 1, reps: last.times.length };
    },
    summary: (dask?: DaskMeasurement): string[] => {
      if (!last) return [];
      const ours = median(last.times);
      const lines = [
        `${name}: ours ${fmtNum(ours)} s (median of ${last.times.length}; min ${fmtNum(min(last.times))} s) on ${last.threads} threads; ` +
          `peak RSS ${mib(last.maxRssBytes)}${n >= 1e9 ? ` (target < 1 GiB: ${last.maxRssBytes < GIB ? 'met' : 'MISSED'})` : ''}`,
      ];
      const d = dask as (DaskMeasurement & { max_rss_bytes?: number }) | undefined;
      if (d) {
        lines.push(
          `${name}: dask ${fmtNum(d.median_s)} s (median; min ${fmtNum(d.min_s)} s); peak RSS ${d.max_rss_bytes ? mib(d.max_rss_bytes) : '?'}; ` +
            `ours / dask = ${fmtNum(ours / d.median_s)}${target ? ` (target <= 0.8: ${ours / d.median_s <= 0.8 ? 'met' : 'MISSED'})` : ''}`,
        );
      }
      return lines;
    },
  };
}

export const benches: readonly Bench[] = [
  randomSum('random-sum-1e8', 1e8, 5, 1e8, { maxUsPerTask: 0.8 * DASK_1E8_S * 1e6, daskReferenceUs: DASK_1E8_S * 1e6 }),
  randomSum('random-sum-1e9', 1e9, 3, 1e8),
];

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv[2] === '--child') {
  const [n, reps, warmup, warmupN] = process.argv.slice(3, 7).map(Number);
  await child(n, reps, warmup, warmupN);
}
