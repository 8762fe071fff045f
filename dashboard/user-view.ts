/**
 * One user across channels: its status from the user directory (`POST /users`), kept live
 * by watching it (`watchUsers`) over an observer socket of the dashboard's own; and a form
 * that sends a test push (`POST /users/ID/push`) and shows which clients acknowledged it; and
 * one that disconnects the user (`POST /users/ID/disconnect`), banning it if asked, and shows
 * what was closed; and the user's ban (`GET /users/ID/ban`) with a button that lifts it.
 */
import { PresenceClient } from "../client/index.ts";
import { byId, h, replace } from "./dom.ts";
import { clientTypesText, jsonPreview, relativeTime } from "./format.ts";
import type { Session } from "./session.ts";
import type { BanStatus, DisconnectResult, PushResult, UserStatus } from "./wire.ts";

/** The observer channel the dashboard watches users from (observers are not members: it never shows as active). */
export const WATCH_CHANNEL = "dashboard.watch";

/** The user panel. */
export class UserView {
  readonly #session: Session;
  #watcher: PresenceClient | null = null;
  #userId: string | null = null;
  #status: UserStatus | null = null;

  constructor(session: Session, readonly show: (userId: string) => void) {
    this.#session = session;
    byId<HTMLFormElement>("user-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const userId = byId<HTMLInputElement>("user-id").value.trim();
      if (userId) show(userId);
    });
    byId<HTMLFormElement>("push-form").addEventListener("submit", (event) => {
      event.preventDefault();
      void this.#push();
    });
    byId<HTMLFormElement>("kick-form").addEventListener("submit", (event) => {
      event.preventDefault();
      void this.#disconnect();
    });
    byId("ban-lift").addEventListener("click", () => void this.#liftBan());
    setInterval(() => this.#draw(), 1000);
  }

  /** Shows this user (or nothing), read once from /users and then watched live. */
  async open(userId: string | null): Promise<void> {
    this.#userId = userId;
    this.#status = null;
    byId("user-panel").hidden = userId === null;
    replace(byId("push-result"));
    replace(byId("kick-result"));
    replace(byId("ban-status"));
    byId("ban-lift").hidden = true;
    if (userId === null) return this.#watcher?.watchUsers([]);
    void this.#showBan(userId);
    byId<HTMLInputElement>("user-id").value = userId;
    this.#watch().watchUsers([userId]);
    try {
      const content = await this.#session.call<{ users: Record<string, UserStatus> }>("/users", { method: "POST", body: JSON.stringify({ userIds: [userId] }) });
      // The watch may have answered already: it is as new or newer.
      if (userId === this.#userId && this.#status === null) this.#status = content.users[userId] ?? null;
    } catch (error) {
      replace(byId("user-status"), `users: ${(error as Error).message}`);
      return;
    }
    this.#draw();
  }

  #watch(): PresenceClient {
    if (this.#watcher) return this.#watcher;
    const watcher = new PresenceClient({
      host: location.host,
      channel: WATCH_CHANNEL,
      protocol: location.protocol === "https:" ? "wss" : "ws",
      token: this.#session.token() === undefined ? undefined : () => this.#session.token() ?? "",
    });
    watcher.on("user", (status) => {
      if (status.id !== this.#userId) return;
      this.#status = status;
      this.#draw();
    });
    return (this.#watcher = watcher);
  }

  #draw(): void {
    const status = this.#status;
    const el = byId("user-status");
    if (!status || status.id !== this.#userId) return;
    const now = Date.now();
    el.dataset.online = String(status.online);
    replace(
      el,
      h("p", null, h("b", null, status.id), " is ", h("b", { class: status.online ? "online" : "offline" }, status.online ? "online" : "offline"),
        status.online && status.since ? ` since ${relativeTime(status.since, now)}` : "",
        status.lastSeen !== null ? ` · last seen ${status.online ? "now" : relativeTime(status.lastSeen, now)}` : " · never seen",
        status.data !== undefined && status.data !== null ? ` · ${jsonPreview(status.data)}` : ""),
      (status.channels ?? []).length === 0
        ? h("p", { class: "muted" }, "in no channel")
        : h("ul", { id: "user-channels" }, ...(status.channels ?? []).map((c) => h("li", { "data-channel": c.channel }, h("a", { href: `#${new URLSearchParams({ channel: c.channel, user: status.id })}` }, c.channel), ` · ${c.clientAmount} client${c.clientAmount === 1 ? "" : "s"} ${clientTypesText(c.clientTypes)}`))),
    );
  }

  async #push(): Promise<void> {
    const userId = this.#userId;
    const out = byId("push-result");
    if (!userId) return;
    let data: unknown;
    try {
      data = JSON.parse(byId<HTMLTextAreaElement>("push-data").value || "null");
    } catch {
      replace(out, "the data is not JSON");
      return;
    }
    const body: Record<string, unknown> = { data };
    const channel = byId<HTMLInputElement>("push-channel").value.trim();
    const clientType = byId<HTMLInputElement>("push-type").value.trim();
    const timeout = Number(byId<HTMLInputElement>("push-timeout").value);
    if (channel) body.channel = channel;
    if (clientType) body.clientType = clientType;
    if (timeout > 0) body.timeoutMs = timeout;
    replace(out, "sending…");
    try {
      const result = await this.#session.call<PushResult>(`/users/${encodeURIComponent(userId)}/push`, { method: "POST", body: JSON.stringify(body) });
      out.dataset.acked = String(result.acked.length);
      replace(
        out,
        h("p", null, `push ${result.id}: ${result.clients} client${result.clients === 1 ? "" : "s"}, ${result.acked.length} acknowledged, ${result.unacked.length} not`),
        h("ul", null,
          ...result.acked.map((t) => h("li", { class: "acked" }, `✓ ${t.channel} · ${t.clientType ?? "untyped"} · ${t.connectionId}`)),
          ...result.unacked.map((t) => h("li", { class: "unacked" }, `✗ ${t.channel} · ${t.clientType ?? "untyped"} · ${t.connectionId} · ${t.reason}${t.error ? `: ${t.error}` : ""}`))),
      );
    } catch (error) {
      replace(out, `push failed: ${(error as Error).message}`);
    }
  }

  async #disconnect(): Promise<void> {
    const userId = this.#userId;
    const out = byId("kick-result");
    if (!userId) return;
    const body: { reason?: string; channel?: string; banSeconds?: number } = {};
    const reason = byId<HTMLInputElement>("kick-reason").value.trim();
    const channel = byId<HTMLInputElement>("kick-channel").value.trim();
    const banMinutes = byId<HTMLInputElement>("kick-ban").valueAsNumber;
    if (reason) body.reason = reason;
    if (channel) body.channel = channel;
    if (Number.isFinite(banMinutes)) body.banSeconds = Math.round(banMinutes * 60);
    replace(out, "disconnecting…");
    try {
      const result = await this.#session.call<DisconnectResult>(`/users/${encodeURIComponent(userId)}/disconnect`, { method: "POST", body: JSON.stringify(body) });
      out.dataset.clients = String(result.clients);
      replace(
        out,
        h("p", null, `closed ${result.clients} client${result.clients === 1 ? "" : "s"}`),
        h("ul", null,
          ...result.channels.flatMap((c) => c.clients.map((k) => h("li", { class: "kicked" }, `${c.channel} · ${k.clientType ?? "untyped"} · ${k.connectionId}`))),
          ...(result.failedChannels ?? []).map((f) => h("li", { class: "failed" }, `${f.channel}: ${f.error}`))),
      );
    } catch (error) {
      replace(out, `disconnect failed: ${(error as Error).message}`);
    }
    await this.#showBan(userId);
  }

  /** Shows the user's ban in force, if any, with the button that lifts it. */
  async #showBan(userId: string): Promise<void> {
    const status = byId("ban-status");
    try {
      const ban = await this.#session.call<BanStatus>(`/users/${encodeURIComponent(userId)}/ban`);
      if (userId !== this.#userId) return;
      status.dataset.banned = String(ban.banned);
      replace(status, ban.ban ? `banned until ${new Date(ban.ban.until).toLocaleString()}${ban.ban.reason ? ` (${ban.ban.reason})` : ""}` : "not banned");
      byId("ban-lift").hidden = !ban.banned;
    } catch (error) {
      replace(status, `ban: ${(error as Error).message}`);
    }
  }

  async #liftBan(): Promise<void> {
    const userId = this.#userId;
    if (!userId) return;
    try {
      await this.#session.call(`/users/${encodeURIComponent(userId)}/ban`, { method: "DELETE" });
    } catch (error) {
      replace(byId("ban-status"), `lifting the ban failed: ${(error as Error).message}`);
      return;
    }
    await this.#showBan(userId);
  }
}
