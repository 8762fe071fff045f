/**
 * The reply-notice example's app server (seed 003): it owns the comments, mints each visitor a
 * signed presence token, and when someone replies to a comment it pushes a notice to the
 * comment's author, on whatever pages they have open, and records whether they read it.
 */
import { randomUUID } from "node:crypto";
import { bundlePage, page, readJson, sendJson, serve } from "../kit.mjs";
// In your app: from "partykit-presence/server".
import { createPresenceApi, createPresenceToken } from "../partykit-presence.mjs";

/** What the presence service needs: tokens signed with this secret, and a key for this server's pushes. */
export const serviceVars = {
  PRESENCE_AUTH_SECRET: "reply-notice-example-secret-0123456789abcdef",
  PRESENCE_SERVER_KEY: "reply-notice-example-server-key-0123456789",
};

/** How long a notice waits for its reader to press "Got it". */
const READ_WITHIN_MS = 30_000;

export async function start({ presenceHost, port }) {
  const api = createPresenceApi({ host: presenceHost, serverKey: serviceVars.PRESENCE_SERVER_KEY });
  /** thread → its comments; each thread starts with one comment by bob. */
  const threads = new Map();
  const thread = (name) => {
    if (!threads.has(name)) threads.set(name, [{ id: "c1", author: "bob", text: "Does a page reload show me offline to the others?", replies: [] }]);
    return threads.get(name);
  };

  return serve(port, {
    "GET /": page({ title: "Comments", body: HTML, style: CSS }),
    "GET /app.js": await bundlePage(new URL("app.js", import.meta.url).pathname, { presenceHost }),

    // A real app takes the user from its session; this one trusts ?user= (as the seed's ?uid= does).
    "GET /token": async (request, response, url) => {
      const user = url.searchParams.get("user");
      const name = url.searchParams.get("thread");
      if (!user || !name) return sendJson(response, 400, { error: "user and thread are required" });
      const token = await createPresenceToken({ userId: user, data: { name: user }, channels: [name], ttlSeconds: 600 }, serviceVars.PRESENCE_AUTH_SECRET);
      sendJson(response, 200, { token });
    },

    "GET /comments": (request, response, url) => sendJson(response, 200, thread(url.searchParams.get("thread") ?? "")),

    "POST /replies": async (request, response) => {
      const { thread: name, commentId, from, text } = await readJson(request);
      const comment = thread(name).find((c) => c.id === commentId);
      if (!comment || typeof from !== "string" || typeof text !== "string" || !text.trim()) return sendJson(response, 400, { error: "bad reply" });
      const reply = { id: randomUUID(), from, text: text.slice(0, 500), delivery: "sending" };
      comment.replies.push(reply);
      // The notice reaches every live page of the author; each acknowledges it when its reader presses "Got it".
      const notice = { kind: "reply", thread: name, commentId, from, text: reply.text };
      const result = await api.push(comment.author, notice, { id: reply.id, timeoutMs: READ_WITHIN_MS });
      reply.delivery = result.clients === 0 ? "offline" : result.acked.length > 0 ? "read" : "unread";
      console.log(`reply ${reply.id} to ${comment.author}: ${result.acked.length} of ${result.clients} client(s) acknowledged`);
      sendJson(response, 200, { reply, result });
    },
  });
}

const HTML = `    <h1>Comments <span id="me" class="muted"></span></h1>
    <div id="notice" hidden></div>
    <ul id="comments"></ul>
    <p id="here" class="muted"></p>`;

const CSS = `
  #comments { list-style: none; padding: 0; }
  #comments > li { border: 1px solid #d8dce5; border-radius: 6px; padding: 10px 14px; margin-bottom: 10px; }
  .replies { list-style: none; padding-left: 18px; margin: 8px 0; } .replies li { padding: 2px 0; }
  .delivery { font-size: 13px; margin-left: 6px; } [data-delivery=read] .delivery { color: #137a3a; }
  form.reply { display: flex; gap: 8px; } form.reply input { flex: 1; }
  #notice { background: #fff6d6; border: 1px solid #e6c65c; border-radius: 6px; padding: 10px 14px; margin-bottom: 14px; }
`;
