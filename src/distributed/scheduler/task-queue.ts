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

  #up(i: number): void {
    const h = this.#heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].priority <= h[i].priority) return;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i: number): void {
    const h = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l].priority < h[m].priority) m = l;
      if (r < h.length && h[r].priority < h[m].priority) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #swap(i: number, j: number): void {
    const h = this.#heap;
    [h[i], h[j]] = [h[j], h[i]];
    h[i].heapIndex = i;
    h[j].heapIndex = j;
  }
}
