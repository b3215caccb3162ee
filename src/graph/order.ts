/**
 * Static task ordering, as `dask.order.order`: a priority for every task, smaller runs first. The
 * local schedulers run the ready task with the smallest priority, so this order decides how many
 * intermediate results are alive at once.
 *
 * Design (the dask 0.19-era scheme, made iterative and linear in the number of edges):
 *
 * 1. Two static measures, each one pass over a topological order (Kahn's algorithm, which also
 *    detects cycles):
 *    - `total[v]` = 1 + the sum of `total` over v's dependencies: the size of the computation
 *      behind v (shared work is counted once per path, as in dask; exact counts would cost O(n^2)).
 *    - `smallestOutput[v]` = the smallest `total` of any output (a node without dependents) that
 *      v feeds: how cheap it is to reach some finished result through v.
 * 2. A depth-first walk with an explicit stack, starting from the outputs, biggest first. A popped
 *    node that is not ready *descends*: its unfinished dependencies are pushed so the one with the
 *    largest `total` runs first (like Sethi-Ullman register allocation: do the big subproblem while
 *    nothing else is held, keep the small one for when its result is held). A ready node gets the
 *    next priority and then *walks up*: its consumers that are now ready are pushed on top (so a
 *    reduction runs as soon as its inputs exist, which frees those inputs), the consumer leading to
 *    the cheapest output first. Consumers still waiting for other inputs are walked up to as well
 *    (finish what this result started), unless they are already descended into (they are in
 *    progress below us) or there are more than WALK_UP_LIMIT of them: an input with many pending
 *    consumers stays alive until the last of them anyway, and jumping to all of them would run the
 *    graph breadth-first in consumer-index order instead of following its structure.
 * 3. A descended node still waiting when popped again is dropped: the walk-up from its last
 *    dependency pushes it as soon as it is ready. So every node descends at most once, and the walk
 *    costs O(n + E) stack operations plus the sorting of each adjacency list, O(E log d).
 *
 * Ties break by node index (smaller first); `order` numbers keys in string order, so its result
 * depends on neither the insertion order of the object nor the order of the dependency lists.
 */
import { GraphError } from './errors.js';

type Adjacency = readonly (readonly number[])[];

const UNORDERED = -1;
/** Most consumers still waiting on other inputs that a finished node walks up to. */
const WALK_UP_LIMIT = 2;
/** Lists up to this length are sorted by insertion, which beats a comparator sort call. */
const INSERTION_SORT_MAX = 16;

/** Priorities for nodes 0..n-1: a permutation of 0..n-1, smaller runs first. */
export function orderIndices(dependencies: Adjacency, dependents: Adjacency): Int32Array {
  assertConsistent(dependencies, dependents);
  const topo = topologicalOrder(dependencies, dependents);
  const total = totalDependencies(dependencies, topo);
  const smallestOutput = smallestOutputs(dependents, topo, total);
  return new Walk(dependencies, dependents, total, smallestOutput).run();
}

/** Convenience over a plain dependency map, like dask.order.order: `{ key: priority }`. */
export function order(dependencies: Record<string, Iterable<string>>): Record<string, number> {
  const keys = Object.keys(dependencies).sort();
  const index = new Map<string, number>();
  for (let i = 0; i < keys.length; i++) index.set(keys[i], i);
  const deps = keys.map((k) => dependencyIndices(k, dependencies[k], index));
  const priority = orderIndices(deps, reverse(deps));
  return Object.fromEntries(keys.map((k, i) => [k, priority[i]]));
}

/** The dependencies of `key` as sorted unique indices; a key depending on itself is ignored. */
function dependencyIndices(key: string, deps: Iterable<string>, index: ReadonlyMap<string, number>): number[] {
  const own = index.get(key)!;
  const out = new Set<number>();
  for (const d of deps) {
    const i = index.get(d);
    if (i === undefined) throw new GraphError(`key '${key}' depends on '${d}', which is not a key of the graph`);
    if (i !== own) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

/** Dependents from dependencies; each list comes out sorted because i increases. */
function reverse(dependencies: Adjacency): number[][] {
  const dependents: number[][] = dependencies.map(() => []);
  for (let i = 0; i < dependencies.length; i++) for (const d of dependencies[i]) dependents[d].push(i);
  return dependents;
}

function assertConsistent(dependencies: Adjacency, dependents: Adjacency): void {
  if (dependencies.length !== dependents.length) {
    throw new GraphError(`dependencies has ${dependencies.length} nodes but dependents has ${dependents.length}`);
  }
  let edges = 0;
  for (const ds of dependencies) edges += ds.length;
  for (const ds of dependents) edges -= ds.length;
  if (edges !== 0) throw new GraphError('dependencies and dependents do not describe the same edges');
}

/** Kahn's algorithm: every node after its dependencies. Throws if some nodes are on a cycle. */
function topologicalOrder(dependencies: Adjacency, dependents: Adjacency): Int32Array {
  const n = dependencies.length;
  const missing = new Int32Array(n);
  const out = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) {
    missing[i] = dependencies[i].length;
    if (missing[i] === 0) out[tail++] = i;
  }
  for (let head = 0; head < tail; head++) {
    for (const d of dependents[out[head]]) if (--missing[d] === 0) out[tail++] = d;
  }
  if (tail < n) throw new GraphError(`cannot order a graph with a cycle (${n - tail} nodes are on or behind one)`);
  return out;
}

/** `1 + sum(total[d])` over the dependencies d: the (path-counted) size of the work behind a node. */
function totalDependencies(dependencies: Adjacency, topo: Int32Array): Float64Array {
  const total = new Float64Array(topo.length);
  for (const v of topo) {
    let sum = 1;
    for (const d of dependencies[v]) sum += total[d];
    total[v] = sum;
  }
  return total;
}

/** The smallest `total` of an output (node without dependents) reachable from each node. */
function smallestOutputs(dependents: Adjacency, topo: Int32Array, total: Float64Array): Float64Array {
  const out = new Float64Array(topo.length);
  for (let j = topo.length - 1; j >= 0; j--) {
    const v = topo[j];
    const ds = dependents[v];
    if (ds.length === 0) {
      out[v] = total[v];
      continue;
    }
    let min = Infinity;
    for (const d of ds) if (out[d] < min) min = out[d];
    out[v] = min;
  }
  return out;
}

/** The depth-first walk of step 2 of the design note. */
class Walk {
  private readonly n: number;
  private readonly priority: Int32Array;
  /** Unfinished dependencies of each node. */
  private readonly waiting: Int32Array;
  private readonly descended: Uint8Array;
  private readonly stack: IntStack;
  private readonly scratch: Int32Array;
  private next = 0;

  /** Descent order: biggest computation first, then smaller index. */
  private readonly byTotal = (a: number, b: number): number => {
    const ta = this.total[a];
    const tb = this.total[b];
    return ta > tb ? -1 : ta < tb ? 1 : a - b;
  };

  /** Walk-up order: ready consumers first, then the one leading to the cheapest output. */
  private readonly byWalkUp = (a: number, b: number): number => {
    const ra = this.waiting[a] === 0 ? 0 : 1;
    const rb = this.waiting[b] === 0 ? 0 : 1;
    if (ra !== rb) return ra - rb;
    const oa = this.smallestOutput[a];
    const ob = this.smallestOutput[b];
    return oa < ob ? -1 : oa > ob ? 1 : a - b;
  };

  constructor(
    private readonly dependencies: Adjacency,
    private readonly dependents: Adjacency,
    private readonly total: Float64Array,
    private readonly smallestOutput: Float64Array,
  ) {
    const n = dependencies.length;
    this.n = n;
    this.priority = new Int32Array(n).fill(UNORDERED);
    this.waiting = new Int32Array(n);
    this.descended = new Uint8Array(n);
    let widest = 0;
    for (let i = 0; i < n; i++) {
      this.waiting[i] = dependencies[i].length;
      widest = Math.max(widest, dependencies[i].length, dependents[i].length);
    }
    this.scratch = new Int32Array(widest);
    this.stack = new IntStack(Math.max(16, n));
  }

  run(): Int32Array {
    this.pushOutputs();
    while (this.stack.size > 0) this.visit(this.stack.pop());
    if (this.next !== this.n) throw new Error(`order: internal error, ordered ${this.next} of ${this.n} nodes`);
    return this.priority;
  }

  private pushOutputs(): void {
    const outputs: number[] = [];
    for (let i = 0; i < this.n; i++) if (this.dependents[i].length === 0) outputs.push(i);
    const sorted = Int32Array.from(outputs);
    sortPrefix(sorted, sorted.length, this.byTotal);
    this.pushReversed(sorted, sorted.length);
  }

  private visit(v: number): void {
    if (this.priority[v] !== UNORDERED) return; // a stale copy
    if (this.waiting[v] === 0) {
      this.finish(v);
      this.walkUp(v);
    } else if (!this.descended[v]) {
      this.descend(v);
    }
    // else: already descended and still waiting; its last dependency's walk-up pushes it again.
  }

  private descend(v: number): void {
    this.descended[v] = 1;
    const s = this.scratch;
    let k = 0;
    for (const d of this.dependencies[v]) if (this.priority[d] === UNORDERED) s[k++] = d;
    sortPrefix(s, k, this.byTotal);
    this.pushReversed(s, k);
  }

  private finish(v: number): void {
    this.priority[v] = this.next++;
    for (const d of this.dependents[v]) this.waiting[d]--;
  }

  private walkUp(v: number): void {
    const s = this.scratch;
    const consumers = this.dependents[v];
    let k = 0;
    let pending = 0;
    for (const d of consumers) {
      if (this.waiting[d] === 0) s[k++] = d;
      else if (!this.descended[d]) pending++;
    }
    if (pending > 0 && pending <= WALK_UP_LIMIT) {
      for (const d of consumers) if (this.waiting[d] > 0 && !this.descended[d]) s[k++] = d;
    }
    sortPrefix(s, k, this.byWalkUp);
    this.pushReversed(s, k);
  }

  /** Pushes `items[0..count)` so that `items[0]` is on top. */
  private pushReversed(items: Int32Array, count: number): void {
    for (let j = count - 1; j >= 0; j--) this.stack.push(items[j]);
  }
}

/** Sorts `a[0..count)` in place by `cmp`. */
function sortPrefix(a: Int32Array, count: number, cmp: (x: number, y: number) => number): void {
  if (count < 2) return;
  if (count > INSERTION_SORT_MAX) {
    a.subarray(0, count).sort(cmp);
    return;
  }
  for (let i = 1; i < count; i++) {
    const x = a[i];
    let j = i - 1;
    while (j >= 0 && cmp(a[j], x) > 0) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
}

/** A growable stack of int32. */
class IntStack {
  private data: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.data = new Int32Array(capacity);
  }

  push(x: number): void {
    if (this.size === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.size++] = x;
  }

  pop(): number {
    return this.data[--this.size];
  }
}
