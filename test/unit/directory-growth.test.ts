/**
 * A user directory that grows: jump consistent hashing (growing N → M parts moves ~(M−N)/M of
 * the users, each only to a new part); the layout a part ran with (a smaller count refused);
 * the pure state's hand-over (moving users uncounted and untouched by renewals, adopted with
 * their lastSeen, data, leases and watchers, no transition); and whole parts in a memory
 * world restarted from 4 to 16 parts, including a move cut off half-way.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DirectoryState, type DirectoryTiming, type StoredUser } from "../../party/directory/directory.ts";
import { layoutAtStart } from "../../party/directory/layout.ts";
import { DirectoryService } from "../../party/directory/service.ts";
import { loadConfig } from "../../party/server/config.ts";
import { ok } from "../../party/server/envelope.ts";
import type { RoomService } from "../../party/server/host.ts";
import { byPart, fnv1a, jumpHash, partOf } from "../../party/server/parts.ts";
import type { DirectoryReport, PresenceReport, UserStatus, WebhookPayload } from "../../party/protocol/index.ts";
import { MemoryHost, MemoryWorld } from "../support/memory-host.ts";
import { webhookSecret } from "../support/webhook-receiver.ts";

describe("jumpHash", () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => fnv1a(`user-${i}`));

  it("puts every key in range, the same way every time, all in one bucket when there is one", () => {
    for (const key of keys.slice(0, 1000)) {
      expect(jumpHash(key, 1)).toBe(0);
      const bucket = jumpHash(key, 7);
      expect(bucket).toBeGreaterThanOrEqual(0);
      expect(bucket).toBeLessThan(7);
      expect(jumpHash(key, 7)).toBe(bucket);
    }
    expect(() => jumpHash(1, 0)).toThrow(/at least one bucket/);
  });

  it("spreads keys evenly", () => {
    const counts = new Array<number>(16).fill(0);
    for (const key of keys) counts[jumpHash(key, 16)]!++;
    for (const count of counts) expect(Math.abs(count - keys.length / 16)).toBeLessThan(keys.length / 16 / 5);
  });

  for (const [from, to] of [
    [4, 16],
    [1, 2],
    [16, 17],
    [3, 100],
  ] as const) {
    it(`moves ~(M−N)/M of the keys from ${from} to ${to} buckets, each only to a new bucket`, () => {
      let moved = 0;
      for (const key of keys) {
        const before = jumpHash(key, from);
        const after = jumpHash(key, to);
        if (before === after) continue;
        moved++;
        expect(after).toBeGreaterThanOrEqual(from);
        // The chain: the bucket a key had before bucket b existed is jumpHash(key, b).
        let walked = after;
        while (walked >= from) walked = jumpHash(key, walked);
        expect(walked).toBe(before);
      }
      const expected = (to - from) / to;
      expect(Math.abs(moved / keys.length - expected)).toBeLessThan(0.02);
    });
  }

  it("names parts p0… by it, and one room per user with 0 parts as before", () => {
    expect(partOf("ann", 16)).toBe(`p${jumpHash(fnv1a("ann"), 16)}`);
    expect(partOf("ann", { parts: 4, hash: "mod" })).toBe(`p${fnv1a("ann") % 4}`);
    expect(partOf("ann", 0)).toBe("u-616e6e");
    expect(partOf("é/x", 0)).toBe("u-c3a92f78");
  });
});

describe("layoutAtStart", () => {
  it("runs a fresh deployment's p0 with no layout before; other fresh parts ask p0", () => {
    expect(layoutAtStart(undefined, false, 4, "p0")).toEqual({ layout: { current: { parts: 4, hash: "jump" }, previous: null }, changed: true });
    expect(layoutAtStart(undefined, false, 4, "p3")).toEqual({ askFirstPart: true });
    expect(layoutAtStart(undefined, false, 0, "u-61")).toEqual({ layout: { current: { parts: 0, hash: "jump" }, previous: null }, changed: true });
  });

  it("takes rows stored before jump hashing to be at their `% parts` place", () => {
    expect(layoutAtStart(undefined, true, 4, "p2")).toEqual({ layout: { current: { parts: 4, hash: "jump" }, previous: { parts: 4, hash: "mod" } }, changed: true });
  });

  it("keeps the layout before across restarts with the same count, and takes a larger count as growth", () => {
    const grown = { current: { parts: 16, hash: "jump" as const }, previous: { parts: 4, hash: "jump" as const } };
    expect(layoutAtStart({ current: { parts: 4, hash: "jump" }, previous: null }, true, 16, "p1")).toEqual({ layout: grown, changed: true });
    expect(layoutAtStart(grown, true, 16, "p1")).toEqual({ layout: grown, changed: false });
  });

  it("refuses a smaller count, naming both", () => {
    const refused = layoutAtStart({ current: { parts: 16, hash: "jump" }, previous: null }, true, 4, "p1");
    expect(refused).toEqual({ refused: expect.stringContaining("ran with PRESENCE_DIRECTORY_PARTS=16 and was started with 4") });
  });
});

const timing: DirectoryTiming = { graceMs: 1_000, leaseMs: 60_000, retentionMs: 3_600_000 };
const here = (userId: string, data: unknown = null): PresenceReport => ({ present: true, userId, clients: 1, clientTypes: { web: 1 }, data: data as never });
const gone = (userId: string, lastSeen: number): PresenceReport => ({ present: false, userId, lastSeen });
const report = (channel: string, presence: PresenceReport[], over: Partial<DirectoryReport> = {}): DirectoryReport => ({ channel, presence, all: false, watch: null, ...over });

/** The rows a state wrote, as a store would hold them. */
function rowsOf(state: DirectoryState, now: number) {
  const changes = state.takeChanges(now)!;
  return { users: changes.upserts, leases: changes.leaseUpserts, watches: changes.watchUpserts };
}

describe("DirectoryState hand-over", () => {
  /** An old part: ann online in `c` (watched by room `w`), bob offline; then restored with both moved away. */
  function oldPart() {
    const before = new DirectoryState(timing);
    before.apply(report("c", [here("ann", { n: 1 }), here("bob"), here("cat")], { watch: ["ann"] }), 1_000);
    before.apply(report("c", [gone("bob", 2_000)]), 2_000);
    before.expire(5_000);
    const rows = rowsOf(before, 5_000);
    const moved = new Set(["ann", "bob"]);
    return { before, state: DirectoryState.restore(timing, rows, (id) => !moved.has(id)) };
  }

  it("keeps moved users apart: not counted, not released by a renewal that leaves them out, not expired", () => {
    const { state } = oldPart();
    expect(state.size()).toMatchObject({ users: 1, online: 1 });
    expect(state.movingCount()).toBe(2);
    state.apply(report("c", [here("cat")], { all: true }), 6_000);
    state.expire(6_000 + timing.retentionMs + timing.leaseMs);
    expect(state.handOut(["ann", "bob"]).map((row) => row.id)).toEqual(["ann", "bob"]);
    expect(state.takeChanges(7_000)?.transitions.map((t) => t.userId)).toEqual(["cat"]);
  });

  it("hands a user over with lastSeen, data, leases and watchers; the new part takes it with no transition; the old forgets it without one", () => {
    const { before, state } = oldPart();
    const [ann, bob] = state.handOut(["ann", "bob"]);
    expect(ann).toMatchObject({ id: "ann", online: true, since: 1_000, data: { n: 1 }, leases: { c: { expiresAt: 62_000, renewedAt: 2_000 } }, watchers: [{ room: "c", expiresAt: 61_000 }] });
    expect(bob).toMatchObject({ id: "bob", online: false, lastSeen: 2_000 });

    const fresh = new DirectoryState(timing);
    expect(fresh.adopt([ann!, bob!])).toBe(2);
    expect(fresh.status("ann")).toEqual(before.status("ann"));
    expect(fresh.status("bob")).toEqual(before.status("bob"));
    const taken = fresh.takeChanges(8_000)!;
    expect(taken.transitions).toEqual([]);
    expect(taken.watched.size).toBe(0);
    expect(taken.upserts.map((u) => u.id).sort()).toEqual(["ann", "bob"]);
    expect(taken.leaseUpserts).toEqual([{ channel: "c", expiresAt: 62_000, renewedAt: 2_000 }]);
    expect(taken.watchUpserts).toEqual([{ room: "c", users: ["ann"], expiresAt: 61_000 }]);
    // Adopting again (a drain after a pull) changes nothing.
    expect(fresh.adopt([{ ...ann!, data: { n: 0 } }])).toBe(0);
    expect(fresh.status("ann").data).toEqual({ n: 1 });

    // The watchers came along: ann's next change is news for room c.
    fresh.apply(report("c", [gone("ann", 9_000)]), 9_000);
    fresh.expire(10_000);
    const next = fresh.takeChanges(10_000)!;
    expect(next.watched.get("c")?.map((v) => v.status.id)).toEqual(["ann"]);
    expect(next.transitions).toEqual([{ userId: "ann", online: false, at: 10_000 }]);

    state.forget(["ann", "bob", "cat"]);
    const forgotten = state.takeChanges(8_000)!;
    expect(forgotten.deletes.sort()).toEqual(["ann", "bob"]);
    expect(forgotten.transitions).toEqual([]);
    expect(state.movingCount()).toBe(0);
    expect(state.status("cat").online).toBe(true);
  });

  it("lets a handed lease lapse at the new part as it would have at the old (a channel that died: offline once, last seen at its last renewal)", () => {
    const { state } = oldPart();
    const fresh = new DirectoryState(timing);
    fresh.adopt(state.handOut(["ann"]));
    fresh.takeChanges(8_000);
    fresh.expire(61_999);
    expect(fresh.status("ann").online).toBe(true);
    fresh.expire(62_000);
    fresh.expire(63_000);
    expect(fresh.status("ann")).toMatchObject({ online: false, lastSeen: 2_000 });
    expect(fresh.takeChanges(63_000)?.transitions).toEqual([{ userId: "ann", online: false, at: 62_000 }]);
  });
});

/** Parts served with these counts in one memory world; rooms of `main` record the calls they get. */
const ENV = { PRESENCE_GRACE_MS: "1000", PRESENCE_TICK_MS: "50", PRESENCE_LEASE_MS: "600000", PRESENCE_WEBHOOK_URL: "http://hooks.example/in", PRESENCE_WEBHOOK_SECRET: webhookSecret(), PRESENCE_WEBHOOK_EVENTS: "user.online,user.offline" };

type ChannelCall = { room: string; call: string; args: any };

function world(parts: number, channelCalls: ChannelCall[], stored = new Map<string, Map<string, unknown>>(), drop: (call: string, room: string) => boolean = () => false, reach = { able: true }) {
  const config = loadConfig({ ...ENV, PRESENCE_DIRECTORY_PARTS: String(parts) });
  const w = new MemoryWorld();
  w.serve("directory", (host) => new DirectoryService(host, config));
  w.serve("main", (host): RoomService<unknown> => ({
    start: async () => {},
    connect() {},
    message() {},
    closed() {},
    alarm: async () => {},
    reachable() {},
    request: async (request) => {
      const body = (await request.json()) as { call: string; args: any };
      channelCalls.push({ room: host.name, call: body.call, args: body.args });
      if (body.call === "deliver") return ok({ acked: [{ channel: host.name, connectionId: `${body.args.userId}-1`, clientType: "web" }], unacked: [] });
      return ok({});
    },
  }));
  // Calls the test drops: a room killed right after it did its part, before the next one heard of it.
  const parties = w.parties();
  const original = parties.call.bind(parties);
  (w as unknown as { parties: () => typeof parties }).parties = () => ({
    get reachable() {
      return reach.able;
    },
    call: (party: any, room: string, name: any, args: any) => (drop(name, room) ? Promise.reject(new Error(`dropped ${name} to ${room}`)) : original(party, room, name, args)),
  });
  /** Starts the stored parts, p0 first; as on the engines, a room answers no call before its start is done. */
  const open = async () => {
    const starts: Array<() => Promise<void>> = [];
    for (const [name, rows] of [...stored].sort(([a], [b]) => (a === "p0" ? -1 : b === "p0" ? 1 : 0))) {
      const host = new MemoryHost(w, name);
      host.storage.rows = new Map(rows);
      const service = new DirectoryService(host, config);
      let started!: () => void;
      const ready = new Promise<void>((done) => (started = done));
      host.service = Object.assign(Object.create(service) as DirectoryService, {
        request: async (request: Request) => {
          await ready;
          return service.request(request);
        },
        alarm: () => service.alarm(),
        reachable: () => service.reachable(),
      });
      w.rooms.set(`directory/${name}`, host);
      starts.push(async () => {
        await service.start();
        started();
      });
    }
    for (const start of starts) await start();
  };
  const call = (room: string, name: any, args: any) => w.parties().call("directory", room, name, args) as Promise<any>;
  const rows = () => new Map([...w.rooms].filter(([key]) => key.startsWith("directory/")).map(([key, host]) => [key.slice("directory/".length), new Map(host.storage.rows)]));
  const calls = () => w.calls;
  return { w, open, call, rows, parts, calls };
}

describe("directory parts grown from 4 to 16 in a memory world", () => {
  let webhookEvents: string[];
  beforeEach(() => {
    vi.useFakeTimers({ now: 10_000_000 });
    webhookEvents = [];
    vi.stubGlobal("fetch", async (_url: string, init: RequestInit) => {
      const payload = JSON.parse(String(init.body)) as WebhookPayload;
      if (payload.type === "user.events") for (const event of payload.data.events) webhookEvents.push(`${event.type}:${event.userId}`);
      return new Response("ok");
    });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  const USERS = Array.from({ length: 200 }, (_, i) => `user-${i}`);
  const online = USERS.filter((_, i) => i % 2 === 0);
  const offline = USERS.filter((_, i) => i % 2 === 1);
  const watched = USERS.filter((_, i) => i % 5 === 0);

  /** Reports through the world, one call per part, as a channel room would. */
  async function reportAll(d: ReturnType<typeof world>, channel: string, presence: PresenceReport[], over: Partial<DirectoryReport> = {}) {
    for (const [part, entries] of byPart(presence, (entry) => entry.userId, d.parts)) await d.call(part, "report", report(channel, entries, over));
  }

  async function statuses(d: ReturnType<typeof world>): Promise<Map<string, UserStatus>> {
    const answers = new Map<string, UserStatus>();
    for (const [part, ids] of byPart(USERS, (id) => id, d.parts)) for (const { status } of (await d.call(part, "status", { userIds: ids })).users) answers.set(status.id, status);
    return answers;
  }

  /** 100 users online in `c`, 100 offline with their lastSeen, 40 watched by room `w`: the rows of the 4 parts. */
  async function grownFrom4(channelCalls: ChannelCall[]) {
    const first = world(4, channelCalls);
    await reportAll(first, "c", USERS.map((id, i) => here(id, { i })));
    for (const [part, ids] of byPart(watched, (id) => id, 4)) await first.call(part, "report", report("w", [], { watch: ids }));
    await vi.advanceTimersByTimeAsync(1_000);
    await reportAll(first, "c", offline.map((id) => gone(id, Date.now())));
    await vi.advanceTimersByTimeAsync(5_000);
    const before = await statuses(first);
    expect([...before.values()].filter((s) => s.online)).toHaveLength(100);
    return { before, stored: first.rows() };
  }

  it("answers every user as before, moves each once with no transition and no double row, keeps watchers, and pushes", async () => {
    const channelCalls: ChannelCall[] = [];
    const { before, stored } = await grownFrom4(channelCalls);
    const eventsBefore = webhookEvents.length;
    expect(eventsBefore).toBe(100 + 100 * 2);
    const moving = USERS.filter((id) => partOf(id, 4) !== partOf(id, 16));
    expect(moving.length).toBeGreaterThan(100);

    channelCalls.length = 0;
    const second = world(16, channelCalls, stored);
    await second.open();
    // The restarted channel renews its users at their new parts: nobody flickers.
    await reportAll(second, "c", online.map((id) => here(id, { i: USERS.indexOf(id) })), { all: true });
    expect(Object.fromEntries(await statuses(second))).toEqual(Object.fromEntries(before));
    await vi.advanceTimersByTimeAsync(3_000);
    expect(Object.fromEntries(await statuses(second))).toEqual(Object.fromEntries(before));
    expect(webhookEvents.slice(eventsBefore)).toEqual([]);
    expect(channelCalls.filter((c) => c.call === "watched")).toEqual([]);

    // Every user is stored once, at its new part (the old parts drained what no call pulled).
    const placed = new Map<string, string[]>();
    for (const [part, rows] of second.rows()) for (const key of rows.keys()) if (key.startsWith("u:")) placed.set(key.slice(2), [...(placed.get(key.slice(2)) ?? []), part]);
    expect(Object.fromEntries(placed)).toEqual(Object.fromEntries(USERS.map((id) => [id, [partOf(id, 16)]])));

    // Watchers came along (room `w` sent nothing since), and a push finds its channels.
    const watchedMover = watched.find((id) => online.includes(id) && moving.includes(id))!;
    await reportAll(second, "c", [gone(watchedMover, Date.now())]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(channelCalls.filter((c) => c.call === "watched").flatMap((c) => c.args.users.map((u: any) => `${c.room}:${u.status.id}:${u.status.online}`))).toContain(`w:${watchedMover}:false`);
    expect(webhookEvents.slice(eventsBefore)).toEqual([`user.offline:${watchedMover}`]);
    const onlineMover = online.find((id) => moving.includes(id) && id !== watchedMover)!;
    const push = await second.call(partOf(onlineMover, 16), "push", { id: "push-1", userId: onlineMover, data: { hi: 1 }, deadline: Date.now() + 5_000, from: null });
    expect(push).toMatchObject({ clients: 1, acked: [{ channel: "c" }] });
  });

  it("loses nothing and keeps one copy when the move is cut off: a hand-over whose `handed` never came, drains that failed, new parts killed before their writes, then a restart", async () => {
    const channelCalls: ChannelCall[] = [];
    const { before, stored } = await grownFrom4(channelCalls);
    const eventsBefore = webhookEvents.length;
    // First run at 16: the old parts hand over on request but never hear `handed`, and every drain fails.
    const cut = world(16, channelCalls, stored, (name) => name === "handed" || name === "adopt");
    await cut.open();
    const pulled = await statuses(cut);
    expect(Object.fromEntries(pulled)).toEqual(Object.fromEntries(before));
    await vi.advanceTimersByTimeAsync(3_000);
    // Killed now: both copies of the pulled users are stored, the old one never counted.
    const both = cut.rows();
    const twice = USERS.filter((id) => [...both.values()].filter((rows) => rows.has(`u:${id}`)).length > 1);
    expect(twice.length).toBeGreaterThan(0);
    expect(webhookEvents.slice(eventsBefore)).toEqual([]);

    // Killed before the new parts' writes landed: the old parts still hold every user, and hand them over again.
    const oldOnly = new Map([...both].filter(([part]) => Number(part.slice(1)) < 4));
    const lost = world(16, channelCalls, oldOnly, (name) => name === "adopt");
    await lost.open();
    expect(Object.fromEntries(await statuses(lost))).toEqual(Object.fromEntries(before));
    expect(webhookEvents.slice(eventsBefore)).toEqual([]);

    const again = world(16, channelCalls, both);
    await again.open();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(Object.fromEntries(await statuses(again))).toEqual(Object.fromEntries(before));
    for (const id of USERS) expect([...again.rows()].filter(([, rows]) => rows.has(`u:${id}`)).map(([part]) => part)).toEqual([partOf(id, 16)]);
    expect(webhookEvents.slice(eventsBefore)).toEqual([]);
  });

  it("drains only when the parties can be reached (an alarm on PartyKit), without spinning its alarm meanwhile", async () => {
    const { stored } = await grownFrom4([]);
    const reach = { able: true };
    let failing = true;
    const oldOnly = new Map([...stored].filter(([part]) => part === "p1"));
    const d = world(16, [], oldOnly, (name) => failing && name === "adopt", reach);
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => {});
    await d.open();
    // A first drain fails (a retry is due), then the parties are out of reach (an alarm on PartyKit).
    await vi.advanceTimersByTimeAsync(100);
    expect(warnings).toHaveBeenCalledWith(expect.stringContaining("could not hand its moved users over yet"));
    warnings.mockRestore();
    failing = false;
    reach.able = false;
    d.w.calls.length = 0;
    const p1 = d.w.rooms.get("directory/p1")!;
    let rings = 0;
    const ring = p1.storage.ring;
    p1.storage.ring = () => {
      rings++;
      ring();
    };
    await vi.advanceTimersByTimeAsync(10_000);
    expect(d.calls().filter((c) => c.call === "adopt")).toEqual([]);
    expect(rings).toBeLessThan(5);
    const moving = [...p1.storage.rows.keys()].filter((key) => key.startsWith("u:")).length;
    expect(moving).toBeGreaterThan(0);

    reach.able = true;
    p1.service.reachable();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(d.calls().filter((c) => c.call === "adopt").length).toBeGreaterThan(0);
    const left = [...p1.storage.rows.keys()].filter((key) => key.startsWith("u:")).map((key) => key.slice(2));
    expect(left.every((id) => partOf(id, 16) === "p1")).toBe(true);
  });

  it("takes a renewal of more users than one call may name (1,000) from one old part, asking in slices", async () => {
    const many = Array.from({ length: 2_600 }, (_, i) => `crowd-${i}`);
    const one = world(1, []);
    await one.call("p0", "report", report("big", many.map((id) => here(id))));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(webhookEvents.length).toBe(many.length);
    const two = world(2, [], one.rows());
    await two.open();
    const moved = many.filter((id) => partOf(id, 2) === "p1");
    expect(moved.length).toBeGreaterThan(1_000);
    await two.call("p1", "report", report("big", moved.map((id) => here(id)), { all: true }));
    const answered = await two.call("p1", "status", { userIds: moved.slice(0, 1_000) });
    expect(answered.users.every((entry: { status: UserStatus }) => entry.status.online)).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(webhookEvents.filter((event) => event.startsWith("user.online")).length).toBe(many.length);
  });

  it("refuses every call when started with fewer parts than it ran with, naming both counts", async () => {
    const { stored } = await grownFrom4([]);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const smaller = world(2, [], stored);
    await smaller.open();
    await expect(smaller.call("p0", "status", { userIds: ["user-0"] })).rejects.toThrow(/ran with PRESENCE_DIRECTORY_PARTS=4 and was started with 2/);
    expect(errors).toHaveBeenCalledWith(expect.stringContaining("ran with PRESENCE_DIRECTORY_PARTS=4 and was started with 2"));
    errors.mockRestore();
  });

  it("finds users stored before jump hashing at their `% parts` place", async () => {
    const channelCalls: ChannelCall[] = [];
    const legacy = new Map<string, Map<string, unknown>>();
    for (const id of USERS) {
      const part = partOf(id, { parts: 4, hash: "mod" });
      const row: StoredUser = { id, data: { id }, online: false, since: Date.now() - 1_000, lastSeen: Date.now() - 2_000, offlineAt: null, channels: {}, version: 5 };
      if (!legacy.has(part)) legacy.set(part, new Map());
      legacy.get(part)!.set(`u:${id}`, row);
    }
    const upgraded = world(4, channelCalls, legacy);
    await upgraded.open();
    const answers = await statuses(upgraded);
    for (const id of USERS) expect(answers.get(id)).toEqual({ id, online: false, since: Date.now() - 1_000, lastSeen: Date.now() - 2_000, data: { id }, channels: [] });
  });
});
