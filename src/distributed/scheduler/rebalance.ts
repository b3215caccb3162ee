/**
 * Planning `rebalance`: which keys move from which worker to which, so that the bytes of the given
 * keys are spread evenly over the given workers. A pure function over plain data; data-moves.ts
 * carries the plan out (copy to the recipient, then drop the sender's copy).
 *
 * Design. Only the given keys and workers take part: a worker's load is the bytes of the given
 * keys it holds (each copy counts), and the goal is the mean of those loads. Greedy, one move at a
 * time:
 *
 * 1. Take the most loaded worker (sender) and the least loaded one (recipient). Stop when both are
 *    within `tolerance` of the mean (default 5 %), so that no move is made for crumbs.
 * 2. Moving a key of s bytes from sender S to recipient R changes the sum of squared loads by
 *    -2s(S - R - s): an improvement exactly when 0 < s < S - R, the largest at s = (S - R) / 2.
 *    Among the sender's movable keys (not already on the recipient, not pinned on the sender by a
 *    task assigned there, not moved before), take the one closest to (S - R) / 2 without reaching
 *    S - R: the closer of the biggest key that fits in half the gap and the smallest above it (a
 *    binary search in the sender's keys sorted by size). That is dask's "biggest first", made to
 *    never overshoot.
 * 3. When the sender has no such key for that recipient, try the next least loaded recipient below
 *    the mean, then the next most loaded sender above it; stop when no pair has a move.
 *
 * Every move strictly lowers the sum of squares and each copy moves at most once (a key held twice
 * may move from both holders), so the plan ends after at most as many moves as there are copies.
 */
import type { Address, Key } from '../messages.js';
import type { KeyReplicas } from './replicate.js';

export interface Move {
  readonly key: Key;
  readonly from: Address;
  readonly to: Address;
  readonly nbytes: number;
}

export interface RebalanceOptions {
  /** Stop once every worker is within this fraction of the mean load (default 0.05). */
  readonly tolerance?: number;
}

export interface RebalancePlan {
  readonly moves: Move[];
  /** Bytes per worker before and after the moves, and their mean. */
  readonly before: Record<Address, number>;
  readonly after: Record<Address, number>;
  readonly mean: number;
}

export function planRebalance(keys: readonly KeyReplicas[], workers: readonly Address[], options: RebalanceOptions = {}): RebalancePlan {
  const tolerance = options.tolerance ?? 0.05;
  const names = [...new Set(workers)];
  const allowed = new Set(names);
  const load = new Map<Address, number>(names.map((w) => [w, 0]));
  const held = new Map<Address, KeyReplicas[]>(names.map((w) => [w, []]));
  const holders = new Map<Key, Set<Address>>();
  for (const k of keys) {
    const hs = new Set(k.holders.filter((a) => allowed.has(a)));
    holders.set(k.key, hs);
    for (const a of hs) {
      load.set(a, load.get(a)! + k.nbytes);
      held.get(a)!.push(k);
    }
  }
  const before = bytesPerWorker(keys, names);
  const total = [...load.values()].reduce((s, v) => s + v, 0);
  const mean = names.length === 0 ? 0 : total / names.length;
  const slack = tolerance * mean;
  const moves: Move[] = [];

  // Each worker's movable keys, smallest first; a moved key leaves its sender's list for good.
  for (const list of held.values()) list.sort((x, y) => x.nbytes - y.nbytes);
  const eligible = (k: KeyReplicas, sender: Address, recipient: Address, gap: number) =>
    k.nbytes > 0 && k.nbytes < gap && !holders.get(k.key)!.has(recipient) && !(k.pinned ?? []).includes(sender);

  /** The sender's key closest to half the gap that still improves: searched outwards from gap / 2. */
  const pick = (sender: Address, recipient: Address): number => {
    const list = held.get(sender)!;
    const gap = load.get(sender)! - load.get(recipient)!;
    const mid = lowerBound(list, gap / 2);
    let below = mid - 1;
    while (below >= 0 && !eligible(list[below], sender, recipient, gap)) below--;
    let above = mid;
    while (above < list.length && list[above].nbytes < gap && !eligible(list[above], sender, recipient, gap)) above++;
    const hasAbove = above < list.length && list[above].nbytes < gap;
    if (below < 0) return hasAbove ? above : -1;
    if (!hasAbove) return below;
    return gap / 2 - list[below].nbytes <= list[above].nbytes - gap / 2 ? below : above;
  };

  const copies = [...held.values()].reduce((n, list) => n + list.length, 0);
  for (let step = 0; step <= copies; step++) {
    const order = names.slice().sort((a, b) => load.get(b)! - load.get(a)! || (a < b ? -1 : 1));
    if (order.length < 2) break;
    const top = load.get(order[0])!;
    const bottom = load.get(order[order.length - 1])!;
    if (top - mean <= slack && mean - bottom <= slack) break;
    let found: [number, Address, Address] | undefined;
    search: for (const sender of order) {
      if (load.get(sender)! <= mean) break;
      for (const recipient of order.slice().reverse()) {
        if (load.get(recipient)! >= mean) break;
        const i = pick(sender, recipient);
        if (i >= 0) {
          found = [i, sender, recipient];
          break search;
        }
      }
    }
    if (found === undefined) break;
    const [i, from, to] = found;
    const [k] = held.get(from)!.splice(i, 1);
    holders.get(k.key)!.delete(from);
    holders.get(k.key)!.add(to);
    load.set(from, load.get(from)! - k.nbytes);
    load.set(to, load.get(to)! + k.nbytes);
    moves.push({ key: k.key, from, to, nbytes: k.nbytes });
  }
  return { moves, before, after: Object.fromEntries(load), mean };
}

/** The first index of `list` (sorted by nbytes) whose nbytes is >= `x`. */
function lowerBound(list: readonly KeyReplicas[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].nbytes < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Bytes of `keys` each of `workers` holds (every copy counts). */
export function bytesPerWorker(keys: readonly KeyReplicas[], workers: readonly Address[]): Record<Address, number> {
  const out: Record<Address, number> = Object.fromEntries(workers.map((w) => [w, 0]));
  for (const k of keys) for (const a of new Set(k.holders)) if (a in out) out[a] += k.nbytes;
  return out;
}
