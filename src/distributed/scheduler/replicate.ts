/**
 * Planning `replicate`: which copies to drop and, round by round, which worker fetches which key
 * from whom. Pure functions over plain data (no sockets, no scheduler state), so that the plans
 * are unit-tested; data-moves.ts carries them out.
 *
 * Design (after dask's Scheduler.replicate):
 *
 * - Counting. Only copies on the allowed workers count towards `n`; copies elsewhere are left
 *   alone but may serve as sources. `n` is clamped to the number of allowed workers.
 * - Reducing. A key with more than `n` copies on allowed workers loses the surplus, taken from the
 *   workers holding the most bytes first. Never its last copy (n >= 1), and never a copy that a
 *   task assigned to that worker needs (`pinned`): that copy stays, and the key keeps more than n.
 * - Copying is a tree. Each round, every holder of a key feeds at most `branchingFactor` new
 *   holders of it, so a key on one worker is on 1 + b workers after one round, (1 + b)^2 after two:
 *   replicating to W workers takes about log_(1+b) W rounds, and no single worker sends the data
 *   more than b times per round. Each new holder is told exactly one source, which is how the
 *   fan-out is enforced (a worker given several holders picks one itself).
 * - Choices are deterministic: new holders are the allowed workers holding the fewest bytes
 *   (counting the copies planned so far in the round), ties by address; sources are the holders
 *   with the fewest transfers planned in the round, ties by address. The next round is planned
 *   from the state as it then is, so a copy that failed is simply planned again.
 */
import type { Address, Key } from '../messages.js';

/** A key as the planners see it. */
export interface KeyReplicas {
  readonly key: Key;
  /** Bytes of one copy (a default size when unknown). */
  readonly nbytes: number;
  /** Every worker holding a copy, allowed or not. */
  readonly holders: readonly Address[];
  /** Holders whose copy a task assigned to them needs: it may not be removed. */
  readonly pinned?: readonly Address[];
}

export interface ReplicateTarget {
  /** Workers the copies are counted and made on. */
  readonly allowed: readonly Address[];
  /** Copies wanted on the allowed workers (>= 1; clamped to their number). */
  readonly n: number;
  /** Bytes each worker holds now (all keys); the least loaded receive copies first. Absent: 0. */
  readonly load?: Readonly<Record<Address, number>>;
}

/** One round of copies: new holder → key → [its one source]. */
export type CopyRound = Record<Address, Record<Key, Address[]>>;

/** Copies to drop: worker → keys. */
export type Removals = Record<Address, Key[]>;

export interface ReductionPlan {
  readonly remove: Removals;
  /** Keys left with more than n copies because the surplus is pinned by assigned tasks. */
  readonly pinned: Key[];
}

/** n within 1..|allowed| (0 when nothing is allowed). */
export function clampReplicas(n: number, allowed: readonly Address[]): number {
  return Math.min(n, new Set(allowed).size);
}

/** The copies to drop so that no key has more than n on the allowed workers. */
export function planReductions(keys: readonly KeyReplicas[], target: ReplicateTarget): ReductionPlan {
  const allowed = new Set(target.allowed);
  const n = clampReplicas(target.n, target.allowed);
  const load = loadOf(target);
  const remove: Removals = {};
  const pinnedKeys: Key[] = [];
  if (n < 1) return { remove, pinned: pinnedKeys };
  for (const k of keys) {
    const here = unique(k.holders).filter((a) => allowed.has(a));
    const surplus = here.length - n;
    if (surplus <= 0) continue;
    const pinned = new Set(k.pinned ?? []);
    const candidates = here.filter((a) => !pinned.has(a)).sort((a, b) => (load.get(b) ?? 0) - (load.get(a) ?? 0) || cmp(a, b));
    const dropped = candidates.slice(0, surplus);
    if (dropped.length < surplus) pinnedKeys.push(k.key);
    for (const a of dropped) {
      (remove[a] ??= []).push(k.key);
      load.set(a, (load.get(a) ?? 0) - k.nbytes);
    }
  }
  return { remove, pinned: pinnedKeys };
}

/**
 * The next round of copies towards n copies of every key on the allowed workers; empty when every
 * key has them (or has no holder to copy from).
 */
export function planCopyRound(keys: readonly KeyReplicas[], target: ReplicateTarget & { readonly branchingFactor: number }): CopyRound {
  const allowed = unique(target.allowed).sort(cmp);
  const n = clampReplicas(target.n, allowed);
  const b = target.branchingFactor;
  const load = loadOf(target);
  const sends = new Map<Address, number>();
  const round: CopyRound = {};
  // Biggest keys first, so that they go to the emptiest workers.
  const order = [...keys].sort((x, y) => y.nbytes - x.nbytes || cmp(x.key, y.key));
  for (const k of order) {
    const holders = unique(k.holders);
    if (holders.length === 0) continue;
    const has = new Set(holders);
    const missing = n - allowed.filter((a) => has.has(a)).length;
    if (missing <= 0) continue;
    const free = allowed.filter((a) => !has.has(a)).sort((x, y) => (load.get(x) ?? 0) - (load.get(y) ?? 0) || cmp(x, y));
    const targets = free.slice(0, Math.min(missing, b * holders.length));
    const fed = new Map<Address, number>(holders.map((h) => [h, 0]));
    for (const t of targets) {
      const source = holders
        .filter((h) => fed.get(h)! < b)
        .sort((x, y) => (sends.get(x) ?? 0) - (sends.get(y) ?? 0) || cmp(x, y))[0];
      fed.set(source, fed.get(source)! + 1);
      sends.set(source, (sends.get(source) ?? 0) + 1);
      (round[t] ??= {})[k.key] = [source];
      load.set(t, (load.get(t) ?? 0) + k.nbytes);
    }
  }
  return round;
}

/** The keys still short of n copies on the allowed workers, with how many they have. */
export function shortOf(keys: readonly KeyReplicas[], target: ReplicateTarget): Record<Key, number> {
  const allowed = new Set(target.allowed);
  const n = clampReplicas(target.n, target.allowed);
  const out: Record<Key, number> = {};
  for (const k of keys) {
    const have = unique(k.holders).filter((a) => allowed.has(a)).length;
    if (have < n) out[k.key] = have;
  }
  return out;
}

function loadOf(target: ReplicateTarget): Map<Address, number> {
  return new Map(Object.entries(target.load ?? {}));
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
