/**
 * A binary min-heap of scheduled entries, ordered by `dueMs` and then by insertion order, so two jobs
 * due at the same instant fire in the order they were scheduled.
 *
 * Each entry remembers its own slot (`heapIndex`), which makes removing or re-keying an arbitrary job
 * O(log n) instead of a linear search — pause, remove and reschedule stay cheap with 100,000 jobs.
 */
export interface HeapEntry {
  /** The instant this entry is due (epoch ms). */
  dueMs: number;
  /** Tie-breaker: lower fires first when `dueMs` is equal. Assigned by the heap on insert. */
  heapSeq: number;
  /** The slot in the heap array, or -1 when the entry is not in the heap. */
  heapIndex: number;
}

export class DueHeap<T extends HeapEntry> {
  private readonly items: T[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  has(entry: T): boolean {
    return entry.heapIndex >= 0 && this.items[entry.heapIndex] === entry;
  }

  push(entry: T): void {
    entry.heapSeq = this.nextSeq++;
    entry.heapIndex = this.items.length;
    this.items.push(entry);
    this.siftUp(entry.heapIndex);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top === undefined) return undefined;
    this.removeAt(0);
    return top;
  }

  remove(entry: T): boolean {
    if (!this.has(entry)) return false;
    this.removeAt(entry.heapIndex);
    return true;
  }

  /** Inserts the entry, or moves it to its new place when it is already in the heap. */
  upsert(entry: T, dueMs: number): void {
    if (this.has(entry)) this.remove(entry);
    entry.dueMs = dueMs;
    this.push(entry);
  }

  clear(): void {
    for (const item of this.items) item.heapIndex = -1;
    this.items.length = 0;
  }

  private removeAt(index: number): void {
    const items = this.items;
    const removed = items[index] as T;
    const last = items.pop() as T;
    removed.heapIndex = -1;
    if (index < items.length) {
      items[index] = last;
      last.heapIndex = index;
      this.siftDown(index);
      this.siftUp(last.heapIndex);
    }
  }

  private less(a: T, b: T): boolean {
    return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.heapSeq < b.heapSeq);
  }

  private siftUp(start: number): void {
    const items = this.items;
    let index = start;
    const entry = items[index] as T;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex] as T;
      if (!this.less(entry, parent)) break;
      items[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    items[index] = entry;
    entry.heapIndex = index;
  }

  private siftDown(start: number): void {
    const items = this.items;
    const length = items.length;
    let index = start;
    const entry = items[index] as T;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && this.less(items[right] as T, items[left] as T)) child = right;
      const childEntry = items[child] as T;
      if (!this.less(childEntry, entry)) break;
      items[index] = childEntry;
      childEntry.heapIndex = index;
      index = child;
    }
    items[index] = entry;
    entry.heapIndex = index;
  }
}
