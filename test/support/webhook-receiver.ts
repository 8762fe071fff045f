/**
 * A webhook receiver for the tests: a real HTTP server on 127.0.0.1 that verifies every
 * request with the `standardwebhooks` package and records it, answering as the test says
 * (a status, a delay, or a run of failures first).
 */
import { createServer, type Server } from "node:http";
import { Webhook } from "standardwebhooks";
import type { WebhookChannelEvent, WebhookOccupancyEvent, WebhookPayload } from "../../party/protocol/index.ts";

/** A random Standard Webhooks secret. */
export function webhookSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
}

/** One request the receiver got: its webhook-id, whether it verified, and the payload. */
export type Received = { id: string; verified: boolean; payload: WebhookPayload; at: number };

/** How the receiver answers a request: a status, after a delay. */
export type Answer = { status: number; delayMs?: number; headers?: Record<string, string> };

export type Receiver = {
  url: string;
  received: Received[];
  /** Decides the answer to each request (default 200 at once). */
  answer: (request: Received) => Answer;
  /** The verified payloads' presence events, by channel, in the order they arrived (duplicate ids dropped; occupancy changes left out). */
  channelEvents(channel: string): Array<{ type: string; id: string; seq: number; data: unknown; status: string }>;
  /** Every event of a channel's verified batches as `type` (presence events as `type id`), in the order they arrived, duplicate ids dropped. */
  allChannelEvents(channel: string): string[];
  close(): Promise<void>;
};

export async function startReceiver(secret: string): Promise<Receiver> {
  const verifier = new Webhook(secret);
  /** The events of a channel's verified batches, in order, each batch once. */
  const batchEvents = (channel: string) => {
    const seen = new Set<string>();
    const events: Array<WebhookChannelEvent | WebhookOccupancyEvent> = [];
    for (const r of receiver.received) {
      if (!r.verified || seen.has(r.id) || r.payload.type !== "presence.events" || r.payload.data.channel !== channel) continue;
      seen.add(r.id);
      events.push(...r.payload.data.events);
    }
    return events;
  };
  const receiver: Receiver = {
    url: "",
    received: [],
    answer: () => ({ status: 200 }),
    channelEvents(channel) {
      const events: Array<{ type: string; id: string; seq: number; data: unknown; status: string }> = [];
      for (const e of batchEvents(channel)) if ("member" in e) events.push({ type: e.type, id: e.member.id, seq: e.seq, data: e.member.data, status: e.member.status });
      return events;
    },
    allChannelEvents(channel) {
      return batchEvents(channel).map((e) => ("member" in e ? `${e.type} ${e.member.id}` : e.type));
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const headers = Object.fromEntries(["webhook-id", "webhook-timestamp", "webhook-signature"].map((name) => [name, String(request.headers[name] ?? "")]));
      let verified = true;
      let payload: WebhookPayload;
      try {
        payload = verifier.verify(body, headers) as WebhookPayload;
      } catch {
        verified = false;
        payload = JSON.parse(body) as WebhookPayload;
      }
      const entry: Received = { id: headers["webhook-id"]!, verified, payload, at: Date.now() };
      receiver.received.push(entry);
      const { status, delayMs = 0, headers: extra = {} } = receiver.answer(entry);
      setTimeout(() => response.writeHead(status, extra).end(status < 300 ? "ok" : "no"), delayMs);
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  receiver.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/hook`;
  return receiver;
}
