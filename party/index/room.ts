/**
 * The channel index: one room (`/parties/index/all`) that every channel room reports its
 * counts to, and that dashboards watch over a socket (admin token) or read through
 * `GET /channels` (server key). Entries are leases: a room that dies without a word drops
 * out when its lease lapses, on this room's alarm.
 */
import type * as Party from "partykit/server";
import { z } from "zod";
import { adminSocketRefusal } from "../edge/admin.ts";
import { type Config, readConfig } from "../shared/config.ts";
import { fail, ok } from "../shared/envelope.ts";
import { type ChannelsMessage, IndexReport } from "../shared/protocol.ts";
import { ChannelTable, type HeldEntry, type TableChanges } from "./table.ts";

/** How long changes gather before dashboards hear of them. */
const BROADCAST_MS = 200;
const PREFIX = "c:";

const ListQuery = z.object({
  q: z.string().max(128).default(""),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

export default class IndexRoom implements Party.Server {
  /** Dashboards connect with an admin token (or freely in development). */
  static async onBeforeConnect(request: Party.Request, lobby: Party.Lobby): Promise<Response | Party.Request> {
    const settings = readConfig(lobby.env);
    if (!settings.ok) return fail(500, "misconfigured", settings.message);
    const refusal = await adminSocketRefusal(new URL(request.url).searchParams, settings.config);
    return refusal ? fail(refusal.status, refusal.status === 401 ? "unauthorized" : "forbidden", refusal.message) : request;
  }

  /** Not for outside requests: the index is read through GET /channels. */
  static onBeforeRequest() {
    return fail(404, "not_found", "the channel index is internal; see GET /channels");
  }

  readonly options: Party.ServerOptions = { hibernate: true };
  readonly #table = new ChannelTable();
  readonly #config: Config | null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #alarmAt: number | null = null;

  constructor(readonly room: Party.Room) {
    const settings = readConfig(room.env);
    this.#config = settings.ok ? settings.config : null;
  }

  onStart() {
    return this.room.blockConcurrencyWhile(async () => {
      const stored = await this.room.storage.list<HeldEntry>({ prefix: PREFIX });
      this.#table.restore(stored.values());
      this.#alarmAt = await this.room.storage.getAlarm();
      await this.#expire(Date.now());
      this.#table.take();
    });
  }

  onConnect(socket: Party.Connection) {
    socket.send(JSON.stringify({ type: "channels", full: true, channels: this.#table.all(), removed: [] } satisfies ChannelsMessage));
  }

  async onRequest(request: Party.Request): Promise<Response> {
    if (!this.#config) return fail(500, "misconfigured", "the service's settings are invalid");
    const now = Date.now();
    await this.#expire(now);
    if (request.method === "POST") {
      const report = IndexReport.safeParse(await request.json().catch(() => null));
      if (!report.success) return fail(400, "bad_request", z.prettifyError(report.error));
      const held = this.#table.apply(report.data, now, this.#config.leaseMs);
      const key = PREFIX + report.data.entry.channel;
      if (held === null) await this.room.storage.delete(key);
      else if (held !== undefined) await this.room.storage.put(key, held);
      await this.#armAlarm();
      this.#scheduleBroadcast();
      return ok({});
    }
    const query = ListQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams));
    if (!query.success) return fail(400, "bad_request", z.prettifyError(query.error));
    return ok(this.#table.list(query.data.q, query.data.limit));
  }

  async onAlarm() {
    this.#alarmAt = null;
    await this.#expire(Date.now());
    this.#broadcast();
  }

  /** Drops lapsed leases from the table and storage, and sets the alarm for the next. */
  async #expire(now: number): Promise<void> {
    const gone = this.#table.expire(now);
    if (gone.length > 0) await this.room.storage.delete(gone.map((name) => PREFIX + name));
    await this.#armAlarm();
  }

  async #armAlarm(): Promise<void> {
    const next = this.#table.nextExpiry();
    if (next === null || (this.#alarmAt !== null && this.#alarmAt <= next && this.#alarmAt > Date.now())) return;
    this.#alarmAt = next;
    await this.room.storage.setAlarm(next);
  }

  #scheduleBroadcast(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#broadcast();
    }, BROADCAST_MS);
  }

  #broadcast(): void {
    const changes: TableChanges | null = this.#table.take();
    if (!changes) return;
    this.room.broadcast(JSON.stringify({ type: "channels", full: false, ...changes } satisfies ChannelsMessage));
  }
}
