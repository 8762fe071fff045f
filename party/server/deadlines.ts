/**
 * Deadlines by key, earliest first: what a room with many leases or timers asks on every
 * request ("is anything due?", "when is the next one?") without a pass over all of them.
 * A min-heap with lazy deletion: setting or clearing a key costs O(log n), and an entry the
 * key no longer holds is dropped when it reaches the top. Pure; times are the caller's.
 */

type Entry = { at: number; key: string };

/** The deadlines of a set of keys. */
export class Deadlines {
  /** Each key's deadline in force. */
  readonly #at = new Map<string, number>();
  /** Every deadline set, some no longer in force (their key changed or cleared). */
  #heap: Entry[] = [];

  /** How many keys hold a deadline. */
  get size(): number {
    return this.#at.size;
  }

  /** Entries held, stale ones included: at most twice the keys, plus 64. */
  get entries(): number {
    return this.#heap.length;
  }

  /** The key's deadline in force, if any. */
  get(key: string): number | undefined {
    return this.#at.get(key);
  }

  /** Sets (or moves) the key's deadline. */
  set(key: string, at: number): void {
    if (this.#at.get(key) === at) return;
    this.#at.set(key, at);
    this.#push({ at, key });
    // Moved deadlines leave stale entries behind; past twice the live ones, start afresh.
    if (this.#heap.length > 2 * this.#at.size + 64) this.#rebuild();
  }

  /** Clears the key's deadline. */
  delete(key: string): void {
    this.#at.delete(key);
    if (this.#at.size === 0) this.#heap = [];
  }

  /** The earliest deadline in force, or null when none is. */
  next(): number | null {
    this.#dropStale();
    return this.#heap[0]?.at ?? null;
  }

  /** Takes the keys whose deadline is at or before `now`, earliest first; they hold no deadline after. */
  due(now: number): string[] {
    const keys: string[] = [];
    for (;;) {
      this.#dropStale();
      const top = this.#heap[0];
      if (top === undefined || top.at > now) return keys;
      this.#pop();
      this.#at.delete(top.key);
      keys.push(top.key);
    }
  }

  /** Pops entries from the top until the top is in force. */
  #dropStale(): void {
    for (let top = this.#heap[0]; top !== undefined && this.#at.get(top.key) !== top.at; top = this.#heap[0]) this.#pop();
  }

  #rebuild(): void {
    this.#heap = [];
    for (const [key, at] of this.#at) this.#push({ at, key });
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= entry.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left;
      if (heap[child]!.at >= last.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}
