/**
 * Partition streams: dask.bag's lazy iterators, made push-based.
 *
 * A partition is an array or a PartitionStream: a source (an array, or the lines of a byte range
 * of a text file still to be read) and a list of element-wise stages (map, filter, flatten,
 * pluck, str methods, ...). The kernels of element-wise steps do no work: they return a new stream
 * with one more stage. A consumer (frequencies, count, fold, topk, take, ...) runs the stream: the
 * source pushes each element through the stages, each stage a small function that calls the next,
 * into the consumer's sink. One loop, no intermediate arrays, no generators; a fused chain such as
 * readText → map → flatten → frequencies never holds more than one line's words at a time.
 *
 * A stream is a lazy task result (graph/lazy.ts): when it becomes a stored result (the end of a
 * fused chain, or a value sent to another thread) the scheduler materialises it into an array, so
 * streams never cross threads and every stored partition is an array.
 *
 * Errors: every stage counts the elements it receives, so an error names the operation, the
 * partition and the element's index in that step's input, exactly as the array kernels did. A stage
 * never wraps the call to the next stage in its try, so an error is reported once, by the step
 * that raised it; the same rule lets a consumer that has seen enough (take, any, all) end a run
 * by throwing from its sink (`eachUntil`): the rest of the partition is never computed, as with
 * dask's lazy iterators.
 */
import { isLazyValue, MATERIALIZE, settle, type LazyValue } from '../../../graph/lazy.js';

/** Takes one element. */
export type Sink = (x: unknown) => void;

/** Takes a piece of bytes and its offset in where they come from. */
export type BytePush = (bytes: Uint8Array, offset: number) => void;

/** The bytes behind a source whose elements are the lines of a UTF-8 text. */
export interface Utf8Lines {
  /** Where the bytes come from, as errors name it (a file). */
  readonly origin: string;
  /**
   * Pushes the bytes of every line, in order, in pieces of whole lines (so never part of a
   * character), unvalidated: the consumer must reject invalid UTF-8 as the decoder would.
   */
  run(push: BytePush): void;
}

/** Where a stream's elements come from. */
export interface Source {
  /** Pushes every element into `sink`, in order. It may be run more than once. */
  run(sink: Sink): void;
  /** The elements, when they already are an array (callers never modify it). */
  readonly array?: readonly unknown[];
  /** Set when the elements are lines of UTF-8 text that a consumer may read as bytes instead. */
  readonly utf8Lines?: Utf8Lines;
}

/** One element-wise step. */
export interface Stage {
  /** The operation, as errors name it ('map', 'filter', 'str.split', ...). */
  readonly op: string;
  /** The push function of one run: it takes the step's input elements and pushes its outputs to `next`. */
  bind(next: Sink): Sink;
  /** True for `str.split()` on whitespace without a limit: each element becomes its words. */
  readonly splitsWords?: boolean;
  /**
   * For a step on strings that commutes with that split: applied to each word after the split,
   * it gives the words the step applied before the split would give (`str.lower` → toLowerCase:
   * no case mapping makes or removes whitespace; `str.strip()` → the identity: it only removes
   * whitespace).
   */
  readonly perWord?: ((word: string) => string) | null;
}

/** The brand of a PartitionStream, shared by every copy of this module in one thread. */
const STREAM: unique symbol = Symbol.for('dask-ts.bag.partition-stream') as never;

/** A partition not yet produced: a source and the stages its elements go through. */
export class PartitionStream implements LazyValue<unknown[]> {
  readonly [STREAM] = true;

  constructor(
    readonly source: Source,
    readonly stages: readonly Stage[] = [],
  ) {}

  /** A new stream with one more stage; no work is done. */
  pipe(stage: Stage): PartitionStream {
    return new PartitionStream(this.source, [...this.stages, stage]);
  }

  /** Pushes every output element into `sink`. */
  run(sink: Sink): void {
    let push = sink;
    for (let s = this.stages.length - 1; s >= 0; s--) push = this.stages[s].bind(push);
    this.source.run(push);
  }

  /** The elements as an array. */
  [MATERIALIZE](): unknown[] {
    if (this.stages.length === 0 && this.source.array) return this.source.array as unknown[];
    const out: unknown[] = [];
    this.run((x) => {
      out.push(x);
    });
    return out;
  }
}

/** A partition as kernels receive it. */
export type Part = readonly unknown[] | PartitionStream;

export function isPartitionStream(x: unknown): x is PartitionStream {
  return typeof x === 'object' && x !== null && (x as { [STREAM]?: boolean })[STREAM] === true;
}

/** An array as a source. */
export class ArraySource implements Source {
  constructor(readonly array: readonly unknown[]) {}

  run(sink: Sink): void {
    const a = this.array;
    for (let j = 0; j < a.length; j++) sink(a[j]);
  }
}

/** Any other lazy value is settled; anything that is not a stream is used as an array. */
function normalize(part: unknown): readonly unknown[] | PartitionStream {
  if (Array.isArray(part) || isPartitionStream(part)) return part;
  if (isLazyValue(part)) return normalize(settle(part));
  return part as readonly unknown[];
}

/** The partition as a stream, to add a stage to. */
export function streamOf(part: Part): PartitionStream {
  const p = normalize(part);
  return isPartitionStream(p) ? p : new PartitionStream(new ArraySource(p));
}

/** The partition as an array: a stream is materialised (for steps that need the whole partition). */
export function toArray(part: Part): readonly unknown[] {
  const p = normalize(part);
  return isPartitionStream(p) ? p[MATERIALIZE]() : p;
}

/**
 * Pushes elements of the partition into `sink`, in order, until it returns true: later elements
 * are not produced (their functions do not run, their errors do not raise, the file is not read
 * further).
 */
export function eachUntil(part: Part, sink: (x: unknown) => boolean): void {
  const p = normalize(part);
  if (!isPartitionStream(p)) {
    for (let j = 0; j < p.length; j++) if (sink(p[j])) return;
    return;
  }
  // Stages never catch what their next stage throws, so this comes straight back here.
  const stop = { stop: true };
  try {
    p.run((x) => {
      if (sink(x)) throw stop;
    });
  } catch (e) {
    if (e !== stop) throw e;
  }
}

/** Pushes every element of the partition into `sink`, in order. */
export function each(part: Part, sink: Sink): void {
  const p = normalize(part);
  if (isPartitionStream(p)) {
    p.run(sink);
    return;
  }
  for (let j = 0; j < p.length; j++) sink(p[j]);
}
