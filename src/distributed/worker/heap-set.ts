/**
 * A priority queue that is also a set (dask.distributed's `HeapSet`): items pop smallest
 * `(priority, seq)` first, membership is O(1), and `discard` is O(1) by leaving a dead entry in
 * the heap that `peek`/`pop` skip. Pushing an item again re-keys it (its old entry dies).
 */
interface Entry<T> {
  readonly item: T;
  readonly priority: number;
  readonly seq: number;
  live: boolean;
}

export class HeapSet<T> {
  private readonly heap: Entry<T>[] = [];
  private readonly entries = new Map<T, Entry<T>>();

  get size(): number {
    return this.entries.size;
  }

  has(item: T): boolean {
    return this.entries.has(item);
  }

  /** Adds `item`, or moves it to a new priority; `seq` breaks ties (smaller first). */
  push(item: T, priority: number, seq: number): void {
    const old = this.entries.get(item);
    if (old) {
      if (old.priority === priority && old.seq === seq) return;
      old.live = false;
    }
    const e: Entry<T> = { item, priority, seq, live: true };
    this.entries.set(item, e);
    this.siftUp(this.heap.push(e) - 1);
  }

  discard(item: T): boolean {
    const e = this.entries.get(item);
    if (!e) return false;
    e.live = false;
    this.entries.delete(item);
    if (this.entries.size === 0) this.heap.length = 0;
    return true;
  }

  peek(): T | undefined {
    this.dropDead();
    return this.heap[0]?.item;
  }

  pop(): T | undefined {
    this.dropDead();
    const top = this.heap[0];
    if (!top) return undefined;
    this.removeTop();
    this.entries.delete(top.item);
    return top.item;
  }

  /** Members in no particular order. */
  values(): IterableIterator<T> {
    return this.entries.keys();
  }

  /** Members, smallest first (a copy; for tests and debugging). */
  sorted(): T[] {
    return [...this.entries.values()].sort(compare).map((e) => e.item);
  }

  private dropDead(): void {
    while (this.heap.length > 0 && !this.heap[0].live) this.removeTop();
  }

  private removeTop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
  }

  private siftUp(j: number): void {
    const a = this.heap;
    const x = a[j];
    while (j > 0) {
      const parent = (j - 1) >> 1;
      if (compare(a[parent], x) <= 0) break;
      a[j] = a[parent];
      j = parent;
    }
    a[j] = x;
  }

  private siftDown(j: number): void {
    const a = this.heap;
    const n = a.length;
    const x = a[j];
    for (;;) {
      let c = 2 * j + 1;
      if (c >= n) break;
      if (c + 1 < n && compare(a[c + 1], a[c]) < 0) c++;
      if (compare(a[c], x) >= 0) break;
      a[j] = a[c];
      j = c;
    }
    a[j] = x;
  }
}

function compare<T>(a: Entry<T>, b: Entry<T>): number {
  return a.priority - b.priority || a.seq - b.seq;
}
