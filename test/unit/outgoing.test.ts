/**
 * Interval mode's snapshot cache: each window encoded once per diff, a view's own users in
 * front of its window's and each once, every text relative to one time until the next diff.
 */
import { describe, expect, it } from "vitest";
import { memberChunks, ViewSnapshotCache } from "../../party/channel/outgoing.ts";
import { decodeMember } from "../../party/wire/member-wire.ts";
import type { Member } from "../../party/protocol/index.ts";
import { member } from "../support/messages.ts";

const T0 = 1_700_000_000_000;
const channel = new Map<string, Member>(["a", "b", "c", "me", "pal"].map((id) => [id, member(id, { since: T0 - 5000, data: { name: id } })]));

/** A member reader that counts its reads. */
function reader() {
  const reads: string[] = [];
  return { reads, read: (id: string) => (reads.push(id), channel.get(id)) };
}

/** The member ids of a snapshot's chunks, in order. */
const idsOf = (chunks: string[]) => chunks.flatMap((chunk) => (JSON.parse(chunk) as unknown[][]).map((wire) => wire[0]));

describe("ViewSnapshotCache", () => {
  it("lists the view's own users first, then its window, each once, and skips users that are gone", () => {
    const cache = new ViewSnapshotCache();
    const { read } = reader();
    const view = cache.chunks(["me", "b", "ghost", "me"], 3, () => ["a", "b", "c"], read, T0);
    expect(idsOf(view.chunks)).toEqual(["me", "b", "a", "c"]);
  });

  it("encodes a window once per diff for every socket that shares its size, and again after invalidate", () => {
    const cache = new ViewSnapshotCache();
    const { reads, read } = reader();
    let built = 0;
    const window = () => (built++, ["a", "b", "c"]);
    const first = cache.chunks(["me"], 3, window, read, T0);
    const second = cache.chunks(["pal"], 3, window, read, T0 + 10);
    expect(built).toBe(1);
    expect(reads.filter((id) => id === "a")).toHaveLength(1);
    expect(idsOf(first.chunks)).toEqual(["me", "a", "b", "c"]);
    expect(idsOf(second.chunks)).toEqual(["pal", "a", "b", "c"]);
    cache.chunks([], 2, () => (built++, ["a", "b"]), read, T0 + 20);
    expect(built).toBe(2);
    cache.invalidate();
    cache.chunks([], 3, window, read, T0 + 30);
    expect(built).toBe(3);
  });

  it("makes every text relative to the first snapshot's time since the diff, and says which, so the client reads the same times", () => {
    const cache = new ViewSnapshotCache();
    const { read } = reader();
    cache.chunks([], 3, () => ["a", "b", "c"], read, T0);
    const later = cache.chunks(["me"], 3, () => ["a", "b", "c"], read, T0 + 4000);
    expect(later.now).toBe(T0);
    for (const part of later.chunks) for (const wire of JSON.parse(part)) expect(decodeMember(wire, later.now)).toEqual(channel.get(wire[0] as string));
  });

  it("gives the texts the uncached encoding gives for the same members", () => {
    const cache = new ViewSnapshotCache();
    const { read } = reader();
    const view = cache.chunks(["pal"], 2, () => ["a", "b"], read, T0);
    expect(view.chunks).toEqual(memberChunks(["pal", "a", "b"].map((id) => channel.get(id)!), T0));
  });
});
