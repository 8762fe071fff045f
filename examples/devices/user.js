// A person's page: joining is all it takes; the client's heartbeats keep it online while the tab is open.
import { PresenceClient } from "partykit-presence/client";

const params = new URLSearchParams(location.search);
const userId = params.get("id") ?? "visitor";
const presence = new PresenceClient({ host: process.env.PRESENCE_HOST, channel: params.get("channel") ?? "factory", userId, clientType: "web" });
await presence.ready();
document.querySelector("#me").textContent = `${userId} is online`;
