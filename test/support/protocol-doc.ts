/**
 * Renders docs/protocol.md from the zod schemas in party/protocol.ts, so the document cannot
 * drift from the code. Used by test/unit/generated.test.ts (and `npm run generate`).
 */
import { z } from "zod";
import { ConfigEnv } from "../../party/server/config.ts";
import { MAX_JSON_DEPTH } from "../../party/wire/json.ts";
import {
  ChannelHereNow,
  ClientMessage,
  ClientSettings,
  CLOSE_CODES,
  ConnectQuery,
  ERROR_CODES,
  ErrorResponse,
  HereNowResponse,
  HereNowUser,
  JsonValue,
  MAX_HERENOW_CHANNELS,
  Member,
  MemberStatus,
  PresenceAction,
  PresenceEvent,
  RoomStats,
  ServerMessage,
  StatsResponse,
  TokenClaims,
  UserChannel,
  UsersResponse,
  UserStatus,
  MAX_USERS_PER_REQUEST,
  PushRequest,
  PushResult,
  AdminInfo,
  AdminSession,
  ChannelEntry,
  ChannelsMessage,
  HeldPush,
  HttpClientHeartbeat,
  HttpClientListing,
  HttpClientState,
  MAX_CLIENTS_PER_BATCH,
  HistoryEvent,
  HistoryPage,
  MAX_HISTORY_PAGE,
  DEFAULT_HISTORY_PAGE,
  USER_ID_RULE,
} from "../../party/protocol/index.ts";

type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  description?: string;
  id?: string;
  default?: unknown;
  $defs?: Record<string, JsonSchema>;
};

/** A TypeScript-like rendering of a JSON Schema; named schemas (`.meta({id})`) appear by name. */
function typeOf(schema: JsonSchema, top = false): string {
  if (schema.$ref) return schema.$ref.split("/").pop()!;
  if (!top && schema.id) return schema.id;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.map((s) => typeOf(s)).join(" | ");
  switch (schema.type) {
    case "array":
      return `${wrap(typeOf(schema.items ?? {}))}[]`;
    case "object": {
      if (schema.properties) {
        const required = new Set(schema.required ?? []);
        const fields = Object.entries(schema.properties).map(
          ([name, field]) => `${name}${required.has(name) ? "" : "?"}: ${typeOf(field)}`,
        );
        return `{ ${fields.join("; ")} }`;
      }
      if (typeof schema.additionalProperties === "object") return `Record<string, ${typeOf(schema.additionalProperties)}>`;
      return "object";
    }
    case "integer":
      return "integer";
    case undefined:
      return "unknown";
    default:
      return Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type;
  }
}

function wrap(type: string): string {
  return type.includes(" ") ? `(${type})` : type;
}

/** The JSON Schema of a zod schema; a named one is resolved from its `$defs`. */
function toSchema(schema: z.ZodType): JsonSchema {
  const root = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const name = root.$ref?.split("/").pop();
  return name && root.$defs?.[name] ? root.$defs[name] : root;
}

function messageTable(union: typeof ClientMessage | typeof ServerMessage): string {
  const rows = union.options.map((option) => {
    const schema = toSchema(option);
    const type = String(schema.properties?.type?.const);
    const { type: _drop, ...rest } = schema.properties ?? {};
    const fields = Object.keys(rest).length === 0 ? "—" : `\`${typeOf({ ...schema, properties: rest }, true).replace(/\|/g, "\\|")}\``;
    return `| \`${type}\` | ${fields} | ${option.description ?? ""} |`;
  });
  return ["| type | other fields | meaning |", "| --- | --- | --- |", ...rows].join("\n");
}

function namedType(name: string, schema: z.ZodType, note: string): string {
  const intro = note ? `${note}\n\n` : "";
  return `### ${name}\n\n${intro}\`\`\`ts\ntype ${name} = ${typeOf(toSchema(schema), true)};\n\`\`\``;
}

/** docs/protocol.md as it should be now. */
export function renderProtocolDoc(): string {
  const config = toSchema(ConfigEnv);
  const configRows = Object.entries(config.properties ?? {}).map(
    ([name, field]) => `| \`${name}\` | ${field.default === undefined ? "—" : String(field.default)} | ${field.description ?? ""} |`,
  );
  return `<!-- Generated from party/protocol/index.ts and party/server/config.ts by test/support/protocol-doc.ts.
     Do not edit by hand: run \`npm run generate\`. A unit test fails when this file is stale. -->

# Protocol

Every message is one JSON text frame. Every schema below is defined once, with zod, in
\`party/protocol/index.ts\`; the room, the client and the tests all import it.

## Connecting

\`ws(s)://HOST/parties/main/CHANNEL?userId=…&userData=…&clientType=…\`

- **CHANNEL**: 1–128 characters of letters, digits and \`_-.:@\`.
- **Query**: \`${typeOf(toSchema(ConnectQuery), true)}\`.
  \`userId\` absent: an **observer**, who receives presence but is no member and is not counted.
  \`userData\` is URL-encoded JSON, at most \`PRESENCE_MAX_USER_DATA_BYTES\` (default 4096) bytes of
  JSON text and ${MAX_JSON_DEPTH} levels deep. \`clientType\`: 1–32 letters, digits and \`_-.\`.
- A bad channel or query is refused **before the upgrade** with HTTP 400 and the error envelope
  below, whose \`message\` says what is wrong. partysocket's \`_pk\` parameter is the connection
  id, reused across reconnects.
- After the upgrade the room sends a \`sync\` snapshot, then \`diff\` messages. A client that sees
  a \`diff\` whose \`seq\` is not its last \`seq\` + 1 sends \`sync\` and ignores diffs until the
  snapshot arrives.

## Identifiers

- **userId** (\`UserId\`): 1–128 characters (counted as code points: an emoji is one), of any
  script, with spaces, punctuation and emoji, but: ${USER_ID_RULE.replace(/^userId may not hold /, "")}.
  These are refused because they break where ids are shown and stored: NUL ends C strings, ESC
  drives terminals, CR, LF and NEL forge log lines, U+2028/U+2029 end lines in JavaScript and log
  viewers, bidi controls make a dashboard or log show another id than the one stored, and a lone
  surrogate cannot be encoded in UTF-8.
- **clientId** of an HTTP client (\`ClientId\`): 1–64 letters, digits and \`_-.:\`.
- The same schema checks a userId wherever one comes in: the connect query, a token's \`sub\`,
  HTTP clients' heartbeats and batches, \`GET\`/\`POST /users\`, \`/users/USERID/push\`,
  \`/disconnect\` and \`/ban\`, a member's \`push\`, \`watch\` lists and herenow's \`cursor\`. The
  refusal says which rule was broken: 400 \`bad_request\` before the upgrade or from an HTTP route,
  401 for a token whose \`sub\` breaks it, an \`error\` frame \`bad_message\` on a socket. Where a
  channel's room is involved it counts the refusal in its stats (\`refusedConnections\`:
  \`bad_handshake\` or \`unauthorized\`; \`refusedRequests\`: \`bad_request\` or \`unauthorized\`;
  \`rejectedMessages\`: \`bad_message\`); the routes outside any channel (\`/users…\`) only answer.

## Client → server

${messageTable(ClientMessage)}

## Server → client

${messageTable(ServerMessage)}

## Types

${namedType("Member", Member, "A user known to the channel. `status` is online while at least one client is live or in grace. `since`: when it entered that status. `lastSeen`: for an offline member, when its last client was last seen; for an online one, when it came online. Times are epoch milliseconds.")}

${namedType("MemberStatus", MemberStatus, "")}

${namedType("PresenceEvent", PresenceEvent, "One presence action with the channel's counts after the tick it belongs to. `join`: a user became a member. `offline`: its last client has been gone for the grace period. `online`: an offline member has a live client again. `leave`: it unsubscribed, or stayed offline for the retention period; it is removed. `update`: its userData changed.")}

${namedType("PresenceAction", PresenceAction, "")}

${namedType("ChannelHereNow", ChannelHereNow, "herenow of one channel: `clientAmount` counts members' clients (live or in grace), `userAmount` online members; observers are not counted. `users` only with `includeUsers`; with `distinct` a user appears once, otherwise once per client.")}

${namedType("HereNowUser", HereNowUser, "")}

${namedType("UserStatus", UserStatus, "A user's status across every channel, from the user directory. `online` while any channel has a live (or in-grace) client of the user; a user leaving its last channel goes offline only after the grace period, so a reload or a move between channels shows nothing. `since`: when it entered that status; `lastSeen`: for an offline user, when its last client anywhere was last seen; `data`: the userData of its most recent connect or update. Kept for `PRESENCE_RETENTION_MS` after it was last seen.")}

${namedType("UserChannel", UserChannel, "")}

${namedType("PushResult", PushResult, "The answer to a push: `clients` it was sent to, those that acknowledged, and those that did not with why (`timeout`, `closed`, `rejected` with the handler's `error`). `failedChannels` names channels whose room could not be asked. The same push id within 10 minutes answers the same.")}

${namedType("ClientSettings", ClientSettings, "Told in every snapshot: how often to ping, and after how long a silent socket is closed.")}

${namedType("RoomStats", RoomStats, "A room's counters, by reason.")}

${namedType("JsonValue", JsonValue, "Any JSON value.")}

## HTTP

Every answer uses one envelope. Success: \`${typeOf(toSchema(HereNowResponse), true).replace(/\|/g, "\\|")}\`.
Failure: \`${typeOf(toSchema(ErrorResponse), true)}\`, where \`code\` equals the HTTP status.
Routes answer CORS preflights; \`access-control-allow-origin\` is \`*\`, or the caller's origin
when it is one of \`PRESENCE_ALLOWED_ORIGINS\` (a browser from another origin gets 403).

| route | credentials (when auth is on) | answer |
| --- | --- | --- |
| \`GET /parties/main/CHANNEL?includeUsers=true&distinct=true\` | the server key, or a token opening CHANNEL (\`?token=\` or \`Authorization: Bearer\`) | herenow of one channel (both flags default to false; \`true\`/\`false\`/\`1\`/\`0\`) |
| \`GET /herenow?channel=A&channel=B&includeUsers=…&distinct=…\` | the server key, or a token opening every channel named | herenow of 1 to ${MAX_HERENOW_CHANNELS} channels (repeat \`channel\` or separate with commas), fanned out to the rooms in parallel |
| \`GET /users?userId=A&userId=B…\`, \`POST /users\` with \`{"userIds": […]}\` | the server key, whenever one is set (with auth on, it must be set) | \`${typeOf(toSchema(UsersResponse), true).replace(/\|/g, "\\|")}\`: the status of 1 to ${MAX_USERS_PER_REQUEST} users across channels; an unknown user is \`{id, online: false, lastSeen: null}\` |
| \`POST /users/USERID/push\` with \`${typeOf(toSchema(PushRequest), true).replace(/\|/g, "\\|")}\` | the server key, whenever one is set (with auth on, it must be set) | \`PushResult\`, once every targeted client acknowledged or \`timeoutMs\` passed (400 a bad body or timeoutMs, 413 data over PRESENCE_MAX_PUSH_BYTES) |
| \`POST /users/USERID/disconnect\` with \`{reason?, channel?, banSeconds?}\` | the server key, whenever one is set (with auth on, it must be set) | \`DisconnectResult\`: every client of the user (or those in \`channel\`) closed at once without grace: sockets get an \`error\` frame \`kicked\` with the reason, then close code 4004, and do not reconnect; HTTP clients are removed. An unknown user answers \`clients: 0\`. With \`banSeconds\` (1 to a year) the user is banned first (\`bannedUntil\`): its connects, HTTP clients and tokens get 403 \`banned\` until then (409 when 10,000 bans are in force) |
| \`GET /users/USERID/ban\` | the server key | \`BanStatus\`: the user's ban in force, if any |
| \`DELETE /users/USERID/ban\` | the server key | \`BanLifted\`: \`lifted\` is false when there was no ban |
| \`GET /parties/main/CHANNEL?history&since=MS&limit=N&cursor=C\` | the server key or an admin token, whenever a key is set (with auth on, it must be set) | \`HistoryPage\`: the channel's presence events, oldest first (see [History](#history)) |
| \`GET /parties/main/CHANNEL?stats\` | the server key (\`Authorization: Bearer PRESENCE_SERVER_KEY\`), whenever one is set | \`${typeOf(toSchema(StatsResponse), true)}\` |
| \`GET /channels?q=&limit=\` | the server key or an admin token, whenever a key is set (with auth on, it must be set) | \`{total, channels: ChannelEntry[]}\`: the active channels from the channel index, most users first, names containing \`q\` |
| \`GET /admin\` | none | \`AdminInfo\`: whether the dashboard is open |
| \`POST /admin/token\` | the server key (or an admin token, which gets itself back) | \`AdminSession\`: a 10-minute admin token, or \`open: true\` with none needed |
| \`GET /dashboard\` | none (the page asks for the key) | 308 to \`/dashboard/\`, the operator page (static) |
| any other path | — | 404 \`not_found\` |
| another method on a route | — | 405 \`method_not_allowed\` |
| a bad channel name or flag | — | 400 \`bad_request\` |

## History

Each channel keeps its presence events, as its clients heard them (the same \`seq\` and counts
as the diffs; in interval mode every member's, not a window's), for \`PRESENCE_HISTORY_MS\`
(24 h) and at most \`PRESENCE_HISTORY_MAX\` of them (10,000; the oldest dropped first; 0: none),
in its storage, written in the tick that makes them before any client hears of them.
\`GET /parties/main/CHANNEL?history\` pages them oldest first:

- \`since\`: only events at or after this time (epoch ms, a whole number); a time in the future
  answers no events (clocks differ: it is no error). Not a whole number, or negative: 400 \`bad_request\`.
- \`limit\`: 1 to ${MAX_HISTORY_PAGE} events per page (default ${DEFAULT_HISTORY_PAGE}); anything else: 400 \`bad_request\`.
- \`cursor\`: the \`cursor\` of the page before, present while more events follow; pass it back as
  it came. One that this channel's history never gave (past its newest event, or not a number):
  400 \`bad_request\`; one whose events were dropped meanwhile starts at the oldest kept.
- Every refusal, here or at the edge (401 / 403 without the server key or an admin token), is
  counted in the room's \`refusedRequests\`; \`historyEvents\` in its stats says how many are kept.

${namedType("HistoryEvent", HistoryEvent, "A `PresenceEvent` with the `seq` of the diff that carried it and `at`, when the room announced it (the tick's time; never earlier than the event before).")}

${namedType("HistoryPage", HistoryPage, "")}

## HTTP clients

A member need not hold a socket: devices, bots, agents, or a backend acting for a user keep an
**HTTP client** alive by heartbeats with a TTL. Without a renewal it expires \`ttlMs\` after the
last one and, if it was its user's last client here, the member goes \`offline\` at once (the
TTL is its grace; \`since\` is the deadline, \`lastSeen\` the last heartbeat). Everything else
treats it as a client: herenow, events, the user directory, webhooks, caps, one-client
policies, stats (\`httpClients\`). It is stored with its deadline, so it survives hibernation,
eviction and a crash; a room back after the deadline announces it offline.

| route | credentials (when auth is on) | answer |
| --- | --- | --- |
| \`PUT /parties/main/CHANNEL/clients/CLIENT_ID\` with \`HttpClientHeartbeat\` | the server key (any userId), or the user's own token (\`Authorization: Bearer\` or \`?token=\`; its \`sub\` is the userId, its \`channels\` open CHANNEL) | \`HttpClientResponse\`: created or renewed; changed \`data\` is an \`update\` |
| \`POST /parties/main/CHANNEL/clients\` with \`HttpClientBatch\` (1 to ${MAX_CLIENTS_PER_BATCH}) | as above (a token: every client of its own user) | \`HttpClientBatchResponse\`: each client's state, or its own refusal; a bad body refuses the whole batch |
| \`DELETE /parties/main/CHANNEL/clients/CLIENT_ID\` | as above (a token: its own user's client) | \`{clientId, removed, clientAmount, userAmount}\`: the client leaves; \`removed: false\` for an unknown id |
| \`GET /parties/main/CHANNEL/clients?limit=&cursor=\` | the server key or an admin token | \`HttpClientListResponse\`: the channel's HTTP clients by id, with their deadlines |

- A token's client takes what the token fixes: its \`clientType\` (a different one is 403), its
  \`data\` (sending other data is 403 unless \`dataWritable\`), and it expires no later than the
  token (its \`exp\` plus the clock tolerance).
- \`ttlMs\` is 1000 to PRESENCE_MAX_CLIENT_TTL_MS (400 otherwise); \`clientType\` defaults to
  \`device\` and cannot change on a renewal (409 \`conflict\`); a client id that belongs to another
  user is 409 \`conflict\`, never a takeover; a client a one-client policy replaced is 409
  \`replaced\` until its TTL from the replacement has passed; the caps are 429 \`room_full\` /
  \`user_full\`; data over PRESENCE_MAX_USER_DATA_BYTES or a body over its cap is 413. Each
  refusal is counted in \`refusedRequests\`.
- **Pushes**: a push that reaches an HTTP client is held for it and returned in \`pushes\` by each
  heartbeat until a heartbeat acknowledges it (\`acks\`); in the push's answer it is acknowledged,
  or \`timeout\` when no heartbeat acknowledged it in time (\`connectionId\` is \`http/CLIENT_ID\`).
  Give such pushes a \`timeoutMs\` longer than the device's renewal interval.

${namedType("HttpClientHeartbeat", HttpClientHeartbeat, "One heartbeat.")}

${namedType("HttpClientState", HttpClientState, "A client after its heartbeat (plus the channel's `clientAmount` and `userAmount` in `PUT`'s answer).")}

${namedType("HeldPush", HeldPush, "A push held for an HTTP client.")}

${namedType("HttpClientListing", HttpClientListing, "An HTTP client as the listing shows it.")}

## Channel index and dashboard

Channel rooms report their counts to the index party (\`/parties/index/all\`); dashboards connect
there with \`?token=ADMIN_TOKEN\` (from \`POST /admin/token\`; none when the dashboard is open)
and receive a full list, then changes:

${namedType("ChannelsMessage", ChannelsMessage, "Index → dashboard: `full` first (every active channel), then the channels that changed and the names that went away.")}

${namedType("ChannelEntry", ChannelEntry, "An active channel (at least one online member or client): its counts, all members (online and offline), mode, and when its room last reported. Held for `PRESENCE_LEASE_MS` after the last report.")}

${namedType("AdminInfo", AdminInfo, "")}

${namedType("AdminSession", AdminSession, "An admin token (HS256, signed with a key derived from `PRESENCE_SERVER_KEY`, audience `presence-admin`) stands in for the server key on HTTP routes, opens the index socket, and connects observers to any channel even with auth on.")}

## Tokens

With \`PRESENCE_AUTH_SECRET\` (HS256) or \`PRESENCE_AUTH_JWKS_URL\` (RS/PS/ES/EdDSA) set, a connect
carries a JWT in \`?token=\`; it must have \`exp\`, and \`iss\`/\`aud\` when those settings are set.
Its other claims:

\`\`\`ts
type TokenClaims = ${typeOf(toSchema(TokenClaims), true)};
\`\`\`

A missing, malformed, wrongly signed, expired or not-yet-valid token, or one of an algorithm not
allowed, is refused with 401 before the upgrade; a valid one that does not open the channel, or
names another userId or clientType, with 403. A socket is closed with 4003 when its token
expires (plus the clock tolerance).

## Error codes

| code | meaning |
| --- | --- |
${Object.entries(ERROR_CODES)
  .map(([code, meaning]) => `| \`${code}\` | ${meaning} |`)
  .join("\n")}

## Close codes

| code | name | meaning |
| --- | --- | --- |
${Object.entries(CLOSE_CODES)
  .map(([name, { code, meaning }]) => `| ${code} | \`${name}\` | ${meaning} |`)
  .join("\n")}

## Configuration

The room reads these from its environment (see the README); each is validated at start.

| variable | default | meaning |
| --- | --- | --- |
${configRows.join("\n")}
`;
}
