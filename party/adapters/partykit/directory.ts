/** The user directory's party on PartyKit (partykit.json `parties.directory`). */
import { DirectoryService } from "../../directory/service.ts";
import { DIRECTORY_PARTY } from "../../wire/parties.ts";
import { partykitParty } from "./server.ts";

export default partykitParty(DIRECTORY_PARTY, (host, config) => new DirectoryService(host, config));
