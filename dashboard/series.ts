/** The counts chart's data, pure: samples of userAmount and clientAmount over the last minutes, and their SVG polylines. */

/** One sample of a channel's counts. */
export type Sample = { at: number; userAmount: number; clientAmount: number };

/** Samples within a sliding window of time. */
export class CountSeries {
  readonly #windowMs: number;
  readonly #minSpanMs: number;
  #samples: Sample[] = [];

  /** Keeps `windowMs` of samples; the chart spans from the first sample, at least `minSpanMs`, at most the window. */
  constructor(windowMs = 5 * 60_000, minSpanMs = 60_000) {
    this.#windowMs = windowMs;
    this.#minSpanMs = minSpanMs;
  }

  /** Adds a sample (a repeat of the last counts within a second only moves time on); drops those older than the window. */
  add(sample: Sample): void {
    const last = this.#samples[this.#samples.length - 1];
    if (last && last.userAmount === sample.userAmount && last.clientAmount === sample.clientAmount && sample.at - last.at < 1000) return;
    this.#samples.push(sample);
    const from = sample.at - this.#windowMs;
    let drop = 0;
    while (drop < this.#samples.length - 1 && this.#samples[drop]!.at < from) drop++;
    if (drop > 0) this.#samples = this.#samples.slice(drop);
  }

  /**
   * Merges samples heard out of order (a channel's history: each event's counts at its time)
   * with those kept, in time order, within the window of the newest; at most one per
   * `windowMs / maxSamples` (the newest counts of each such slice), so a history of thousands
   * of events draws as a few hundred steps.
   */
  merge(samples: readonly Sample[], maxSamples = 600): void {
    if (samples.length === 0) return;
    const all = [...this.#samples, ...samples].sort((a, b) => a.at - b.at);
    const from = all[all.length - 1]!.at - this.#windowMs;
    const slice = this.#windowMs / maxSamples;
    const kept: Sample[] = [];
    for (const sample of all) {
      if (sample.at < from) continue;
      const last = kept[kept.length - 1];
      if (last && Math.floor(last.at / slice) === Math.floor(sample.at / slice)) kept[kept.length - 1] = sample;
      else kept.push(sample);
    }
    this.#samples = kept;
  }

  get samples(): readonly Sample[] {
    return this.#samples;
  }

  clear(): void {
    this.#samples = [];
  }

  /**
   * The two series as SVG polyline points in a `width`×`height` box, time on x (ending at
   * `now`, from the first sample, at least `minSpanMs` and at most the window), counts on y (0 at the bottom, the largest count near the top), as steps.
   */
  points(now: number, width: number, height: number): { users: string; clients: string; max: number } {
    const max = Math.max(1, ...this.#samples.map((s) => Math.max(s.userAmount, s.clientAmount)));
    const first = this.#samples[0]?.at ?? now;
    const span = Math.min(this.#windowMs, Math.max(this.#minSpanMs, now - first));
    const x = (at: number) => Math.max(0, Math.min(width, width - ((now - at) / span) * width));
    const y = (value: number) => height - (value / max) * (height - 4);
    const line = (pick: (s: Sample) => number) => {
      const out: string[] = [];
      this.#samples.forEach((sample, i) => {
        const px = x(sample.at).toFixed(1);
        if (i > 0) out.push(`${px},${y(pick(this.#samples[i - 1]!)).toFixed(1)}`);
        out.push(`${px},${y(pick(sample)).toFixed(1)}`);
      });
      const last = this.#samples[this.#samples.length - 1];
      if (last) out.push(`${width},${y(pick(last)).toFixed(1)}`);
      return out.join(" ");
    };
    return { users: line((s) => s.userAmount), clients: line((s) => s.clientAmount), max };
  }
}
