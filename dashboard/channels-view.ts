/** The active channels: the index's list over a live socket, most members first, searchable; a click opens one. */
import { PartySocket } from "partysocket";
import { byMembers } from "../party/wire/channel-order.ts";
import { type ChannelEntry, INDEX_PARTY, INDEX_ROOM, parseChannelsMessage } from "./wire.ts";
import { byId, coalesce, h, replace } from "./dom.ts";
import type { Session } from "./session.ts";

/** Most rows the list shows at once (the search narrows it). */
const SHOWN = 300;

/** The channel list panel. */
export class ChannelsView {
  readonly #entries = new Map<string, ChannelEntry>();
  readonly #socket: PartySocket;
  readonly #render = coalesce(() => this.#draw());
  #selected: string | null = null;

  constructor(session: Session, readonly select: (channel: string) => void) {
    byId<HTMLInputElement>("channel-search").addEventListener("input", () => this.#render());
    byId<HTMLFormElement>("channel-open").addEventListener("submit", (event) => {
      event.preventDefault();
      const name = byId<HTMLInputElement>("channel-search").value.trim();
      if (name) select(name);
    });
    this.#socket = new PartySocket({
      host: location.host,
      party: INDEX_PARTY,
      room: INDEX_ROOM,
      protocol: location.protocol === "https:" ? "wss" : "ws",
      query: () => {
        const token = session.token();
        return token ? { token } : {};
      },
    });
    this.#socket.addEventListener("message", (event) => this.#onMessage(event.data));
    this.#socket.addEventListener("open", () => byId("channels-status").setAttribute("data-state", "open"));
    this.#socket.addEventListener("close", () => byId("channels-status").setAttribute("data-state", "closed"));
  }

  /** Marks the channel shown in the main panel. */
  selected(channel: string | null): void {
    this.#selected = channel;
    this.#render();
  }

  #onMessage(data: unknown): void {
    const message = parseChannelsMessage(String(data));
    if (!message) return console.warn("dashboard: unexpected index message");
    if (message.full) this.#entries.clear();
    for (const entry of message.channels) this.#entries.set(entry.channel, entry);
    for (const name of message.removed) this.#entries.delete(name);
    this.#render();
  }

  #draw(): void {
    const needle = byId<HTMLInputElement>("channel-search").value.trim().toLowerCase();
    const all = [...this.#entries.values()];
    const found = (needle ? all.filter((entry) => entry.channel.toLowerCase().includes(needle)) : all).sort(byMembers);
    const users = all.reduce((sum, entry) => sum + entry.userAmount, 0);
    replace(byId("channels-summary"), `${all.length} active channel${all.length === 1 ? "" : "s"}, ${users} user${users === 1 ? "" : "s"} online`);
    replace(
      byId("channels-list"),
      ...found.slice(0, SHOWN).map((entry) =>
        h(
          "li",
          { "data-channel": entry.channel, class: entry.channel === this.#selected ? "selected" : null, onclick: () => this.select(entry.channel) },
          h("span", { class: "name" }, entry.channel),
          h("span", { class: "counts", title: "users · clients · members" }, `${entry.userAmount} · ${entry.clientAmount} · ${entry.members}`),
          entry.mode === "interval" ? h("span", { class: "badge" }, "large") : null,
        ),
      ),
      found.length > SHOWN ? h("li", { class: "more" }, `${found.length - SHOWN} more: refine the search`) : null,
    );
  }
}
