/** A binary min-heap of node indices keyed by a fixed priority array (smaller pops first). */
export class PriorityQueue {
  private readonly items: number[] = [];

  constructor(private readonly priority: Int32Array) {}

  get size(): number {
    return this.items.length;
  }

  push(i: number): void {
    const a = this.items;
    const p = this.priority;
    let j = a.length;
    a.push(i);
    while (j > 0) {
      const parent = (j - 1) >> 1;
      if (p[a[parent]] <= p[i]) break;
      a[j] = a[parent];
      j = parent;
    }
    a[j] = i;
  }

  /** The smallest item, or -1 when empty. */
  pop(): number {
    const a = this.items;
    if (a.length === 0) return -1;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) this.siftDown(last);
    return top;
  }

  private siftDown(x: number): void {
    const a = this.items;
    const p = this.priority;
    const n = a.length;
    let j = 0;
    for (;;) {
      let c = 2 * j + 1;
      if (c >= n) break;
      if (c + 1 < n && p[a[c + 1]] < p[a[c]]) c++;
      if (p[a[c]] >= p[x]) break;
      a[j] = a[c];
      j = c;
    }
    a[j] = x;
  }
}
