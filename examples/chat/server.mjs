/**
 * The chat example's app server: serves the page, keeps the last messages of each room, and
 * delivers a new message to everyone online in the room by a push (the presence service knows
 * who is there, so the chat needs no socket server of its own).
 */
import { randomUUID } from "node:crypto";
import { bundlePage, page, readJson, sendJson, serve } from "../kit.mjs";
import { createPresenceApi } from "../partykit-presence.mjs"; // in your app: from "partykit-presence/server"

/** What the presence service needs for this example: a key for this app server's pushes. */
export const serviceVars = { PRESENCE_SERVER_KEY: "chat-example-server-key-0123456789" };

/** How many messages a room keeps for people who join later. */
const KEPT = 50;

export async function start({ presenceHost, port }) {
  const api = createPresenceApi({ host: presenceHost, serverKey: serviceVars.PRESENCE_SERVER_KEY });
  /** room → its last messages, oldest first. */
  const rooms = new Map();

  return serve(port, {
    "GET /": page({ title: "Chat", body: '    <div id="app"></div>', style: CSS }),
    "GET /app.js": await bundlePage(new URL("app.jsx", import.meta.url).pathname, { presenceHost }),

    "GET /messages": (request, response, url) => sendJson(response, 200, rooms.get(url.searchParams.get("room")) ?? []),

    "POST /messages": async (request, response) => {
      const { room, from, text } = await readJson(request);
      if (typeof room !== "string" || typeof from !== "string" || typeof text !== "string" || !text.trim()) {
        return sendJson(response, 400, { error: "room, from and text are required" });
      }
      const message = { id: randomUUID(), from, text: text.slice(0, 500), at: Date.now() };
      rooms.set(room, [...(rooms.get(room) ?? []), message].slice(-KEPT));
      sendJson(response, 202, message);
      // Everyone online in the room, once per user, gets it on each of their clients there.
      const here = await api.hereNow({ channels: [room], includeUsers: true, distinct: true });
      const users = here.content.channels[room]?.users ?? [];
      await Promise.allSettled(users.map((user) => api.push(user.id, { kind: "message", message }, { channel: room, id: `${message.id}:${user.id}` })));
    },
  });
}

const CSS = `
  .layout { display: grid; grid-template-columns: 1fr 240px; gap: 24px; }
  #log { list-style: none; padding: 0; margin: 0; min-height: 260px; border: 1px solid #d8dce5; border-radius: 6px; padding: 8px 12px; }
  #log li { padding: 2px 0; } #log li.event { color: #6b7385; font-size: 13px; }
  #members { list-style: none; padding: 0; margin: 0; } #members li { padding: 3px 0; }
  form.send { display: flex; gap: 8px; margin-top: 8px; } form.send input { flex: 1; }
`;
