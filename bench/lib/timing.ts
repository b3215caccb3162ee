/**
 * Timing helpers: warm-up runs, then timed repetitions; the median is the figure we report
 * (the machine is shared and noisy), the minimum is shown beside it.
 */
import { performance } from 'node:perf_hooks';

/** One benchmark's result, in the same shape the Python runner prints. */
export interface Measurement {
  /** Median wall time of one repetition, in seconds. */
  readonly median_s: number;
  /** Fastest repetition, in seconds. */
  readonly min_s: number;
  /** Tasks per repetition; figures are reported per task. */
  readonly n_tasks: number;
  /** Timed repetitions. */
  readonly reps: number;
}

export interface RepeatOptions {
  /**
   * Untimed runs first (JIT, thread pool start-up, duration measurements): at least this many,
   * and more until `minWarmupMs` has passed, so V8 has optimized the hot paths.
   */
  readonly warmup: number;
  /** Keep warming up until this much time has passed (default 300 ms). */
  readonly minWarmupMs?: number;
  /** Timed runs. */
  readonly reps: number;
  /** Tasks per run, for per-task figures. */
  readonly nTasks: number;
  /** Called with each run's result (warm-ups included); throw to flag a wrong answer. */
  readonly check?: (result: unknown) => void;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function min(xs: readonly number[]): number {
  return Math.min(...xs);
}

/** Runs `fn` untimed to warm up (see RepeatOptions.warmup), then `reps` times timed. */
export async function repeat(fn: () => unknown, opts: RepeatOptions): Promise<Measurement> {
  if (!(Number.isInteger(opts.reps) && opts.reps >= 1)) throw new RangeError(`reps must be a positive integer, got ${opts.reps}`);
  const minWarmupMs = opts.minWarmupMs ?? 300;
  const w0 = performance.now();
  for (let i = 0; i < opts.warmup || (opts.warmup > 0 && performance.now() - w0 < minWarmupMs); i++) opts.check?.(await fn());
  const times: number[] = [];
  for (let i = 0; i < opts.reps; i++) {
    const t0 = performance.now();
    const result = await fn();
    times.push((performance.now() - t0) / 1000);
    opts.check?.(result);
  }
  return { median_s: median(times), min_s: min(times), n_tasks: opts.nTasks, reps: opts.reps };
}

/** Microseconds per task. */
export function usPerTask(seconds: number, nTasks: number): number {
  return (seconds * 1e6) / nTasks;
}

/** A check that the result equals `expected`. */
export function expectEqual(expected: unknown): (result: unknown) => void {
  return (result) => {
    if (result !== expected) throw new Error(`benchmark computed ${String(result)}, expected ${String(expected)}`);
  };
}
