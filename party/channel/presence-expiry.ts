/**
 * Who goes offline when, in one channel: a dropped socket's client is still counted for its
 * grace, a live socket silent past the heartbeat timeout is judged idle, an HTTP client is gone
 * when its TTL runs out, an offline member leaves after its retention; and the next time any
 * of that falls due. Pure: every method takes the time.
 */
import type { ClientListener } from "./client-book.ts";
import type { RestartHold } from "./restart-hold.ts";
import type { Roster } from "./roster.ts";

/** The timing settings the state machine needs. */
export type PresenceTiming = {
  /** How long a dropped client is still counted while it may come back. */
  graceMs: number;
  /** How long an offline member is kept before it leaves. */
  retentionMs: number;
  /** A live client silent this long is judged idle (see `expire`). */
  heartbeatTimeoutMs: number;
};

/** The deadlines of one channel's clients and members. */
export class PresenceExpiry {
  readonly #roster: Roster;
  readonly #timing: PresenceTiming;
  readonly #hold: RestartHold;
  readonly #listener: ClientListener | null;

  constructor(roster: Roster, timing: PresenceTiming, hold: RestartHold, listener: ClientListener | null = null) {
    this.#roster = roster;
    this.#timing = timing;
    this.#hold = hold;
    this.#listener = listener;
  }

  /**
   * The socket is gone without a leave (closed, lost, idle). The client is still counted
   * for the grace period, so a reload or a blip changes nothing anyone sees.
   */
  drop(connectionId: string, now: number, lastSeen = now): void {
    const clients = this.#roster.clients;
    const client = clients.get(connectionId);
    if (!client || client.lingerUntil !== null) return;
    if (client.userId === null) {
      clients.delete(connectionId);
      return;
    }
    clients.put({ ...client, lingerUntil: now + this.#timing.graceMs, droppedAt: lastSeen });
    this.#listener?.drop(connectionId, lastSeen);
  }

  /**
   * Removes the HTTP clients whose time ran out by `now`. The TTL was their grace: a member
   * left with no client goes offline at once, offline since its client's expiry, last seen at
   * its last renewal. Returns their connection ids.
   */
  lapse(now: number): string[] {
    const clients = this.#roster.clients;
    const lapsed: string[] = [];
    for (const client of [...clients.values()]) {
      if (client.expiresAt === null || client.expiresAt > now) continue;
      lapsed.push(client.connectionId);
      if (client.userId === null) {
        clients.delete(client.connectionId);
        continue;
      }
      clients.put({ ...client, lingerUntil: client.expiresAt, droppedAt: client.lastActive });
      this.#roster.removeClient(client.connectionId);
      this.#listener?.end(client.connectionId, client.lastActive);
    }
    return lapsed;
  }

  /**
   * Applies every deadline that has passed: clients whose grace ran out are removed (a
   * member left with none goes offline), offline members past retention leave, and live
   * sockets silent for the heartbeat timeout are dropped. Returns the keys of those idle
   * clients, whose sockets the caller must close. (HTTP clients expire in `lapse`.)
   *
   * `pingedAt` tells, where the engine answers pings without waking the room, when a
   * client's socket last pinged: when any client looks idle, every live client's activity is
   * brought up to its last ping first (one pass), so the next idle deadline is the oldest
   * ping's, not the next of N scattered ones: an idle room of pinging members wakes about
   * once per heartbeat timeout, whatever N.
   */
  expire(now: number, pingedAt?: (connectionId: string) => number | null): string[] {
    const roster = this.#roster;
    if (pingedAt && this.#anyIdle(now)) {
      for (const client of roster.clients.values()) {
        if (client.lingerUntil !== null || client.expiresAt !== null) continue;
        const pinged = pingedAt(client.connectionId);
        if (pinged !== null && pinged > client.lastActive) client.lastActive = Math.min(pinged, now);
      }
    }
    this.#hold.extend();
    const idle: string[] = [];
    for (const client of [...roster.clients.values()]) {
      if (client.lingerUntil !== null) {
        if (client.lingerUntil <= now) roster.removeClient(client.connectionId);
      } else if (client.expiresAt === null && client.lastActive + this.#timing.heartbeatTimeoutMs <= now) {
        idle.push(client.connectionId);
        // Last seen when it last spoke, not when the room noticed its silence.
        this.drop(client.connectionId, now, client.lastActive);
        if (this.#timing.graceMs === 0) roster.removeClient(client.connectionId);
      }
    }
    for (const member of [...roster.members.values()]) {
      if (member.status === "offline" && member.lastSeen + this.#timing.retentionMs <= now) {
        roster.mark(member.id);
        roster.remove(member.id);
      }
    }
    return idle;
  }

  /** The earliest time `expire` has work to do, or null if nothing is pending. */
  nextDeadline(): number | null {
    let next = Infinity;
    for (const client of this.#roster.clients.values()) {
      next = Math.min(next, client.lingerUntil ?? client.expiresAt ?? client.lastActive + this.#timing.heartbeatTimeoutMs);
    }
    for (const member of this.#roster.members.values()) {
      if (member.status === "offline") {
        next = Math.min(next, member.lastSeen + this.#timing.retentionMs);
      }
    }
    return Number.isFinite(next) ? next : null;
  }

  /** Whether some live client has been silent for the heartbeat timeout by `now`. */
  #anyIdle(now: number): boolean {
    for (const client of this.#roster.clients.values()) if (client.lingerUntil === null && client.expiresAt === null && client.lastActive + this.#timing.heartbeatTimeoutMs <= now) return true;
    return false;
  }
}
