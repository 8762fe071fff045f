/**
 * The fan-in simulation's virtual clock: a binary heap of events by time, ties in the order they
 * were queued, so a run is the same every time. Nothing waits on a real timer; `now` is the time
 * of the event being handled.
 */

/** One thing to happen at `at`. */
export type Queued<E> = { at: number; seq: number; event: E };

/** Events in time order (first queued first among equal times). */
export class EventQueue<E> {
  readonly #heap: Array<Queued<E>> = [];
  #seq = 0;
  #now = 0;

  /** The time of the event being handled (or of the last one). */
  get now(): number {
    return this.#now;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Queues `event` at `at` (never before now: the past is gone). */
  push(at: number, event: E): void {
    const item = { at: Math.max(at, this.#now), seq: this.#seq++, event };
    const heap = this.#heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
  }

  /** The time of the next event, or null when none is queued. */
  peek(): number | null {
    return this.#heap[0]?.at ?? null;
  }

  /** Takes the next event and moves the clock to its time. */
  pop(): Queued<E> | null {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined) return null;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && before(heap[right]!, heap[left]!) ? right : left;
        if (!before(heap[child]!, last)) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    this.#now = top.at;
    return top;
  }
}

function before<E>(a: Queued<E>, b: Queued<E>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
