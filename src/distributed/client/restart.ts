/**
 * client.restart(), the client's side: the restart travels on the client's stream (so everything
 * this client sent before it is handled before it) and the scheduler answers every client with
 * `{ op: 'restart', id }`. Each client then cancels its Futures; the one that asked also resolves
 * its `restart()` call when the answer carrying its `id` arrives.
 *
 * Futures made after `restart()` was called (submitted behind the restart on the stream, so
 * computed after it) are not cancelled by its answer: the client notes the keys it sends while a
 * restart of its own is outstanding (`sent`).
 */
import { randomUUID } from 'node:crypto';
import { TimeoutError } from './errors.js';
import type { KeyState } from './key-state.js';

export interface RestartOptions {
  /** How long to wait for the scheduler's answer (default 30,000 ms). */
  readonly timeoutMs?: number;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class Restarts {
  readonly #waiting = new Map<string, Waiter>();
  /** Key states submitted after a restart of this client was sent. */
  readonly #sent = new Set<KeyState>();

  /** A new restart request: its id (for the message) and the answer. */
  begin(options: unknown): { id: string; done: Promise<void> } {
    const timeoutMs = restartTimeout(options);
    const id = randomUUID();
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new TimeoutError(`Client.restart: the scheduler did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, { resolve, reject, timer });
    });
    return { id, done };
  }

  /** A task's state was (re)sent to the scheduler. */
  sent(s: KeyState): void {
    if (this.#waiting.size > 0) this.#sent.add(s);
  }

  /**
   * Whether the restart answered with `id` cancels `s`: all of them, except, for this client's own
   * restart, the states sent behind it. (Another client's restart may have been handled after them.)
   */
  cancels(id: string | undefined, s: KeyState): boolean {
    return id === undefined || !this.#waiting.has(id) || !this.#sent.has(s);
  }

  /** The scheduler's answer: resolves the request it names (this client's, if so). */
  answered(id: string | undefined): void {
    const w = id === undefined ? undefined : this.#waiting.get(id);
    if (w === undefined) return;
    this.#waiting.delete(id!);
    clearTimeout(w.timer);
    if (this.#waiting.size === 0) this.#sent.clear();
    w.resolve();
  }

  /** The client closed or lost the scheduler: every request fails. */
  failAll(error: Error): void {
    for (const w of this.#waiting.values()) {
      clearTimeout(w.timer);
      w.reject(error);
    }
    this.#waiting.clear();
    this.#sent.clear();
  }
}

function restartTimeout(options: unknown): number {
  if (options === undefined) return 30_000;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`Client.restart: options must be an object like { timeoutMs: 10000 }, got ${String(options)}`);
  }
  for (const k of Object.keys(options)) if (k !== 'timeoutMs') throw new TypeError(`Client.restart: unknown option '${k}' (known: timeoutMs)`);
  const { timeoutMs } = options as RestartOptions;
  if (timeoutMs === undefined) return 30_000;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) throw new TypeError(`Client.restart: timeoutMs must be a positive number, got ${String(timeoutMs)}`);
  return timeoutMs;
}
