/**
 * One channel, live: an observer `PresenceClient` (the client package, bundled in) gives the
 * members with since/lastSeen, the events and the counts; the member table pages; a chart of
 * the counts; the room's stats; its HTTP clients (members kept by heartbeats) with their
 * deadlines, read with the stats. The event log starts with the channel's past, from its
 * history, below the live events, and the chart with the counts those events carried.
 * In interval mode, past PRESENCE_ANNOUNCE_MAX, the socket holds only a window, so the table
 * pages through the admin member listing (`?members`, every member in full, with a cursor) and
 * the event log reads on in the history (every member's events) as the counts move, bounded.
 */
import { PresenceClient, type ClientPresenceEvent } from "../client/index.ts";
import { byId, coalesce, h, replace } from "./dom.ts";
import { clientTypesText, clockTime, jsonPreview, relativeTime } from "./format.ts";
import { HistoryTail } from "./history-tail.ts";
import { listedRows, memberPage, PAGE_SIZE, prefixCursor } from "./rows.ts";
import { CountSeries, type Sample } from "./series.ts";
import type { Session } from "./session.ts";
import type { HistoryEvent, HistoryPage, HttpClientListing, Member, MembersPage, RoomStats } from "./wire.ts";

/** Most events the log keeps. */
const LOG_SIZE = 300;
/** Interval mode: history pages of this many events read on at most per refresh of the log, and how many such pages. */
const TAIL_PAGE = 1000;
const TAIL_PAGES = 3;
/** Interval mode: the log and the table are read again at most this often while the counts move, and at least this often otherwise. */
const MOVING_MS = 2000;
const QUIET_MS = 10_000;
const CHART_W = 600;
const CHART_H = 120;

/** The channel panel; `open` switches channels. */
export class ChannelView {
  readonly #session: Session;
  #client: PresenceClient | null = null;
  #channel: string | null = null;
  readonly #series = new CountSeries();
  #page = 0;
  /** Interval mode: the cursors that start each page seen so far (page 0 starts at undefined). */
  #cursors: (string | undefined)[] = [undefined];
  /** Interval mode: the rows of the page shown (from the member listing) and the cursor of the next. */
  #remote: { rows: Member[]; next?: string } | null = null;
  #remoteAt = 0;
  /** The counts when the table was last read (interval mode: read again when they move). */
  #remoteCounts = "";
  /** Interval mode's event log, read on in the history; null until the past is read. */
  #tail: HistoryTail | null = null;
  /** The newest tick whose events the log shows from the socket (full mode's snapshots). */
  #shownSeq = -1;
  /** The mode of the last snapshot (a switch into interval mode ends what the socket shows of every member). */
  #syncMode: "full" | "interval" | null = null;
  #tailBusy = false;
  #tailAt = 0;
  #tailCounts = "";
  #stats: RoomStats | null = null;
  /** The first HTTP clients by id, and whether more follow. */
  #httpClients: { clients: HttpClientListing[]; more: boolean } | null = null;
  #statsAt = 0;
  #statsTimer: ReturnType<typeof setTimeout> | null = null;
  #remoteTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #render = coalesce(() => this.#draw());
  readonly #ticker: ReturnType<typeof setInterval>;

  constructor(session: Session) {
    this.#session = session;
    byId<HTMLInputElement>("member-filter").addEventListener("input", () => {
      this.#page = 0;
      // Interval mode: the filter is a userId prefix, looked up through herenow from its place in the order.
      this.#cursors = [prefixCursor(this.#prefix())];
      this.#refreshRemote(true);
      this.#render();
    });
    byId("page-prev").addEventListener("click", () => this.#turn(-1));
    byId("page-next").addEventListener("click", () => this.#turn(1));
    // Relative times and the chart move on even when nothing happens; stats are re-read now and then.
    this.#ticker = setInterval(() => {
      const client = this.#client;
      if (!client) return;
      this.#series.add({ at: Date.now(), ...client.counts });
      this.#render();
      if (Date.now() - this.#statsAt > 10_000) this.#loadStats();
      if (client.mode !== "interval") return;
      // Interval mode: the socket says nothing of most members; what moved the counts is read.
      const counts = `${client.counts.userAmount}/${client.counts.clientAmount}`;
      // The table: as the counts move, and now and then for what moves no count (an update of userData).
      if (counts !== this.#remoteCounts || Date.now() - this.#remoteAt > QUIET_MS) this.#refreshRemote();
      if (counts !== this.#tailCounts || this.#tail?.more) this.#refreshHistory(MOVING_MS);
      else this.#refreshHistory(QUIET_MS);
    }, 1000);
  }

  /** Shows this channel (closing the one before), or nothing. */
  open(channel: string | null): void {
    if (channel === this.#channel) return;
    this.#client?.close();
    this.#client = null;
    this.#channel = channel;
    this.#series.clear();
    this.#page = 0;
    this.#cursors = [prefixCursor(this.#prefix())];
    this.#remote = null;
    this.#remoteCounts = "";
    this.#tail = null;
    this.#shownSeq = -1;
    this.#syncMode = null;
    this.#tailBusy = false;
    this.#tailAt = 0;
    this.#tailCounts = "";
    this.#stats = null;
    this.#httpClients = null;
    replace(byId("events"));
    replace(byId("http-clients"));
    byId("channel-panel").hidden = channel === null;
    if (channel === null) return;
    replace(byId("channel-name"), channel);
    let client: PresenceClient;
    try {
      client = new PresenceClient({
        host: location.host,
        channel,
        protocol: location.protocol === "https:" ? "wss" : "ws",
        window: 100,
        token: this.#session.token() === undefined ? undefined : () => this.#session.token() ?? "",
      });
    } catch (error) {
      replace(byId("channel-status"), `cannot open: ${(error as Error).message}`);
      return;
    }
    this.#client = client;
    client.on("status", (status) => {
      byId("channel-status").setAttribute("data-state", status);
      replace(byId("channel-status"), status);
    });
    // In interval mode the socket's events are its window's only: the log reads every member's from the history instead.
    client.on("presence", (event) => {
      if (client.mode === "full") this.#log(event);
    });
    client.on("members", () => {
      this.#series.add({ at: Date.now(), ...client.counts });
      this.#refreshRemote();
      this.#statsSoon();
      this.#render();
    });
    let first = true;
    client.on("sync", ({ seq, mode }) => {
      // The past up to the first snapshot comes from the history; what follows, live (in full mode).
      if (first) void this.#loadHistory(channel, client, seq);
      first = false;
      // Every event up to a full-mode snapshot, or one that switches to interval mode, was shown: the history is read on after it.
      if (mode === "full" || this.#syncMode === "full") {
        this.#shownSeq = Math.max(this.#shownSeq, seq);
        this.#tail?.seen(seq);
      }
      this.#syncMode = mode;
      this.#series.add({ at: Date.now(), ...client.counts });
      this.#refreshRemote();
      this.#render();
    });
    client.on("mode", () => {
      this.#page = 0;
      this.#cursors = [prefixCursor(this.#prefix())];
      this.#refreshRemote(true);
    });
    client.on("error", (error) => this.#log(null, `error ${error.code}: ${error.message}`));
    client.on("close", ({ code, reason }) => this.#log(null, `closed ${code} ${reason}`));
    this.#loadStats();
    this.#render();
  }

  #turn(by: number): void {
    const client = this.#client;
    if (!client) return;
    if (client.mode === "interval") {
      const next = this.#page + by;
      if (next < 0 || (by > 0 && !this.#remote?.next)) return;
      if (by > 0) this.#cursors[next] = this.#remote!.next;
      this.#page = next;
      this.#refreshRemote(true);
    } else {
      this.#page = Math.max(0, this.#page + by);
    }
    this.#render();
  }

  /** The filter as typed, trimmed (in interval mode: a userId prefix, case as typed). */
  #prefix(): string {
    return byId<HTMLInputElement>("member-filter").value.trim();
  }

  /** What the interval-mode page shown depends on: an answer asked for another one is dropped. */
  #remoteKey(): string {
    return `${this.#page}\n${this.#cursors[this.#page] ?? ""}\n${this.#prefix()}`;
  }

  /**
   * Interval mode: reads the current page of the admin member listing (at most every 2 s while
   * the channel changes; `now` for a page, filter or mode change): every member, online and
   * offline, in full, by userId.
   */
  #refreshRemote(now = false): void {
    const client = this.#client;
    if (!client || client.mode !== "interval") return;
    if (this.#remoteTimer) {
      if (!now) return;
      clearTimeout(this.#remoteTimer);
    }
    const wait = now ? 0 : Math.max(0, this.#remoteAt + 2000 - Date.now());
    this.#remoteTimer = setTimeout(async () => {
      this.#remoteTimer = null;
      this.#remoteAt = Date.now();
      this.#remoteCounts = `${client.counts.userAmount}/${client.counts.clientAmount}`;
      const key = this.#remoteKey();
      const prefix = this.#prefix();
      const channel = this.#channel!;
      const cursor = this.#cursors[this.#page];
      const query = new URLSearchParams({ members: "", limit: String(PAGE_SIZE), ...(cursor === undefined ? {} : { cursor }) });
      try {
        const page = await this.#session.call<MembersPage>(`/parties/main/${encodeURIComponent(channel)}?${query}`);
        // Another channel, page or filter was asked for meanwhile (and its own request is on its way).
        if (client !== this.#client || key !== this.#remoteKey()) return;
        const { rows, more } = listedRows(page.members, prefix);
        this.#remote = { rows, next: more ? page.cursor : undefined };
        this.#render();
      } catch (error) {
        console.warn("dashboard: the member listing failed", error);
      }
    }, wait);
  }

  #statsSoon(): void {
    if (this.#statsTimer) return;
    this.#statsTimer = setTimeout(() => {
      this.#statsTimer = null;
      this.#loadStats();
    }, Math.max(0, this.#statsAt + 2000 - Date.now()));
  }

  async #loadStats(): Promise<void> {
    const channel = this.#channel;
    if (!channel) return;
    this.#statsAt = Date.now();
    try {
      const [stats, http] = await Promise.all([
        this.#session.call<RoomStats>(`/parties/main/${encodeURIComponent(channel)}?stats`),
        this.#session.call<{ clients: HttpClientListing[]; cursor?: string }>(`/parties/main/${encodeURIComponent(channel)}/clients?limit=${PAGE_SIZE}`),
      ]);
      if (channel !== this.#channel) return;
      this.#stats = stats;
      this.#httpClients = { clients: http.clients, more: http.cursor !== undefined };
      this.#render();
    } catch (error) {
      replace(byId("stats"), `stats: ${(error as Error).message}`);
    }
  }

  #log(event: ClientPresenceEvent | null, note?: string): void {
    const list = byId("events");
    const item = event ? eventItem(event, Date.now(), event.resync ? " (resync)" : "") : h("li", { class: "note" }, h("time", null, clockTime(Date.now())), note ?? "");
    list.prepend(item);
    while (list.childElementCount > LOG_SIZE) list.lastElementChild!.remove();
  }

  /**
   * Reads the channel's history (oldest first, pages of 1,000, as far as it goes) and shows the
   * newest events up to the socket's first snapshot (`seq`) below the live ones, which are newer.
   */
  async #loadHistory(channel: string, client: PresenceClient, seq: number): Promise<void> {
    const past: HistoryEvent[] = [];
    let cursor: string | undefined;
    let newestAt: number | undefined;
    try {
      do {
        const query = new URLSearchParams({ history: "", limit: "1000", ...(cursor === undefined ? {} : { cursor }) });
        const page = await this.#session.call<HistoryPage>(`/parties/main/${encodeURIComponent(channel)}?${query}`);
        if (client !== this.#client) return;
        const before = page.events.filter((event) => event.seq <= seq);
        // The chart starts with the counts the past events carried.
        this.#series.merge(before.map(sampleOf));
        if (before.length > 0) newestAt = before[before.length - 1]!.at;
        past.push(...before);
        past.splice(0, Math.max(0, past.length - LOG_SIZE));
        // Past the snapshot: the socket brings the rest.
        cursor = page.events.some((event) => event.seq > seq) ? undefined : page.cursor;
      } while (cursor !== undefined);
    } catch (error) {
      if (client === this.#client) this.#log(null, `history: ${(error as Error).message}`);
      return;
    }
    const list = byId("events");
    for (const event of past.reverse()) {
      if (list.childElementCount >= LOG_SIZE) break;
      list.append(eventItem(event, event.at, " (history)", true));
    }
    // From here the log may read on in the history (interval mode), after what it shows.
    this.#tail = new HistoryTail(Math.max(seq, this.#shownSeq));
    this.#tail.seen(seq, newestAt);
    this.#render();
    if (client.mode === "interval") this.#refreshHistory(0);
  }

  /**
   * Interval mode: reads on in the channel's history (at most TAIL_PAGES pages of TAIL_PAGE
   * events, one refresh at a time, `every` ms after the last) and shows what the log lacks,
   * newest first, with the counts each carried in the chart.
   */
  #refreshHistory(every: number): void {
    const client = this.#client;
    const tail = this.#tail;
    const channel = this.#channel;
    if (!client || !tail || !channel || client.mode !== "interval" || this.#tailBusy || Date.now() - this.#tailAt < every) return;
    this.#tailBusy = true;
    this.#tailAt = Date.now();
    this.#tailCounts = `${client.counts.userAmount}/${client.counts.clientAmount}`;
    void (async () => {
      try {
        for (let pages = 0; pages < TAIL_PAGES; pages++) {
          const page = await this.#session.call<HistoryPage>(`/parties/main/${encodeURIComponent(channel)}?${tail.query(TAIL_PAGE)}`);
          if (tail !== this.#tail) return;
          const fresh = tail.take(page);
          this.#series.merge(fresh.map(sampleOf));
          const list = byId("events");
          for (const event of fresh.slice(-LOG_SIZE)) list.prepend(eventItem(event, event.at, ""));
          while (list.childElementCount > LOG_SIZE) list.lastElementChild!.remove();
          if (!tail.more) break;
        }
        this.#render();
      } catch (error) {
        console.warn("dashboard: reading on in the history failed", error);
      } finally {
        if (tail === this.#tail) this.#tailBusy = false;
      }
    })();
  }

  #draw(): void {
    const client = this.#client;
    if (!client) return;
    const now = Date.now();
    const counts = client.counts;
    const countsEl = byId("counts");
    countsEl.dataset.users = String(counts.userAmount);
    countsEl.dataset.clients = String(counts.clientAmount);
    countsEl.dataset.mode = client.mode;
    replace(
      countsEl,
      h("span", { class: "big" }, counts.userAmount), " users online · ",
      h("span", { class: "big" }, counts.clientAmount), " clients · ",
      client.mode === "interval" ? h("span", { class: "badge", title: "past PRESENCE_ANNOUNCE_MAX: the table pages through herenow" }, "interval mode") : "full mode",
    );
    this.#drawChart(now);
    this.#drawStats();
    this.#drawMembers(now, client);
    this.#drawHttpClients(now);
  }

  #drawHttpClients(now: number): void {
    const http = this.#httpClients;
    if (!http) return;
    const total = this.#stats?.httpClients ?? http.clients.length;
    replace(byId("http-clients-info"), total === 0 ? "none" : `${total} HTTP client${total === 1 ? "" : "s"}${http.more ? ` (the first ${http.clients.length} by id)` : ""}`);
    replace(byId("http-clients"), ...http.clients.map((c) => httpClientRow(c, now)));
  }

  #drawChart(now: number): void {
    const { users, clients, max } = this.#series.points(now, CHART_W, CHART_H);
    const chart = byId("chart");
    chart.dataset.samples = String(this.#series.samples.length);
    chart.dataset.from = String(this.#series.samples[0]?.at ?? "");
    byId("chart-users").setAttribute("points", users);
    byId("chart-clients").setAttribute("points", clients);
    replace(byId("chart-max"), String(max));
  }

  #drawStats(): void {
    const stats = this.#stats;
    if (!stats) return;
    const table = (title: string, counts: Record<string, number>) =>
      h("div", { class: "stat" }, h("h4", null, title), Object.keys(counts).length === 0 ? h("span", { class: "muted" }, "none") : h("dl", null, ...Object.entries(counts).flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)])));
    replace(
      byId("stats"),
      h(
        "div",
        { class: "stat" },
        h("h4", null, "room"),
        h("dl", null, h("dt", null, "members"), h("dd", null, stats.members), h("dt", null, "sockets"), h("dd", null, stats.sockets), h("dt", null, "HTTP clients"), h("dd", null, stats.httpClients), h("dt", null, "starts"), h("dd", null, stats.starts)),
      ),
      table("refused connects", stats.refusedConnections),
      table("rejected messages", stats.rejectedMessages),
      table("closes by reason", stats.closes),
      table("refused requests", stats.refusedRequests),
    );
  }

  #drawMembers(now: number, client: PresenceClient): void {
    const filterEl = byId<HTMLInputElement>("member-filter");
    const filter = filterEl.value;
    if (client.mode === "interval") {
      filterEl.placeholder = "userId starts with";
      const prefix = this.#prefix();
      // Until the answer for a new filter comes, the rows shown already match it.
      const rows = (this.#remote?.rows ?? []).filter((row) => row.id.startsWith(prefix));
      replace(
        byId("page-info"),
        `page ${this.#page + 1} · members by userId${prefix ? ` starting with "${prefix}"` : ""} (the member listing, ${PAGE_SIZE} a page; the channel is past PRESENCE_ANNOUNCE_MAX, so the filter matches the start of userIds)`,
      );
      byId<HTMLButtonElement>("page-prev").disabled = this.#page === 0;
      byId<HTMLButtonElement>("page-next").disabled = !this.#remote?.next;
      replace(byId("members"), ...rows.map((row) => memberRow(row, now)));
      return;
    }
    filterEl.placeholder = "filter by userId or data";
    const page = memberPage(client.members, filter, this.#page);
    this.#page = page.page;
    replace(byId("page-info"), `${page.total} member${page.total === 1 ? "" : "s"} · page ${page.page + 1} of ${page.pages}`);
    byId<HTMLButtonElement>("page-prev").disabled = page.page === 0;
    byId<HTMLButtonElement>("page-next").disabled = page.page >= page.pages - 1;
    replace(byId("members"), ...page.rows.map((m) => memberRow(m, now)));
  }
}

/** A line of the event log: a live event at the time it arrived, or a past one (`past`) at the time the room announced it. */
function eventItem(event: Pick<HistoryEvent, "action" | "member" | "clientAmount" | "userAmount">, at: number, note: string, past = false): HTMLLIElement {
  return h(
    "li",
    { "data-action": event.action, "data-user": event.member.id, ...(past ? { "data-past": "true", class: "past" } : {}) },
    h("time", { title: new Date(at).toISOString() }, clockTime(at)),
    h("b", { class: `action ${event.action}` }, event.action),
    h("span", { class: "who" }, event.member.id),
    h("span", { class: "after" }, `→ ${event.userAmount} users, ${event.clientAmount} clients${note}`),
  );
}

/** The counts an event carried, at the time the room announced it: a sample for the chart. */
function sampleOf(event: HistoryEvent): Sample {
  return { at: event.at, userAmount: event.userAmount, clientAmount: event.clientAmount };
}

/** An HTTP client: who it is for, its last heartbeat and its deadline (read with the stats, so a few seconds old at most). */
function httpClientRow(c: HttpClientListing, now: number): HTMLTableRowElement {
  return h(
    "tr",
    { "data-client": c.clientId, "data-user": c.userId },
    h("td", null, c.clientId),
    h("td", null, c.userId),
    h("td", null, c.clientType),
    h("td", { class: "renewed", title: new Date(c.renewedAt).toISOString() }, relativeTime(c.renewedAt, now)),
    h("td", { class: "expires", title: new Date(c.expiresAt).toISOString() }, relativeTime(c.expiresAt, now)),
    h("td", null, `${Math.round(c.ttlMs / 1000)} s`),
    h("td", null, c.pushes),
  );
}

function memberRow(m: Member, now: number): HTMLTableRowElement {
  return h(
    "tr",
    { "data-user": m.id, "data-status": m.status },
    h("td", null, m.id),
    h("td", { class: m.status }, m.status),
    h("td", { title: JSON.stringify(m.data) }, jsonPreview(m.data)),
    h("td", null, clientTypesText(m.clientTypes)),
    h("td", null, m.clients),
    h("td", { class: "since", title: new Date(m.since).toISOString() }, relativeTime(m.since, now)),
    h("td", { class: "last-seen", title: new Date(m.lastSeen).toISOString() }, m.status === "offline" ? relativeTime(m.lastSeen, now) : "now"),
  );
}
