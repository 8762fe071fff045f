/**
 * A restart (a deploy, a crash) drops every socket at once, and thousands of clients come back
 * over the following seconds, as fast as the engine accepts them. A member the storage had
 * online whose sockets did not survive the rebuild is held by one placeholder client in grace,
 * and that grace runs from the last client that came back, not from the rebuild: a member whose
 * client is still on its way is not announced offline while others keep arriving. Once no
 * client has come back for a grace period (or `RESTART_HOLD_MAX_MS` after the rebuild), those
 * still missing go offline through the normal path. Pure: times are the caller's.
 */
import type { MemberRecord } from "./member-view.ts";
import type { Roster } from "./roster.ts";

/** The longest a restart holds its missing members, from the rebuild. */
export const RESTART_HOLD_MAX_MS = 60_000;

/** The connection id of the placeholder client a rebuild gives a member whose sockets are gone. */
const PLACEHOLDER = "restored:";

/** Whether a connection id is a restart's placeholder (it stands for no client anyone could close). */
export function isPlaceholder(connectionId: string): boolean {
  return connectionId.startsWith(PLACEHOLDER);
}

/** The hold of one channel's missing members after a rebuild. */
export class RestartHold {
  readonly #roster: Roster;
  readonly #graceMs: number;
  /** After a rebuild that found members without sockets: when it was, and when a client last came back since. */
  #restart: { at: number; lastReturn: number } | null = null;

  constructor(roster: Roster, graceMs: number) {
    this.#roster = roster;
    this.#graceMs = graceMs;
  }

  /** Ends any hold (a rebuild starts afresh). */
  clear(): void {
    this.#restart = null;
  }

  /** After a rebuild: each online member left without a client gets a placeholder in grace, and the hold starts if any did. */
  placehold(now: number): void {
    for (const member of this.#roster.members.values()) {
      if (member.status === "online" && member.clients.size === 0) {
        this.#restart = { at: now, lastReturn: now };
        const connectionId = `${PLACEHOLDER}${member.id}`;
        this.#roster.clients.put({
          connectionId,
          userId: member.id,
          clientType: undefined,
          lastActive: now,
          lingerUntil: now + this.#graceMs,
          droppedAt: now,
          expiresAt: null,
        });
        member.clients.add(connectionId);
      }
    }
  }

  /** A member's client came back: the hold runs on from now. */
  returned(now: number): void {
    if (this.#restart) this.#restart.lastReturn = now;
  }

  /** The member has a client again: the placeholder that held its place is done (no event: the member stays). */
  release(member: MemberRecord): void {
    if (member.clients.delete(PLACEHOLDER + member.id)) this.#roster.clients.delete(PLACEHOLDER + member.id);
  }

  /** Before deadlines are applied: the placeholders' grace runs from the last client that came back (at most `RESTART_HOLD_MAX_MS` from the rebuild). */
  extend(): void {
    if (!this.#restart) return;
    const until = Math.min(this.#restart.at + Math.max(RESTART_HOLD_MAX_MS, this.#graceMs), this.#restart.lastReturn + this.#graceMs);
    let holding = false;
    for (const client of this.#roster.clients.values()) {
      if (!isPlaceholder(client.connectionId) || client.lingerUntil === null) continue;
      holding = true;
      if (client.lingerUntil < until) client.lingerUntil = until;
    }
    if (!holding) this.#restart = null;
  }
}
