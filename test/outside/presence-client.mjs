/**
 * A second presence client, written from docs/protocol.md alone, the way someone writing a
 * client in another language would: it imports nothing from this repository, only `ws` and
 * Node's built-ins. test/integration/outside-client.test.ts runs it beside the project's own
 * PresenceClient and checks that both hold the same list; whatever the document leaves out or
 * gets wrong shows up there as a difference.
 *
 * It joins a channel as a member (or an observer), keeps the member list through snapshots (in
 * parts) and diffs (every group, `quiet` and `out`, the member tuples), follows the gap rule of
 * each mode and asks for a snapshot on a gap, pings on the room's heartbeat and treats silence
 * past the timeout as a disconnect itself, reconnects with the same connection id, and reads
 * herenow over HTTP page by page. `dropNextDiff()` makes it lose one diff on purpose.
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import WebSocket from "ws";

/** The event groups of a diff that carry member tuples, in the order they are applied ("Diffs"). */
const EVENT_GROUPS = ["join", "online", "update", "offline"];

/** Close codes after which the protocol says not to reconnect: at a cap (1013), replaced by policy (4002), kicked (4004). */
const FINAL_CLOSES = new Set([1013, 4002, 4004]);

/**
 * A `WireMember` tuple, `[id, data, ago?, extra?]`, as a member record, with its times counted
 * back from the `now` of the message it came in ("Members on the wire: WireMember").
 */
export function decodeMember(tuple, now) {
  const [id, data, ago = 0, extra = {}] = tuple;
  const since = now - ago;
  const single = typeof extra.t === "string";
  const online = extra.o !== 1;
  return {
    id,
    data,
    status: online ? "online" : "offline",
    clients: extra.c ?? (single || online ? 1 : 0),
    clientTypes: single ? { [extra.t]: 1 } : { ...(extra.t ?? {}) },
    since,
    lastSeen: extra.l === undefined ? since : now - extra.l,
  };
}

/** The action that turns `before` into `after` (null: not in the list), or null for none. */
function changeOf(before, after) {
  if (!before) return after ? "join" : null;
  if (!after) return "leave";
  if (before.status !== after.status) return after.status;
  if (JSON.stringify(before.data) !== JSON.stringify(after.data)) return "update";
  return null;
}

export class OutsideClient extends EventEmitter {
  /**
   * @param {object} options `host` ("127.0.0.1:1999"), `channel`, and optionally `userId`
   * (absent: an observer), `userData`, `clientType`, `id` (the connection id, `_pk`),
   * `window`, `token`, `party` (default "main"), `secure` (wss/https).
   */
  constructor(options) {
    super();
    this.host = options.host;
    this.channel = options.channel;
    this.party = options.party ?? "main";
    this.secure = options.secure ?? false;
    this.userId = options.userId ?? null;
    this.userData = options.userData ?? null;
    this.clientType = options.clientType;
    this.window = options.window ?? 0;
    this.token = options.token;
    this.connectionId = options.id ?? `out-${randomUUID()}`;

    /** The member list, by userId. */
    this.members = new Map();
    this.counts = { clientAmount: 0, userAmount: 0 };
    /** The `seq` the list is current at (-1 before the first snapshot). */
    this.seq = -1;
    this.mode = "full";
    this.settings = null;
    this.self = null;
    /** Every presence event reported, in order; those found by comparing snapshots have `resync: true`. */
    this.events = [];
    /** What the tests look at: how the protocol's harder parts were met. */
    this.stats = { snapshots: 0, mostSnapshotParts: 0, splitTicks: 0, gaps: 0, seqJumps: 0, dropped: [], reconnects: 0 };

    this.closed = false;
    this.current = false;
    this.parts = [];
    this.partsOfThisSnapshot = 0;
    this.lastDiff = null;
    this.dropNext = false;
    this.lastHeard = Date.now();
    this.timer = null;
    this.#connect();
  }

  /** Resolves once a complete snapshot has arrived and, for a member, once the list shows itself online. */
  ready() {
    return new Promise((resolve) => {
      const check = () => {
        if (!this.current) return;
        if (this.userId !== null && this.members.get(this.userId)?.status !== "online") return;
        this.off("change", check);
        resolve();
      };
      this.on("change", check);
      check();
    });
  }

  /** Lose the next diff that would have been applied, as if it never arrived. */
  dropNextDiff() {
    this.dropNext = true;
  }

  /** Replaces this user's userData (the member's, for all its clients). */
  update(data) {
    this.userData = data;
    this.#send({ type: "update", data });
  }

  /** Asks for a fresh snapshot. */
  resync() {
    this.current = false;
    this.#send({ type: "sync" });
  }

  /** Leaves the channel, waits for `left`, then closes. */
  async leave() {
    const left = new Promise((resolve) => this.once("left", resolve));
    this.#send({ type: "leave" });
    await left;
    this.close();
  }

  /** Closes for good: others see `offline` after grace. */
  close() {
    this.closed = true;
    clearInterval(this.timer);
    this.ws?.close(1000, "done");
  }

  /** herenow of this channel over HTTP, every page (`cursor`) merged into one answer. */
  async hereNow({ includeUsers = true, distinct = true, limit } = {}) {
    const base = `${this.secure ? "https" : "http"}://${this.host}/parties/${this.party}/${this.channel}`;
    const headers = this.token ? { authorization: `Bearer ${this.token}` } : {};
    const users = [];
    let cursor;
    let page;
    do {
      const query = new URLSearchParams({ includeUsers: String(includeUsers), distinct: String(distinct) });
      if (limit !== undefined) query.set("limit", String(limit));
      if (cursor !== undefined) query.set("cursor", cursor);
      const response = await fetch(`${base}?${query}`, { headers });
      const body = await response.json();
      if (body.code !== 200) throw new Error(`herenow answered ${body.code} ${body.error}: ${body.message}`);
      page = body.content.channels[this.channel];
      users.push(...(page.users ?? []));
      cursor = page.cursor;
    } while (cursor !== undefined);
    const { cursor: _last, users: _page, ...rest } = page;
    return includeUsers ? { ...rest, users } : rest;
  }

  #url() {
    const query = new URLSearchParams({ _pk: this.connectionId });
    if (this.userId !== null) {
      query.set("userId", this.userId);
      // Sent on every connect: a connect without userData would set the member's data to null.
      query.set("userData", JSON.stringify(this.userData));
      if (this.clientType !== undefined) query.set("clientType", this.clientType);
    }
    if (this.window > 0) query.set("window", String(this.window));
    if (this.token !== undefined) query.set("token", this.token);
    return `${this.secure ? "wss" : "ws"}://${this.host}/parties/${this.party}/${this.channel}?${query}`;
  }

  #connect() {
    const ws = new WebSocket(this.#url());
    this.ws = ws;
    // A new connection: diffs wait for its snapshot, a half-received one is dropped.
    this.current = false;
    this.parts = [];
    this.partsOfThisSnapshot = 0;
    ws.on("open", () => {
      this.lastHeard = Date.now();
      this.emit("open");
    });
    ws.on("message", (data, isBinary) => {
      if (ws !== this.ws || isBinary) return;
      this.lastHeard = Date.now();
      this.#receive(JSON.parse(String(data)));
    });
    ws.on("error", (error) => this.emit("socket-error", error));
    ws.on("close", (code, reason) => {
      if (ws !== this.ws) return;
      clearInterval(this.timer);
      this.emit("close", { code, reason: String(reason) });
      if (this.closed || FINAL_CLOSES.has(code)) return;
      this.stats.reconnects++;
      setTimeout(() => this.closed || this.#connect(), 250);
    });
  }

  /** Pings every `heartbeatIntervalMs`; nothing heard for `heartbeatTimeoutMs` means the connection is dead: start over. */
  #beat() {
    clearInterval(this.timer);
    const { heartbeatIntervalMs, heartbeatTimeoutMs } = this.settings;
    this.timer = setInterval(() => {
      if (this.ws.readyState !== WebSocket.OPEN) return;
      if (Date.now() - this.lastHeard > heartbeatTimeoutMs) {
        // Do not wait for the room's close frame: it may come late.
        this.ws.terminate();
        return;
      }
      this.ws.send('{"type":"ping"}');
    }, heartbeatIntervalMs);
  }

  #send(message) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  #receive(message) {
    switch (message.type) {
      case "sync":
        return this.#snapshot(message);
      case "diff":
        return this.#diff(message);
      case "left":
        this.userId = null;
        return this.emit("left");
      case "push":
        // Acknowledged as soon as it is read: this client has no handler to run.
        return this.#send({ type: "ack", id: message.id, ok: true });
      case "error":
        return this.emit("room-error", message);
      default:
        // pong, herenow, pushed, users, and anything newer: nothing to keep.
        return this.emit(message.type, message);
    }
  }

  #snapshot(message) {
    for (const tuple of message.members) this.parts.push(decodeMember(tuple, message.now));
    this.partsOfThisSnapshot++;
    if (message.more) return;
    const before = this.members;
    const after = new Map(this.parts.map((member) => [member.id, member]));
    const first = this.seq < 0;
    const wholeChannel = message.mode === "full" && this.mode === "full";
    this.stats.snapshots++;
    this.stats.mostSnapshotParts = Math.max(this.stats.mostSnapshotParts, this.partsOfThisSnapshot);
    this.parts = [];
    this.partsOfThisSnapshot = 0;
    this.members = after;
    this.counts = { clientAmount: message.clientAmount, userAmount: message.userAmount };
    this.seq = message.seq;
    this.mode = message.mode;
    this.settings = message.settings;
    this.self = message.self;
    this.current = true;
    this.lastDiff = null;
    if (!first) {
      for (const [id, member] of after) {
        const old = before.get(id);
        if (!old && !wholeChannel) continue;
        const action = changeOf(old, member);
        if (action) this.#report(action, member, true);
      }
      if (wholeChannel) for (const [id, member] of before) if (!after.has(id)) this.#report("leave", member, true);
    }
    this.#beat();
    this.emit("change");
  }

  #diff(message) {
    if (!this.current || message.seq <= this.seq) return;
    if (this.dropNext) {
      this.dropNext = false;
      this.stats.dropped.push(message.seq);
      return;
    }
    if (message.seq !== this.seq + 1) {
      if (this.mode === "full") {
        // A diff was missed: ask for a snapshot, ignore diffs until it is complete.
        this.stats.gaps++;
        this.resync();
        return;
      }
      // Interval mode: this socket hears only the ticks that concern it.
      this.stats.seqJumps++;
    }
    // The messages of one large tick: consecutive seqs, the same `now`.
    if (this.lastDiff && this.lastDiff.now === message.now && this.lastDiff.seq + 1 === message.seq) this.stats.splitTicks++;
    this.lastDiff = { seq: message.seq, now: message.now };
    this.counts = { clientAmount: message.clientAmount, userAmount: message.userAmount };
    this.seq = message.seq;
    for (const tuple of message.quiet ?? []) {
      const member = decodeMember(tuple, message.now);
      this.members.set(member.id, member);
    }
    for (const group of EVENT_GROUPS) {
      for (const tuple of message[group] ?? []) {
        const member = decodeMember(tuple, message.now);
        this.members.set(member.id, member);
        this.#report(group, member, false);
      }
    }
    for (const id of message.leave ?? []) {
      const held = this.members.get(id) ?? { id, data: null, status: "online", since: message.now, lastSeen: message.now };
      this.members.delete(id);
      this.#report("leave", { ...held, clients: 0, clientTypes: {} }, false);
    }
    for (const id of message.out ?? []) this.members.delete(id);
    this.emit("change");
  }

  #report(action, member, resync) {
    const event = { action, member, ...this.counts };
    if (resync) event.resync = true;
    this.events.push(event);
    this.emit("presence", event);
  }
}
