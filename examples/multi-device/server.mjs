/**
 * The multi-device example's app server (seed 004): one user on web, app and pc at once. The
 * sender page sends a notice to the user through this server, which pushes it to every client of
 * the user with `api.push` and answers which of them acknowledged it.
 */
import { bundlePage, page, readJson, sendJson, serve } from "../kit.mjs";
import { createPresenceApi } from "../partykit-presence.mjs"; // in your app: from "partykit-presence/server"

/** What the presence service needs for this example: a key for this server's pushes. */
export const serviceVars = { PRESENCE_SERVER_KEY: "multi-device-example-server-key-0123456789" };

export async function start({ presenceHost, port }) {
  const api = createPresenceApi({ host: presenceHost, serverKey: serviceVars.PRESENCE_SERVER_KEY });
  let sent = 0;

  return serve(port, {
    "GET /": page({ title: "One user, many devices", body: SENDER_HTML, style: CSS }),
    "GET /app.js": await bundlePage(new URL("sender.js", import.meta.url).pathname, { presenceHost }),
    "GET /client": page({ title: "A device", body: CLIENT_HTML, style: CSS, script: "/client.js" }),
    "GET /client.js": await bundlePage(new URL("client.js", import.meta.url).pathname, { presenceHost }),

    "POST /notices": async (request, response) => {
      const { userId, text } = await readJson(request);
      if (typeof userId !== "string" || typeof text !== "string" || !text.trim()) return sendJson(response, 400, { error: "userId and text are required" });
      // Every live client of the user, in every channel; the answer says which acknowledged within 5 s.
      const result = await api.push(userId, { text, sentAt: Date.now() }, { id: `notice-${++sent}-${Date.now()}`, timeoutMs: 5000 });
      sendJson(response, 200, result);
    },
  });
}

const SENDER_HTML = `    <h1>Send a notice to <span id="user"></span></h1>
    <p id="devices" class="muted">…</p>
    <form id="send"><input name="text" value="Your order has shipped" size="40"> <button>Send to every device</button></form>
    <table id="acks"></table>
    <h2>The user's devices (each frame is its own client)</h2>
    <div id="frames"></div>`;

const CLIENT_HTML = `    <h1 id="me">Connecting…</h1>
    <label><input type="checkbox" id="dnd"> Do not disturb (refuse notices)</label>
    <ul id="notices"></ul>`;

const CSS = `
  #frames { display: flex; gap: 12px; }
  #frames iframe { flex: 1; height: 190px; border: 1px solid #d8dce5; border-radius: 6px; }
  #acks { border-collapse: collapse; margin-top: 12px; } #acks td { padding: 3px 12px 3px 0; }
  .acked { color: #137a3a; } .unacked { color: #b3261e; }
  #notices { padding-left: 18px; }
`;
