/**
 * Counts every request the simulation sends into an object (a party's room), per virtual
 * second, in two windows: the warm-up (the first lease period, when every channel reports at
 * once) and the measured time after it. Memory grows with the objects, not with the seconds
 * times the objects: each object keeps its running second and its peak.
 */

/** What one party received: the objects that heard anything, the total, and the hottest object. */
export type WindowFigures = {
  seconds: number;
  /** Requests a second into the whole party: the mean over the window, and its busiest second. */
  totalMean: number;
  totalPeak: number;
  /** The object with the most requests over the window: its mean a second. */
  hottestMean: number;
  hottestMeanObject: string;
  /** The busiest second of any one object in the window. */
  hottestPeak: number;
  hottestPeakObject: string;
  /** Mean requests a second into the party, by call name. */
  byName: Record<string, number>;
};

export type PartyFigures = { party: string; objects: number; warmup: WindowFigures; measured: WindowFigures };

type ObjectCount = { totals: [number, number]; peaks: [number, number]; second: number; inSecond: number };
type PartyCount = { objects: Map<string, ObjectCount>; perSecond: number[]; byName: Map<string, [number, number]> };

/** The requests into each object, by virtual second. */
export class Tally {
  readonly #warmupSeconds: number;
  readonly #seconds: number;
  readonly #parties = new Map<string, PartyCount>();

  /** Counts from 0 to `endMs`; the first `warmupMs` are the warm-up (whole seconds). */
  constructor(warmupMs: number, endMs: number) {
    this.#warmupSeconds = Math.floor(warmupMs / 1000);
    this.#seconds = Math.ceil(endMs / 1000);
  }

  /** One request into `room` of `party`, named `name`, at virtual time `at` (ms). */
  count(party: string, room: string, name: string, at: number): void {
    const second = Math.floor(at / 1000);
    if (second >= this.#seconds) return;
    const window = this.#window(second);
    let counts = this.#parties.get(party);
    if (!counts) this.#parties.set(party, (counts = { objects: new Map(), perSecond: new Array<number>(this.#seconds).fill(0), byName: new Map() }));
    counts.perSecond[second]!++;
    let named = counts.byName.get(name);
    if (!named) counts.byName.set(name, (named = [0, 0]));
    named[window]++;
    let object = counts.objects.get(room);
    if (!object) counts.objects.set(room, (object = { totals: [0, 0], peaks: [0, 0], second, inSecond: 0 }));
    if (object.second !== second) {
      this.#fold(object);
      object.second = second;
      object.inSecond = 0;
    }
    object.inSecond++;
    object.totals[window]++;
  }

  /** Requests into one object over the whole run (both windows). */
  calls(party: string, room: string): number {
    const object = this.#parties.get(party)?.objects.get(room);
    return object ? object.totals[0] + object.totals[1] : 0;
  }

  /** Requests into one party, second by second. */
  perSecond(party: string): readonly number[] {
    return this.#parties.get(party)?.perSecond ?? new Array<number>(this.#seconds).fill(0);
  }

  /** Each party's figures, by name. */
  figures(): PartyFigures[] {
    const figures: PartyFigures[] = [];
    for (const [party, counts] of [...this.#parties].sort(([a], [b]) => a.localeCompare(b))) {
      for (const object of counts.objects.values()) this.#fold(object);
      figures.push({ party, objects: counts.objects.size, warmup: this.#windowFigures(counts, 0), measured: this.#windowFigures(counts, 1) });
    }
    return figures;
  }

  #window(second: number): 0 | 1 {
    return second < this.#warmupSeconds ? 0 : 1;
  }

  /** The object's running second into its window's peak. */
  #fold(object: ObjectCount): void {
    const window = this.#window(object.second);
    if (object.inSecond > object.peaks[window]) object.peaks[window] = object.inSecond;
  }

  #windowFigures(counts: PartyCount, window: 0 | 1): WindowFigures {
    const from = window === 0 ? 0 : this.#warmupSeconds;
    const to = window === 0 ? this.#warmupSeconds : this.#seconds;
    const seconds = Math.max(0, to - from);
    const per = (n: number) => (seconds === 0 ? 0 : n / seconds);
    let total = 0;
    let totalPeak = 0;
    for (let s = from; s < to; s++) {
      total += counts.perSecond[s]!;
      totalPeak = Math.max(totalPeak, counts.perSecond[s]!);
    }
    let hottestMean = 0;
    let hottestMeanObject = "";
    let hottestPeak = 0;
    let hottestPeakObject = "";
    for (const [room, object] of counts.objects) {
      if (object.totals[window] > hottestMean) [hottestMean, hottestMeanObject] = [object.totals[window], room];
      if (object.peaks[window] > hottestPeak) [hottestPeak, hottestPeakObject] = [object.peaks[window], room];
    }
    const byName: Record<string, number> = {};
    for (const [name, totals] of [...counts.byName].sort(([a], [b]) => a.localeCompare(b))) byName[name] = per(totals[window]);
    return { seconds, totalMean: per(total), totalPeak, hottestMean: per(hottestMean), hottestMeanObject, hottestPeak, hottestPeakObject, byName };
  }
}
