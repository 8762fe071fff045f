/**
 * Interval mode's views. Past PRESENCE_ANNOUNCE_MAX a socket no longer holds every member,
 * only its view: its own user, the users it watches, and its window (the first `limit`
 * members by userId). This module keeps each window as clients hold it and cuts, from one
 * tick's changes, the part each view must hear. Pure: the broadcaster feeds it and sends.
 */
import type { DiffBody } from "../wire/member-wire.ts";
import type { ChannelMode, Member, PresenceAction } from "../protocol/index.ts";

type Event = { action: PresenceAction; member: Member };

type Entry = { events: Event[]; quiet?: Member; order: number };

/** One tick's changes by userId: its events (in order) and its quiet record. */
export class TickChanges {
  readonly #byId = new Map<string, Entry>();

  constructor(body: Pick<DiffBody, "events" | "quiet">) {
    for (const event of body.events) this.#entry(event.member.id).events.push({ action: event.action, member: event.member });
    for (const member of body.quiet) this.#entry(member.id).quiet = member;
  }

  has(userId: string): boolean {
    return this.#byId.has(userId);
  }

  /** How many users changed. */
  get size(): number {
    return this.#byId.size;
  }

  /** Where the user comes in `ids()` (undefined: unchanged). */
  order(userId: string): number | undefined {
    return this.#byId.get(userId)?.order;
  }

  /** Whether the user left the channel in this tick. */
  left(userId: string): boolean {
    return this.#byId.get(userId)?.events.some((event) => event.action === "leave") ?? false;
  }

  /** The changed users. */
  ids(): IterableIterator<string> {
    return this.#byId.keys();
  }

  get(userId: string): { events: Event[]; quiet?: Member } | undefined {
    return this.#byId.get(userId);
  }

  #entry(userId: string): Entry {
    let entry = this.#byId.get(userId);
    if (!entry) this.#byId.set(userId, (entry = { events: [], order: this.#byId.size }));
    return entry;
  }
}

/** What a socket follows besides its window: its own user and the users it watches (`size`: at most that many). */
export type Personal = { readonly size: number; has(userId: string): boolean; [Symbol.iterator](): Iterator<string> };

/** A window's move over one tick: its userIds as clients held them, and as they hold them after. */
export type WindowStep = { before: ReadonlySet<string>; after: ReadonlySet<string> };

/**
 * The changes a view must hear in one tick. A user in the view before hears its events; a
 * user that came into view hears them only if it joined, else it arrives as a quiet record;
 * a user that went out of view without leaving is named in `out`.
 */
export function viewBody(personal: Personal, step: WindowStep, changes: TickChanges, current: (userId: string) => Member | undefined): DiffBody {
  const wasIn = (id: string) => personal.has(id) || step.before.has(id);
  const isIn = (id: string) => personal.has(id) || step.after.has(id);
  const body = { events: [] as Event[], quiet: [] as Member[], out: [] as string[] };
  for (const id of changedInView(personal, step, changes)) {
    const before = wasIn(id);
    const after = isIn(id);
    if (!before && !after) continue;
    const change = changes.get(id)!;
    if (before || change.events.some((event) => event.action === "join")) {
      body.events.push(...change.events);
      if (change.quiet && after) body.quiet.push(change.quiet);
    } else {
      const member = current(id);
      if (member) body.quiet.push(member);
    }
    if (before && !after && !changes.left(id)) body.out.push(id);
  }
  for (const id of step.after) {
    if (wasIn(id) || changes.has(id)) continue;
    const member = current(id);
    if (member) body.quiet.push(member);
  }
  for (const id of step.before) {
    if (!isIn(id) && !changes.has(id)) body.out.push(id);
  }
  return body;
}

/**
 * The changed users a view may hear of, in the tick's order: the tick's changed users, or,
 * when the view is the smaller (a storm of joins beside a window of 10), the view's users
 * that changed, so a tick costs each socket its view's size, not the tick's.
 */
function changedInView(personal: Personal, step: WindowStep, changes: TickChanges): Iterable<string> {
  if (personal.size + step.before.size + step.after.size >= changes.size) return changes.ids();
  const ids = new Set<string>();
  for (const group of [personal, step.before, step.after]) for (const id of group) if (changes.has(id)) ids.add(id);
  return [...ids].sort((a, b) => changes.order(a)! - changes.order(b)!);
}

/** Whether a socket's view hears exactly what its window alone hears (none of its own users changed or moved in the window). */
export function windowAloneServes(personal: Personal, step: WindowStep, changes: TickChanges): boolean {
  for (const id of personal) {
    if (changes.has(id) || step.before.has(id) !== step.after.has(id)) return false;
  }
  return true;
}

/** Nobody: the personal part of an observer that watches no one, or of a window's own body. */
export const NOBODY: Personal = { size: 0, has: () => false, [Symbol.iterator]: () => [][Symbol.iterator]() };

/** The windows in use, as clients hold them (as of the last tick, or of a snapshot since). */
export class WindowBook {
  #windows = new Map<number, string[]>();

  /** Forgets every window (the channel left interval mode). */
  clear(): void {
    this.#windows.clear();
  }

  /**
   * The window of `limit` as clients hold it; its first use computes it from `committed` (the
   * channel as of the last tick), so every socket with that limit holds the same one.
   */
  ids(limit: number, committed: (limit: number) => Member[]): string[] {
    let ids = this.#windows.get(limit);
    if (!ids) this.#windows.set(limit, (ids = committed(limit).map((member) => member.id)));
    return ids;
  }

  /**
   * A tick happened: each window in use moves to what `committed` says now. Returns each
   * one's step; windows no longer in use are forgotten.
   */
  advance(limits: ReadonlySet<number>, committed: (limit: number) => Member[]): Map<number, WindowStep> {
    const steps = new Map<number, WindowStep>();
    for (const limit of [...this.#windows.keys()]) if (!limits.has(limit)) this.#windows.delete(limit);
    for (const limit of limits) {
      const before = new Set(this.#windows.get(limit) ?? []);
      const after = committed(limit).map((member) => member.id);
      this.#windows.set(limit, after);
      steps.set(limit, { before, after: new Set(after) });
    }
    return steps;
  }
}

/**
 * The mode a channel of `members` members (online and offline) should be in: interval past
 * `announceMax`, full again at 90% of it (so a channel at the line does not flap).
 */
export function modeFor(current: ChannelMode, members: number, announceMax: number): ChannelMode {
  if (members > announceMax) return "interval";
  if (members <= announceMax - Math.max(1, Math.floor(announceMax / 10))) return "full";
  return current;
}
