/**
 * The user directory grown on a running deployment: 1,000 users (online ones as HTTP clients
 * and sockets, offline ones with their lastSeen, some watched by another socket) across 4
 * directory parts; a restart on the same port and persist dir with PRESENCE_DIRECTORY_PARTS=16
 * answers every one of them on /users exactly as before, with no user.online/user.offline
 * webhook but the one of the user whose socket closed during the restart (once, after grace);
 * the watcher hears later changes and a push reaches a moved user. Then a restart with fewer
 * parts is refused with an error naming both counts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PresenceClient, UserStatus } from "../../client/index.ts";
import { createPresenceApi } from "../../client/server.ts";
import { partOf } from "../../party/server/parts.ts";
import { presenceClient, waitFor } from "../support/clients.ts";
import { type DevServer, startDevServer } from "../support/dev-server.ts";
import { type Receiver, startReceiver, webhookSecret } from "../support/webhook-receiver.ts";

const GRACE_MS = 3000;
const SECRET = webhookSecret();
const USERS = Array.from({ length: 1000 }, (_, i) => `grow-${i}`);
/** Users that move from 4 parts to 16 (to a part that did not exist before). */
const movers = USERS.filter((id) => partOf(id, 4) !== partOf(id, 16));
const PUSHEE = movers[0]!;
const VANISHER = movers[1]!;
const socketUsers = new Set([PUSHEE, VANISHER]);
/** Every third user is offline (its HTTP client ran out); the others are online in one of five channels. */
const offline = new Set(USERS.filter((_, i) => i % 3 === 2 && !socketUsers.has(USERS[i]!)));
const onlineHttp = USERS.filter((id) => !offline.has(id) && !socketUsers.has(id));
/** The two socket users share a channel: the pushee's socket coming back wakes the room (on PartyKit a room only its alarm woke cannot call out). */
const channelOf = (id: string) => (socketUsers.has(id) ? "grow-c0" : `grow-c${USERS.indexOf(id) % 5}`);
/** Watched by the watcher: movers online and offline, and the two socket users. */
const WATCHED = [...movers.filter((id) => onlineHttp.includes(id)).slice(0, 20), ...movers.filter((id) => offline.has(id)).slice(0, 20), PUSHEE, VANISHER];

let receiver: Receiver;
const servers: DevServer[] = [];
const open: PresenceClient[] = [];
beforeAll(async () => {
  receiver = await startReceiver(SECRET);
});
afterAll(async () => {
  await receiver.close();
});
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  for (const server of servers.splice(0)) await server.stop();
});

/** The user.online / user.offline webhook events so far, as `type:userId`, each batch once. */
function userEvents(): string[] {
  const seen = new Set<string>();
  const events: string[] = [];
  for (const r of receiver.received) {
    if (!r.verified || seen.has(r.id) || r.payload.type !== "user.events") continue;
    seen.add(r.id);
    for (const event of r.payload.data.events) events.push(`${event.type}:${event.userId}`);
  }
  return events;
}

async function everyone(host: string): Promise<Record<string, UserStatus>> {
  return createPresenceApi({ host }).users(USERS);
}

describe("directory parts grown from 4 to 16 by a restart", () => {
  it(
    "answers all 1,000 users as before, moves nobody's status, the watcher hears later changes, a push reaches a moved user; a smaller count is refused",
    async () => {
      expect(movers.length).toBeGreaterThan(600);
      const vars = {
        PRESENCE_GRACE_MS: String(GRACE_MS),
        PRESENCE_DIRECTORY_PARTS: "4",
        PRESENCE_WEBHOOK_URL: receiver.url,
        PRESENCE_WEBHOOK_SECRET: SECRET,
        PRESENCE_WEBHOOK_EVENTS: "user.online,user.offline",
        PRESENCE_WEBHOOK_RETRY_MS: "200",
      };
      const first = await startDevServer({ vars });
      servers.push(first);
      const { host, port, persistDir } = first;
      const api = createPresenceApi({ host });

      // 1,000 users: HTTP clients online for long, or for a second only (then offline), and two sockets.
      for (let c = 0; c < 5; c++) {
        const channel = `grow-c${c}`;
        const clients = USERS.filter((id) => channelOf(id) === channel && !socketUsers.has(id)).map((id) => ({
          clientId: `h-${id}`,
          userId: id,
          data: { id },
          ttlMs: offline.has(id) ? 1000 : 600_000,
        }));
        await api.heartbeatMany(channel, clients);
      }
      const socketOf = async (userId: string) => {
        const c = presenceClient(host, { channel: channelOf(userId), userId, userData: { id: userId } });
        open.push(c);
        await c.ready();
        return c;
      };
      const pushee = await socketOf(PUSHEE);
      const vanisher = await socketOf(VANISHER);
      const watcher = presenceClient(host, { channel: "grow-watch" });
      open.push(watcher);
      await watcher.ready();
      watcher.watchUsers(WATCHED);

      const before = await waitFor(
        "the directory to know all 1,000",
        async () => {
          const users = await everyone(host);
          const settled = USERS.every((id) => (offline.has(id) ? users[id]?.online === false && users[id].lastSeen !== null : users[id]?.online === true));
          return settled ? users : null;
        },
        60_000,
      );
      await waitFor("the watcher's list", () => WATCHED.every((id) => watcher.watchedUser(id)?.lastSeen != null));
      // Every online user once and every offline one twice (on, off) so far; nothing more may come of the move.
      await waitFor("the webhooks so far", () => userEvents().length === USERS.length + offline.size, 30_000);
      const eventsBefore = userEvents().length;

      let pusheeSyncs = 0;
      pushee.on("sync", () => pusheeSyncs++);
      await first.stop();
      servers.splice(servers.indexOf(first), 1);
      vanisher.close();
      const second = await startDevServer({ vars: { ...vars, PRESENCE_DIRECTORY_PARTS: "16" }, port, persistDir });
      servers.push(second);
      await waitFor("the pushee's socket to come back", () => pusheeSyncs >= 1, 30_000);

      const after = await everyone(host);
      const { [VANISHER]: vanisherBefore, ...othersBefore } = before;
      const { [VANISHER]: vanisherAfter, ...othersAfter } = after;
      expect(othersAfter).toEqual(othersBefore);
      expect(vanisherAfter).toMatchObject({ online: true, since: vanisherBefore!.since });

      // The socket that closed during the restart goes offline after grace, once; nobody else moves.
      await waitFor("the vanisher offline", async () => (await api.users([VANISHER]))[VANISHER]!.online === false, GRACE_MS * 3 + 30_000);
      await waitFor("its webhook", () => userEvents().length > eventsBefore, 10_000);
      await new Promise((done) => setTimeout(done, GRACE_MS));
      expect(userEvents().slice(eventsBefore)).toEqual([`user.offline:${VANISHER}`]);
      const settled = await everyone(host);
      expect(Object.fromEntries(Object.entries(settled).filter(([id]) => id !== VANISHER))).toEqual(othersBefore);

      // The watcher (its socket back too) hears a moved user leave; a push reaches the moved pushee.
      await waitFor("the watcher to see the vanisher offline", () => watcher.watchedUser(VANISHER)?.online === false, 30_000);
      const leaving = WATCHED.find((id) => onlineHttp.includes(id))!;
      expect(partOf(leaving, 16)).not.toBe(partOf(leaving, 4));
      await api.removeClient(channelOf(leaving), `h-${leaving}`);
      await waitFor("the watcher to see a moved user leave", () => watcher.watchedUser(leaving)?.online === false, GRACE_MS * 3 + 20_000);
      const pushes: unknown[] = [];
      pushee.on("push", (data) => void pushes.push(data));
      const result = await api.push(PUSHEE, { hello: "moved" }, { timeoutMs: 10_000 });
      expect(result.acked).toEqual([expect.objectContaining({ channel: channelOf(PUSHEE) })]);
      expect(pushes).toEqual([{ hello: "moved" }]);

      // A restart with fewer parts is refused: every part names both counts, and says so in its log.
      for (const c of open.splice(0)) c.close();
      await second.stop();
      servers.splice(servers.indexOf(second), 1);
      const third = await startDevServer({ vars: { ...vars, PRESENCE_DIRECTORY_PARTS: "2" }, port, persistDir });
      servers.push(third);
      const refused = await fetch(`http://${host}/users?userId=${encodeURIComponent(USERS[0]!)}`);
      const body = (await refused.json()) as { message: string };
      expect(refused.status).toBe(502);
      expect(body.message).toMatch(/ran with PRESENCE_DIRECTORY_PARTS=16 and was started with 2/);
      await waitFor("the refusal in the log", () => /ran with PRESENCE_DIRECTORY_PARTS=16 and was started with 2/.test(third.log()));
    },
    240_000,
  );
});
