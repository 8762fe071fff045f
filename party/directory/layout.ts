/**
 * Which layout a directory part runs with, and the one before it: the count of parts it last
 * ran with is stored, so a restart with a larger PRESENCE_DIRECTORY_PARTS knows where users
 * not handed over yet still are, and a restart with a smaller one is refused (its users would
 * be lost). Parts that never ran (or ran with no layout stored, before jump hashing) learn the
 * layout before from p0.
 */
import { currentLayout, type Layout } from "../server/parts.ts";

/** A part's layout as stored: the one it runs with, and the one before (null: none, nobody moved). */
export type StoredLayout = { current: Layout; previous: Layout | null };

/** What a part makes of its stored layout at start. */
export type LayoutAtStart =
  /** Known: write it if `changed`. */
  | { layout: StoredLayout; changed: boolean }
  /** A part that never ran: the layout before is p0's. */
  | { askFirstPart: true }
  /** A smaller count than the part ran with: every call is refused with this message. */
  | { refused: string };

/** The name of the part every other asks for the layout before. */
export const FIRST_PART = "p0";

/**
 * Decides a part's layouts from what it stored. `hasRows`: the part holds users, leases or
 * watch lists; with no layout stored they were placed by the `mod` hash (before jump hashing),
 * taken to be over the same count (so upgrade with the count unchanged, then grow).
 */
export function layoutAtStart(stored: StoredLayout | undefined, hasRows: boolean, parts: number, part: string): LayoutAtStart {
  const current = currentLayout(parts);
  if (stored) {
    const ran = stored.current;
    if (ran.parts > parts || (ran.parts > 0) !== (parts > 0)) return { refused: refusal(part, ran.parts, parts) };
    if (ran.parts === parts && ran.hash === current.hash) return { layout: stored, changed: false };
    return { layout: { current, previous: ran }, changed: true };
  }
  if (hasRows) return { layout: { current, previous: parts > 0 ? { parts, hash: "mod" } : null }, changed: true };
  if (parts === 0 || part === FIRST_PART) return { layout: { current, previous: null }, changed: true };
  return { askFirstPart: true };
}

/** The error a part started with a smaller count answers every call with. */
export function refusal(part: string, ranWith: number, startedWith: number): string {
  return (
    `directory part ${part} ran with PRESENCE_DIRECTORY_PARTS=${ranWith} and was started with ${startedWith}: ` +
    `the count may only grow (users would be lost or counted twice); start it again with ${ranWith} or more`
  );
}
