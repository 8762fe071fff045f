/** The channel index's party on PartyKit (partykit.json `parties.index`): the root `all` and the shards `s0`…, by room name. */
import { indexRoom } from "../../index/rooms.ts";
import { INDEX_PARTY } from "../../wire/parties.ts";
import { partykitParty } from "./server.ts";

export default partykitParty(INDEX_PARTY, (host, config) => indexRoom(host, config));
