/**
 * The channel room's outgoing frames as text: one tick's diff (split only past the message
 * cap), and the snapshot, whose member list is serialised once per tick and shared by every
 * socket that asks before the next diff. Pure; the room sends what these return.
 */
import type { Counts, DiffMessage, Member, PresenceEvent, SyncMessage } from "../shared/protocol.ts";
import { chunkByBytes } from "./chunk.ts";
import type { TickDiff } from "./presence.ts";

/** Largest single WebSocket message the room sends (workerd's cap is 1 MiB). */
export const MAX_OUTGOING_BYTES = 512 * 1024;

/** A tick's diff as frames numbered `seq + 1`, `seq + 2`…; returns them and the last number used. */
export function diffFrames(diff: TickDiff, seq: number): { frames: string[]; seq: number } {
  const items: Array<PresenceEvent | Member> = [...diff.events, ...diff.quiet];
  const frames = chunkByBytes(items, MAX_OUTGOING_BYTES).map((part) => {
    const message: DiffMessage = {
      type: "diff",
      seq: ++seq,
      clientAmount: diff.clientAmount,
      userAmount: diff.userAmount,
      events: part.filter((item): item is PresenceEvent => "action" in item),
      quiet: part.filter((item): item is Member => !("action" in item)),
    };
    return JSON.stringify(message);
  });
  return { frames, seq };
}

/** The parts of a snapshot that differ per socket or per send. */
export type SnapshotHead = Pick<SyncMessage, "channel" | "self" | "settings" | "now">;

/** The channel as of the last diff, serialised once until the next one. */
export class SnapshotCache {
  #cached: { seq: number; counts: Counts; parts: string[] } | null = null;

  /** A diff went out: the next snapshot must be built anew. */
  invalidate(): void {
    this.#cached = null;
  }

  /**
   * The snapshot frames for one socket: the committed channel (`committed()` of the state, as
   * every list holds it after diff `seq`), in parts of at most the message cap.
   */
  frames(committed: () => { members: Member[]; counts: Counts }, seq: number, head: SnapshotHead): string[] {
    if (!this.#cached) {
      const { members, counts } = committed();
      const parts = chunkByBytes(members, MAX_OUTGOING_BYTES).map((part) => JSON.stringify(part));
      this.#cached = { seq, counts, parts };
    }
    const { parts, counts } = this.#cached;
    return parts.map((members, i) => {
      const message: Omit<SyncMessage, "members"> = {
        type: "sync",
        channel: head.channel,
        seq: this.#cached!.seq,
        more: i < parts.length - 1,
        self: head.self,
        ...counts,
        settings: head.settings,
        now: head.now,
      };
      return `${JSON.stringify(message).slice(0, -1)},"members":${members}}`;
    });
  }
}
