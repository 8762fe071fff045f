/**
 * Which service a room of the `index` party runs, by its name: `all` is the root (service.ts:
 * the dashboards' list and the stored bans); `s0`…`s{PRESENCE_INDEX_SHARDS-1}` are the shards
 * (shard.ts: the channels hashed to them); `bans-0`…`bans-{PRESENCE_BAN_REPLICAS-1}` the ban
 * replicas (ban-replica.ts); any other name is no room of the index and answers 404 with why.
 * The name is read when the room starts (an engine may not know it before). (The edge lets no
 * outside request or socket reach any but `all`'s dashboards: edge/before.ts.)
 */
import type { Config } from "../server/config.ts";
import type { Host, RoomService } from "../server/host.ts";
import { ChosenAtStart, NoSuchRoom } from "../server/room.ts";
import { banReplicaNumber, INDEX_PARTY, INDEX_ROOM } from "../wire/parties.ts";
import { BanReplica } from "./ban-replica.ts";
import { IndexService } from "./service.ts";
import { IndexShard } from "./shard.ts";

/** What a room name of the index party is: the root, a shard, a ban replica, or neither (with why). */
export type IndexRoomKind = { kind: "root" } | { kind: "shard" } | { kind: "replica" } | { kind: "unknown"; message: string };

/** What the room `name` of the index party is with `shards` shards and `replicas` ban replicas. */
export function indexRoomKind(name: string, shards: number, replicas = 0): IndexRoomKind {
  if (name === INDEX_ROOM) return { kind: "root" };
  const shard = /^s(0|[1-9]\d{0,3})$/.exec(name);
  if (shard && Number(shard[1]) < shards) return { kind: "shard" };
  const replica = banReplicaNumber(name);
  if (replica !== null && replica < replicas) return { kind: "replica" };
  const banRooms = replicas > 0 ? ` and the ban replicas bans-0…bans-${replicas - 1} (PRESENCE_BAN_REPLICAS=${replicas})` : "";
  return {
    kind: "unknown",
    message: `${INDEX_PARTY}/${name} is no room of the index: it has ${INDEX_ROOM}, the shards s0…s${shards - 1} (PRESENCE_INDEX_SHARDS=${shards})${banRooms}`,
  };
}

/** The service of an index room, chosen by its name when it starts. */
export function indexRoom(host: Host<unknown>, config: Config): RoomService<unknown> {
  return new ChosenAtStart(() => {
    const kind = indexRoomKind(host.name, config.indexShards, config.banReplicas);
    switch (kind.kind) {
      case "root":
        return new IndexService(host, config);
      case "shard":
        return new IndexShard(host, config);
      case "replica":
        return new BanReplica(host);
      case "unknown":
        return new NoSuchRoom(kind.message);
    }
  });
}
