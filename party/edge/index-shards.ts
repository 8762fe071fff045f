/**
 * The edge's reads of the channel index across its shards (`GET /channels`, `GET /metrics`):
 * one call to every shard (PRESENCE_INDEX_SHARDS of them, `index/s0`…) at once, merged here.
 * The merge is exact: a shard holds each of its channels once, so the lists are merged by
 * name (a channel that moved when PRESENCE_INDEX_SHARDS changed, still held by its old shard
 * until that lease lapses, counts once, as its latest report), and the metrics add up (each
 * shard's counters, those it retired included, never decrease; the root adds what the single
 * index of earlier versions had retired). Any shard failing fails the read (502): a partial
 * list or total would look exact and not be.
 */
import type { Parties } from "../server/calls.ts";
import { addCounters } from "../server/counters.ts";
import { or502 } from "../server/envelope.ts";
import { indexShards } from "../server/parts.ts";
import type { ChannelEntry, ChannelList, ChannelListQuery, MetricsTotals } from "../protocol/index.ts";
import { byMembers } from "../wire/channel-order.ts";
import { INDEX_PARTY, INDEX_ROOM } from "../wire/parties.ts";

/** `GET /channels`: every shard's matches, merged, most members first, at most `limit`. */
export async function listChannels(parties: Parties, shards: number, query: ChannelListQuery): Promise<ChannelList> {
  const lists = await or502("the channel index failed", Promise.all(indexShards(shards).map((shard) => parties.call(INDEX_PARTY, shard, "list", query))));
  return mergeLists(lists, query.limit);
}

/** `GET /metrics`: the totals of every shard and the root, added up. */
export async function indexTotals(parties: Parties, shards: number): Promise<MetricsTotals> {
  const rooms = [INDEX_ROOM, ...indexShards(shards)];
  const totals = await or502("the channel index failed", Promise.all(rooms.map((room) => parties.call(INDEX_PARTY, room, "metrics", {}))));
  return totals.reduce(addTotals);
}

/** Shards' lists merged: each channel once (its latest report); `total` less the channels two shards both listed. */
export function mergeLists(lists: readonly ChannelList[], limit: number): ChannelList {
  const merged = new Map<string, ChannelEntry>();
  let total = 0;
  for (const list of lists) {
    total += list.total;
    for (const entry of list.channels) {
      const other = merged.get(entry.channel);
      if (other) total--;
      if (!other || other.updatedAt < entry.updatedAt) merged.set(entry.channel, entry);
    }
  }
  return { total, channels: [...merged.values()].sort(byMembers).slice(0, limit) };
}

/** Two shards' totals added up. */
export function addTotals(a: MetricsTotals, b: MetricsTotals): MetricsTotals {
  return {
    channels: a.channels + b.channels,
    clientAmount: a.clientAmount + b.clientAmount,
    userAmount: a.userAmount + b.userAmount,
    httpClients: a.httpClients + b.httpClients,
    members: { full: a.members.full + b.members.full, interval: a.members.interval + b.members.interval },
    counters: addCounters(a.counters, b.counters),
  };
}
