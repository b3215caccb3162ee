/**
 * A binary min-heap of tasks by priority that also supports removal: each task remembers its
 * index (`heapIndex`), and a task is in at most one queue at a time. Used for each worker's
 * backlog of assigned but not yet sent tasks.
 */
export interface Queued {
  readonly priority: number;
  heapIndex: number;
}

export class TaskQueue<T extends Queued> {
  readonly #heap: T[] = [];

  get size(): number {
    return this.#heap.length;
  }

  has(t: T): boolean {
    return t.heapIndex >= 0 && this.#heap[t.heapIndex] === t;
  }

  push(t: T): void {
    if (t.heapIndex >= 0) throw new Error('task is already queued');
    t.heapIndex = this.#heap.length;
    this.#heap.push(t);
    this.#up(t.heapIndex);
  }

  peek(): T | undefined {
    return this.#heap[0];
  }

  pop(): T | undefined {
    const top = this.#heap[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(t: T): boolean {
    if (!this.has(t)) return false;
    const i = t.heapIndex;
    const last = this.#heap.pop()!;
    t.heapIndex = -1;
    if (last !== t) {
      this.#heap[i] = last;
      last.heapIndex = i;
      this.#down(i);
      this.#up(last.heapIndex);
    }
    return true;
  }

  /** The queued tasks, in no particular order. */
  values(): readonly T[] {
    return this.#heap;
  }

  // Both sifts move the task along its path and write it once where it stops (no swaps).
  #up(i: number): void {
    const h = this.#heap;
    const t = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p];
      if (parent.priority <= t.priority) break;
      h[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    h[i] = t;
    t.heapIndex = i;
  }

  #down(i: number): void {
    const h = this.#heap;
    const n = h.length;
    const t = h[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r].priority < h[l].priority ? r : l;
      const child = h[c];
      if (child.priority >= t.priority) break;
      h[i] = child;
      child.heapIndex = i;
      i = c;
    }
    h[i] = t;
    t.heapIndex = i;
  }
}
