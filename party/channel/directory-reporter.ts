/**
 * What a channel room tells the user directory: each tick's presence changes of its members,
 * one request per directory part touched (never one per member); all its online members at
 * start and every third of the lease (a renewal: a room that dies leaves no ghost longer than
 * the lease); which users its sockets watch, and their statuses when a socket starts watching.
 * Requests to one part go one after another; what cannot be sent yet (no parties reachable,
 * a failed request) waits and is merged with what comes after.
 */
import { partOf } from "../server/parts.ts";
import type { DirectoryReport, Member, PresenceEvent, PresenceReport, VersionedStatus } from "../protocol/index.ts";
import { DIRECTORY_PARTY } from "../wire/parties.ts";
import type { Outbox } from "./effects.ts";
import type { TickDiff } from "./presence.ts";

/** What the reporter needs from its room. */
export type ReporterOptions = {
  /** PRESENCE_DIRECTORY: off, the reporter sends nothing at all. */
  enabled: boolean;
  parts: number;
  leaseMs: number;
  channel: string;
  out: Outbox;
};

/** A call of the reporter's on its way, by ticket. */
type Sent = { part: string; report: DirectoryReport } | { part: string; userIds: string[] };

type PartState = {
  /** Presence changes not sent yet, newest per user. */
  changes: Map<string, PresenceReport>;
  /** A renewal not sent yet: every online member of the channel in this part. */
  all: PresenceReport[] | null;
  /** The watch list this part must be told (null: no change). */
  watch: string[] | null;
  /** Users whose status to ask for. */
  missing: Set<string>;
  /** The ticket of this part's call on its way (calls to one part never overlap or reorder). */
  busy: number | null;
};

/** The channel room's reports to the user directory. */
export class DirectoryReporter {
  readonly #options: ReporterOptions;
  readonly #parts = new Map<string, PartState>();
  /** Parts that hold (or may hold) this channel's users. */
  #holding = new Set<string>();
  /** The watched users per part, as last told. */
  #watching = new Map<string, Set<string>>();
  #nextRenewal = 0;
  /** After a failed request, nothing is sent before this time (backing off up to 10 s). */
  #retryAt: number | null = null;
  #failures = 0;
  readonly #sent = new Map<number, Sent>();

  constructor(options: ReporterOptions) {
    this.#options = options;
  }

  /** A tick's diff: each changed member's presence, queued for its part. */
  changes(diff: TickDiff, now: number): void {
    if (!this.#options.enabled) return;
    for (const item of [...diff.events, ...diff.quiet]) {
      const report = reportOf(item, now);
      const part = this.#part(partOf(report.userId, this.#options.parts));
      part.changes.set(report.userId, report);
      if (report.present) this.#holding.add(partOf(report.userId, this.#options.parts));
    }
  }

  /**
   * Whether a renewal is due (it is at once after a start). It is due a sixth of the lease
   * early too, when the room is awake anyway: a room that wakes for other work (an idle check
   * on its alarm) renews then, and an idle room needs no wake of its own for its leases.
   */
  renewalDue(now: number): boolean {
    return this.#options.enabled && now >= this.#nextRenewal - renewalSlack(this.#options.leaseMs);
  }

  /** When the reporter next has work of its own: a renewal (if anything is held or watched), or a retry. */
  nextRenewal(): number | null {
    if (!this.#options.enabled) return null;
    const renewal = this.#holding.size > 0 || this.#watching.size > 0 ? this.#nextRenewal : null;
    if (this.#retryAt === null) return renewal;
    return renewal === null ? this.#retryAt : Math.min(renewal, this.#retryAt);
  }

  /** Every online member, to every part that holds or held any: renews the leases, and corrects what a lost request left wrong. */
  renew(online: Member[], now: number): void {
    if (!this.#options.enabled) return;
    this.#nextRenewal = now + Math.floor(this.#options.leaseMs / 3);
    const byPart = new Map<string, PresenceReport[]>();
    for (const member of online) {
      const name = partOf(member.id, this.#options.parts);
      let list = byPart.get(name);
      if (!list) byPart.set(name, (list = []));
      list.push({ present: true, userId: member.id, clients: member.clients, clientTypes: member.clientTypes, data: member.data });
    }
    for (const name of new Set([...this.#holding, ...byPart.keys()])) {
      const part = this.#part(name);
      part.all = byPart.get(name) ?? [];
      part.changes.clear();
    }
    this.#holding = new Set(byPart.keys());
    for (const [name, users] of this.#watching) this.#part(name).watch = [...users];
  }

  /** The users the room's sockets watch now: each part whose share changed is told. */
  watch(userIds: Iterable<string>): void {
    if (!this.#options.enabled) return;
    const byPart = new Map<string, Set<string>>();
    for (const userId of userIds) {
      const name = partOf(userId, this.#options.parts);
      let set = byPart.get(name);
      if (!set) byPart.set(name, (set = new Set()));
      set.add(userId);
    }
    for (const name of new Set([...this.#watching.keys(), ...byPart.keys()])) {
      const now = byPart.get(name) ?? new Set<string>();
      const before = this.#watching.get(name) ?? new Set<string>();
      if (now.size === before.size && [...now].every((userId) => before.has(userId))) continue;
      this.#part(name).watch = [...now];
      if (now.size > 0) this.#watching.set(name, now);
      else this.#watching.delete(name);
    }
  }

  /** Asks the directory for these users' statuses (after telling it they are watched); the answers go to `heard`. */
  ask(userIds: Iterable<string>): void {
    if (!this.#options.enabled) return;
    for (const userId of userIds) this.#part(partOf(userId, this.#options.parts)).missing.add(userId);
  }

  /** Whether anything waits to be sent. */
  get pending(): boolean {
    for (const part of this.#parts.values()) if (part.changes.size > 0 || part.all || part.watch || part.missing.size > 0) return true;
    return false;
  }

  /**
   * Sends what waits, one call at a time per part. Without parties yet (`reachable` false) it
   * keeps waiting (the room flushes again when a request or message brings them); after a
   * failure it waits until the back-off ends.
   */
  flush(now: number, reachable: boolean): void {
    if (!this.#options.enabled || !reachable) return;
    if (this.#retryAt !== null && now < this.#retryAt) return;
    this.#retryAt = null;
    for (const [name, part] of this.#parts) {
      if (part.busy !== null) continue;
      if (part.changes.size > 0 || part.all || part.watch) {
        const report: DirectoryReport = {
          channel: this.#options.channel,
          presence: part.all ?? [...part.changes.values()],
          all: part.all !== null,
          watch: part.watch,
        };
        part.changes.clear();
        part.all = null;
        part.watch = null;
        part.busy = this.#options.out.call({ party: DIRECTORY_PARTY, room: name, name: "report", args: report });
        this.#sent.set(part.busy, { part: name, report });
      } else if (part.missing.size > 0) {
        const userIds = [...part.missing];
        part.missing.clear();
        part.busy = this.#options.out.call({ party: DIRECTORY_PARTY, room: name, name: "status", args: { userIds } });
        this.#sent.set(part.busy, { part: name, userIds });
      }
    }
  }

  /**
   * A call of the reporter's came back (`reply`) or failed (`error`). Returns the statuses a
   * status query answered (for the watchers); anything that waited for the part goes next.
   */
  replied(ticket: number, result: { reply: unknown } | { error: string }, now: number, reachable: boolean): VersionedStatus[] {
    const sent = this.#sent.get(ticket);
    if (!sent) return [];
    this.#sent.delete(ticket);
    const part = this.#part(sent.part);
    part.busy = null;
    let heard: VersionedStatus[] = [];
    if ("reply" in result) {
      this.#failures = 0;
      if ("userIds" in sent) heard = (result.reply as { users: VersionedStatus[] }).users;
    } else if ("report" in sent) {
      // Put it back under anything newer, and try again after the back-off.
      const { report } = sent;
      if (report.all) part.all ??= report.presence;
      else for (const entry of report.presence) if (!part.changes.has(entry.userId)) part.changes.set(entry.userId, entry);
      if (report.watch !== null) part.watch ??= [...(this.#watching.get(sent.part) ?? [])];
      this.#backOff(now);
    } else {
      for (const userId of sent.userIds) part.missing.add(userId);
      this.#backOff(now);
    }
    this.flush(now, reachable);
    return heard;
  }

  /** A request failed: try again after a pause that doubles with each failure in a row, up to 10 s (the room's alarm covers it). */
  #backOff(now: number): void {
    this.#failures++;
    this.#retryAt = now + Math.min(10_000, 250 * 2 ** (this.#failures - 1));
    this.#options.out.tick();
  }

  #part(name: string): PartState {
    let part = this.#parts.get(name);
    if (!part) this.#parts.set(name, (part = { changes: new Map(), all: null, watch: null, missing: new Set(), busy: null }));
    return part;
  }
}

/** How early a renewal may go when the room is awake anyway: a sixth of the lease (renewals then come every sixth to third of it). */
export function renewalSlack(leaseMs: number): number {
  return Math.floor(leaseMs / 6);
}

/** A member's presence after a tick's event or quiet change: present while online, else gone since it was last seen. */
function reportOf(item: PresenceEvent | Member, now: number): PresenceReport {
  const member = "action" in item ? item.member : item;
  const leaving = "action" in item && item.action === "leave";
  if (member.status === "online" && !leaving) {
    return { present: true, userId: member.id, clients: member.clients, clientTypes: member.clientTypes, data: member.data };
  }
  return { present: false, userId: member.id, lastSeen: leaving && member.status === "online" ? now : member.lastSeen };
}
