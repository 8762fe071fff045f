/**
 * The operator dashboard at `/dashboard/`: asks for the server key (or an admin token) unless
 * the service is open, then shows the active channels, one channel live and one user. The
 * selection lives in the URL hash: `#channel=NAME&user=ID`.
 */
import { byId, replace } from "./dom.ts";
import { ChannelsView } from "./channels-view.ts";
import { ChannelView } from "./channel-view.ts";
import { adminInfo, exchange, forgetCredential, Session, storeCredential, storedCredential } from "./session.ts";
import { UserView } from "./user-view.ts";

/** Reads `#channel=…&user=…`. */
function selection(): { channel: string | null; user: string | null } {
  const params = new URLSearchParams(location.hash.slice(1));
  return { channel: params.get("channel") || null, user: params.get("user") || null };
}

function select(change: { channel?: string | null; user?: string | null }): void {
  const next = { ...selection(), ...change };
  const params = new URLSearchParams();
  if (next.channel) params.set("channel", next.channel);
  if (next.user) params.set("user", next.user);
  location.hash = params.toString();
}

function start(session: Session, credential: string | null): void {
  byId("prompt").hidden = true;
  byId("app").hidden = false;
  const mode = byId("access-mode");
  mode.dataset.mode = session.open ? "open" : "key";
  replace(
    mode,
    session.open
      ? "Development: no server key is configured (PRESENCE_SERVER_KEY) and client auth is off, so this dashboard is open to anyone who can reach it."
      : `Signed in with ${credential?.startsWith("eyJ") ? "an admin token" : "the server key"}; client auth is ${session.auth ? "on" : "off"}.`,
  );
  byId("sign-out").hidden = session.open;
  byId("sign-out").addEventListener("click", () => {
    forgetCredential();
    location.reload();
  });
  session.onExpired = (message) => {
    byId("app").hidden = true;
    showPrompt(message);
  };
  const channels = new ChannelsView(session, (channel) => select({ channel }));
  const channel = new ChannelView(session);
  const user = new UserView(session, (userId) => select({ user: userId }));
  const route = () => {
    const { channel: name, user: userId } = selection();
    channels.selected(name);
    channel.open(name);
    void user.open(userId);
  };
  window.addEventListener("hashchange", route);
  route();
}

function showPrompt(message: string | null): void {
  byId("prompt").hidden = false;
  const error = byId("prompt-error");
  error.hidden = message === null;
  replace(error, message ?? "");
}

async function main(): Promise<void> {
  const info = await adminInfo();
  if (info === null) return showPrompt("the service is not reachable, or its settings are invalid");
  if (info.open) return start(new Session({ open: true, auth: false, token: null, expiresAt: null }, null), null);
  if (!info.serverKey) return showPrompt("client auth is on but PRESENCE_SERVER_KEY is not set: the dashboard needs it");
  const stored = storedCredential();
  const first = stored ? await exchange(stored) : null;
  if (first?.ok) return start(new Session(first.session, stored), stored);
  if (stored) forgetCredential();
  showPrompt(first && !first.ok ? `refused: ${first.message}` : null);
  byId<HTMLFormElement>("prompt-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const credential = byId<HTMLInputElement>("key").value.trim();
    if (!credential) return;
    const answer = await exchange(credential);
    if (!answer.ok) return showPrompt(`refused: ${answer.message}`);
    storeCredential(credential);
    byId<HTMLInputElement>("key").value = "";
    start(new Session(answer.session, credential), credential);
  });
}

void main();
