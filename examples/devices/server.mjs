/**
 * The devices example's app server: the admin page, a page for a person (a browser that keeps
 * itself online with the client's built-in heartbeats), and the device simulator, one per channel
 * the admin page watches, with routes to power its machines off and on.
 */
import { bundlePage, page, readJson, sendJson, serve } from "../kit.mjs";
import { createPresenceApi } from "../partykit-presence.mjs"; // in your app: from "partykit-presence/server"
import { simulate } from "./simulator.mjs";

/** What the presence service needs for this example: a key for the simulator's heartbeats. */
export const serviceVars = { PRESENCE_SERVER_KEY: "devices-example-server-key-0123456789" };

export async function start({ presenceHost, port }) {
  const api = createPresenceApi({ host: presenceHost, serverKey: serviceVars.PRESENCE_SERVER_KEY });
  /** channel → its simulator. */
  const simulators = new Map();
  const simulator = async (channel) => {
    if (!simulators.has(channel)) simulators.set(channel, simulate(api, channel));
    const running = simulators.get(channel);
    await running.ready;
    return running;
  };

  const app = await serve(port, {
    "GET /": page({ title: "Devices", body: ADMIN_HTML, style: CSS }),
    "GET /app.js": await bundlePage(new URL("admin.js", import.meta.url).pathname, { presenceHost }),
    "GET /user": page({ title: "A user", body: USER_HTML, script: "/user.js" }),
    "GET /user.js": await bundlePage(new URL("user.js", import.meta.url).pathname, { presenceHost }),

    "GET /machines": async (request, response, url) => {
      const channel = url.searchParams.get("channel");
      if (!channel) return sendJson(response, 400, { error: "channel is required" });
      sendJson(response, 200, (await simulator(channel)).list());
    },
    "POST /power": async (request, response) => {
      const { channel, id, on } = await readJson(request);
      const found = simulators.has(channel) && (await simulators.get(channel).power(id, on === true));
      sendJson(response, found ? 200 : 404, found ? simulators.get(channel).list() : { error: "no such machine" });
    },
  });
  return {
    url: app.url,
    async close() {
      for (const running of simulators.values()) running.stop();
      await app.close();
    },
  };
}

const ADMIN_HTML = `    <h1>Who is online in <span id="channel"></span></h1>
    <p id="counts" class="muted"></p>
    <table>
      <thead><tr><th>member</th><th>client</th><th>status</th><th>since / last seen</th><th>data</th><th></th></tr></thead>
      <tbody id="members"></tbody>
    </table>
    <p class="muted">Machines report every 5 s and count as offline 15 s after their last report.
      People are browsers: <a id="user-link" target="_blank">open one</a>.</p>`;

const USER_HTML = `    <h1 id="me">Connecting…</h1>
    <p class="muted">This page stays online while it is open: the client pings the service by itself.</p>`;

const CSS = `
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e3e6ec; }
  th { font-size: 13px; color: #6b7385; font-weight: 600; }
  td.data { font-family: ui-monospace, monospace; font-size: 12px; color: #4a5468; }
`;
