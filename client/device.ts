/**
 * `partykit-presence/device`: keeps one HTTP client alive in a channel, for a device, a bot or
 * an agent that holds no socket. It sends a heartbeat at once and then every `renewEveryMs`
 * (a third of the TTL by default, so one lost heartbeat never lets it lapse), hands each push
 * to `onPush` once, acknowledges it with an immediate heartbeat after the handler returns,
 * and leaves on `stop()`. Uses only `fetch` and timers: Node, Deno, Bun, workers, browsers.
 */
import type { JsonValue } from "../party/wire/json.ts";
import type { HeldPush } from "../party/protocol/index.ts";
import { type HttpClientAnswer, type HttpClientInput, httpClientsApi } from "./http-clients.ts";
import { PresenceHttpError, type PresenceApiOptions } from "./http.ts";

export type { HeldPush } from "../party/protocol/index.ts";
export type { HttpClientAnswer } from "./http-clients.ts";
export { PresenceHttpError } from "./http.ts";

/** What the device is and how it reaches the service. */
export type DeviceOptions = Omit<PresenceApiOptions, "serverKey"> & {
  channel: string;
  /** This client's id (a serial number, an agent's name): 1–64 letters, digits and `_-.:`. */
  clientId: string;
  userId: string;
  data?: JsonValue;
  /** Default "device". */
  clientType?: string;
  /** Default 30,000: without a heartbeat for this long the client expires and its member may go offline. */
  ttlMs?: number;
  /** Default a third of `ttlMs`. */
  renewEveryMs?: number;
  /** A client token (its `sub` is `userId`), or a function that returns a fresh one; the device's own credentials. */
  token?: string | (() => Promise<string> | string);
  /** Or the server key, for a backend that keeps clients for its users (never ship it to a device you do not own). */
  serverKey?: string;
  /** Called once per push id; when it returns, the push is acknowledged. A handler that throws leaves it unacknowledged. */
  onPush?: (push: HeldPush) => unknown;
  /** A heartbeat failed. It is retried at the next interval unless `fatal` (replaced, conflict, refused): then the device stops. */
  onError?: (error: Error, fatal: boolean) => void;
};

/** One device's presence. */
export type PresenceDevice = {
  /** Sends the first heartbeat and keeps renewing; resolves with its answer. */
  start(): Promise<HttpClientAnswer>;
  /** Changes the member's data with a heartbeat now. */
  setData(data: JsonValue): Promise<HttpClientAnswer>;
  /** Stops renewing and removes the client (its member leaves unless it has other clients). */
  stop(): Promise<void>;
  /** When the client expires without another heartbeat (epoch ms), or null before the first answer. */
  readonly expiresAt: number | null;
  readonly running: boolean;
};

/** How many handled push ids a device remembers, to hand each to `onPush` once. */
const REMEMBERED_PUSHES = 256;

/** Makes a device; nothing is sent until `start()`. */
export function createPresenceDevice(options: DeviceOptions): PresenceDevice {
  const ttlMs = options.ttlMs ?? 30_000;
  const every = options.renewEveryMs ?? Math.floor(ttlMs / 3);
  const { token, ...where } = options;
  const api = httpClientsApi(token === undefined ? where : { ...where, token: typeof token === "function" ? token : () => token });
  let data = options.data;
  let running = false;
  let expiresAt: number | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const acks = new Set<string>();
  const handled: string[] = [];
  let inFlight: Promise<HttpClientAnswer> | null = null;

  const schedule = (delay: number) => {
    if (timer !== null) clearTimeout(timer);
    timer = running ? setTimeout(() => void beat().catch(() => undefined), delay) : null;
  };

  const handle = async (pushes: HeldPush[]) => {
    let fresh = false;
    for (const push of pushes) {
      if (handled.includes(push.id)) {
        // Handled before, its ack lost or not sent yet: acknowledge it again.
        if (!acks.has(push.id)) {
          acks.add(push.id);
          fresh = true;
        }
        continue;
      }
      try {
        await options.onPush?.(push);
      } catch {
        continue; // not acknowledged: it comes back with the next heartbeat, until its time runs out
      }
      handled.push(push.id);
      if (handled.length > REMEMBERED_PUSHES) handled.shift();
      acks.add(push.id);
      fresh = true;
    }
    // Acknowledge at once, so the pusher hears back without waiting a whole interval.
    if (fresh && running) schedule(0);
  };

  const beat = (): Promise<HttpClientAnswer> => {
    if (inFlight) return inFlight;
    const sending = [...acks];
    const heartbeat: HttpClientInput = { userId: options.userId, ttlMs };
    if (data !== undefined) heartbeat.data = data;
    if (options.clientType !== undefined) heartbeat.clientType = options.clientType;
    if (sending.length > 0) heartbeat.acks = sending;
    inFlight = api
      .heartbeat(options.channel, options.clientId, heartbeat)
      .then(
        (answer) => {
          for (const id of sending) acks.delete(id);
          expiresAt = answer.expiresAt;
          schedule(every);
          void handle(answer.pushes);
          return answer;
        },
        (error: Error) => {
          const fatal = error instanceof PresenceHttpError && [400, 401, 403, 409, 413].includes(error.code);
          if (fatal) running = false;
          schedule(every);
          options.onError?.(error, fatal);
          throw error;
        },
      )
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };

  return {
    start() {
      running = true;
      return beat();
    },
    async setData(next) {
      data = next;
      await inFlight?.catch(() => undefined);
      return beat();
    },
    async stop() {
      running = false;
      schedule(0);
      await inFlight?.catch(() => undefined);
      await api.removeClient(options.channel, options.clientId);
      expiresAt = null;
    },
    get expiresAt() {
      return expiresAt;
    },
    get running() {
      return running;
    },
  };
}
