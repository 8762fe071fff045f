/**
 * What a channel sends its sockets after each tick and in each snapshot, in its two modes.
 * Full: one diff text for every socket, one snapshot text shared until the next diff.
 * Interval (past PRESENCE_ANNOUNCE_MAX members): a tick every PRESENCE_INTERVAL_MS, and each
 * socket gets the counts and the part of the changes its view covers, at most one message
 * per tick and none when nothing it sees changed. Owns the sequence number and the mode, and
 * announces a change of mode with a fresh snapshot to every socket.
 */
import type { Config } from "../server/config.ts";
import type { ChannelMode, Counts } from "../protocol/index.ts";
import { type DiffBody } from "../wire/member-wire.ts";
import { diffFrames, isEmptyBody, type SnapshotHead, SnapshotCache, syncFrames, ViewSnapshotCache } from "./outgoing.ts";
import type { PresenceState, TickDiff } from "./presence.ts";
import { sendText } from "../server/host.ts";
import type { ChannelSockets, Socket } from "./sockets.ts";
import { tickFor } from "./pacing.ts";
import { modeFor, NOBODY, type Personal, TickChanges, viewBody, WindowBook, windowAloneServes } from "./views.ts";

/** What the broadcaster reads from the channel. */
export type BroadcastDeps = {
  sockets: ChannelSockets;
  config: Config;
  state: PresenceState;
  channel: () => string;
  /** The users a socket watches (they are in its view in interval mode). */
  watched: (connectionId: string) => ReadonlySet<string> | undefined;
};

/**
 * A tick's diff, numbered and planned; `send` delivers it once it is stored. Until then a
 * snapshot asked for waits (it would show the tick before storage holds it, so a crash could
 * undo what its socket heard), and goes out after the diff, current at its number.
 */
export type PreparedDiff = {
  seq: number;
  send: () => void;
  /** The tick could not be stored: the snapshots that waited go out anyway (the diff does not). */
  abandon: () => void;
};

/** The sending side of one channel. */
export class Broadcaster {
  readonly #deps: BroadcastDeps;
  readonly #snapshot = new SnapshotCache();
  readonly #viewSnapshot = new ViewSnapshotCache();
  readonly #windows = new WindowBook();
  #seq = 0;
  #mode: ChannelMode = "full";
  /** The counts as of the last diff (null until one went out since the start). */
  #counts: Counts | null = null;
  #publishedAt = 0;
  /** Sockets whose snapshot waits for the diff being stored, by instance (null: no diff is being stored). */
  #held: Map<string, Socket> | null = null;

  constructor(deps: BroadcastDeps) {
    this.#deps = deps;
  }

  /** Takes up where the stored meta row left off (after a restart, the mode the channel's size asks for). */
  restore(seq: number, mode: ChannelMode | undefined): void {
    this.#seq = seq;
    this.#mode = modeFor(mode ?? "full", this.#deps.state.size, this.#deps.config.announceMax);
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
    return tickFor(this.#mode, this.#deps.state.liveClientCount(), this.#deps.config);
  }

  /** Whether a tick may publish now: always in full mode, once per interval in interval mode. */
  due(now: number): boolean {
    return this.#mode === "full" || now >= this.#publishedAt + this.#deps.config.intervalMs;
  }

  /**
   * Numbers a tick's diff and works out what each socket gets; the caller stores the tick,
   * then calls `send`. When the tick takes the channel across the threshold, every socket
   * gets this diff as before and then a snapshot in the new mode.
   */
  prepare(diff: TickDiff, now: number): PreparedDiff {
    this.#publishedAt = now;
    const seq = this.#seq + 1;
    const counts: Counts = { clientAmount: diff.clientAmount, userAmount: diff.userAmount };
    const deliver = this.#mode === "full" ? this.#fullPlan(diff, counts, now) : this.#intervalPlan(diff, counts, now);
    this.#counts = counts;
    this.#snapshot.invalidate();
    this.#viewSnapshot.invalidate();
    const next = modeFor(this.#mode, this.#deps.state.size, this.#deps.config.announceMax);
    const switched = next !== this.#mode;
    if (switched) {
      this.#mode = next;
      this.#windows.clear();
    }
    const held = (this.#held = new Map<string, Socket>());
    return {
      seq,
      send: () => {
        this.#held = null;
        const waited = (socket: Socket) => held.has(instanceOf(socket));
        deliver(waited);
        if (switched) for (const socket of this.#deps.sockets.all()) this.snapshot(socket);
        else for (const socket of this.#deps.sockets.all()) if (waited(socket)) this.snapshot(socket);
      },
      abandon: () => {
        this.#held = null;
        for (const socket of this.#deps.sockets.all()) if (held.has(instanceOf(socket))) this.snapshot(socket);
      },
    };
  }

  /**
   * Sends a socket its snapshot as of the last diff: the whole channel in full mode, its view
   * in interval mode. The open tick's changes come in the next diff.
   */
  snapshot(socket: Socket): void {
    if (this.#held) {
      this.#held.set(instanceOf(socket), socket);
      return;
    }
    const now = Date.now();
    const { heartbeatIntervalMs, heartbeatTimeoutMs, graceMs, retentionMs } = this.#deps.config;
    const head: SnapshotHead = {
      channel: this.#deps.channel(),
      self: { connectionId: socket.id, userId: socket.state?.userId ?? null },
      settings: { heartbeatIntervalMs, heartbeatTimeoutMs, graceMs, retentionMs },
    };
    const state = this.#deps.state;
    let frames: string[];
    if (this.#mode === "full") frames = this.#snapshot.frames(() => state.committed(), this.#seq, now, head);
    else {
      const limit = windowOf(socket);
      const windowIds = () => this.#windows.ids(limit, (size) => state.committedWindow(size));
      const view = this.#viewSnapshot.chunks(this.#personal(socket), limit, windowIds, (id) => state.committedMember(id), now);
      frames = syncFrames({ type: "sync", ...head, seq: this.#seq, mode: "interval", window: limit, ...this.committedCounts(), now: view.now }, view.chunks);
    }
    for (const text of frames) sendText(socket, text);
  }

  /** A socket's view changed (its window or its watch list): in interval mode it gets a fresh snapshot. */
  viewChanged(socket: Socket): void {
    if (this.#mode === "interval") this.snapshot(socket);
  }

  /** Every socket's diff (but those whose snapshot waited: theirs comes after, current at this diff's number). */
  #fullPlan(diff: TickDiff, counts: Counts, now: number): (waited: (socket: Socket) => boolean) => void {
    const { frames, seq } = diffFrames(diff, counts, this.#seq, now);
    this.#seq = seq;
    return (waited) => {
      for (const socket of this.#deps.sockets.all()) if (!waited(socket)) for (const text of frames) sendText(socket, text);
    };
  }

  /**
   * Each socket's part of the tick: sockets whose own users did not change share the frames
   * of their window size; the others get their own. A socket whose view did not change gets
   * nothing unless the counts changed.
   */
  #intervalPlan(diff: TickDiff, counts: Counts, now: number): (waited: (socket: Socket) => boolean) => void {
    const state = this.#deps.state;
    const sockets = [...this.#deps.sockets.all()];
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
    const plan: Array<[Socket, string[]]> = [];
    for (const socket of sockets) {
      const { userId = null, window: limit = 0 } = socket.state ?? {};
      const step = steps.get(limit)!;
      const watched = this.#deps.watched(socket.id);
      // Most sockets of a large room watch no one and their user did not move: no view of their own to build.
      const alone =
        watched === undefined
          ? userId === null || (!changes.has(userId) && step.before.has(userId) === step.after.has(userId))
          : windowAloneServes(personalOf(userId, watched), step, changes);
      let frames: string[];
      if (alone) {
        frames = shared.get(limit) ?? framesOf(viewBody(NOBODY, step, changes, current));
        shared.set(limit, frames);
      } else {
        frames = framesOf(viewBody(personalOf(userId, watched), step, changes, current));
      }
      if (frames.length > 0) plan.push([socket, frames]);
    }
    this.#seq = last;
    return (waited) => {
      for (const [socket, frames] of plan) if (!waited(socket)) for (const text of frames) sendText(socket, text);
    };
  }

  /** The counts as of the last diff (what every client holds): read before the next diff is taken. */
  committedCounts(): Counts {
    // Until a diff goes out after a start, from the state, once.
    return (this.#counts ??= this.#deps.state.committed().counts);
  }

  /** The users a socket follows besides its window: its own, and those it watches. */
  #personal(socket: Socket): Personal {
    return personalOf(socket.state?.userId ?? null, this.#deps.watched(socket.id));
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

/** A socket as itself, whatever wrapper the engine hands out (with hibernation, a new one each time). */
function instanceOf(socket: Socket): string {
  return socket.state?.instance ?? socket.id;
}

/** The window a socket asked for (0: none). */
function windowOf(socket: Socket): number {
  return socket.state?.window ?? 0;
}
