/**
 * The `partysocket` a `PresenceClient` rides on: reconnect delays, 15 s for each connect
 * attempt, and a random extra wait before each reconnect (backoff.ts).
 */
import { PartySocket } from "partysocket";
import { reconnectJitterMs } from "./backoff.ts";
import type { PresenceClientOptions } from "./types.ts";

/** partysocket's reconnect delays: the first retry's, and the longest. */
const MIN_RECONNECT_MS = 250;
const MAX_RECONNECT_MS = 10_000;
/**
 * How long one connect attempt may take before it is given up (partysocket's default is 4 s).
 * When a deploy drops a crowd, the room accepts them as fast as it can; an attempt given up
 * while it waits its turn costs the room a connect and a close for nothing, and the crowd
 * never gets in. Longer than the engine needs to take a few thousand connects.
 */
const CONNECT_TIMEOUT_MS = 15_000;

/** Dials the channel; `query` is asked for each (re)connect's query after the jitter, so a reconnect carries the latest userData and token. */
export function dial(options: PresenceClientOptions, query: () => Promise<Record<string, string>>): PartySocket {
  const min = options.minReconnectionDelay ?? MIN_RECONNECT_MS;
  const max = options.maxReconnectionDelay ?? MAX_RECONNECT_MS;
  const socket: PartySocket = new PartySocket({
    host: options.host,
    room: options.channel,
    party: options.party,
    id: options.id,
    protocol: options.protocol,
    WebSocket: options.WebSocket,
    minReconnectionDelay: min,
    maxReconnectionDelay: max,
    maxEnqueuedMessages: 0,
    connectionTimeout: CONNECT_TIMEOUT_MS,
    // A function, called before every connect.
    query: async () => {
      // Spread a crowd's reconnects (partysocket's own delay is the same for every client).
      const jitter = reconnectJitterMs(socket.retryCount, min, max, Math.random());
      if (jitter > 0) await new Promise((done) => setTimeout(done, jitter));
      return query();
    },
  });
  return socket;
}
