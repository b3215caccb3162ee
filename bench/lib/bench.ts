/** What a benchmark module exports: a list of these. */
import type { DaskMeasurement } from './dask.js';
import type { Measurement } from './timing.js';

export interface RunOptions {
  readonly reps: number;
  readonly warmup: number;
}

/** The figure the issue asks for, printed beside ours; never fails the run. */
export interface Target {
  /** Ours should be at most this many µs per task. */
  readonly maxUsPerTask: number;
  /** Dask's figure quoted in the issue, µs per task, for reference. */
  readonly daskReferenceUs: number;
}

export interface Bench {
  /** Unique name; `npm run bench -- <part of a name>` selects by it. */
  readonly name: string;
  /** One line: what is timed. */
  readonly description: string;
  /** Times our implementation. */
  ours(opts: RunOptions): Promise<Measurement>;
  /** The Python script under bench/python/ that times the same work in dask. */
  readonly daskScript: string;
  /** The benchmark name that script understands (usually equal to `name`). */
  readonly daskName: string;
  readonly target?: Target;
  /**
   * Lines printed after the table, given dask's result line (with any extra fields the script
   * printed): for figures the table has no column for (peak memory, each dask scheduler, a check
   * that both sides agree). Called after ours and dask have run.
   */
  summary?(dask: DaskMeasurement | undefined): string[];
  /**
   * Called once after all of our benchmarks have run (before the dask side), for resources a
   * module shares between its benchmarks (a cluster). Benchmarks may share one function: each
   * distinct function is called once.
   */
  cleanup?(): Promise<void>;
}
