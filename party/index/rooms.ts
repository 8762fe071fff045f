/**
 * Which service a room of the index party runs, by the room's name: `all` is the root (the
 * channel index and the stored bans); `bans-N`, N below PRESENCE_BAN_REPLICAS, a ban replica;
 * any other name is no room of the index and answers 404 with why. (The edge lets no outside
 * request or socket reach any but `all`'s dashboards: edge/before.ts.)
 */
import type { Config } from "../server/config.ts";
import type { Host, RoomService } from "../server/host.ts";
import { ChosenAtStart, NoSuchRoom } from "../server/room.ts";
import { banReplicaNumber, INDEX_PARTY, INDEX_ROOM } from "../wire/parties.ts";
import { BanReplica } from "./ban-replica.ts";
import { IndexService } from "./service.ts";

/** The service of an index room, chosen by its name when it starts (the name may be known only then). */
export function indexRoom(host: Host<unknown>, config: Config): RoomService<unknown> {
  return new ChosenAtStart(() => indexRoomNamed(host, config));
}

/** The service of the index room `host.name`. */
function indexRoomNamed(host: Host<unknown>, config: Config): RoomService<unknown> {
  const name = host.name;
  if (name === INDEX_ROOM) return new IndexService(host, config);
  const replica = banReplicaNumber(name);
  if (replica !== null && replica < config.banReplicas) return new BanReplica(host);
  return new NoSuchRoom(
    `${INDEX_PARTY}/${name} is no room of the index: it has ${INDEX_PARTY}/${INDEX_ROOM} and the ban replicas bans-0…bans-${config.banReplicas - 1} (PRESENCE_BAN_REPLICAS=${config.banReplicas})`,
  );
}
