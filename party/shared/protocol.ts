/**
 * The wire protocol: every message, query and response of the presence service, defined
 * once with zod. The room, the client, the HTTP helper, the tests and docs/protocol.md all
 * use these schemas. No `partykit` import here, so browsers and Deno can load it alone.
 */
export * from "./protocol/basics.ts";
export * from "./protocol/members.ts";
export * from "./protocol/http.ts";
export * from "./protocol/users.ts";
export * from "./protocol/internal.ts";
export * from "./protocol/messages.ts";
export * from "./protocol/channel-index.ts";
