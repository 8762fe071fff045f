/** A token bucket per socket, used by the room to cap each client's message rate. */
export class TokenBucket {
  #tokens: number;
  #updated: number;

  /** `ratePerSec` tokens flow in each second, up to `burst`; it starts full. */
  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#updated = now;
  }

  /** Adds a token beyond the refill (and beyond the burst): for an answer the room itself asked for. */
  credit(): void {
    this.#tokens += 1;
  }

  /** Takes one token if there is one; false means over the limit. */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.#updated) / 1000;
    this.#tokens = Math.min(this.burst, this.#tokens + elapsed * this.ratePerSec);
    // A clock that steps back must not earn the same time twice.
    this.#updated = Math.max(this.#updated, now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
