/**
 * The message a pool thread receives: a batch of tasks with their inputs filled in.
 *
 * A task travels as a tree of small arrays: `[0, value]` a value, `[1, f, ...args]` a call of the
 * batch's function number f, `[2, ...items]` a list, `[3, f]` function number f passed as a value
 * (to a higher-order kernel such as a bag's map). Functions travel once per batch as FnRefs.
 */
import type { FnRef } from '../graph/shipping/registry.js';
import type { ErrorInfo } from './errors.js';

export type Wire =
  | readonly [0, unknown]
  | readonly [1, number, ...Wire[]]
  | readonly [2, ...Wire[]]
  | readonly [3, number];

export interface Batch {
  readonly fns: readonly FnRef[];
  readonly tasks: readonly Wire[];
  /** Whether any value in `tasks` was tagged by transfer.encode. */
  readonly tagged: boolean;
}

export interface BatchResult {
  /** Results of the tasks that ran, in order (all of them unless `error` is set). */
  readonly values: unknown[];
  readonly tagged: boolean;
  /** Run time of each task in milliseconds, measured on the thread. */
  readonly durations: number[];
  /** The first task that threw: its position in the batch and the error. */
  readonly error?: { readonly index: number; readonly info: ErrorInfo };
}
