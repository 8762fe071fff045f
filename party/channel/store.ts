/**
 * The channel's storage layout, and what a restart reads back: one row per member
 * (`m:USERID`), per HTTP client (`h:CLIENTID`), per shard's client a coordinator holds
 * (`s:CONNECTIONID`), per watching socket (`w:CONNECTIONID`), per
 * remembered push (`x:ID`), per kept presence event (`hist:NUMBER`), the webhook outbox
 * (`wq:`, `wd:`, `wgone`), and one meta row (its sequence number, mode, starts, counters and
 * the history's range). The core writes rows as `write` effects; `loadChannel` is the one read
 * (two lists: the HTTP clients, and one range for all the rest but the history).
 */
import type { HostStorage } from "../server/host.ts";
import type { WebhookSettings } from "../server/config.ts";
import { type LoggedPush } from "../server/pushes.ts";
import { deleteAll } from "../server/storage.ts";
import { outboxFromRows, type StoredOutbox } from "../server/webhooks.ts";
import { type ChannelMode, type HistoryEvent, isUserId, quotedId } from "../protocol/index.ts";
import { type HistoryRange, type HistoryWrite, historyKey } from "./history.ts";
import { HTTP_CLIENT_PREFIX, type HttpClientRow } from "./http-client-rows.ts";
import type { StoredMember } from "./presence.ts";
import { SHARD_CLIENT_PREFIX, type ShardClientRow } from "./shard-clients.ts";
import { PUSH_LOG_PREFIX } from "./pushes.ts";
import type { IndexMemory } from "./index-reporter.ts";
import type { Counters } from "./stats.ts";
import { WATCH_PREFIX } from "./watching.ts";

const MEMBER_PREFIX = "m:";
const META_KEY = "meta";
/**
 * The range one read at a start covers: from the members (`m:`) to the push log (`x:`), so the
 * meta row, the shards' clients (`s:`), the watch lists (`w:`) and the webhook outbox (`wq:`,
 * `wd:`, `wgone`) too; the
 * HTTP clients (`h:`) and the history (`hist:`) sort before it. A new prefix must fall inside
 * it, or be read apart (test/unit/channel-store.test.ts checks every prefix).
 */
export const ROWS_START = MEMBER_PREFIX;
export const ROWS_END = "x;";

/** The meta row. */
export type Meta = { seq: number; mode?: ChannelMode; starts?: number; stats?: Counters; history?: HistoryRange; index?: IndexMemory };

/** Everything a channel rebuilds itself from. */
export type StoredChannel = {
  meta: Meta | undefined;
  members: StoredMember[];
  httpClients: HttpClientRow[];
  /** A coordinator's shards' live clients. */
  shardClients: ShardClientRow[];
  /** Watch lists by connection id. */
  watches: Map<string, string[]>;
  pushLog: Map<string, LoggedPush>;
  webhooks: StoredOutbox | null;
  /** The times of the oldest and newest kept events (two rows, not the history). */
  historyEnds: { oldestAt?: number | undefined; lastAt?: number | undefined };
};

/**
 * Reads a channel's rows. Rows an older version stored under a userId the userId rule now
 * refuses are deleted (and named in a warning): one such id would fail every check that names it.
 */
export async function loadChannel(storage: HostStorage, webhooks: WebhookSettings | null): Promise<StoredChannel> {
  const [clientRows, rows] = await Promise.all([
    storage.list<HttpClientRow>({ prefix: HTTP_CLIENT_PREFIX }),
    // Every other row a restart needs, in one read: members, meta, watch lists, the webhook outbox, the push log (ROWS_START..ROWS_END holds them all, and not the history).
    storage.list<unknown>({ prefix: "", start: ROWS_START, end: ROWS_END }),
  ]);
  const meta = rows.get(META_KEY) as Meta | undefined;
  const members: StoredMember[] = [];
  const watchRows = new Map<string, string[]>();
  const pushRows = new Map<string, LoggedPush>();
  const shardClients: ShardClientRow[] = [];
  for (const [key, value] of rows) {
    if (key.startsWith(MEMBER_PREFIX)) members.push(value as StoredMember);
    else if (key.startsWith(SHARD_CLIENT_PREFIX)) shardClients.push(value as ShardClientRow);
    else if (key.startsWith(WATCH_PREFIX)) watchRows.set(key, value as string[]);
    else if (key.startsWith(PUSH_LOG_PREFIX)) pushRows.set(key, value as LoggedPush);
  }
  const outbox = outboxFromRows(rows, webhooks);
  const httpClients = [...clientRows.values()];
  const refused = [
    ...members.filter((member) => !isUserId(member.id)).map((member) => ({ key: MEMBER_PREFIX + member.id, id: member.id })),
    ...httpClients.filter((row) => !isUserId(row.userId)).map((row) => ({ key: HTTP_CLIENT_PREFIX + row.clientId, id: row.userId })),
  ];
  if (refused.length > 0) {
    console.warn(`presence: dropped ${refused.length} stored row(s) whose userId the userId rule refuses: ${refused.map((row) => quotedId(row.id)).join(", ")}`);
    await deleteAll(storage, refused.map((row) => row.key));
  }
  const range = meta?.history;
  const readTime = async (n: number) => (await storage.get<HistoryEvent>(historyKey(n)))?.at;
  const historyEnds = range && range.next > range.first ? { oldestAt: await readTime(range.first), lastAt: await readTime(range.next - 1) } : {};
  return {
    meta,
    members: members.filter((member) => isUserId(member.id)),
    httpClients: httpClients.filter((row) => isUserId(row.userId)),
    shardClients: shardClients.filter((row) => isUserId(row.userId)),
    // Ids stored before the userId rule are left out (no status could be asked or sent for them).
    watches: new Map([...watchRows].map(([key, userIds]) => [key.slice(WATCH_PREFIX.length), userIds.filter(isUserId)])),
    pushLog: new Map([...pushRows].map(([key, entry]) => [key.slice(PUSH_LOG_PREFIX.length), entry])),
    webhooks: outbox,
    historyEnds,
  };
}

/** A tick's rows: changed members with the tick's history rows, and the keys of removed members and dropped events. */
export function memberRows(upserts: readonly StoredMember[], deletes: readonly string[], history: HistoryWrite): { put: Array<readonly [string, unknown]>; delete: string[] } {
  return {
    put: [...upserts.map((member) => [MEMBER_PREFIX + member.id, member] as const), ...history.rows],
    delete: [...deletes.map((id) => MEMBER_PREFIX + id), ...history.drops],
  };
}

/** The meta row, to write. */
export function metaRow(meta: Meta): readonly [string, Meta] {
  return [META_KEY, meta];
}
