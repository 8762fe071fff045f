/** The channel index's party on PartyKit (partykit.json `parties.index`): the root `all`, the shards `s0`… and the ban replicas `bans-N`, each room's service by its name (index/rooms.ts). */
import { indexRoom } from "../../index/rooms.ts";
import { INDEX_PARTY } from "../../wire/parties.ts";
import { partykitParty } from "./server.ts";

export default partykitParty(INDEX_PARTY, indexRoom);
