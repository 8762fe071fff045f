/** The channel index's party on PartyKit (partykit.json `parties.index`). */
import { IndexService } from "../../index/service.ts";
import { INDEX_PARTY } from "../../wire/parties.ts";
import { partykitParty } from "./server.ts";

export default partykitParty(INDEX_PARTY, (host, config) => new IndexService(host, config));
