/**
 * The client's side of its stream to the scheduler: messages queued during a tick leave together,
 * one write at a time, in order (what BatchedSend does for the servers), with two additions the
 * client needs:
 *
 * - Merging. Consecutive update-graphs from submit/map merge into one (a loop of 10,000 submits is
 *   one scheduler event), and consecutive key lists (releases, desires, cancels) into one message.
 *   Nothing merges across a message of another kind, so order is kept.
 * - A frame budget per write. Every task's run spec is a serialized part of at least one frame,
 *   and a comm refuses messages of more than `maxFrames` frames (1,000,000 by default, on both ends).
 *   So a batch is cut before it exceeds `maxFramesPerWrite`, and an update-graph that alone exceeds
 *   it is split (splitUpdateGraph) into several, in dependency order.
 */
import type { Comm } from '../comm/comm.js';
import { CommClosedError } from '../comm/errors.js';
import { DEFAULT_FRAME_LIMITS } from '../comm/frame-parser.js';
import type { ClientToScheduler, Key, TaskInput } from '../messages.js';
import { Serialized } from '../protocol/index.js';
import type { Logger } from '../rpc/logger.js';

type UpdateGraph = Extract<ClientToScheduler, { op: 'update-graph' }>;

export interface OutboxOptions {
  readonly logger: Logger;
  /** Whether the client holds a key (a split graph does not release what the client holds). */
  readonly isHeld: (key: Key) => boolean;
  /** Default: half the comm's maxFrames, leaving room for everything else. */
  readonly maxFramesPerWrite?: number;
}

export class Outbox {
  readonly #comm: Comm;
  readonly #logger: Logger;
  readonly #isHeld: (key: Key) => boolean;
  readonly #maxFrames: number;
  #queue: ClientToScheduler[] = [];
  readonly #mergeable = new WeakSet<object>();
  #scheduled = false;
  /** Batches ready to write, in order. */
  #batches: ClientToScheduler[][] = [];
  #writing: Promise<void> | undefined;
  #closed = false;

  constructor(comm: Comm, options: OutboxOptions) {
    this.#comm = comm;
    this.#logger = options.logger;
    this.#isHeld = options.isHeld;
    this.#maxFrames = options.maxFramesPerWrite ?? Math.floor(DEFAULT_FRAME_LIMITS.maxFrames / 2);
  }

  /** Queues a message for the end of this tick. `mergeable`: an update-graph of submit/map. */
  send(msg: ClientToScheduler, mergeable = false): void {
    if (this.#closed) return;
    const last = this.#queue[this.#queue.length - 1];
    if (last !== undefined && last.op === msg.op) {
      if (msg.op === 'update-graph' && mergeable && this.#mergeable.has(last)) {
        const into = last as UpdateGraph;
        Object.assign(into.tasks, msg.tasks);
        for (const k of msg.keys) into.keys.push(k);
        return;
      }
      if (msg.op === 'client-releases-keys' || msg.op === 'client-desires-keys' || msg.op === 'cancel-keys') {
        const into = last as { keys: Key[] };
        for (const k of msg.keys) into.keys.push(k);
        return;
      }
    }
    if (mergeable) this.#mergeable.add(msg);
    this.#queue.push(msg);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /** Sends what is queued (and `last`), waits for the writes, then closes the comm. */
  async close(last?: ClientToScheduler): Promise<void> {
    if (this.#closed) return;
    if (last !== undefined) this.#queue.push(last);
    this.#flush();
    this.#closed = true;
    while (this.#writing !== undefined) await this.#writing;
    await this.#comm.close();
  }

  /** Drops what is queued (the comm is gone). */
  abort(): void {
    this.#closed = true;
    this.#queue = [];
    this.#batches = [];
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#closed || this.#queue.length === 0) return;
    const msgs = this.#queue;
    this.#queue = [];
    let batch: ClientToScheduler[] = [];
    let frames = 0;
    for (const whole of msgs) {
      const parts = whole.op === 'update-graph' ? splitUpdateGraph(whole, this.#maxFrames, this.#isHeld) : [whole];
      for (const m of parts) {
        const n = framesOf(m);
        if (batch.length > 0 && frames + n > this.#maxFrames) {
          this.#batches.push(batch);
          batch = [];
          frames = 0;
        }
        batch.push(m);
        frames += n;
      }
    }
    if (batch.length > 0) this.#batches.push(batch);
    this.#writing ??= this.#writeAll();
  }

  async #writeAll(): Promise<void> {
    try {
      for (let batch = this.#batches.shift(); batch !== undefined; batch = this.#batches.shift()) {
        try {
          await this.#comm.write(batch);
        } catch (e) {
          if (e instanceof CommClosedError || this.#comm.closed) {
            this.abort(); // the read loop reports the broken connection
            return;
          }
          // An encoding error leaves the comm in step: only this batch is lost.
          this.#logger.error(`could not send ${batch.length} messages to the scheduler: ${(e as Error).message}`, e);
        }
      }
    } finally {
      this.#writing = undefined;
    }
  }
}

/** Frames a message adds to a write: those of its tasks' serialized run specs. */
function framesOf(msg: ClientToScheduler): number {
  if (msg.op !== 'update-graph') return 0;
  let n = 0;
  for (const k in msg.tasks) n += taskFrames(msg.tasks[k]);
  return n;
}

function taskFrames(t: TaskInput): number {
  return t.run instanceof Serialized ? Math.max(1, t.run.frames.length) : 1;
}

/**
 * An update-graph cut into messages of at most `maxFrames` frames each, in dependency order.
 *
 * The scheduler drops the tasks of an update-graph that nothing wants once it has handled it, so
 * a task that a later part depends on must be wanted meanwhile: each part also wants its
 * "frontier" (its keys that later parts depend on), and a release of the frontier keys the client
 * does not hold follows the last part. By then the dependents have arrived and keep what they need.
 */
export function splitUpdateGraph(msg: UpdateGraph, maxFrames: number, isHeld: (key: Key) => boolean): ClientToScheduler[] {
  if (framesOf(msg) <= maxFrames) return [msg];
  const order = dependencyOrder(msg.tasks);
  const chunkOf = new Map<Key, number>();
  const chunks: Key[][] = [[]];
  let frames = 0;
  for (const k of order) {
    const n = taskFrames(msg.tasks[k]);
    if (chunks[chunks.length - 1].length > 0 && frames + n > maxFrames) {
      chunks.push([]);
      frames = 0;
    }
    chunks[chunks.length - 1].push(k);
    chunkOf.set(k, chunks.length - 1);
    frames += n;
  }
  const frontier = chunks.map(() => new Set<Key>());
  for (const k of order) {
    const c = chunkOf.get(k)!;
    for (const d of msg.tasks[k].deps) {
      const dc = chunkOf.get(d);
      if (dc !== undefined && dc < c) frontier[dc].add(d);
    }
  }
  const wanted = new Set(msg.keys);
  const out: ClientToScheduler[] = chunks.map((keys, c) => {
    const tasks: Record<Key, TaskInput> = {};
    for (const k of keys) tasks[k] = msg.tasks[k];
    const want = new Set(frontier[c]);
    for (const k of keys) if (wanted.has(k)) want.add(k);
    if (c === chunks.length - 1) for (const k of wanted) if (!chunkOf.has(k)) want.add(k);
    return { op: 'update-graph', tasks, keys: [...want], ...(msg.stimulusId === undefined ? {} : { stimulusId: msg.stimulusId }) };
  });
  const release: Key[] = [];
  for (const f of frontier) for (const k of f) if (!wanted.has(k) && !isHeld(k)) release.push(k);
  if (release.length > 0) out.push({ op: 'client-releases-keys', keys: release });
  return out;
}

/** The keys of `tasks`, each after the tasks of this message it depends on (Kahn's algorithm). */
function dependencyOrder(tasks: Readonly<Record<Key, TaskInput>>): Key[] {
  const keys = Object.keys(tasks);
  const missing = new Map<Key, number>();
  const dependents = new Map<Key, Key[]>();
  const ready: Key[] = [];
  for (const k of keys) {
    let n = 0;
    for (const d of new Set(tasks[k].deps)) {
      if (!Object.hasOwn(tasks, d) || d === k) continue;
      n++;
      const list = dependents.get(d);
      if (list) list.push(k);
      else dependents.set(d, [k]);
    }
    missing.set(k, n);
    if (n === 0) ready.push(k);
  }
  const out: Key[] = [];
  // Smallest priority first among the ready ones would need a heap; the order within a part does
  // not matter (the scheduler sorts each part by priority), only that dependencies come first.
  while (ready.length > 0) {
    const k = ready.pop()!;
    out.push(k);
    for (const dep of dependents.get(k) ?? []) {
      const n = missing.get(dep)! - 1;
      missing.set(dep, n);
      if (n === 0) ready.push(dep);
    }
  }
  if (out.length < keys.length) for (const k of keys) if (missing.get(k)! > 0) out.push(k); // a cycle: the scheduler reports it
  return out;
}
