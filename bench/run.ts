/**
 * npm run bench [-- [name-filter ...] [--reps N] [--warmup N] [--no-dask]]
 *
 * Runs every benchmark in MODULES (or those whose name contains one of the filters), ours first,
 * then real dask on the same work, one Python process per script; prints one table.
 * Targets are printed, never enforced: this machine is shared and timings are noisy.
 */
import { shutdownThreadPools } from '../src/index.js';
import type { Bench } from './lib/bench.js';
import { PYTHON, runDask, type DaskRun } from './lib/dask.js';
import { fmtNum, formatTable } from './lib/table.js';
import { usPerTask, type Measurement } from './lib/timing.js';
import { benches as graphBenches } from './graph.bench.js';
import { benches as dotBenches } from './dot.bench.js';
import { benches as bagBenches } from './bag.bench.js';
import { benches as arrayBenches } from './array.bench.js';
import { benches as distributedBenches } from './distributed.bench.js';
import { benches as dataBenches } from './distributed-data.bench.js';

/** Every benchmark module; a new bench file adds one entry here. */
const MODULES: readonly (readonly Bench[])[] = [graphBenches, dotBenches, bagBenches, arrayBenches, distributedBenches, dataBenches];

interface Args {
  filters: string[];
  reps: number;
  warmup: number;
  dask: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { filters: [], reps: 15, warmup: 3, dask: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') ? arg.split('=', 2) : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a non-negative integer, got ${String(v)}`);
      return n;
    };
    if (flag === '--reps') a.reps = Math.max(1, value());
    else if (flag === '--warmup') a.warmup = value();
    else if (flag === '--no-dask') a.dask = false;
    else if (flag === '--help' || flag === '-h') {
      console.log('usage: npm run bench -- [name-filter ...] [--reps N] [--warmup N] [--no-dask]');
      process.exit(0);
    } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else a.filters.push(arg);
  }
  return a;
}

/** dask's time over ours: "6.3x faster", or "0.50x (2.0x slower)" when dask wins. */
function speedup(r: number): string {
  return r >= 1 ? `${fmtNum(r)}x faster` : `${fmtNum(r)}x (${fmtNum(1 / r)}x slower)`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const all = MODULES.flat();
  const selected = args.filters.length === 0 ? all : all.filter((b) => args.filters.some((f) => b.name.includes(f)));
  if (selected.length === 0) {
    console.error(`no benchmark matches ${args.filters.join(', ')}; known: ${all.map((b) => b.name).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  console.error(`${selected.length} benchmark(s), ${args.warmup} warm-up + ${args.reps} timed runs each; median reported`);

  const ours = new Map<string, Measurement>();
  try {
    for (const b of selected) {
      console.error(`  ours: ${b.name} ...`);
      ours.set(b.name, await b.ours({ reps: args.reps, warmup: args.warmup }));
    }
  } finally {
    // Shared resources (a module's cluster) go before dask starts, so the two never compete.
    for (const cleanup of new Set(selected.map((b) => b.cleanup).filter((c) => c !== undefined))) await cleanup();
  }

  // The dask side, one process per script, after ours so the two never compete for cores.
  const dask = new Map<string, DaskRun>();
  if (args.dask) {
    const byScript = new Map<string, Bench[]>();
    for (const b of selected) byScript.set(b.daskScript, [...(byScript.get(b.daskScript) ?? []), b]);
    for (const [script, bs] of byScript) {
      dask.set(script, runDask(script, bs.map((b) => b.daskName), args.reps, args.warmup));
    }
  }

  const rows = selected.map((b) => {
    const o = ours.get(b.name)!;
    const oUs = usPerTask(o.median_s, o.n_tasks);
    const run = dask.get(b.daskScript);
    const d = run?.ok ? run.results.get(b.daskName) : undefined;
    const dUs = d ? usPerTask(d.median_s, d.n_tasks) : undefined;
    const t = b.target;
    return [
      b.name,
      `${fmtNum(oUs)} (min ${fmtNum(usPerTask(o.min_s, o.n_tasks))})`,
      d && dUs !== undefined ? `${fmtNum(dUs)} (min ${fmtNum(usPerTask(d.min_s, d.n_tasks))})` : '-',
      dUs !== undefined ? speedup(dUs / oUs) : '-',
      t ? `<= ${fmtNum(t.maxUsPerTask)} (dask ${fmtNum(t.daskReferenceUs)}) ${oUs <= t.maxUsPerTask ? 'met' : 'MISSED'}` : '-',
    ];
  });

  console.log();
  console.log(
    formatTable(['benchmark', 'ours µs/task (median)', 'dask µs/task (median)', 'dask/ours (ours faster by)', 'target µs/task (issue)'], rows),
  );
  console.log();
  const versions = new Set<string>();
  for (const run of dask.values()) if (run.ok && run.version) versions.add(run.version);
  if (!args.dask) console.log('dask: skipped (--no-dask)');
  else if (versions.size > 0) console.log(`dask ${[...versions].join(', ')} via ${PYTHON}, same invocation, run after ours`);
  for (const [script, run] of dask) if (!run.ok) console.log(`dask absent for ${script}: ${run.reason}; only our figures are shown`);
  for (const b of selected) {
    const run = dask.get(b.daskScript);
    if (run?.ok && !run.results.has(b.daskName)) console.log(`dask gave no figure for ${b.name} (see messages above)`);
  }
  for (const b of selected) {
    const run = dask.get(b.daskScript);
    for (const line of b.summary?.(run?.ok ? run.results.get(b.daskName) : undefined) ?? []) console.log(line);
  }
  console.log(`Times are wall-clock medians of ${args.reps} runs after ${args.warmup} warm-ups; lower µs/task is better. Targets are informative, never enforced.`);
}

try {
  await main();
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await shutdownThreadPools();
}
