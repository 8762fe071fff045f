/**
 * The one rule for what a change to a member means: the room uses it to make each tick's
 * events, and the client to report what a diff or a fresh snapshot changed in its list.
 */
import { jsonEqual } from "./json.ts";
import type { Member, PresenceAction } from "./types.ts";

/** The action that turns `before` into `after` (absent = not a member): join, leave, online, offline, update, or null for none. */
export function presenceChange(before: Member | null | undefined, after: Member | null | undefined): PresenceAction | null {
  if (!before) return after ? "join" : null;
  if (!after) return "leave";
  if (before.status !== after.status) return after.status;
  if (!jsonEqual(before.data, after.data)) return "update";
  return null;
}

/** Whether two member records are the same in every field (a change without an action is a quiet one). */
export function sameMember(a: Member | null | undefined, b: Member | null | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.id === b.id &&
    a.status === b.status &&
    a.clients === b.clients &&
    a.since === b.since &&
    a.lastSeen === b.lastSeen &&
    jsonEqual(a.clientTypes, b.clientTypes) &&
    jsonEqual(a.data, b.data)
  );
}
