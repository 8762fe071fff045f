// One of the user's devices: it shows each notice, and acknowledges it by returning from the handler.
import { PresenceClient } from "partykit-presence/client";

const params = new URLSearchParams(location.search);
const userId = params.get("user") ?? "jack";
const clientType = params.get("type") ?? "web";

const presence = new PresenceClient({ host: process.env.PRESENCE_HOST, channel: params.get("channel") ?? "shop", userId, clientType });

presence.on("push", (notice) => {
  // Throwing answers with a negative acknowledgement: the sender sees it as "rejected".
  if (document.querySelector("#dnd").checked) throw new Error("do not disturb");
  const item = document.createElement("li");
  item.textContent = notice.text;
  document.querySelector("#notices").append(item);
});

await presence.ready();
const me = document.querySelector("#me");
me.textContent = `${userId} on ${clientType}`;
me.dataset.online = "true";
