/** The options and events of a `PresenceClient`. */
import type { ChannelMode, Counts, JsonValue, Member, UserStatus } from "../party/protocol/index.ts";
import type { ClientPresenceEvent } from "./member-list.ts";

/** A token, or where to get a fresh one (sync or async). */
export type TokenSource = string | (() => string | Promise<string>);

/** How to reach the service and who this client is. */
export type PresenceClientOptions = {
  /** "localhost:1999", "my-app.user.partykit.dev" (a scheme is allowed and stripped). */
  host: string;
  /** The channel (room) to join. */
  channel: string;
  /** Omit to connect as an observer: sees presence, is not a member, is not counted. With a token, the token's `sub`. */
  userId?: string;
  /** JSON sent with the join and kept as the member's data. */
  userData?: JsonValue;
  /** What kind of client this is ("web", "app", "pc"…). */
  clientType?: string;
  /** "ws"/"wss"; by default ws for localhost and private addresses, wss otherwise. */
  protocol?: "ws" | "wss";
  /** The party name (default "main"). */
  party?: string;
  /** In interval mode (a channel past PRESENCE_ANNOUNCE_MAX members), follow the first `window` members by userId (0–100, default 0). */
  window?: number;
  /** A stable connection id (1–64 letters, digits and `_-.:`); by default partysocket makes one per client instance. */
  id?: string;
  /**
   * A client token (a JWT the app server signs; see `createPresenceToken`), or a function that
   * returns one, called again before every reconnect so an expired token is replaced.
   * Required when the service has auth on.
   */
  token?: TokenSource;
  /** A WebSocket class where there is no global one (Node 20: `import WebSocket from "ws"`). */
  WebSocket?: unknown;
  /** `fetch` for herenow across channels (default: the global one). */
  fetch?: typeof fetch;
  /** Largest userData accepted locally, matching the room's setting (default 4096). */
  maxUserDataBytes?: number;
  /** How long a request (herenow, leave) waits for its answer (default 10 s). */
  requestTimeoutMs?: number;
  /** Fastest and slowest reconnect delays, passed to partysocket. */
  minReconnectionDelay?: number;
  maxReconnectionDelay?: number;
};

/** The connection's state, as `status` events report it. */
export type ConnectionStatus = "connecting" | "open" | "closed";

/** Everything a `PresenceClient` emits. */
export type PresenceClientEvents = {
  join: ClientPresenceEvent;
  online: ClientPresenceEvent;
  offline: ClientPresenceEvent;
  leave: ClientPresenceEvent;
  update: ClientPresenceEvent;
  /** Every presence event, whatever its action. */
  presence: ClientPresenceEvent;
  /** The whole member list after any change. */
  members: Member[];
  /** A complete snapshot arrived (first connect, reconnect or gap). */
  sync: { members: Member[]; counts: Counts; seq: number; mode: ChannelMode };
  /** The channel crossed PRESENCE_ANNOUNCE_MAX: `members` is now every member (`full`) or this client's view (`interval`). */
  mode: ChannelMode;
  /** The room refused a message. */
  error: { code: string; message: string };
  /** The socket opened or closed. */
  status: ConnectionStatus;
  /** The socket closed, with the room's code and reason. */
  close: { code: number; reason: string };
  /** A watched user's status changed (see `watchUsers`). */
  user: UserStatus;
  /** The watched users' statuses, after any change. */
  users: UserStatus[];
};

