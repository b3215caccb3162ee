/**
 * Incoming transfers: which keys to fetch from which peer, and what is in flight.
 *
 * Each task in `fetch` sits in the queue of every peer that holds it. A gather is planned around
 * the most urgent task that some available peer holds: among its holders with the fewest requests
 * in flight (preferring peers on this host), one is picked at random from a seeded generator, and
 * the request takes, in priority order, as many of that peer's queued keys as fit in
 * `maxBytesPerFetch` (always at least one). One request for many keys costs one round trip.
 *
 * Limits (defaults after dask's `distributed.worker.connections.incoming` and
 * `transfer.message-bytes-limit`):
 * - `maxConcurrentIncoming` (10): gather requests out at once, over all peers;
 * - `maxIncomingPerPeer` (1): a second request to a busy peer would share its link and its event
 *   loop, so it gains little; waiting instead lets keys that turn up meanwhile join the next
 *   (larger) request, and a reply then always answers the one request out to that peer;
 * - `maxBytesPerFetch` (50 MB): bounds one reply's memory and latency.
 */
import type { Address, Key } from '../messages.js';
import { HeapSet } from './heap-set.js';
import type { WorkerTask } from './task.js';

export interface TransferLimits {
  readonly maxIncomingPerPeer: number;
  readonly maxConcurrentIncoming: number;
  readonly maxBytesPerFetch: number;
}

export const DEFAULT_TRANSFER_LIMITS: TransferLimits = {
  maxIncomingPerPeer: 1,
  maxConcurrentIncoming: 10,
  maxBytesPerFetch: 50e6,
};

export interface GatherRequest {
  readonly peer: Address;
  readonly keys: readonly Key[];
  readonly totalNbytes: number;
}

export interface GatherPlan {
  readonly peer: Address;
  readonly tasks: WorkerTask[];
  readonly totalNbytes: number;
}

export class Transfers {
  /** Tasks in `fetch`, per holder. A queue is deleted when it empties. */
  private readonly queues = new Map<Address, HeapSet<WorkerTask>>();
  private readonly requests = new Map<Address, GatherRequest[]>();
  private count = 0;

  constructor(
    readonly limits: TransferLimits,
    private readonly selfHost: string,
    private readonly random: () => number,
    private readonly sizeOf: (ts: WorkerTask) => number,
  ) {}

  /** Gather requests in flight, over all peers. */
  get inFlightCount(): number {
    return this.count;
  }

  inFlight(peer: Address): number {
    return this.requests.get(peer)?.length ?? 0;
  }

  inFlightRequests(): GatherRequest[] {
    return [...this.requests.values()].flat();
  }

  /** Queues `ts` (in `fetch`) with one holder, or re-keys it after a priority change. */
  enqueue(ts: WorkerTask, peer: Address): void {
    let q = this.queues.get(peer);
    if (!q) this.queues.set(peer, (q = new HeapSet()));
    q.push(ts, ts.priority, ts.seq);
  }

  dequeue(ts: WorkerTask, peer: Address): void {
    const q = this.queues.get(peer);
    if (q?.discard(ts) && q.size === 0) this.queues.delete(peer);
  }

  isQueued(ts: WorkerTask, peer: Address): boolean {
    return this.queues.get(peer)?.has(ts) ?? false;
  }

  /** Every (peer, task) pair queued; for validation. */
  *queued(): Generator<[Address, WorkerTask]> {
    for (const [peer, q] of this.queues) for (const ts of q.values()) yield [peer, ts];
  }

  /**
   * The next gather to start, or undefined when the limits are reached or no queued task has an
   * available holder. The tasks are taken off that peer's queue only; the caller moves them to
   * flight (which takes them off their other holders' queues) and calls `started`.
   */
  plan(): GatherPlan | undefined {
    if (this.count >= this.limits.maxConcurrentIncoming) return undefined;
    let best: WorkerTask | undefined;
    for (const [peer, q] of this.queues) {
      if (!this.available(peer)) continue;
      const top = q.peek()!;
      if (!best || top.priority < best.priority || (top.priority === best.priority && top.seq < best.seq)) best = top;
    }
    if (!best) return undefined;
    const peer = this.choosePeer(best);
    const q = this.queues.get(peer)!;
    const tasks: WorkerTask[] = [];
    let total = 0;
    while (q.size > 0) {
      const ts = q.peek()!;
      const n = this.sizeOf(ts);
      if (tasks.length > 0 && total + n > this.limits.maxBytesPerFetch) break;
      q.pop();
      tasks.push(ts);
      total += n;
    }
    if (q.size === 0) this.queues.delete(peer);
    return { peer, tasks, totalNbytes: total };
  }

  started(request: GatherRequest): void {
    const list = this.requests.get(request.peer);
    if (list) list.push(request);
    else this.requests.set(request.peer, [request]);
    this.count++;
  }

  /**
   * Ends the request to `peer` that a reply answers: the only one out to that peer, or else the
   * one with these keys. Undefined when no such request is out (a stale or duplicate reply).
   */
  finished(peer: Address, keys: readonly Key[] | undefined): GatherRequest | undefined {
    const list = this.requests.get(peer);
    if (!list) return undefined;
    let i = 0;
    if (list.length > 1) {
      if (keys === undefined) {
        throw new Error(
          `a gather-dep reply from ${peer} must name its keys while ${list.length} requests to that peer are in flight`,
        );
      }
      i = list.findIndex((r) => sameKeys(r.keys, keys));
      if (i < 0) return undefined;
    }
    const [request] = list.splice(i, 1);
    if (list.length === 0) this.requests.delete(peer);
    this.count--;
    return request;
  }

  private available(peer: Address): boolean {
    return this.inFlight(peer) < this.limits.maxIncomingPerPeer;
  }

  /** Among the available holders of `ts`: fewest requests out, then this host, then at random. */
  private choosePeer(ts: WorkerTask): Address {
    let candidates = [...ts.whoHas].filter((p) => this.available(p));
    const fewest = Math.min(...candidates.map((p) => this.inFlight(p)));
    candidates = candidates.filter((p) => this.inFlight(p) === fewest);
    const local = candidates.filter((p) => hostOf(p) === this.selfHost);
    if (local.length > 0) candidates = local;
    candidates.sort();
    return candidates[Math.floor(this.random() * candidates.length)];
  }
}

/** The host part of `host:port` (`[::1]:port` too). */
export function hostOf(address: Address): string {
  const i = address.lastIndexOf(':');
  return i < 0 ? address : address.slice(0, i);
}

/** A small seeded generator (mulberry32): the same seed, the same choices. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sameKeys(a: readonly Key[], b: readonly Key[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((k) => s.has(k));
}
