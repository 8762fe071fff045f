// @ts-check
/**
 * The latency bench's fill, run in a process of its own (`fork`ed by latency.mjs): the room's
 * N members other than the observer and the updater, opened exactly as latency.mjs opens them
 * (`openMember`: the same query, a first snapshot starts a member's heartbeat, nothing else is
 * parsed). In production every client is its own machine; here, in the observer's process,
 * the frames of one broadcast to 5,000 sockets were read one after another by the same event
 * loop before the observer's (the last socket a broadcast reaches), so the load generator's own
 * reading was part of every lone change timed. Apart, the observer reads its frame when it
 * arrives; the fill's reading still takes this machine's CPU, as the server's sending does.
 *
 * Messages from the parent: `{ type: "fill", base, kind, window, members: number[], concurrency }`
 * (answered `{ type: "filled", opened, failed }`), then `{ type: "close" }` (its sockets are
 * terminated; answered `{ type: "closed" }`, then it exits).
 */
import { newClient } from "./clients.mjs";
import { openMember } from "./latency.mjs";

/** @typedef {import("./clients.mjs").Client} Client */

/** @type {Client[]} */
const clients = [];

process.on("message", async (/** @type {any} */ message) => {
  if (message.type === "fill") {
    const { base, kind, window, members, concurrency } = message;
    let next = 0;
    let failed = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, members.length) }, async () => {
        while (next < members.length) {
          const i = members[next++];
          const client = newClient();
          clients.push(client);
          try {
            await openMember(client, { base, kind, window, i, silent: kind === "naive", onMessage: null });
          } catch {
            failed++;
          }
        }
      }),
    );
    process.send?.({ type: "filled", opened: clients.length - failed, failed });
  } else if (message.type === "close") {
    for (const client of clients) {
      if (client.ping) clearInterval(client.ping);
      client.ws?.terminate();
    }
    process.send?.({ type: "closed" }, () => process.exit(0));
  }
});
