/**
 * GoEasy's presence API over `PresenceClient`, so code written for GoEasy runs against this
 * service with its host (and key) changed: `new GoEasy({host, appkey, userId, userData})`,
 * `subscribePresence`, `unsubscribePresence`, `hereNow` and `disconnect`, with GoEasy's
 * callbacks (`onPresence`, `onSuccess`, `onFailed`, hereNow's second argument) and answer shapes.
 *
 * The mapping (README, "Coming from GoEasy"): a GoEasy built with a `userId` that subscribes to
 * a channel's presence is a member of that channel (one `PresenceClient` per channel);
 * `unsubscribePresence` is its `leave` (others see `leave`), `disconnect` closes every channel
 * (others see `offline` after the grace period). Without a `userId` it only watches. GoEasy's
 * `appkey` is a public key; here a browser's identity is a signed token (`token`), so the
 * appkey is not sent anywhere by this client.
 */
import type { JsonValue } from "../party/wire/json.ts";
import type { PresenceAction } from "../party/protocol/index.ts";
import { fetchHereNow, type HereNowResult, PresenceHttpError } from "./http.ts";
import { PresenceClient } from "./index.ts";
import type { ClientPresenceEvent } from "./member-list.ts";
import type { TokenSource } from "./types.ts";

/** What `new GoEasy(…)` takes: GoEasy's options, and what this service adds. */
export type GoEasyOptions = {
  /** The service's host ("localhost:1999", "my-app.user.partykit.dev"), where GoEasy's was "hangzhou.goeasy.io". */
  host: string;
  /** GoEasy's application key. Kept for the same code to run; this client sends it nowhere (see `token`). */
  appkey?: string;
  /** Who this client is: with it, a channel it subscribes to the presence of counts it as a member. */
  userId?: string;
  /** The member's data, seen by the others with its events and in herenow. */
  userData?: JsonValue;
  /** A client token, when the service has auth on (`createPresenceToken` on your server). */
  token?: TokenSource;
  /** What kind of client this is ("web", "app"…). */
  clientType?: string;
  /** "ws"/"wss"; by default ws for localhost and private addresses, wss otherwise. */
  protocol?: "ws" | "wss";
  /** A WebSocket class where there is no global one (Node 20: the `ws` package). */
  WebSocket?: unknown;
  /** `fetch` for hereNow (default: the global one). */
  fetch?: typeof fetch;
  /** The channel party's name (default "main"). */
  party?: string;
};

/** A failure, as GoEasy's `onFailed` gets it: an HTTP-like code, and what went wrong. */
export type GoEasyError = { code: number; content: string };

/** A presence event, as GoEasy's `onPresence` gets it. */
export type GoEasyPresenceEvent = {
  /** join, online, offline or leave. */
  action: Exclude<PresenceAction, "update">;
  /** The user the event is about, with its userData. */
  member: { id: string; data: JsonValue };
  /** Online users in the channel after the event (GoEasy's `amount`). */
  amount: number;
  /** Online users and clients in the channel after the event. */
  userAmount: number;
  clientAmount: number;
  /** When the client heard it (epoch ms). */
  time: number;
};

/** What `subscribePresence` takes. */
export type SubscribePresenceOptions = {
  channel: string;
  onPresence?: (event: GoEasyPresenceEvent) => void;
  onSuccess?: () => void;
  onFailed?: (error: GoEasyError) => void;
};

/** What `unsubscribePresence` and `disconnect` take. */
export type GoEasyCallbacks = { onSuccess?: () => void; onFailed?: (error: GoEasyError) => void };

/** What `hereNow` takes: one channel or many. */
export type GoEasyHereNowOptions = {
  channels?: string[];
  channel?: string;
  /** Lists the online users, not only the counts (default false). */
  includeUsers?: boolean;
  /** Lists a user once however many clients it has (default false). */
  distinct?: boolean;
  onSuccess?: (response: HereNowResult) => void;
  onFailed?: (error: GoEasyError) => void;
};

/** hereNow's answer to its callback: the service's `{code: 200, content: {channels}}`, or `{code, content}` with what failed. */
export type GoEasyHereNowResponse = HereNowResult | GoEasyError;

/** The actions GoEasy's `onPresence` knows (a userData `update` is this service's own). */
const GOEASY_ACTIONS = new Set<string>(["join", "online", "offline", "leave"]);

/** GoEasy's client, over one `PresenceClient` per channel whose presence it subscribes to. */
export class GoEasy {
  readonly #options: GoEasyOptions;
  readonly #channels = new Map<string, PresenceClient>();

  constructor(options: GoEasyOptions) {
    if (typeof options?.host !== "string" || options.host === "") throw new Error("GoEasy: host is required (this service's host, e.g. localhost:1999)");
    this.#options = options;
  }

  /**
   * Hears the channel's presence events; with a `userId`, this client is a member of the
   * channel from now on. `onSuccess` once the channel's list has arrived; `onFailed` if the
   * channel refuses this client (a bad name, token or userData; full; banned).
   */
  subscribePresence(options: SubscribePresenceOptions): void {
    const { channel, onPresence, onSuccess, onFailed } = options;
    let client: PresenceClient;
    try {
      if (this.#channels.has(channel)) throw new Error(`already subscribed to the presence of ${channel}`);
      client = this.#client(channel);
    } catch (error) {
      onFailed?.(failure(400, error));
      return;
    }
    this.#channels.set(channel, client);
    client.on("presence", (event) => {
      if (GOEASY_ACTIONS.has(event.action)) onPresence?.(goEasyEvent(event));
    });
    let settled = false;
    const offClose = client.on("close", ({ code, reason }) => {
      if (settled) return;
      settled = true;
      offClose();
      onFailed?.({ code, content: reason || "the connection closed before the channel answered" });
    });
    client.ready().then(() => {
      if (settled) return;
      settled = true;
      offClose();
      onSuccess?.();
    });
  }

  /** Stops hearing the channel; a member leaves it (the others see `leave`). */
  unsubscribePresence(options: { channel: string } & GoEasyCallbacks): void {
    const client = this.#channels.get(options.channel);
    if (!client) {
      options.onFailed?.({ code: 400, content: `not subscribed to the presence of ${options.channel}` });
      return;
    }
    this.#channels.delete(options.channel);
    client.leave().then(
      () => options.onSuccess?.(),
      (error: unknown) => options.onFailed?.(failure(500, error)),
    );
  }

  /**
   * Who is in the channels now, in GoEasy's shape. The answer goes to `callback` (GoEasy's
   * second argument) and to `onSuccess`; a failure goes to `callback` as `{code, content}` and to `onFailed`.
   */
  hereNow(options: GoEasyHereNowOptions, callback?: (response: GoEasyHereNowResponse) => void): void {
    const channels = options.channels ?? (options.channel === undefined ? [] : [options.channel]);
    const { host, party } = this.#options;
    const protocol = this.#options.protocol && (this.#options.protocol === "wss" ? "https" : "http");
    const token = this.#options.token;
    Promise.resolve(typeof token === "function" ? token() : token)
      .then((resolved) =>
        fetchHereNow({ host, protocol, party, fetch: this.#options.fetch }, { channels, includeUsers: options.includeUsers === true, distinct: options.distinct === true, token: resolved }),
      )
      .then(
        (response) => {
          callback?.(readsAsJson(response));
          options.onSuccess?.(response);
        },
        (error: unknown) => {
          const failed = readsAsJson(error instanceof PresenceHttpError ? { code: error.code, content: error.message } : failure(500, error));
          callback?.(failed);
          options.onFailed?.(failed);
        },
      );
  }

  /** Closes every channel without leaving: the others see `offline` after the grace period. */
  disconnect(options: GoEasyCallbacks = {}): void {
    for (const client of this.#channels.values()) client.close();
    this.#channels.clear();
    options.onSuccess?.();
  }

  /** The channels whose presence this client hears. */
  get channels(): string[] {
    return [...this.#channels.keys()];
  }

  #client(channel: string): PresenceClient {
    const { host, userId, userData, token, clientType, protocol, WebSocket, fetch, party } = this.#options;
    const options: ConstructorParameters<typeof PresenceClient>[0] = { host, channel };
    if (userId !== undefined) options.userId = userId;
    if (userData !== undefined) options.userData = userData;
    if (token !== undefined) options.token = token;
    if (clientType !== undefined) options.clientType = clientType;
    if (protocol !== undefined) options.protocol = protocol;
    if (WebSocket !== undefined) options.WebSocket = WebSocket;
    if (fetch !== undefined) options.fetch = fetch;
    if (party !== undefined) options.party = party;
    return new PresenceClient(options);
  }
}

/** An event of ours in GoEasy's shape. */
function goEasyEvent(event: ClientPresenceEvent): GoEasyPresenceEvent {
  return {
    action: event.action as GoEasyPresenceEvent["action"],
    member: { id: event.member.id, data: event.member.data },
    amount: event.userAmount,
    userAmount: event.userAmount,
    clientAmount: event.clientAmount,
    time: Date.now(),
  };
}

/**
 * The answer, whose text is its JSON: GoEasy's own example alerts `"hereNow response: " + response`
 * and calls it the JSON response; with this it shows the JSON, not `[object Object]`.
 */
function readsAsJson<T extends object>(value: T): T {
  Object.defineProperty(value, "toString", { value: () => JSON.stringify(value), enumerable: false });
  return value;
}

/** A thrown error as GoEasy's `{code, content}`. */
function failure(code: number, error: unknown): GoEasyError {
  return { code, content: error instanceof Error ? error.message : String(error) };
}

export default GoEasy;
