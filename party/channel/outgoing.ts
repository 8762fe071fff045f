/**
 * The channel room's outgoing frames as text: one tick's diff (split only past the message
 * cap), and snapshots, whose member lists are encoded once and split into chunks under the
 * cap; a full-mode snapshot is built once per tick and shared by every socket that asks
 * before the next diff. Pure; the room sends what these return.
 */
import { type DiffBody, encodeDiffBody, encodeMember } from "../wire/member-wire.ts";
import type { Counts, DiffMessage, Member, SyncMessage } from "../protocol/index.ts";
import { chunkByBytes, joinByBytes } from "./chunk.ts";

/** Largest single WebSocket message the room sends (workerd's cap is 1 MiB). */
export const MAX_OUTGOING_BYTES = 512 * 1024;

/** Whether a diff body has nothing in it. */
export function isEmptyBody(body: DiffBody): boolean {
  return body.events.length === 0 && body.quiet.length === 0 && (body.out?.length ?? 0) === 0;
}

/**
 * A tick's changes as diff frames numbered `seq + 1`, `seq + 2`… (more than one only past the
 * message cap); returns them and the last number used.
 */
export function diffFrames(body: DiffBody, counts: Counts, seq: number, now: number): { frames: string[]; seq: number } {
  const frame = (chunk: DiffBody) =>
    JSON.stringify({ type: "diff", seq: ++seq, now, ...counts, ...encodeDiffBody(chunk, now) } satisfies DiffMessage);
  const whole = frame(body);
  // JSON length in UTF-16 units, times up to 3 bytes each: a safe upper bound.
  if (whole.length * 3 <= MAX_OUTGOING_BYTES) return { frames: [whole], seq };
  seq--;
  const items: Array<DiffBody["events"][number] | Member> = [...body.events, ...body.quiet];
  const frames = chunkByBytes(items, MAX_OUTGOING_BYTES).map((chunk) =>
    frame({
      events: chunk.filter((item): item is DiffBody["events"][number] => "action" in item),
      quiet: chunk.filter((item): item is Member => !("action" in item)),
    }),
  );
  if (body.out && body.out.length > 0) frames.push(frame({ events: [], quiet: [], out: body.out }));
  return { frames, seq };
}

/** Members encoded relative to `now`, as JSON array texts of at most the message cap each. */
export function memberChunks(members: readonly Member[], now: number): string[] {
  return joinByBytes(members.map((member) => JSON.stringify(encodeMember(member, now))), MAX_OUTGOING_BYTES);
}

/** What a snapshot says besides its members. */
export type SyncHead = Omit<SyncMessage, "members" | "more">;

/** A snapshot's frames: the head with each chunk of the members, `more` on all but the last. */
export function syncFrames(head: SyncHead, chunks: readonly string[]): string[] {
  return chunks.map((members, i) => {
    const text = JSON.stringify({ ...head, more: i < chunks.length - 1 } satisfies Omit<SyncMessage, "members">);
    return `${text.slice(0, -1)},"members":${members}}`;
  });
}

/** What of a snapshot differs per socket. */
export type SnapshotHead = Pick<SyncMessage, "channel" | "self" | "settings">;

/** The whole channel as of the last diff (full mode), encoded once until the next one. */
export class SnapshotCache {
  #cached: { seq: number; now: number; counts: Counts; chunks: string[] } | null = null;

  /** A diff went out: the next snapshot must be built anew. */
  invalidate(): void {
    this.#cached = null;
  }

  /**
   * The snapshot frames for one socket: the committed channel (`committed()` of the state, as
   * every list holds it after diff `seq`), in chunks of at most the message cap.
   */
  frames(committed: () => { members: Member[]; counts: Counts }, seq: number, now: number, head: SnapshotHead): string[] {
    if (!this.#cached) {
      const { members, counts } = committed();
      this.#cached = { seq, now, counts, chunks: memberChunks(members, now) };
    }
    const cached = this.#cached;
    return syncFrames({ type: "sync", ...head, seq: cached.seq, mode: "full", ...cached.counts, now: cached.now }, cached.chunks);
  }
}

/**
 * Interval mode's snapshots as of the last diff: each window's members encoded once (by window
 * size) until the next diff, and a socket's own users in front of its window's, each once.
 * Every text is relative to the same time, the first snapshot's since that diff.
 */
export class ViewSnapshotCache {
  #cached: { now: number; windows: Map<number, ReadonlyArray<readonly [id: string, text: string]>> } | null = null;

  /** A diff went out: the next snapshot must be built anew. */
  invalidate(): void {
    this.#cached = null;
  }

  /**
   * A view's members as chunks under the message cap: `personal`'s users, then the window of
   * `limit` (`windowIds`), each once; `member` reads a user as of the last diff. Returns the
   * time the texts are relative to, for the snapshot's `now`.
   */
  chunks(
    personal: Iterable<string>,
    limit: number,
    windowIds: () => readonly string[],
    member: (userId: string) => Member | undefined,
    now: number,
  ): { now: number; chunks: string[] } {
    const cached = (this.#cached ??= { now, windows: new Map() });
    const encode = (id: string): string | null => {
      const found = member(id);
      return found ? JSON.stringify(encodeMember(found, cached.now)) : null;
    };
    let window = cached.windows.get(limit);
    if (!window) {
      window = windowIds().flatMap((id) => {
        const text = encode(id);
        return text === null ? [] : [[id, text] as const];
      });
      cached.windows.set(limit, window);
    }
    const seen = new Set<string>();
    const texts: string[] = [];
    for (const id of personal) {
      if (seen.has(id)) continue;
      seen.add(id);
      const text = encode(id);
      if (text !== null) texts.push(text);
    }
    for (const [id, text] of window) if (!seen.has(id)) texts.push(text);
    return { now: cached.now, chunks: joinByBytes(texts, MAX_OUTGOING_BYTES) };
  }
}
