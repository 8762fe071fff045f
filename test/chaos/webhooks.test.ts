/**
 * Webhooks under churn: the churn model runs against a room with webhooks on, while the
 * receiver fails a fifth of its requests (500s and timeouts). At the end every batch must be
 * delivered, and the receiver's events, with repeated webhook-ids dropped and applied in
 * order, must rebuild exactly the room's final member list (id, status, data).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../support/dev-server.ts";
import { type Receiver, startReceiver, webhookSecret } from "../support/webhook-receiver.ts";
import { agrees, chaosSeed, chaosVars, converge, explain, Prng, PresenceModel, sleep, Swarm } from "./model.ts";

const GRACE_MS = 2000;
const CHURN_MS = Number(process.env.CHAOS_CHURN_MS ?? 12_000);
const SECRET = webhookSecret();
const userIds = Array.from({ length: 40 }, (_, i) => (i % 8 === 3 ? `hook-é-${i}` : `w${String(i).padStart(2, "0")}`));

let server: DevServer | undefined;
let receiver: Receiver | undefined;
let swarm: Swarm | undefined;

beforeAll(async () => {
  receiver = await startReceiver(SECRET);
  server = await startDevServer({
    vars: {
      ...chaosVars(GRACE_MS),
      PRESENCE_WEBHOOK_URL: receiver.url,
      PRESENCE_WEBHOOK_SECRET: SECRET,
      PRESENCE_WEBHOOK_RETRY_MS: "100",
      PRESENCE_WEBHOOK_MAX_ATTEMPTS: "50",
      PRESENCE_WEBHOOK_TIMEOUT_MS: "500",
    },
  });
});

afterAll(async () => {
  swarm?.closeAll();
  await server?.stop();
  await receiver?.close();
});

describe("webhooks under churn, with an endpoint that fails a fifth of the time", () => {
  it("delivers every batch, and the receiver's events rebuild the room's final member list exactly", async () => {
    const seed = chaosSeed();
    console.log(`webhooks: seed ${seed} (replay with CHAOS_SEED=${seed})`);
    const rng = new Prng(seed + 7);
    let failures = 0;
    receiver!.answer = () => {
      const roll = rng.next();
      if (roll < 0.12) return failures++, { status: 500 };
      if (roll < 0.2) return failures++, { status: 200, delayMs: 800 };
      return { status: 200 };
    };
    const model = new PresenceModel(GRACE_MS);
    const channel = `chaos-hooks-${seed}`;
    swarm = new Swarm({ host: server!.host, channel, rng: new Prng(seed), model, userIds, target: 90 });
    await swarm.populate(70, 10);
    const end = Date.now() + CHURN_MS;
    while (Date.now() < end) {
      swarm.step();
      await sleep(25);
    }
    await swarm.drain();
    expect({ unanswered: swarm.problems, errors: swarm.errors() }, "requests never answered, and errors sent to honest clients").toEqual({ unanswered: [], errors: [] });
    await swarm.allSynced(30_000);
    await sleep(GRACE_MS + 1000);
    const { observation } = await converge(swarm, 15_000);
    if (!agrees(observation)) console.log(explain(swarm, observation));
    expect(agrees(observation), "the room equals its model").toBe(true);

    // Every batch delivered (the room's outbox empty), then rebuild from the receiver.
    let pending = -1;
    for (let i = 0; i < 120 && pending !== 0; i++) {
      const stats = (await (await fetch(`http://${server!.host}/parties/main/${channel}?stats`)).json()) as { content: { webhooks: { pending: number } } };
      pending = stats.content.webhooks.pending;
      if (pending !== 0) await sleep(250);
    }
    expect(pending, "batches still pending").toBe(0);
    const rebuilt = new Map<string, { id: string; status: string; data: unknown }>();
    for (const event of receiver!.channelEvents(channel)) {
      if (event.type === "leave") rebuilt.delete(event.id);
      else rebuilt.set(event.id, { id: event.id, status: event.status, data: event.data });
    }
    const expected = observation.expected.members.map(({ id, status, data }) => ({ id, status, data })).sort((a, b) => a.id.localeCompare(b.id));
    expect([...rebuilt.values()].sort((a, b) => a.id.localeCompare(b.id)), "the members the receiver rebuilt").toEqual(expected);

    const batches = receiver!.received.filter((r) => r.payload.type === "presence.events" && r.payload.data.channel === channel);
    const unique = new Set(batches.map((r) => r.id)).size;
    expect(batches.every((r) => r.verified), "every request signed").toBe(true);
    expect(failures, "the endpoint failed some requests").toBeGreaterThan(3);
    console.log(
      `CHAOS-SUMMARY webhooks seed=${seed} actions=${Object.values(swarm.done).reduce((a, b) => a + b, 0)} batches=${unique} ` +
        `requests=${batches.length} endpointFailures=${failures} events=${receiver!.channelEvents(channel).length} members=${expected.length} ` +
        `online=${expected.filter((m) => m.status === "online").length}`,
    );
  }, 150_000);
});
