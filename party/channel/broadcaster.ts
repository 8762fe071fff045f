/**
 * What a channel sends its sockets after each tick and in each snapshot, in its two modes.
 * Full: one diff text for every socket, one snapshot text shared until the next diff.
 * Interval (past PRESENCE_ANNOUNCE_MAX members): a tick every PRESENCE_INTERVAL_MS, and each
 * socket gets the counts and the part of the changes its view covers, at most one message
 * per tick and none when nothing it sees changed. Owns the sequence number and the mode, and
 * announces a change of mode with a fresh snapshot to every socket.
 */
import type { ChannelMode, Counts, Member } from "../protocol/index.ts";
import { type DiffBody } from "../wire/member-wire.ts";
import type { Channel } from "./channel.ts";
import { diffFrames, isEmptyBody, type SnapshotHead, SnapshotCache, syncFrames, ViewSnapshotCache } from "./outgoing.ts";
import type { TickDiff } from "./presence.ts";
import type { SocketState } from "./sockets.ts";
import { tickFor } from "./pacing.ts";
import type { WatchRegistry } from "./watchers.ts";
import { modeFor, NOBODY, type Personal, TickChanges, viewBody, WindowBook, windowAloneServes } from "./views.ts";

/**
 * What the sockets are shown of the channel: a room's own presence, or a shard's mirror of its
 * coordinator's (mirror.ts). `size` is the channel's member count (it decides the mode).
 */
export type ChannelView = {
  readonly size: number;
  /** The mode the view is in, where another decides it (a shard follows its coordinator's); else the broadcaster decides by `size`. */
  readonly mode?: ChannelMode;
  committed(): { members: Member[]; counts: Counts };
  committedWindow(limit: number): Member[];
  committedMember(userId: string): Member | undefined;
  member(userId: string): Member | undefined;
};

/** A socket as the broadcaster addresses it. */
type Target = { id: string; state: Readonly<SocketState> };

/**
 * A tick's diff, numbered and planned; `send` delivers it once it is stored. Until then a
 * snapshot asked for waits (it would show the tick before storage holds it, so a crash could
 * undo what its socket heard), and goes out after the diff, current at its number.
 */
export type PreparedDiff = {
  seq: number;
  /** The tick is stored: its diff goes out, then the snapshots that waited (current at its number). */
  send: (now: number) => void;
  /** The tick could not be stored: the snapshots that waited go out anyway (the diff does not). */
  abandon: (now: number) => void;
};

/** The sending side of one channel. */
export class Broadcaster {
  readonly #channel: Channel;
  /** The users each socket watches (in its view in interval mode). */
  readonly #watchers: WatchRegistry;
  readonly #snapshot = new SnapshotCache();
  readonly #viewSnapshot = new ViewSnapshotCache();
  readonly #windows = new WindowBook();
  #seq = 0;
  #mode: ChannelMode = "full";
  /** The counts as of the last diff (null until one went out since the start). */
  #counts: Counts | null = null;
  /** Sockets whose snapshot waits for the diff being stored, by instance (null: no diff is being stored). */
  #held: Set<string> | null = null;

  /** What the sockets are shown: the room's own presence unless given a shard's mirror. */
  readonly #view: ChannelView;

  constructor(channel: Channel, watchers: WatchRegistry, view: ChannelView = channel.members) {
    this.#channel = channel;
    this.#watchers = watchers;
    this.#view = view;
  }

  /** Takes up where the stored meta row left off (after a restart, the mode the channel's size asks for). */
  restore(seq: number, mode: ChannelMode | undefined): void {
    this.#seq = seq;
    this.#mode = this.#view.mode ?? modeFor(mode ?? "full", this.#view.size, this.#channel.config.announceMax);
  }

  /** The sequence number of the last diff. */
  get seq(): number {
    return this.#seq;
  }

  get mode(): ChannelMode {
    return this.#mode;
  }

  /** How long the tick loop gathers changes (see `tickFor`). */
  tickMs(): number {
    return tickFor(this.#mode, this.#channel.members.liveClientCount(), this.#channel.config);
  }


  /**
   * Numbers a tick's diff and works out what each socket gets; the caller stores the tick,
   * then calls `send`. When the tick takes the channel across the threshold, every socket
   * gets this diff as before and then a snapshot in the new mode.
   */
  prepare(diff: TickDiff, now: number): PreparedDiff {
    const seq = this.#seq + 1;
    const counts: Counts = { clientAmount: diff.clientAmount, userAmount: diff.userAmount };
    const deliver = this.#mode === "full" ? this.#fullPlan(diff, counts, now) : this.#intervalPlan(diff, counts, now);
    this.#counts = counts;
    this.#snapshot.invalidate();
    this.#viewSnapshot.invalidate();
    const next = this.#view.mode ?? modeFor(this.#mode, this.#view.size, this.#channel.config.announceMax);
    const switched = next !== this.#mode;
    if (switched) {
      this.#mode = next;
      this.#windows.clear();
    }
    const held = (this.#held = new Set<string>());
    return {
      seq,
      send: (at) => {
        this.#held = null;
        deliver(held);
        for (const socket of this.#channel.sockets.all()) if (switched || held.has(socket.state.instance)) this.snapshot(socket.id, at);
      },
      abandon: (at) => {
        this.#held = null;
        for (const socket of this.#channel.sockets.all()) if (held.has(socket.state.instance)) this.snapshot(socket.id, at);
      },
    };
  }

  /**
   * Sends a socket its snapshot as of the last diff: the whole channel in full mode, its view
   * in interval mode. The open tick's changes come in the next diff.
   */
  snapshot(connectionId: string, now: number): void {
    const found = this.#channel.sockets.stateOf(connectionId);
    if (!found) return;
    const socket: Target = { id: connectionId, state: found };
    if (this.#held) {
      this.#held.add(found.instance);
      return;
    }
    const { heartbeatIntervalMs, heartbeatTimeoutMs, graceMs, retentionMs } = this.#channel.config;
    const head: SnapshotHead = {
      channel: this.#channel.name,
      self: { connectionId, userId: found.userId },
      settings: { heartbeatIntervalMs, heartbeatTimeoutMs, graceMs, retentionMs },
    };
    const state = this.#view;
    let frames: string[];
    if (this.#mode === "full") frames = this.#snapshot.frames(() => state.committed(), this.#seq, now, head);
    else {
      const limit = windowOf(socket);
      const windowIds = () => this.#windows.ids(limit, (size) => state.committedWindow(size));
      const view = this.#viewSnapshot.chunks(this.#personal(socket), limit, windowIds, (id) => state.committedMember(id), now);
      frames = syncFrames({ type: "sync", ...head, seq: this.#seq, mode: "interval", window: limit, ...this.committedCounts(), now: view.now }, view.chunks);
    }
    for (const text of frames) this.#channel.out.sendText(connectionId, text, found.instance);
  }

  /** The view was replaced (a shard took a fresh copy of its channel): every socket gets a fresh snapshot, in the view's mode. */
  resync(now: number): void {
    this.#mode = this.#view.mode ?? modeFor(this.#mode, this.#view.size, this.#channel.config.announceMax);
    this.#counts = null;
    this.#snapshot.invalidate();
    this.#viewSnapshot.invalidate();
    this.#windows.clear();
    for (const socket of this.#channel.sockets.all()) this.snapshot(socket.id, now);
  }

  /** A socket's view changed (its window or its watch list): in interval mode it gets a fresh snapshot. */
  viewChanged(connectionId: string, now: number): void {
    if (this.#mode === "interval") this.snapshot(connectionId, now);
  }

  /** Every socket's diff (but those whose snapshot waited: theirs comes after, current at this diff's number). */
  #fullPlan(diff: TickDiff, counts: Counts, now: number): (held: ReadonlySet<string>) => void {
    const { frames, seq } = diffFrames(diff, counts, this.#seq, now);
    this.#seq = seq;
    return (held) => {
      for (const text of frames) this.#channel.out.broadcast(text, held);
    };
  }

  /**
   * Each socket's part of the tick: sockets whose own users did not change share the frames
   * of their window size; the others get their own. A socket whose view did not change gets
   * nothing unless the counts changed. The largest group that shares frames (in a large room
   * most sockets: same window, nobody they follow moved) gets them as one broadcast, one pass
   * over the engine's sockets as in full mode, not a frame addressed to each socket.
   */
  #intervalPlan(diff: TickDiff, counts: Counts, now: number): (held: ReadonlySet<string>) => void {
    const state = this.#view;
    const sockets = [...this.#channel.sockets.all()];
    const steps = this.#windows.advance(new Set(sockets.map(windowOf)), (limit) => state.committedWindow(limit));
    const changes = new TickChanges(diff);
    const countsChanged = this.#counts === null || this.#counts.clientAmount !== counts.clientAmount || this.#counts.userAmount !== counts.userAmount;
    const current = (userId: string) => state.member(userId);
    const first = this.#seq;
    let last = first + 1;
    const framesOf = (body: DiffBody): string[] => {
      if (!countsChanged && isEmptyBody(body)) return [];
      const { frames, seq } = diffFrames(body, counts, first, now);
      last = Math.max(last, seq);
      return frames;
    };
    const shared = new Map<number, string[]>();
    /** Sockets served by the shared frames of their window size, by size. */
    const groups = new Map<number, Target[]>();
    const plan: Array<[Target, string[]]> = [];
    for (const socket of sockets) {
      const { userId, window: limit = 0 } = socket.state;
      const step = steps.get(limit)!;
      const watched = this.#watchers.usersOf(socket.id);
      // Most sockets of a large room watch no one and their user did not move: no view of their own to build.
      const alone =
        watched === undefined
          ? userId === null || (!changes.has(userId) && step.before.has(userId) === step.after.has(userId))
          : windowAloneServes(personalOf(userId, watched), step, changes);
      if (alone) {
        const frames = shared.get(limit) ?? framesOf(viewBody(NOBODY, step, changes, current));
        shared.set(limit, frames);
        if (frames.length > 0) {
          const group = groups.get(limit);
          if (group) group.push(socket);
          else groups.set(limit, [socket]);
        }
      } else {
        const frames = framesOf(viewBody(personalOf(userId, watched), step, changes, current));
        if (frames.length > 0) plan.push([socket, frames]);
      }
    }
    this.#seq = last;
    let widest: [number, Target[]] | null = null;
    for (const group of groups) if (widest === null || group[1].length > widest[1].length) widest = group;
    for (const [limit, targets] of groups) if (limit !== widest?.[0]) for (const socket of targets) plan.push([socket, shared.get(limit)!]);
    return (held) => {
      if (widest) {
        const [limit, targets] = widest;
        const members = new Set(targets.map((socket) => socket.state.instance));
        const except = new Set(held);
        for (const socket of sockets) if (!members.has(socket.state.instance)) except.add(socket.state.instance);
        for (const text of shared.get(limit)!) this.#channel.out.broadcast(text, except);
      }
      for (const [socket, frames] of plan) if (!held.has(socket.state.instance)) for (const text of frames) this.#channel.out.sendText(socket.id, text, socket.state.instance);
    };
  }

  /** The counts as of the last diff (what every client holds): read before the next diff is taken. */
  committedCounts(): Counts {
    // Until a diff goes out after a start, from the state, once.
    return (this.#counts ??= this.#view.committed().counts);
  }

  /** The users a socket follows besides its window: its own, and those it watches. */
  #personal(socket: Target): Personal {
    return personalOf(socket.state.userId, this.#watchers.usersOf(socket.id));
  }
}

/** What a socket of `userId` (null: an observer) that watches `watched` follows besides its window. */
function personalOf(userId: string | null, watched: ReadonlySet<string> | undefined): Personal {
  if (userId === null) return watched ?? NOBODY;
  return {
    size: 1 + (watched?.size ?? 0),
    has: (id) => id === userId || (watched?.has(id) ?? false),
    *[Symbol.iterator]() {
      yield userId;
      if (watched) yield* watched;
    },
  };
}

/** The window a socket asked for (0: none). */
function windowOf(socket: Target): number {
  return socket.state.window ?? 0;
}
