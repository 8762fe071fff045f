/**
 * `GET /metrics` (the server key): the service's numbers in Prometheus' text exposition format
 * (0.0.4), from one `metrics` call to each index shard (and the root), added up, never a
 * request per channel (index-shards.ts). Gauges
 * are the active channels' sums now; counters add up every channel's cumulative counters,
 * those of channels that dropped out of the index included, so they never decrease (see
 * index/metrics.ts). `prometheusText` is the pure rendering.
 */
import type { Parties } from "../server/calls.ts";
import type { MetricsTotals } from "../protocol/index.ts";
import { indexTotals } from "./index-shards.ts";

/** The content type of Prometheus' text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The event types, the push outcomes: listed at 0 before the first one, so a rate() has a start. */
const EVENT_TYPES = ["join", "online", "offline", "leave", "update"];
const PUSH_OUTCOMES = ["acked", "rejected", "timeout", "closed"];

type Sample = { labels?: Record<string, string>; value: number };
type Family = { name: string; type: "gauge" | "counter"; help: string; samples: Sample[] };

/** Answers `GET /metrics` (the caller is authorized). */
export async function metricsResponse(parties: Parties, shards: number): Promise<Response> {
  const totals = await indexTotals(parties, shards);
  return new Response(prometheusText(totals), { status: 200, headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" } });
}

/** The totals as Prometheus' text exposition format: HELP and TYPE lines, then the samples. */
export function prometheusText(totals: MetricsTotals): string {
  const { counters } = totals;
  const byLabel = (label: string, counts: Record<string, number>, known: readonly string[] = []): Sample[] =>
    [...new Set([...known, ...Object.keys(counts)])].sort().map((value) => ({ labels: { [label]: value }, value: counts[value] ?? 0 }));
  const one = (value: number): Sample[] => [{ value }];
  const families: Family[] = [
    { name: "presence_channels_active", type: "gauge", help: "Channels with an online member or a live client (the channel index's entries).", samples: one(totals.channels) },
    { name: "presence_clients", type: "gauge", help: "Clients of online members (herenow's clientAmount), summed over active channels.", samples: one(totals.clientAmount) },
    { name: "presence_users", type: "gauge", help: "Online users (herenow's userAmount), summed over active channels: a user online in two channels counts twice.", samples: one(totals.userAmount) },
    { name: "presence_http_clients", type: "gauge", help: "HTTP clients (members kept alive by heartbeats, without a socket), summed over active channels.", samples: one(totals.httpClients) },
    {
      name: "presence_members",
      type: "gauge",
      help: "Members (online and offline) of active channels, by the channel's mode (full: every client gets every member; interval: counts and a window).",
      samples: [
        { labels: { mode: "full" }, value: totals.members.full },
        { labels: { mode: "interval" }, value: totals.members.interval },
      ],
    },
    { name: "presence_events_total", type: "counter", help: "Presence events channels announced, by type.", samples: byLabel("type", counters.events, EVENT_TYPES) },
    { name: "presence_refused_connections_total", type: "counter", help: "Connects refused, at the edge or in the room, by reason (as in a channel's ?stats).", samples: byLabel("reason", counters.refusedConnections) },
    { name: "presence_refused_requests_total", type: "counter", help: "HTTP requests to channels refused, at the edge or in the room, by reason (as in a channel's ?stats).", samples: byLabel("reason", counters.refusedRequests) },
    { name: "presence_rejected_messages_total", type: "counter", help: "Socket messages channels rejected, by error code.", samples: byLabel("code", counters.rejectedMessages) },
    { name: "presence_replaced_clients_total", type: "counter", help: "Sockets replaced by a newer client of their user, by PRESENCE_CLIENT_POLICY.", samples: byLabel("policy", counters.replacedClients) },
    { name: "presence_closes_total", type: "counter", help: "Sockets channels closed, by reason.", samples: byLabel("reason", counters.closes) },
    { name: "presence_pushes_total", type: "counter", help: "Pushes channel rooms delivered to their clients of the user (one per push and channel, however many clients).", samples: one(counters.pushes.delivered ?? 0) },
    {
      name: "presence_push_outcomes_total",
      type: "counter",
      help: "What each client a push was delivered to did: acked, rejected (its handler failed), timeout (no answer by the deadline), closed (gone before answering).",
      samples: byLabel("outcome", Object.fromEntries(PUSH_OUTCOMES.map((outcome) => [outcome, counters.pushes[outcome] ?? 0])), PUSH_OUTCOMES),
    },
    { name: "presence_webhook_deliveries_total", type: "counter", help: "Webhook batches channels delivered (a 2xx answer).", samples: one(counters.webhookDeliveries.delivered ?? 0) },
    { name: "presence_webhook_failures_total", type: "counter", help: "Webhook delivery attempts that failed (retried, or dead-lettered after the last).", samples: one(counters.webhookDeliveries.failed ?? 0) },
    { name: "presence_webhook_dead_letters_total", type: "counter", help: "Webhook batches moved to the dead letters after their last attempt.", samples: one(counters.webhookDeliveries.deadLettered ?? 0) },
    { name: "presence_room_starts_total", type: "counter", help: "Channel room starts: first loads, restarts and wakes after an eviction.", samples: one(counters.starts) },
  ];
  return families.map(render).join("");
}

function render({ name, type, help, samples }: Family): string {
  const lines = [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
  for (const { labels, value } of samples) {
    const pairs = Object.entries(labels ?? {}).map(([label, v]) => `${label}="${escapeLabel(v)}"`);
    lines.push(`${name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${value}`);
  }
  return `${lines.join("\n")}\n`;
}

/** HELP text: a backslash and a line feed escaped. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A label value: a backslash, a double quote and a line feed escaped. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
