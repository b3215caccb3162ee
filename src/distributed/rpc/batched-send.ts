/**
 * BatchedSend: many small one-way messages over one comm, sent as lists (dask's BatchedSend, the
 * scheduler <-> worker stream).
 *
 * send() only appends to a buffer. The first message after a quiet spell goes out at the end of
 * the current tick (so everything sent in the same tick shares a batch); after a batch, the next
 * waits until `intervalMs` has passed. A batch is one message: the array of the messages, in the
 * order they were sent. Only one write is in flight at a time, so a slow peer makes batches
 * larger, not more numerous. The receiver unpacks them with handleStream().
 *
 * When a write fails the comm is gone: the buffered messages are dropped (as in dask) and every
 * later send() throws the CommClosedError.
 */
import type { Comm } from '../comm/comm.js';
import { CommClosedError } from '../comm/errors.js';
import { createLogger, type Logger } from './logger.js';

export interface BatchedSendOptions {
  /** The shortest time between two batches (default 2 ms). */
  readonly intervalMs?: number;
  readonly logger?: Logger;
}

export class BatchedSend<M = unknown> {
  readonly comm: Comm;
  readonly intervalMs: number;
  /** Batches written so far. */
  batches = 0;
  /** Messages written so far. */
  messages = 0;
  readonly #logger: Logger;
  #buffer: M[] = [];
  #nextBatchAt = 0;
  #scheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #error: Error | undefined;
  #closed = false;

  constructor(comm: Comm, options: BatchedSendOptions = {}) {
    this.comm = comm;
    this.intervalMs = options.intervalMs ?? 2;
    if (typeof this.intervalMs !== 'number' || !(this.intervalMs >= 0)) {
      throw new TypeError(`BatchedSend option 'intervalMs' must be a number >= 0, got ${String(options.intervalMs)}`);
    }
    this.#logger = options.logger ?? createLogger('dask-ts.batched-send');
  }

  /** Messages waiting for the next batch. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /** Queues messages for the next batch. Throws if closed or if the comm has failed. */
  send(...msgs: M[]): void {
    if (this.#error) throw this.#error;
    if (this.#closed || this.comm.closed) throw new CommClosedError(this.comm.peer, this.comm.closeReason);
    for (const m of msgs) this.#buffer.push(m);
    this.#schedule();
  }

  /** Sends what is buffered, waits for it to be written, then closes the comm. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#scheduled = false;
    await this.#drain();
    await this.comm.close();
  }

  /** Drops what is buffered and closes the comm at once. */
  abort(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#buffer = [];
    this.comm.abort();
  }

  /** Writes batches until the buffer is empty (used by close). */
  async #drain(): Promise<void> {
    while (!this.#error) {
      if (this.#writing) await this.#writing;
      else if (this.#buffer.length > 0) this.#flush();
      else return;
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing || this.#closed) return;
    this.#scheduled = true;
    const wait = this.#nextBatchAt - performance.now();
    if (wait <= 0) queueMicrotask(() => this.#flush());
    else this.#timer = setTimeout(() => this.#flush(), wait);
  }

  #flush(): void {
    this.#scheduled = false;
    this.#timer = undefined;
    if (this.#writing || this.#error || this.#buffer.length === 0) return;
    const batch = this.#buffer;
    this.#buffer = [];
    this.#nextBatchAt = performance.now() + this.intervalMs;
    this.#writing = this.comm.write(batch).then(
      () => {
        this.batches++;
        this.messages += batch.length;
        this.#writing = undefined;
        if (this.#buffer.length > 0) this.#schedule();
      },
      (e: unknown) => {
        this.#writing = undefined;
        this.#error = e instanceof CommClosedError ? e : new CommClosedError(this.comm.peer, e as Error);
        this.#logger.warn(`batched send to ${this.comm.peer} failed; ${batch.length + this.#buffer.length} messages dropped`, e);
        this.#buffer = [];
        if (!(e instanceof CommClosedError)) this.comm.abort(e as Error);
      },
    );
  }
}
