/**
 * A channel's userIds in order (JavaScript string order, by UTF-16 code units), kept as
 * members come and go: herenow pages by it and interval mode's windows are its first ids.
 * A sorted array with binary search: O(log n) to find, one move of memory to insert or remove.
 */
export class SortedIds {
  readonly #ids: string[] = [];

  get size(): number {
    return this.#ids.length;
  }

  /** Adds an id (no-op if present). */
  add(id: string): void {
    const at = this.#lowerBound(id);
    if (this.#ids[at] !== id) this.#ids.splice(at, 0, id);
  }

  /** Forgets every id. */
  clear(): void {
    this.#ids.length = 0;
  }

  /** Removes an id (no-op if absent). */
  delete(id: string): void {
    const at = this.#lowerBound(id);
    if (this.#ids[at] === id) this.#ids.splice(at, 1);
  }

  /** The ids after `cursor` (all when null), in order, lazily. */
  *after(cursor: string | null): IterableIterator<string> {
    let at = cursor === null ? 0 : this.#lowerBound(cursor);
    if (cursor !== null && this.#ids[at] === cursor) at++;
    for (; at < this.#ids.length; at++) yield this.#ids[at]!;
  }

  /** The first index whose id is not less than `id`. */
  #lowerBound(id: string): number {
    let low = 0;
    let high = this.#ids.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#ids[mid]! < id) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
