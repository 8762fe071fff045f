/** The channel party on PartyKit (partykit.json `main`): one room per channel, and the worker's own routes. */
import { ChannelService } from "../../channel/service.ts";
import type { SocketState } from "../../channel/sockets.ts";
import { CHANNEL_PARTY } from "../../wire/parties.ts";
import { partykitFetch, partykitParty } from "./server.ts";

export default Object.assign(
  partykitParty<SocketState>(CHANNEL_PARTY, (host, config) => new ChannelService(host, config)),
  { onFetch: partykitFetch },
);
