/**
 * A restart storm, measured from outside: N members on the project's own client and a few
 * observers in one channel; the engine goes away (killed, or reloaded with new code) and comes
 * back on the same storage; every client returns on its own, with the client's own backoff.
 * What observers hear and hold meanwhile is recorded: presence events about members that came
 * back (flicker: the target is none), the lowest counts they held, when every client was back,
 * when every count was exact, and whether any member was lost, changed or left as a ghost.
 * Some members may be closed for good during the outage ("gone"): they must go offline, and
 * the counts must never drop below the members that are really gone.
 *
 * In a large channel (interval mode) an observer follows only its window, so the channel's
 * history (`GET ?history`, every event the room announced) is read as well: flicker is counted
 * over every member from it, and from what the observers heard.
 */
import WebSocket from "ws";
import { type ClientPresenceEvent, PresenceClient } from "../../client/index.ts";
import { createPresenceApi } from "../../client/server.ts";
import { sleep } from "./dev-server.ts";

/** The window an observer follows in a large channel (the most a client may ask for). */
const OBSERVER_WINDOW = 100;

/** How a storm is set up. */
export type StormSetup = {
  host: string;
  channel: string;
  members: number;
  observers?: number;
  /** Connects in flight while the members join (default 50). */
  concurrency?: number;
};

/** What a storm came to. */
export type StormFigures = {
  members: number;
  gone: number;
  /** Events about members that came back, as `action id`: what observers heard and what the history holds, deduplicated. */
  flicker: string[];
  /** How many events of each action observers heard about members that came back (summed over observers). */
  heard: Record<string, number>;
  /** How many events of each action the channel's history holds about members that came back. */
  history: Record<string, number>;
  /** The gone members the history shows going offline. */
  goneOffline: number;
  /** The lowest userAmount and clientAmount any observer held after the engine went away. */
  lowest: { userAmount: number; clientAmount: number };
  /** From the engine going away until it answered again (the caller's poll, or the first client back, whichever was first). */
  downMs: number;
  /** From the engine answering until every returning client's socket was open again. */
  backMs: number;
  /** From the engine answering until every observer held the exact counts and list (gone members offline), and herenow agreed. */
  exactMs: number;
  /** Members online in herenow that are gone, or absent that came back. */
  ghosts: string[];
  missing: string[];
  /** Members whose userData changed across the restart. */
  changed: string[];
};

/** One recorded event. */
type Heard = { observer: number; action: string; id: string; at: number };

/** N members and some observers in one channel, joined and measured across a restart. */
export class RestartStorm {
  readonly #setup: Required<StormSetup>;
  readonly members: PresenceClient[] = [];
  readonly observers: PresenceClient[] = [];
  readonly #heard: Heard[] = [];
  #lowest = { userAmount: Infinity, clientAmount: Infinity };
  #marked = false;
  #sampler: ReturnType<typeof setInterval> | null = null;
  #gone = new Set<string>();
  #markedAt = 0;
  #firstBackAt: number | null = null;

  private constructor(setup: StormSetup) {
    this.#setup = { observers: 2, concurrency: 50, ...setup };
  }

  /** Joins every member and observer, and waits until each observer holds them all online. */
  static async join(setup: StormSetup): Promise<RestartStorm> {
    const storm = new RestartStorm(setup);
    await storm.#joinAll();
    return storm;
  }

  /** The userId of member `i`. */
  static userId(i: number): string {
    return `r${String(i).padStart(5, "0")}`;
  }

  async #joinAll(): Promise<void> {
    const { host, channel, members, observers, concurrency } = this.#setup;
    for (let i = 0; i < observers; i++) {
      const observer = new PresenceClient({ host, channel, window: OBSERVER_WINDOW, WebSocket: WebSocket as never });
      this.observers.push(observer);
      observer.on("presence", (event: ClientPresenceEvent) => this.#record(i, event));
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, members) }, async () => {
        while (next < members) {
          const i = next++;
          const client = new PresenceClient({ host, channel, userId: RestartStorm.userId(i), userData: { n: i }, WebSocket: WebSocket as never });
          this.members.push(client);
          await client.ready();
        }
      }),
    );
    await Promise.all(this.observers.map((o) => o.ready()));
    const holdsAll = (o: PresenceClient) => o.counts.userAmount === members && (o.mode === "interval" || o.online.length === members);
    await this.#until("every observer holds every member", () => this.observers.every(holdsAll), 180_000);
  }

  #record(observer: number, event: ClientPresenceEvent): void {
    if (!this.#marked) return;
    this.#heard.push({ observer, action: event.action, id: event.member.id, at: Date.now() });
  }

  /** From now on, observers' events and counts are recorded: call it just before the engine goes away. */
  mark(): void {
    this.#marked = true;
    this.#markedAt = Date.now();
    // The first socket back tells when the engine answered again, if it beat the caller's poll.
    for (const client of this.members) {
      client.socket.addEventListener("open", () => (this.#firstBackAt ??= Date.now()), { once: true });
    }
    this.#sampler = setInterval(() => {
      for (const o of this.observers) {
        this.#lowest.userAmount = Math.min(this.#lowest.userAmount, o.counts.userAmount);
        this.#lowest.clientAmount = Math.min(this.#lowest.clientAmount, o.counts.clientAmount);
      }
    }, 20);
  }

  /** Closes `count` members for good (while the engine is away): they are really gone. */
  closeForGood(count: number): void {
    for (const client of this.members.splice(this.members.length - count, count)) {
      this.#gone.add(client.userId!);
      client.close();
    }
  }

  /**
   * Waits until every returning client is back and every count is exact, and measures.
   * `downAt`: when the engine went away; `upAt`: when the caller saw it answer again (the first
   * client back may have seen it sooner).
   */
  async settle(downAt: number, upAt: number, timeoutMs = 120_000): Promise<StormFigures> {
    const { host, channel, members } = this.#setup;
    const expected = members - this.#gone.size;
    await this.#until("every returning client's socket open", () => this.members.every((c) => c.socket.readyState === WebSocket.OPEN), timeoutMs);
    const backAt = Date.now();
    const exact = () =>
      this.observers.every(
        (o) =>
          o.socket.readyState === WebSocket.OPEN &&
          o.counts.userAmount === expected &&
          o.counts.clientAmount === expected &&
          [...this.#gone].every((id) => o.mode === "interval" || o.member(id)?.status === "offline"),
      );
    let herenow: { userAmount: number; clientAmount: number; users: Array<{ id: string; data: unknown }> } | null = null;
    await this.#until(
      "every observer and herenow exact",
      async () => {
        if (!exact()) return false;
        herenow = await hereNow(host, channel);
        return herenow.userAmount === expected && herenow.clientAmount === expected;
      },
      timeoutMs,
    );
    const exactAt = Date.now();
    if (this.#sampler) clearInterval(this.#sampler);
    const history: Record<string, number> = {};
    const goneOffline = new Set<string>();
    const online = new Map(herenow!.users.map((u) => [u.id, u.data]));
    const back = this.members.map((c) => c.userId!);
    const flickerSet = new Set<string>();
    const heard: Record<string, number> = {};
    for (const h of this.#heard) {
      if (this.#gone.has(h.id)) continue;
      heard[h.action] = (heard[h.action] ?? 0) + 1;
      flickerSet.add(`${h.action} ${h.id}`);
    }
    for (const event of await historySince(host, channel, this.#markedAt)) {
      if (this.#gone.has(event.id)) {
        if (event.action === "offline") goneOffline.add(event.id);
        continue;
      }
      history[event.action] = (history[event.action] ?? 0) + 1;
      flickerSet.add(`${event.action} ${event.id}`);
    }
    return {
      members,
      gone: this.#gone.size,
      flicker: [...flickerSet],
      heard,
      history,
      goneOffline: goneOffline.size,
      lowest: { ...this.#lowest },
      downMs: Math.min(upAt, this.#firstBackAt ?? upAt) - downAt,
      backMs: backAt - Math.min(upAt, this.#firstBackAt ?? upAt),
      exactMs: exactAt - Math.min(upAt, this.#firstBackAt ?? upAt),
      ghosts: [...this.#gone].filter((id) => online.has(id)),
      missing: back.filter((id) => !online.has(id)),
      changed: back.filter((id) => JSON.stringify(online.get(id)) !== JSON.stringify({ n: Number(id.slice(1)) })),
    };
  }

  /** Closes every client. */
  close(): void {
    if (this.#sampler) clearInterval(this.#sampler);
    for (const c of [...this.members, ...this.observers]) c.close();
  }

  async #until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`restart storm: not ${what} within ${timeoutMs} ms`);
      await sleep(50);
    }
  }
}

/** Every event of a channel's history at or after `since`, page by page. */
async function historySince(host: string, channel: string, since: number): Promise<Array<{ action: string; id: string }>> {
  const api = createPresenceApi({ host });
  const events: Array<{ action: string; id: string }> = [];
  let cursor: string | undefined;
  do {
    const page = await api.history(channel, { since, limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    for (const event of page.events) events.push({ action: event.action, id: event.member.id });
    cursor = page.cursor;
  } while (cursor !== undefined);
  return events;
}

/** herenow of one channel (distinct), every page of users. */
async function hereNow(host: string, channel: string): Promise<{ userAmount: number; clientAmount: number; users: Array<{ id: string; data: unknown }> }> {
  type Page = { userAmount: number; clientAmount: number; users: Array<{ id: string; data: unknown }>; cursor?: string };
  const users: Array<{ id: string; data: unknown }> = [];
  let cursor: string | undefined;
  let page: Page;
  do {
    const query = new URLSearchParams({ includeUsers: "true", distinct: "true", limit: "1000" });
    if (cursor !== undefined) query.set("cursor", cursor);
    const response = await fetch(`http://${host}/parties/main/${channel}?${query}`);
    const body = (await response.json()) as { content: { channels: Record<string, Page> } };
    page = body.content.channels[channel]!;
    users.push(...page.users);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return { userAmount: page.userAmount, clientAmount: page.clientAmount, users };
}
